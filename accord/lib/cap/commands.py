"""``accord cap validate [--json] FILE...`` and ``accord cap convert --to xml|json FILE``.

Exit status: 0 when every file is valid (or converted), 1 when one is not, 2 on usage errors (such as a
file that cannot be read). ``validate --json`` prints one JSON object per file and line:
``{"file", "kind", "version", "valid_xsd", "valid", "errors": [{"rule", "severity", "path", "message"}]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.lib.cap.secure import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    from accord.lib.cap.model import Alert

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``cap validate`` and ``cap convert`` to an argparse subparsers object."""
    cap = subparsers.add_parser("cap", help="CAP alerts and feeds: validate, convert")
    commands = cap.add_subparsers(dest="cap_command", required=True)
    check = commands.add_parser(
        "validate", parents=[common_parent], help="validate CAP alerts (1.0-1.2) and Atom/RSS CAP index feeds"
    )
    check.add_argument("--json", action="store_true", help="one JSON object per file and line")
    check.add_argument("--max-bytes", type=_positive, default=DEFAULT_MAX_BYTES, help="size limit per file")
    check.add_argument("files", nargs="+", metavar="FILE", help="a file to check ('-' reads standard input)")
    check.set_defaults(func=cmd_validate, django=False)
    convert = commands.add_parser(
        "convert", parents=[common_parent], help="convert a CAP alert between XML (any version) and JSON"
    )
    convert.add_argument("--to", choices=("xml", "json"), required=True, help="xml: CAP 1.2 XML; json: JSON form")
    convert.add_argument("--max-bytes", type=_positive, default=DEFAULT_MAX_BYTES, help="size limit")
    convert.add_argument("file", metavar="FILE", help="CAP XML or the JSON form ('-' reads standard input)")
    convert.set_defaults(func=cmd_convert, django=False)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _read_all(names: Sequence[str]) -> dict[str, bytes] | None:
    contents: dict[str, bytes] = {}
    failed = False
    for name in names:
        try:
            contents[name] = _read(name)
        except OSError as error:
            print(f"accord: cannot read {name}: {error.strerror or error}", file=sys.stderr)
            failed = True
    return None if failed else contents


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def cmd_validate(args: argparse.Namespace) -> int:
    from accord.lib.cap.validator import validate

    contents = _read_all(args.files)
    if contents is None:
        return EXIT_USAGE
    status = EXIT_OK
    for name in args.files:
        report = validate(contents[name], max_bytes=args.max_bytes)
        if not report.valid:
            status = EXIT_FAIL
        if args.json:
            _write(json.dumps({"file": name, **report.as_dict()}) + "\n")
            continue
        lines = [f"{name}: {'valid' if report.valid else 'invalid'}"]
        lines += [f"  {item.severity} {item.rule} {item.path}: {item.message}" for item in report.errors]
        _write("\n".join(lines) + "\n")
    return status


def _load(data: bytes, max_bytes: int) -> tuple[Alert, tuple[str, ...]]:
    from accord.lib.cap.codec import parse
    from accord.lib.cap.jsonform import from_json
    from accord.lib.cap.model import CapError

    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        if len(data) > max_bytes:
            raise CapError("CAP-SIZE", f"the JSON is {len(data)} bytes, more than the limit of {max_bytes}")
        try:
            value = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CapError("CAP-JSON", f"not JSON: {error}") from None
        return from_json(value), ()
    parsed = parse(data, max_bytes=max_bytes)
    return parsed.alert, parsed.notes


def cmd_convert(args: argparse.Namespace) -> int:
    from accord.lib.cap.codec import to_xml
    from accord.lib.cap.jsonform import to_json
    from accord.lib.cap.model import CapError

    contents = _read_all([args.file])
    if contents is None:
        return EXIT_USAGE
    try:
        alert, notes = _load(contents[args.file], args.max_bytes)
    except CapError as error:
        print(f"accord: {args.file}: {error}", file=sys.stderr)
        return EXIT_FAIL
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.to == "json":
        _write(json.dumps(to_json(alert), ensure_ascii=False, indent=2) + "\n")
    else:
        _write(to_xml(alert).decode("utf-8"))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser (``python -m accord.lib.cap.commands validate FILE``) for use without Django."""
    common = argparse.ArgumentParser(add_help=False)
    parser = argparse.ArgumentParser(prog="accord-cap", description="CAP validator and converter")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(["cap", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
