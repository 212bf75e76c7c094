"""``accord counts upload FILE --member CC [--disease CODE] [--format csv|xlsx|dhis2|json] [--json]``.

The same upload as the web page and ``POST /api/v1/surveillance/uploads`` (`actions.upload_counts`: the same
limits, checks and records, all or nothing), run now in this process instead of by the worker.

Exit status: 0 when the counts were stored (or were already), 1 when the file was refused and nothing was stored
(each bad row is reported: row, column, what is wrong), 2 on usage errors (a file that cannot be read, an unknown
member, account or disease code). ``--json`` prints one object: ``{"upload", "file", "status", "format", "rows",
"series", "published", "revised", "unchanged", "signals", "error_count", "errors": [{"row", "column",
"message"}]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.surveillance.models import Upload

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")


class UsageError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_commands(
    subparsers: Any,
    common_parent: argparse.ArgumentParser,
    migrate: Callable[[], None],
    service_account: Callable[[], Any],
) -> None:
    """Add ``counts upload``. `migrate` prepares the database; `service_account` is this node's own account."""
    counts = subparsers.add_parser("counts", help="surveillance counts").add_subparsers(
        dest="counts_command", required=True
    )
    upload = counts.add_parser(
        "upload",
        parents=[common_parent],
        help="check and store a file of case counts (CSV, XLSX, DHIS2 dataValueSet or JSON), as the web upload does",
    )
    upload.add_argument("file", metavar="FILE", help="the file ('-' reads standard input)")
    upload.add_argument("--member", required=True, metavar="CC", help="the member whose counts these are, e.g. KZ")
    upload.add_argument(
        "--disease", metavar="CODE", help="the file holds counts of this disease only (ICD-10 or ICD-11 code)"
    )
    upload.add_argument("--format", choices=("csv", "xlsx", "dhis2", "json"), help="default: from the file")
    upload.add_argument(
        "--as",
        dest="username",
        help="the account that uploads, of that member, analyst or focal point "
        "(default: this node's service account, for the node's own member)",
    )
    upload.add_argument("--audience", help="member codes, e.g. KZ,RU, or 'everyone' (default: the member and SCO)")
    upload.add_argument("--tlp", choices=TLPS, default="AMBER")
    upload.add_argument("--status", choices=("actual", "exercise", "test"), default="actual")
    upload.add_argument("--json", action="store_true", help="print the report as one JSON object")
    upload.set_defaults(func=lambda args: cmd_upload(args, migrate, service_account))


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror or error}") from None


def _uploader(username: str | None, member: str, service_account: Callable[[], Any]) -> Account:
    from accord.members.models import Account, Member
    from accord.records.actions import this_node

    if not Member.objects.filter(code=member).exists():
        raise UsageError(f"no member with code {member!r}")
    if username is None:
        node_member = this_node().member.code
        if member != node_member:
            raise UsageError(
                f"this node's service account uploads for {node_member}; name an account of {member} with --as"
            )
        account: Account = service_account()
        return account
    found = Account.objects.select_related("organisation__member").filter(username=username).first()
    if found is None:
        raise UsageError(f"no account {username!r}")
    if found.organisation is None or found.organisation.member.code != member:
        of = found.organisation.member.code if found.organisation else "no member"
        raise UsageError(f"account {username} belongs to {of}, not to {member}")
    return found


def _audience(text: str | None, member: str) -> Any:
    from pydantic import ValidationError

    from accord.records.envelope import Audience
    from accord.surveillance.actions import SECRETARIAT

    if not text:
        return Audience(members=sorted({member, SECRETARIAT}))
    if text.strip().lower() == "everyone":
        return Audience(everyone=True)
    try:
        return Audience(members=[c.strip().upper() for c in text.split(",") if c.strip()])
    except ValidationError as error:
        raise UsageError(f"--audience: {error.errors()[0]['msg']}") from None


def report(upload: Upload, file: str) -> dict[str, Any]:
    summary = upload.summary or {}
    return {
        "upload": str(upload.uuid),
        "file": file,
        "status": upload.status,
        "format": upload.format,
        "rows": summary.get("rows", upload.total),
        "series": summary.get("series", 0),
        "published": summary.get("published", 0),
        "revised": summary.get("revised", 0),
        "unchanged": summary.get("unchanged", 0),
        "signals": summary.get("signals", 0),
        "error_count": summary.get("errors", len(upload.errors or [])),
        "errors": list(upload.errors or []),
    }


def cmd_upload(args: argparse.Namespace, migrate: Callable[[], None], service_account: Callable[[], Any]) -> int:
    from accord.records.errors import ActionError
    from accord.surveillance import actions
    from accord.surveillance.models import Upload

    member = args.member.strip().upper()
    try:
        data = _read(args.file)
        migrate()
        account = _uploader(args.username, member, service_account)
        audience = _audience(args.audience, member)
    except UsageError as error:
        print(f"accord: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        upload = actions.upload_counts(
            data,
            acting_user=account,
            audience=audience,
            tlp=args.tlp,
            filename="" if args.file == "-" else Path(args.file).name,
            fmt=args.format,
            status=args.status,
            disease=args.disease,
        )
    except ActionError as error:
        where = f"{error.field}: " if error.field and error.field not in error.message else ""
        print(f"accord: {where}{error.message}", file=sys.stderr)
        return EXIT_USAGE if error.field == "disease" else EXIT_FAIL
    result = report(upload, args.file)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    elif upload.status == Upload.Status.DONE:
        print(
            f"{result['rows']} rows stored in {result['series']} series: {result['published']} records published, "
            f"{result['revised']} revised, {result['unchanged']} unchanged; {result['signals']} signals"
        )
    if upload.status == Upload.Status.DONE:
        return EXIT_OK
    if not args.json:
        for problem in result["errors"]:
            column = f", column {problem['column']}" if problem.get("column") else ""
            print(f"{args.file}: row {problem['row']}{column}: {problem['message']}", file=sys.stderr)
        shown = len(result["errors"])
        if result["error_count"] > shown:
            print(f"{args.file}: ... and {result['error_count'] - shown} more problems", file=sys.stderr)
        print(f"accord: {args.file} was refused; nothing was stored", file=sys.stderr)
    return EXIT_FAIL
