"""``accord detect``: run one R `surveillance` aberration detector over every unit of a CSV (no Django, no
database; see docs/surveillance.md). accord/cli.py registers it (`add_commands`)."""

from __future__ import annotations

import argparse
from typing import Any

from accord.lib.commands import EXIT_OK, CliError


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser) -> None:
    """Add ``detect``."""
    detect = subparsers.add_parser(
        "detect",
        help="run an R surveillance aberration detector over count series in a CSV",
        parents=[common_parent],
    )
    detect.set_defaults(func=cmd_detect, django=False)
    detect.add_argument("--input", required=True, metavar="DATA.csv", help="long format: dataset, unit, t, ...")
    detect.add_argument("--algorithm", required=True, metavar="NAME", help="R name, e.g. farringtonFlexible, earsC")
    detect.add_argument("--control", required=True, metavar="JSON", help="the resolved control, or @FILE")
    detect.add_argument("--control-id", required=True, metavar="ID", help="written to the control_id column")
    detect.add_argument("--range", required=True, metavar="FIRST:LAST", help="monitored time indices t, 1-based")
    detect.add_argument("--start", metavar="YEAR,EPOCH", help="R's start slot (default: from the first row)")
    detect.add_argument("--output", required=True, metavar="OUT.csv", help="result CSV ('-': standard output)")


def cmd_detect(args: argparse.Namespace) -> int:
    """`accord detect`: run one R surveillance detector over every unit of a CSV (no Django, no database)."""
    from accord.lib.detect import DetectError
    from accord.lib.detect import io as detect_io

    try:
        detect_io.check_algorithm(args.algorithm)
        control = detect_io.parse_control(args.control)
        first, last = detect_io.parse_range(args.range)
        start = detect_io.parse_start(args.start) if args.start is not None else None
        units = detect_io.read_units(args.input, start=start)
        rows = detect_io.detect(units, args.algorithm, control, control_id=args.control_id, first=first, last=last)
        detect_io.write_rows(args.output, rows)
    except DetectError as error:
        raise CliError(str(error)) from None
    return EXIT_OK
