"""``accord audit verify [--json] [--no-peers]``, ``accord audit checkpoint [--json]``, ``accord records list
[--json]`` and ``accord records reindex [--order-only] [--json]``.

`verify` exits 1 when anything is broken: an edited or missing entry, a version whose bytes, signature or columns
do not match, a missing attachment, or a checkpoint this node signed (kept here, or held by a peer) that the chain
no longer contains (it lost entries: restored from an old backup?). A peer that cannot be asked is shown as a
warning, not a failure. `--json` prints one object: ok, the counts, `checkpoints` (stored, peers_asked, findings),
problems and warnings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from accord.lib.commands import Migrate, adder, print_table

EXIT_OK, EXIT_FAIL = 0, 1


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Callable[[], None]) -> None:
    """Add ``audit verify`` and ``audit checkpoint``. `migrate` prepares the database (the CLI's)."""
    audit = subparsers.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser(
        "verify",
        parents=[common_parent],
        help="verify the audit chain, every stored signature, and the chain against the checkpoints peers hold",
    )
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--no-peers", action="store_true", help="do not ask the peers for this node's checkpoints")
    verify.set_defaults(func=cmd_verify)
    issue = audit.add_parser(
        "checkpoint", parents=[common_parent], help="sign the audit head now, as a checkpoint the peers keep"
    )
    issue.add_argument("--json", action="store_true")
    issue.add_argument("--force", action="store_true", help="issue one even if the head has not moved")
    issue.set_defaults(func=lambda args: cmd_checkpoint(args, migrate))


def cmd_verify(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from accord.records.verify import dumps, total_items, verify_all

    peers = not args.no_peers
    if args.json or not sys.stderr.isatty():
        report = verify_all(peers=peers)
    else:
        with Progress(transient=True) as progress:
            task = progress.add_task("verifying", total=total_items())
            report = verify_all(lambda: progress.advance(task), peers=peers)
    if args.json:
        print(dumps(report))
        return EXIT_OK if report.ok else EXIT_FAIL
    print(f"audit entries: {report.audit_entries}")
    print(f"versions:      {report.versions}")
    print(f"attachments:   {report.attachments}")
    if report.checkpoints is not None:
        print(f"checkpoints:   {report.checkpoints.local_checkpoints} of this node stored here")
        for finding in report.checkpoints.findings:
            if finding.status in ("agrees", "none"):
                print(f"{finding.source}: {finding.detail}")
    for warning in report.warnings:
        print(f"WARNING: {warning}")
    for problem in report.problems:
        print(f"BROKEN: {problem}")
    print("OK: the audit chain and every signature verify" if report.ok else f"FAILED: {len(report.problems)} problems")
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_checkpoint(args: argparse.Namespace, migrate: Callable[[], None]) -> int:
    from accord.records import checkpoint

    migrate()
    version = checkpoint.issue(force=args.force)
    if version is None:
        last = checkpoint.last_checkpoint_entry()
        info: dict[str, Any] = {"issued": False, "after_entry": last[0] if last else None}
        text = "the audit head has not moved since the last checkpoint; none issued (--force issues one)"
    else:
        body = version.body
        info = {
            "issued": True,
            "record": str(version.record_uuid),
            "sequence": body["sequence"],
            "head_hash": body["head_hash"],
        }
        text = f"checkpoint {version.record_uuid} signs audit entry {body['sequence']} ({body['head_hash']})"
    print(json.dumps(info) if args.json else text)
    return EXIT_OK


def add_records_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``records list`` and ``records reindex``."""
    add = adder(common_parent, migrate)
    records = subparsers.add_parser("records", help="stored versions").add_subparsers(
        dest="records_command", required=True
    )
    records_list = add("list", cmd_records_list, "list every stored version in arrival order", records)
    records_list.add_argument("--json", action="store_true", help="one JSON object per line")
    reindex = add(
        "reindex",
        cmd_records_reindex,
        "index every record's current version for search again, and store the index in the order searches read it",
        records,
    )
    reindex.add_argument(
        "--order-only", action="store_true", help="only store the index in search order (after importing an archive)"
    )
    reindex.add_argument("--json", action="store_true", help="print a JSON summary")


def cmd_records_reindex(args: argparse.Namespace, migrate: Migrate) -> int:
    """Write every search entry again (unless --order-only), then store them in search order (PostgreSQL)."""
    import time

    from accord.lib.commands import progress_bar
    from accord.records import search
    from accord.records.models import Record

    migrate()
    started = time.monotonic()
    indexed = 0
    if not args.order_only:
        with progress_bar() as progress:
            task = progress.add_task("indexing", total=Record.objects.exclude(current_version=None).count())
            indexed = search.rebuild(progress=lambda done: progress.update(task, completed=done))
    ordered = search.reorder()
    summary = {"indexed": indexed, "ordered": ordered, "seconds": round(time.monotonic() - started, 1)}
    if args.json:
        print(json.dumps(summary))
    else:
        what = f"indexed {indexed} records" if not args.order_only else "indexed nothing (--order-only)"
        order = "stored in search order" if ordered else "no ordering needed (SQLite)"
        print(f"{what}; {order}; {summary['seconds']} s")
    return EXIT_OK


def _audience_text(audience: dict[str, Any]) -> str:
    if audience.get("everyone"):
        return "everyone"
    parts = list(audience.get("members") or [])
    if audience.get("organisations"):
        parts.append(f"{len(audience['organisations'])} org")
    if audience.get("persons"):
        parts.append(f"{len(audience['persons'])} person")
    return ",".join(parts) or "-"


def cmd_records_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.records.models import Version

    migrate()

    def lines() -> Iterator[dict[str, Any]]:
        for version in Version.objects.order_by("id").iterator(chunk_size=500):
            yield {
                "origin": str(version.origin_node),
                "origin_member": version.origin_member,
                "record": str(version.record_uuid),
                "seq": version.seq,
                "kind": version.kind,
                "content_hash": version.content_hash,
                "status": version.status,
                "state": version.state,
                "audience": version.envelope()["audience"],
                "tlp": version.tlp,
                "kid": version.sig_kid,
            }

    if args.json:
        for line in lines():
            print(json.dumps(line))
        return EXIT_OK
    print_table(
        "Versions",
        ("origin", "record", "seq", "kind", "status", "state", "tlp", "audience"),
        (
            (
                f"{v['origin_member']} {v['origin'][:8]}",
                v["record"][:8],
                v["seq"],
                v["kind"],
                v["status"],
                v["state"],
                v["tlp"],
                _audience_text(v["audience"]),
            )
            for v in lines()
        ),
    )
    return EXIT_OK
