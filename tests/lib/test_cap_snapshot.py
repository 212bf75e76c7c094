"""The validator's verdict on every file of tests/data/cap is pinned to a recorded snapshot.

The snapshot (``data/cap_validate_snapshot.json``) was recorded before the validator and codec were optimised,
so that a faster implementation cannot silently change what is found: per file, the kind, version, XSD verdict,
overall verdict, number of alerts read, and every finding as "rule severity path", in order.

After an intended change of the rules, record it again with
``.venv/bin/python tests/lib/test_cap_snapshot.py --record``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from accord.lib.cap import validate

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "cap"
SNAPSHOT = HERE / "data" / "cap_validate_snapshot.json"
FILES = sorted(path.name for path in DATA.iterdir() if path.is_file() and path.name != "manifest.csv")


def summary(name: str) -> dict[str, object]:
    report = validate((DATA / name).read_bytes())
    return {
        "kind": report.kind,
        "version": report.version,
        "valid_xsd": report.valid_xsd,
        "valid": report.valid,
        "alerts": len(report.alerts),
        "findings": [f"{item.rule} {item.severity} {item.path}" for item in report.errors],
    }


def _snapshot() -> dict[str, dict[str, object]]:
    loaded: dict[str, dict[str, object]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return loaded


def test_the_snapshot_covers_every_file() -> None:
    assert sorted(_snapshot()) == FILES


@pytest.mark.parametrize("name", FILES)
def test_validate_matches_the_snapshot(name: str) -> None:
    assert summary(name) == _snapshot()[name]


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    recorded = {name: summary(name) for name in FILES}
    SNAPSHOT.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {len(recorded)} files in {SNAPSHOT}")
