"""``accord alert import [--json] [--audience CODES --tlp TLP] [--as USER] SOURCE...``.

A SOURCE is a CAP file, a directory (every file in it and below, in name order), a CAP Atom or RSS index feed file
(its embedded alerts), or an http(s) URL of a CAP document or feed (fetched through the one outbound HTTP wrapper,
accord/lib/http.py; the alerts a fetched feed links to are fetched too). Everything goes through the bulk path
(accord.alerts.bulk): each alert is validated on its own and becomes its own signed record; an invalid one is
reported with its rules and never blocks the others; one already stored is a duplicate, counted and not stored.

Exit status: 0 when every alert was stored or was already there, 3 when some were stored (or already there) and
others were invalid, 1 when nothing could be stored, 2 on usage errors (a source that cannot be read). ``--json``
prints one object: ``{"stored", "duplicate", "invalid", "items": [{"source", "outcome", "record", "seq", "rules",
"message", "warnings"}]}``. ``--workers N`` validates the documents in N worker processes, a chunk ahead of the
process that stores them (worth it where cores are idle; on the loaded 2-core test machine it was not faster).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.alerts.bulk import BatchReport

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
FETCH_TIMEOUT = 30.0
CLI_CHUNK = 250


class UsageError(Exception):
    """A source that cannot be read, or options that do not go together (exit status 2)."""


def add_commands(
    subparsers: Any,
    common_parent: argparse.ArgumentParser,
    *,
    migrate: Callable[[], None],
    account: Callable[[str | None], Any],
) -> None:
    """Add ``alert import``. `migrate` prepares the database; `account(username)` finds the importing account
    (None: this node's service account)."""
    alert = subparsers.add_parser("alert", help="alerts").add_subparsers(dest="alert_command", required=True)
    command = alert.add_parser(
        "import",
        parents=[common_parent],
        help="import CAP alerts: files, directories, Atom/RSS feeds, http(s) URLs (many at once)",
    )
    command.add_argument("sources", nargs="+", metavar="SOURCE", help="a file, a directory, a feed, or a URL")
    command.add_argument(
        "--as", dest="username", help="the account that imports (default: this node's service account)"
    )
    command.add_argument("--audience", help="member codes, e.g. KZ,RU (default: from the CAP scope)")
    command.add_argument("--tlp", choices=TLPS)
    command.add_argument("--json", action="store_true", help="print the report as one JSON object")
    command.add_argument(
        "--workers",
        type=int,
        default=0,
        choices=range(0, 17),
        metavar="N",
        help="worker processes that validate documents while this one stores them (default 0: none)",
    )
    command.set_defaults(func=lambda args: cmd_import(args, migrate, account))


def _files_of(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                yield child
    else:
        yield path


def _fetch(url: str, max_bytes: int) -> bytes:
    from accord.lib import http

    try:
        response = http.request("GET", url, timeout=FETCH_TIMEOUT, max_bytes=max_bytes + 1)
    except (http.OutboundError, ValueError) as error:
        raise UsageError(f"cannot fetch {url}: {error}") from None
    if response.status != 200:
        raise UsageError(f"cannot fetch {url}: HTTP {response.status}")
    return response.body


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def collect(sources: list[str], max_bytes: int, warn: Callable[[str], None]) -> list[tuple[str, bytes]]:
    """(name, bytes) of every document the sources hold: files as they are, a feed's embedded alerts as CAP XML
    (named FEED#n), and for a feed fetched by URL the alerts it links to. Raises UsageError for a source that
    cannot be read."""
    from accord.lib import cap as caplib

    documents: list[tuple[str, bytes]] = []
    for source in sources:
        if _is_url(source):
            items = [(source, _fetch(source, max_bytes))]
        else:
            path = Path(source)
            if not path.exists():
                raise UsageError(f"cannot read {source}: no such file or directory")
            items = []
            for file in _files_of(path):
                try:
                    items.append((str(file), file.read_bytes()))
                except OSError as error:
                    raise UsageError(f"cannot read {file}: {error.strerror}") from None
        for name, data in items:
            if b"<feed" not in data[:4096] and b"<rss" not in data[:4096]:
                documents.append((name, data))
                continue
            report = caplib.validate(data, max_bytes=max_bytes)
            if report.kind not in ("atom-feed", "rss-feed"):
                documents.append((name, data))
                continue
            documents += [(f"{name}#{n + 1}", caplib.to_xml(alert)) for n, alert in enumerate(report.alerts)]
            if report.links and _is_url(name):
                documents += [(link, _fetch(link, max_bytes)) for link in report.links]
            elif report.links:
                warn(f"{name}: {len(report.links)} linked alerts were not fetched (import the feed by its URL)")
    return documents


class _Progress:
    """A rich progress bar on a terminal, shown only once the work has taken more than a second."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, count: int) -> None:
        self.done += count
        if self.bar is None and sys.stderr.isatty() and time.monotonic() - self.started > 1.0:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("importing alerts", total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def exit_status(report: BatchReport) -> int:
    if not report.invalid:
        return EXIT_OK
    return EXIT_PARTIAL if report.stored or report.duplicates else EXIT_FAIL


def cmd_import(args: argparse.Namespace, migrate: Callable[[], None], account: Callable[[str | None], Any]) -> int:
    from accord.alerts.bulk import ingest_many
    from accord.lib import cap as caplib
    from accord.records.envelope import parse_audience
    from accord.records.errors import ActionError

    def warn(text: str) -> None:
        print(text, file=sys.stderr)

    try:
        if (args.audience is None) != (args.tlp is None):
            raise UsageError("give --audience and --tlp together, or neither (then the CAP scope decides)")
        codes = [c.strip().upper() for c in (args.audience or "").split(",") if c.strip()]
        audience = parse_audience({"members": codes}) if args.audience is not None else None
        documents = collect(args.sources, caplib.DEFAULT_MAX_BYTES, warn)
    except (UsageError, ActionError) as error:
        print(f"accord: {getattr(error, 'message', error)}", file=sys.stderr)
        return EXIT_USAGE
    if not documents:
        print("accord: the sources hold no documents", file=sys.stderr)
        return EXIT_FAIL
    migrate()
    user = account(args.username)
    progress = _Progress(len(documents))
    try:
        report = ingest_many(
            documents,
            acting_user=user,
            audience=audience,
            tlp=args.tlp,
            chunk=CLI_CHUNK,
            progress=progress,
            workers=args.workers,
        )
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for item in report.items:
            if item.outcome == "invalid":
                warn(f"{item.source}: not imported: {item.message} [{', '.join(item.rules)}]")
            elif item.outcome == "stored":
                print(f"{item.source}: imported as {item.record}#{item.seq}")
        if report.duplicates and not report.stored and not report.invalid:
            print(f"nothing new: all {report.duplicates} alerts are stored already")
        else:
            print(f"{report.stored} stored, {report.duplicates} already stored (duplicates), {report.invalid} invalid")
    return exit_status(report)
