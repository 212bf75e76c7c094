"""`accord account unlock` and `accord account reset-2fa`: added to the `account` group of accord/cli.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Add = Callable[..., argparse.ArgumentParser]


def cmd_unlock(args: argparse.Namespace) -> int:
    from accord.cli import _migrate
    from accord.members import lockout

    if not args.username and not args.address:
        from accord.cli import EXIT_USAGE, CliError

        raise CliError("give --username, --address or both", EXIT_USAGE)
    _migrate()
    removed = lockout.unlock(username=args.username, address=args.address, acting_user=None)
    what = " and ".join(
        part for part in (f"account {args.username}" if args.username else "", args.address or "") if part
    )
    print(f"{what} unlocked ({removed} counted failed log-ins forgotten)")
    return 0


def cmd_reset_2fa(args: argparse.Namespace) -> int:
    from accord.cli import _account, _migrate
    from accord.members import twofactor

    _migrate()
    account = _account(args.username)
    removed = twofactor.reset(account, acting_user=None)
    required = (
        " (its roles require it: it is asked to set it up at its next log-in)" if twofactor.is_required(account) else ""
    )
    print(f"two-factor authentication of {account.username} is reset: {removed} devices removed{required}")
    return 0


def add_account_commands(account: Any, add: Add) -> None:
    """Add the commands to the `account` subparsers; `add` is accord/cli.py's helper (name, func, help, into)."""
    unlock = add("unlock", cmd_unlock, "end a log-in lockout of an account and/or a client address", account)
    unlock.add_argument("--username", help="the account (any username that was tried)")
    unlock.add_argument("--address", metavar="IP", help="the client address, e.g. 203.0.113.7")
    reset = add("reset-2fa", cmd_reset_2fa, "remove an account's two-factor devices (lost phone)", account)
    reset.add_argument("--username", required=True)
