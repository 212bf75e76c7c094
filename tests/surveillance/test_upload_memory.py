"""Issue 14's target: any upload of at most ACCORD_MAX_BODY_BYTES keeps the worker under 256 MiB more than its
idle size and stores under 1 MiB of report.

Each hostile file is generated here, written to a temporary file and parsed in a fresh Python process exactly as
the worker parses it (the check run on submission, then the worker's own read and row checks, as if the first
had been passed by). The process reports its resident size when idle and its peak (VmHWM, reset through
/proc/self/clear_refs once idle), so the measure is the real memory of the parse, not an estimate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from tests.surveillance import hostile

BUDGET_KB = 256 * 1024
REPORT_BUDGET = 1_048_576
ROOT = Path(__file__).resolve().parents[2]

CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip bomb: one shared string of 512 MiB": (hostile.bomb_shared_string, "xlsx"),
    "zip bomb: an inline string of 30 MiB": (hostile.bomb_inline_string, "xlsx"),
    "central directory lies about the size": (hostile.lying_directory, "xlsx"),
    "declared dimensions A1:XFD1048576": (hostile.huge_dimension, "xlsx"),
    "a row numbered 1,048,576": (hostile.far_row, "xlsx"),
    "150,000 rows": (hostile.many_rows, "xlsx"),
    "16,384 columns": (hostile.many_columns, "xlsx"),
    "1.2 million shared strings": (hostile.many_shared_strings, "xlsx"),
    "the most an XLSX may hold within every limit": (hostile.heavy_within_limits, "xlsx"),
    "CSV with a field of 1 MiB": (hostile.csv_giant_field, "csv"),
    "CSV with 50,000 columns": (hostile.csv_many_columns, "csv"),
    "CSV with 350,000 lines": (hostile.csv_many_lines, "csv"),
    "CSV of bad rows with long values": (hostile.csv_bad_rows, "csv"),
    "DHIS2 nested 200,000 deep": (hostile.dhis2_deep, "dhis2"),
    "DHIS2 with half a million values": (hostile.dhis2_wide, "dhis2"),
    "DHIS2 with a value of 1 MiB": (hostile.dhis2_giant_value, "dhis2"),
}

PASS_SUBMISSION = {
    "the most an XLSX may hold within every limit",
    "CSV of bad rows with long values",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_upload_stays_within_the_memory_and_report_budget(case: str, tmp_path: Path) -> None:
    make, fmt = CASES[case]
    data = make()
    assert len(data) <= settings.ACCORD_MAX_BODY_BYTES, f"the fixture is {len(data)} bytes"
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    del data
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        [sys.executable, "-m", "tests.surveillance.measure_parse", str(path), fmt],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    grown = result["peak_kb"] - result["idle_kb"]
    assert grown < BUDGET_KB, f"{case}: the parse grew the process by {grown} kB ({result})"
    assert result["report_bytes"] < REPORT_BUDGET, result
    print(case, result)  # the numbers, for docs/surveillance.md (pytest -s)
    if case in PASS_SUBMISSION:  # within every limit: the worker reads them and refuses their rows
        assert result["outcome"] == "parsed", result
    else:
        assert result["outcome"].startswith("refused on submission"), result
