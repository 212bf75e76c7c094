"""What the apps' `commands.py` share (accord/cli.py registers them): exit statuses, the one-line failure
(`CliError`), how a subcommand is added, tables and progress on the terminal, argument types. No Django import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

# Prepares the database (accord/cli.py's `_migrate`): every command that reads or writes it calls this first.
Migrate = Callable[[], None]
Command = Callable[[argparse.Namespace, Migrate], int]
Add = Callable[[str, Command, str, Any], argparse.ArgumentParser]


class CliError(Exception):
    """A failure to report in one line, with exit status 1 (or 2 for usage)."""

    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def adder(common_parent: argparse.ArgumentParser, migrate: Migrate) -> Add:
    """`add(name, func, help, into)`: a subcommand of the subparsers `into` that takes --data-dir (`common_parent`)
    and runs `func(args, migrate)`."""

    def add(name: str, func: Command, help_: str, into: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = into.add_parser(name, help=help_, parents=[common_parent])
        parser.set_defaults(func=lambda args: func(args, migrate))
        return parser

    return add


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped output is read by people too: do not squeeze it into 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def progress_bar() -> Any:
    """A progress display on standard error, shown only on a terminal."""
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


def iso_time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def short(when: str | None) -> str:
    return when[:19].replace("T", " ") if when else "-"


def port_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 65535")
    return value


def hours_arg(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 8760:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours from 1 to 8760")
    return int(text)
