"""Benchmark: CAP alerts ingested per second, against peers measured in the same run.

    make bench            (or: .venv/bin/python bench/cap_ingest.py --peer-python .cache/bench/bin/python)

Measures, over the valid CAP 1.2 alerts of the corpus (../shared/cap/corpus, else tests/data/cap):

* accord (full): parse + validate (XSD and every rule) + store as a signed record (SQLite, audit entry, projection),
  one alert at a time (`import_alert`);
* accord (bulk): the same work through the bulk path (`accord alert import` of many files, `alerts.bulk.ingest_many`),
  on `--copies` copies of the corpus a round (each copy with its own identifiers, so nothing is a duplicate);
* accord (parse + validate): the same without storing;
* bare lxml: parse with a hardened parser + validate against the CAP 1.2 XSD, nothing else;
* capparselib 0.6.6 (parse only), run in its own virtual environment (it pins an old lxml).

The systems are measured round by round, each in turn (the parsers with SHORT_PASSES passes over the corpus in a
round, as one pass takes a fraction of a second), and the best of each counts. Prints alerts per second
for each and the ratios. Numbers depend on the machine; the ratios are what
docs/benchmarks.md records.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Passes over the corpus in a round for the systems that take a fraction of a second for one (parsers, validators).
SHORT_PASSES = 5

PEER_SCRIPT = r"""
import json, sys, time
from capparselib.parsers import CAPParser
files = json.loads(sys.stdin.read())
rounds = int(sys.argv[1])
if rounds == 0:
    ok = []
    for f in files:
        try:
            CAPParser(open(f, encoding="utf-8").read()).as_dict()
            ok.append(f)
        except Exception:
            pass
    print(json.dumps({"ok": ok}))
    sys.exit(0)
docs = [open(f, encoding="utf-8").read() for f in files]
best = 0.0
for _ in range(rounds):
    start = time.perf_counter()
    for doc in docs:
        CAPParser(doc).as_dict()
    elapsed = time.perf_counter() - start
    best = max(best, len(docs) / elapsed)
