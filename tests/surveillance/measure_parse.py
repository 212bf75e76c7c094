"""Run in a subprocess by test_upload_memory.py: parse one upload as the worker does and print its memory.

Usage: python -m tests.surveillance.measure_parse FILE FORMAT. Prints one JSON line: the resident size when
idle (after Django, openpyxl and a first parse are loaded, and after the file is read), the peak while checking
and parsing it, and how it ended.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    from django.conf import settings

    from accord.surveillance import parsers
    from tests.surveillance import hostile

    names = {"KZ": ("Kazakhstan", "Казахстан", "哈萨克斯坦")}
    # Warm up: everything a parse imports and caches is part of the idle worker.
    for warm, fmt in ((hostile.good_xlsx(), "xlsx"), (b"disease,region,period,count\nA00,KZ-19,2026-W07,1\n", "csv")):
        parsers.check_rows(
            parsers.read(warm, fmt, max_rows=10), member="KZ", today=date(2026, 12, 1), member_names=names
        )
    data = Path(sys.argv[1]).read_bytes()
    fmt = sys.argv[2]
    try:
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
        idle = _status("VmRSS")
    except OSError:
        idle = _status("VmHWM")
    outcome = "parsed"
    try:
        parsers.check_limits(data, fmt)
    except parsers.LimitError as error:
        outcome = f"refused on submission: {error.error.message}"
    try:
        # The worker's own path as well, as if the check on submission had been passed by.
        rows = parsers.read(data, fmt, max_rows=settings.ACCORD_SURVEILLANCE_MAX_ROWS)
        checked = parsers.check_rows(rows, member="KZ", today=date(2026, 12, 1), member_names=names)
        report = [e.as_dict() for e in checked.errors]
        worker = f"checked {checked.total} rows, {checked.error_count} errors"
    except parsers.ShapeError as error:
        report = [error.error.as_dict()]
        worker = f"refused by the worker: {error.error.message}"
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "idle_kb": idle,
                "peak_kb": peak,
                "outcome": outcome,
                "worker": worker,
                "report_bytes": len(json.dumps(report)),
            }
        )
    )


if __name__ == "__main__":
    main()
