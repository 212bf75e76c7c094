"""The `accord` subcommands of members: `demo`, `account` (add, list, disable, unlock, reset-2fa), `organisation`
(add, list) and `token` (create, revoke); and the accounts other apps' commands act as (`find_account`,
`service_account`). accord/cli.py registers them, in the order of `accord --help`: `add_demo_command`, then
`add_commands`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from accord.lib.commands import EXIT_OK, EXIT_USAGE, CliError, Migrate, adder


def add_demo_command(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``demo``. `migrate` prepares the database (the CLI's)."""
    add = adder(common_parent, migrate)
    add("demo", cmd_demo, "load the demo members, accounts and records (idempotent)", subparsers)


# The organisation types of `organisation add --type` (the stored kinds of older organisations, such as
# health_ministry, stay valid).
ORGANISATION_TYPES = ("ministry", "agency", "university", "institute", "hospital", "laboratory", "other")


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``account add|list|disable|unlock|reset-2fa``, ``organisation add|list`` and ``token create|revoke``."""
    add = adder(common_parent, migrate)
    account = subparsers.add_parser("account", help="accounts").add_subparsers(dest="account_command", required=True)
    account_add = add("add", cmd_account_add, "create an account", account)
    account_add.add_argument("--username", required=True)
    account_add.add_argument("--member", required=True, help="member code, e.g. CN or SCO")
    account_add.add_argument("--organisation", help="organisation slug (needed when the member has several)")
    account_add.add_argument("--role", required=True, action="append", help="role; repeat or separate with commas")
    account_add.add_argument("--email")
    account_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    account_list = add("list", cmd_account_list, "list accounts", account)
    account_list.add_argument("--json", action="store_true")
    account_disable = add("disable", cmd_account_disable, "disable an account and revoke its tokens", account)
    account_disable.add_argument("--username", required=True)
    unlock = add("unlock", cmd_unlock, "end a log-in lockout of an account and/or a client address", account)
    unlock.add_argument("--username", help="the account (any username that was tried)")
    unlock.add_argument("--address", metavar="IP", help="the client address, e.g. 203.0.113.7")
    reset = add("reset-2fa", cmd_reset_2fa, "remove an account's two-factor devices (lost phone)", account)
    reset.add_argument("--username", required=True)

    organisation = subparsers.add_parser("organisation", help="organisations").add_subparsers(
        dest="organisation_command", required=True
    )
    organisation_add = add("add", cmd_organisation_add, "create an organisation of a member", organisation)
    organisation_add.add_argument("--slug", required=True, help="its short name, e.g. ru-fmba-institute")
    organisation_add.add_argument("--member", required=True, help="member code, e.g. CN or SCO")
    organisation_add.add_argument("--type", required=True, choices=ORGANISATION_TYPES, help="what kind of organisation")
    organisation_add.add_argument("--name", required=True, help="its name in English")
    organisation_add.add_argument("--name-zh", default="", help="its name in Chinese")
    organisation_add.add_argument("--name-ru", default="", help="its name in Russian")
    organisation_list = add("list", cmd_organisation_list, "list organisations", organisation)
    organisation_list.add_argument("--json", action="store_true")

    token = subparsers.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    token_create = add("create", cmd_token_create, "create an API token and print it once", token)
    token_create.add_argument("--username", required=True)
    token_create.add_argument("--name", default="cli")
    token_create.add_argument("--scope", choices=["read", "write", "feed"], default="write")
    token_create.add_argument("--days", type=int)
    token_revoke = add("revoke", cmd_token_revoke, "revoke an API token", token)
    token_revoke.add_argument("--prefix", required=True)


# ---- the accounts commands act as ------------------------------------------------------------------------------


def organisation_for(member_code: str, slug: str | None) -> Any:
    from accord.members import actions
    from accord.members.models import Member, Organisation

    member = Member.objects.filter(code=member_code.upper()).first()
    if member is None:
        raise CliError(f"no member with code {member_code!r}", EXIT_USAGE)
    if slug:
        organisation = Organisation.objects.filter(slug=slug, member=member).first()
        if organisation is None:
            raise CliError(f"member {member.code} has no organisation {slug!r}", EXIT_USAGE)
        return organisation
    organisations = list(Organisation.objects.filter(member=member))
    if len(organisations) == 1:
        return organisations[0]
    if len(organisations) > 1:
        choices = ", ".join(o.slug for o in organisations)
        raise CliError(
            f"member {member.code} has several organisations; choose one with --organisation ({choices})", EXIT_USAGE
        )
    organisation = actions.create_organisation(
        member_code=member.code,
        slug=f"{member.code.lower()}-national",
        kind="secretariat" if member.kind == Member.Kind.SECRETARIAT else "other",
        name_en=f"{member.name_en}: national focal point office",
        acting_user=None,
    )
    print(f"created organisation {organisation.slug} for member {member.code}", file=sys.stderr)
    return organisation


def find_account(username: str) -> Any:
    from accord.members.models import Account

    account = Account.objects.select_related("organisation__member").filter(username=username).first()
    if account is None:
        raise CliError(f"no account {username!r}")
    return account


def service_account() -> Any:
    """This node's own account for imports from the shell: created on first use, focal point of the node's member."""
    from accord.members import actions
    from accord.members.models import Account, NodeIdentity

    existing = Account.objects.filter(username="accord-node").first()
    if existing is not None:
        return existing
    node = NodeIdentity.objects.select_related("member").get(id=1)
    organisation = organisation_for(node.member.code, None) if node.member.organisations.count() != 1 else None
    if organisation is None:
        organisation = node.member.organisations.get()
    return actions.create_account(
        username="accord-node", organisation=organisation, roles=["focal_point"], acting_user=None
    )


def importer(username: str | None) -> Any:
    """The account `accord alert import` acts as: the one named, or this node's service account."""
    return find_account(username) if username else service_account()


