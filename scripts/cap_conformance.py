"""CAP conformance over the shared corpus: no crash, the XSD verdict of the manifest, exact round trips.

Usage: python scripts/cap_conformance.py SHARED_DIR   (reads SHARED_DIR/cap/corpus and its manifest.csv)

For every file of the corpus (all but manifest.csv):
* ``validate`` must not raise, and ``valid_xsd`` must equal the manifest's valid_xsd (yes → true, no → false,
  n/a → null);
* every alert it read (alerts embedded in feeds included) must survive XML → JSON (through json.dumps/loads)
  → XML → parse unchanged, with a JSON form that can be signed (no floats);
* every CAP 1.2 ``<alert>`` element in the file (the root, or embedded in a feed) that the CAP 1.2 XSD accepts
  on its own must keep every element exactly: the multiset of (element path, stripped text) leaves
  (``accord.lib.cap.leaves``, XML signatures aside) of the original and of ``to_xml(from_json(to_json(parse)))``
  must be identical. Each lost (-) or gained (+) leaf is printed.
Exit status 1 lists the files that fail.
"""

from __future__ import annotations

import csv
import json
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accord.lib.canonical import CanonicalError, check_signable
from accord.lib.cap import Alert, from_json, parse, to_json, to_xml, validate
from accord.lib.cap.leaves import round_trip_changes, xsd_valid_alerts

EXPECTED = {"yes": True, "no": False, "n/a": None}
# Corpus feeds are larger than the 1 MiB default meant for single alerts.
MAX_BYTES = 32 * 1024 * 1024


def round_trip(alert: Alert) -> str | None:
    """None when the alert survives XML → JSON → XML unchanged, else what went wrong."""
    form = to_json(alert)
    try:
        check_signable(form)
    except CanonicalError as error:
        return f"JSON form cannot be signed: {error}"
    again = parse(to_xml(from_json(json.loads(json.dumps(form)))), max_bytes=MAX_BYTES).alert
    if again != alert:
        return f"alert {alert.identifier!r} changed in the round trip"
    return None


def exact_round_trips(data: bytes) -> tuple[int, list[str]]:
    """(how many XSD-valid CAP 1.2 alerts the document holds, what their round trips changed)."""
    alerts = xsd_valid_alerts(data, MAX_BYTES)
    problems = []
    for index, alert in enumerate(alerts, 1):
        try:
            changed = round_trip_changes(alert, MAX_BYTES)
        except Exception as error:  # noqa: BLE001 - a crash is exactly what this check reports
            problems.append(f"XSD-valid alert {index}: round trip crashed: {error!r}")
            continue
        if changed:
            lines = "\n    ".join(changed)
            problems.append(
                f"XSD-valid alert {index}: {len(changed)} leaves differ after XML → JSON → XML\n    {lines}"
            )
    return len(alerts), problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: cap_conformance.py SHARED_DIR", file=sys.stderr)
        return 2
    corpus = Path(argv[0]) / "cap" / "corpus"
    manifest_path = corpus / "manifest.csv"
    if not manifest_path.is_file():
        print(f"cap conformance: {manifest_path} not found", file=sys.stderr)
        return 2
    with manifest_path.open(newline="", encoding="utf-8") as handle:
        manifest = {row["file"]: row for row in csv.DictReader(handle)}
    files = sorted(path for path in corpus.iterdir() if path.is_file() and path.name != "manifest.csv")
    failures: list[str] = [
        f"{name}: listed in the manifest but missing" for name in manifest if not (corpus / name).is_file()
    ]
    agree = alerts = exact = 0
    for path in files:
        row = manifest.get(path.name)
        if row is None:
            failures.append(f"{path.name}: not in the manifest")
            continue
        try:
            report = validate(path.read_bytes(), max_bytes=MAX_BYTES)
        except Exception:  # noqa: BLE001 - a crash is exactly what this check reports
            failures.append(f"{path.name}: validate crashed\n{traceback.format_exc()}")
            continue
        if row["valid_xsd"] not in EXPECTED:
            failures.append(f"{path.name}: manifest valid_xsd {row['valid_xsd']!r} is not yes, no or n/a")
        elif report.valid_xsd is EXPECTED[row["valid_xsd"]]:
            agree += 1
        else:
            failures.append(f"{path.name}: valid_xsd {report.valid_xsd}, manifest says {row['valid_xsd']}")
        for alert in report.alerts:
            try:
                problem = round_trip(alert)
            except Exception as error:  # noqa: BLE001
                problem = f"round trip crashed: {error!r}"
            if problem is None:
                alerts += 1
            else:
                failures.append(f"{path.name}: {problem}")
        checked, problems = exact_round_trips(path.read_bytes())
        exact += checked - len(problems)
        failures.extend(f"{path.name}: {problem}" for problem in problems)
    for failure in failures:
        print(f"FAIL {failure}")
    print(
        f"{len(files)} files, {agree} agree, {alerts} alerts round-tripped, "
        f"{exact} XSD-valid alerts kept every leaf through XML → JSON → XML"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