print(json.dumps({"per_second": best}))
"""


def corpus_files(folder: Path) -> list[Path]:
    """The CAP 1.2 alerts of the folder's manifest that are valid by the XSD and by Accord's rules."""
    manifest = folder / "manifest.csv"
    rows = list(csv.DictReader(manifest.open(encoding="utf-8")))
    chosen = []
    for row in rows:
        features = row.get("features", "")
        if row.get("valid_xsd") == "yes" and "kind=alert" in features and "cap=1.2" in features:
            chosen.append(folder / row["file"])
    from accord.lib import cap

    # Only alerts that pass every rule, so every system measured does the same, complete work.
    return [p for p in chosen if p.exists() and cap.validate(p.read_bytes()).valid]


def best_rate(count: int, rounds: int, run: Callable[[], None]) -> float:
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - start))
    return max(rates)


def measure_lxml(docs: list[bytes], rounds: int) -> float:
    from lxml import etree

    schema_path = ROOT / "accord" / "lib" / "cap" / "schema" / "cap-1.2.xsd"
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)

    def run() -> None:
        for doc in docs:
            schema.validate(etree.fromstring(doc, parser))

    return best_rate(len(docs), rounds, run)


def measure_accord_validate(docs: list[bytes], rounds: int) -> float:
    from accord.lib import cap

    def run() -> None:
        for doc in docs:
            report = cap.validate(doc)
            if report.kind == "alert":
                cap.parse(doc)

    return best_rate(len(docs), rounds, run)


def _setup_django() -> Any:
    """A fresh node (its own data directory and SQLite database) and a focal point of KZ to import as."""
    os.environ["ACCORD_DATA_DIR"] = tempfile.mkdtemp(prefix="accord-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.settings"
    os.environ.setdefault("ACCORD_TASKS_BACKEND", "database")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accord.members import actions as member_actions
    from accord.members.models import Organisation

    organisation = Organisation.objects.filter(slug="kz-health").first() or member_actions.create_organisation(
        member_code="KZ", slug="kz-health", kind="health_ministry", name_en="KZ health", acting_user=None
    )
    return member_actions.create_account(
        username="bench", organisation=organisation, roles=["focal_point"], acting_user=None
    )


def measure_accord_full(docs: list[bytes], rounds: int, user: Any) -> float:
    from accord.alerts.actions import import_alert
    from accord.records.envelope import Audience

    audience = Audience(members=["KZ"])

    def run() -> None:
        for doc in docs:
            import_alert(doc, acting_user=user, audience=audience, tlp="AMBER")

    return best_rate(len(docs), rounds, run)


_RUN = itertools.count()
_IDENTIFIER = re.compile(rb"<(\w+:)?identifier>([^<]*)</(\w+:)?identifier>")


def renamed(docs: list[bytes], tag: str) -> list[bytes]:
    """The documents with `tag` and their position added to each alert's identifier, so that each is a new alert
    (the same identifier, sender and sent would be a duplicate, counted and not stored; the corpus has a few)."""

    def one(n: int, doc: bytes) -> bytes:
        def tagged(m: re.Match[bytes]) -> bytes:
            return m.group(0).replace(m.group(2), m.group(2) + f"{tag}.{n}".encode(), 1)

        return _IDENTIFIER.sub(tagged, doc, 1)

    return [one(n, doc) for n, doc in enumerate(docs)]


def measure_accord_bulk(docs: list[bytes], rounds: int, copies: int, user: Any) -> float:
    """`accord alert import` of many files at once: the bulk path (alerts.bulk.ingest_many), `copies` copies of the
    corpus (each with its own identifiers, so each is stored) per round, the originals read from memory."""
    from accord.alerts.bulk import ingest_many
    from accord.alerts.commands import CLI_CHUNK
    from accord.records.envelope import Audience

    audience = Audience(members=["KZ"])
    per_round = [
        [(f"#{c}.{n}", doc) for c in range(copies) for n, doc in enumerate(renamed(docs, f"-{next(_RUN)}"))]
        for r in range(rounds)
    ]
    rates = []
    for batch in per_round:
        start = time.perf_counter()
        report = ingest_many(batch, acting_user=user, audience=audience, tlp="AMBER", chunk=CLI_CHUNK)
        rates.append(len(batch) / (time.perf_counter() - start))
        if report.stored != len(batch):
            first = next(i for i in report.items if i.outcome != "stored")
            raise SystemExit(f"bulk import stored {report.stored} of {len(batch)}: {first}")
    return max(rates)


def _run_peer(python: str, files: list[Path], rounds: int, timeout: int) -> dict[str, Any] | None:
    """Run PEER_SCRIPT in capparselib's own environment; rounds=0 asks which files it can parse."""
    if not Path(python).exists():
        return None
    result = subprocess.run(
        [python, "-c", PEER_SCRIPT, str(rounds)],
        input=json.dumps([str(f) for f in files]),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if result.returncode != 0:
        print(f"capparselib failed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def peer_can_read(python: str, files: list[Path]) -> list[Path] | None:
    """The files capparselib parses without an exception (it crashes on some valid alerts)."""
    answer = _run_peer(python, files, 0, timeout=600)
    return None if answer is None else [Path(f) for f in answer["ok"]]


def measure_peer(python: str, files: list[Path], rounds: int) -> float | None:
    answer = _run_peer(python, files, rounds, timeout=1800)
    return None if answer is None else float(answer["per_second"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_corpus = ROOT.parent / "shared" / "cap" / "corpus"
    parser.add_argument(
        "--corpus", type=Path, default=default_corpus if default_corpus.exists() else ROOT / "tests" / "data" / "cap"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=20, help="bulk: copies of the corpus imported per round")
    parser.add_argument("--peer-python", default=str(ROOT / ".cache" / "bench" / "bin" / "python"))
    args = parser.parse_args()
    files = corpus_files(args.corpus)
    if not files:
        print(f"no valid CAP 1.2 alerts listed in {args.corpus}/manifest.csv", file=sys.stderr)
        return 2
    readable = peer_can_read(args.peer_python, files)
    if readable is not None and len(readable) < len(files):
        skipped = len(files) - len(readable)
        print(f"capparselib cannot parse {skipped} of them; every system is measured on the other {len(readable)}")
        files = readable
    docs = [f.read_bytes() for f in files]
    size = statistics.mean(len(d) for d in docs)
    print(
        f"corpus: {len(docs)} valid CAP 1.2 alerts from {args.corpus.name}, "
        f"mean {size / 1024:.1f} KiB, best of {args.rounds} rounds"
    )
    user = _setup_django()
    # Round by round, every system in turn, so that a change of the machine's load between rounds reaches all of them
    # alike (the ratios are what is recorded); the best round of each counts.
    rates: dict[str, list[float]] = {"lxml": [], "validate": [], "full": [], "bulk": [], "peer": []}
    for _ in range(args.rounds):
        rates["lxml"].append(measure_lxml(docs, SHORT_PASSES))
        rates["validate"].append(measure_accord_validate(docs, SHORT_PASSES))
        rates["full"].append(measure_accord_full(docs, 1, user))
        rates["bulk"].append(measure_accord_bulk(docs, 1, args.copies, user))
        peer = measure_peer(args.peer_python, files, SHORT_PASSES)
        if peer is not None:
            rates["peer"].append(peer)
    lxml_rate, validate_rate, full_rate, bulk_rate = (max(rates[k]) for k in ("lxml", "validate", "full", "bulk"))
    peer_rate = max(rates["peer"]) if rates["peer"] else None
    print(f"bare lxml parse + XSD               {lxml_rate:10.1f} alerts/s")
    print(f"accord parse + validate             {validate_rate:10.1f} alerts/s")
    print(f"accord full ingest, one at a time   {full_rate:10.1f} alerts/s")
    print(f"accord full ingest, bulk            {bulk_rate:10.1f} alerts/s  ({len(docs) * args.copies} a round)")
    if peer_rate is not None:
        print(f"capparselib 0.6.6 parse only        {peer_rate:10.1f} alerts/s")
        print(f"ratio accord bulk ingest / capparselib    {bulk_rate / peer_rate:6.2f}  (target >= 1)")
        print(f"ratio accord parse+validate / capparselib {validate_rate / peer_rate:6.2f}  (target >= 3)")
        print(f"ratio accord one-at-a-time / capparselib  {full_rate / peer_rate:6.2f}")
    else:
        print("capparselib: not measured (run `make bench` to set up its environment)")
    print(f"ratio accord bulk ingest / bare lxml      {bulk_rate / lxml_rate:6.2f}")
    print(f"ratio accord parse+validate / bare lxml   {validate_rate / lxml_rate:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
