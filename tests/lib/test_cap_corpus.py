"""A permissively licensed subset of the shared CAP corpus (tests/data/cap, see tests/data/NOTICE)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accord.lib.cap import from_json, parse, to_json, to_xml, validate

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "cap"
with (DATA / "manifest.csv").open(newline="", encoding="utf-8") as _handle:
    MANIFEST = list(csv.DictReader(_handle))
EXPECTED_XSD = {"yes": True, "no": False, "n/a": None}
PERMISSIVE = ("Apache-2.0", "MIT", "CC0-1.0", "OGL-UK-3.0")


def _features(row: dict[str, str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in row["features"].split(";") if "=" in item)


def test_the_subset_is_representative() -> None:
    kinds = {_features(row)["kind"] for row in MANIFEST}
    assert {"alert", "atom-feed", "rss-feed", "other:EDXLDistribution"} <= kinds
    versions = {_features(row).get("cap") for row in MANIFEST}
    assert {"1.2", "1.1", "1.0", "none"} <= versions
    assert {row["valid_xsd"] for row in MANIFEST} == {"yes", "no", "n/a"}
    assert len(MANIFEST) >= 25


@pytest.mark.parametrize("row", MANIFEST, ids=[row["file"] for row in MANIFEST])
def test_file_is_unchanged_and_permissively_licensed(row: dict[str, str]) -> None:
    data = (DATA / row["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert len(data) == int(row["bytes"])
    assert row["license"].startswith(PERMISSIVE)
    assert f"tests/data/cap/{row['file']}" in (ROOT / "tests" / "data" / "NOTICE").read_text(encoding="utf-8")


@pytest.mark.parametrize("row", MANIFEST, ids=[row["file"] for row in MANIFEST])
def test_validator_agrees_with_the_manifest_and_alerts_round_trip(row: dict[str, str]) -> None:
    report = validate((DATA / row["file"]).read_bytes())
    assert report.valid_xsd is EXPECTED_XSD[row["valid_xsd"]]
    features = _features(row)
    kind = features["kind"]
    assert report.kind == (kind if kind in ("alert", "atom-feed", "rss-feed") else "other")
    if kind == "alert":
        assert report.version == (features["cap"] if features["cap"] in ("1.0", "1.1", "1.2") else None)
    if "embedded_cap_alerts" in features and features.get("entries") != "0":
        assert len(report.alerts) == int(features["embedded_cap_alerts"])
    for alert in report.alerts:
        form = json.loads(json.dumps(to_json(alert)))
        assert parse(to_xml(from_json(form))).alert == alert


def test_conformance_script_on_the_subset(tmp_path: Path) -> None:
    corpus = tmp_path / "cap" / "corpus"
    shutil.copytree(DATA, corpus)
    script = ROOT / "scripts" / "cap_conformance.py"
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"{len(MANIFEST)} files, {len(MANIFEST)} agree, ")
    # A disagreement is reported and fails the check.
    rows = [dict(row) for row in MANIFEST]
    for row in rows:
        if row["file"] == "google-cap-library__thunderstorm.cap":
            row["valid_xsd"] = "no"
    with (corpus / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(MANIFEST[0]))
        writer.writeheader()
        writer.writerows(rows)
    failed = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert failed.returncode == 1
    assert "FAIL google-cap-library__thunderstorm.cap" in failed.stdout