# ---- the commands -----------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace, migrate: Migrate) -> int:
    from rich.console import Console
    from rich.table import Table

    from accord.members.demo import DEMO_PASSWORD, load_demo

    migrate()
    accounts, created, records = load_demo()
    table = Table(title=f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for column in ("username", "member", "organisation", "roles"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.username, account.member, account.organisation, ", ".join(account.roles))
    console = Console()
    console.print(table)
    console.print(f"{created} accounts and {records} records created now; the rest existed already.")
    return EXIT_OK


def cmd_account_add(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import actions

    migrate()
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CliError("--password-stdin was given but standard input held no password", EXIT_USAGE)
    roles = [r.strip() for part in args.role for r in part.split(",") if r.strip()]
    organisation = organisation_for(args.member, args.organisation)
    account = actions.create_account(
        username=args.username,
        organisation=organisation,
        roles=roles,
        email=args.email or "",
        password=password,
        acting_user=None,
    )
    print(json.dumps(actions.describe_account(account)))
    return EXIT_OK


def cmd_organisation_add(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import actions

    migrate()
    organisation = actions.create_organisation(
        member_code=args.member.upper(),
        slug=args.slug,
        kind=args.type,
        name_en=args.name,
        name_zh=args.name_zh,
        name_ru=args.name_ru,
        acting_user=None,
    )
    print(json.dumps(describe_organisation(organisation)))
    return EXIT_OK


def describe_organisation(organisation: Any) -> dict[str, str]:
    return {
        "slug": organisation.slug,
        "member": organisation.member.code,
        "type": organisation.kind,
        "name": organisation.name_en,
        "name_zh": organisation.name_zh,
        "name_ru": organisation.name_ru,
    }


def cmd_organisation_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members.models import Organisation

    migrate()
    organisations = [describe_organisation(o) for o in Organisation.objects.select_related("member")]
    if args.json:
        print(json.dumps(organisations))
        return EXIT_OK
    for info in organisations:
        print(f"{info['slug']:32} {info['member']:4} {info['type']:20} {info['name']}")
    return EXIT_OK


def cmd_account_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members.actions import describe_account
    from accord.members.models import Account

    migrate()
    accounts = Account.objects.select_related("organisation__member").prefetch_related("roles").order_by("username")
    for account in accounts:
        info = describe_account(account)
        if args.json:
            print(json.dumps(info))
        else:
            state = "" if info["active"] else "  (disabled)"
            roles = ",".join(info["roles"])
            print(f"{info['username']:24} {info['member'] or '-':4} {info['organisation'] or '-':22} {roles}{state}")
    return EXIT_OK


def cmd_account_disable(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import actions

    migrate()
    account = find_account(args.username)
    actions.set_active(account, False, acting_user=None)
    print(f"account {account.username} is disabled and its tokens are revoked")
    return EXIT_OK


def cmd_unlock(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import lockout

    if not args.username and not args.address:
        raise CliError("give --username, --address or both", EXIT_USAGE)
    migrate()
    removed = lockout.unlock(username=args.username, address=args.address, acting_user=None)
    what = " and ".join(
        part for part in (f"account {args.username}" if args.username else "", args.address or "") if part
    )
    print(f"{what} unlocked ({removed} counted failed log-ins forgotten)")
    return 0


def cmd_reset_2fa(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import twofactor

    migrate()
    account = find_account(args.username)
    removed = twofactor.reset(account, acting_user=None)
    required = (
        " (its roles require it: it is asked to set it up at its next log-in)" if twofactor.is_required(account) else ""
    )
    print(f"two-factor authentication of {account.username} is reset: {removed} devices removed{required}")
    return 0


def cmd_token_create(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import actions

    migrate()
    account = find_account(args.username)
    token, text = actions.create_token(account, name=args.name, scope=args.scope, days=args.days, acting_user=None)
    print(text)
    print(
        f"token {token.prefix} for {account.username}, scope {token.scope}, expires {token.expires_at:%Y-%m-%d}; "
        "it is shown only this once",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.members import actions
    from accord.members.models import ApiToken

    migrate()
    token = ApiToken.objects.select_related("account").filter(prefix=args.prefix).first()
    if token is None:
        raise CliError(f"no token with prefix {args.prefix!r}")
    actions.revoke_token(token, acting_user=None)
    print(f"token {token.prefix} of {token.account.username} is revoked")
    return EXIT_OK
