"""The `accord` command. Every subcommand takes --data-dir (default: ACCORD_DATA_DIR)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A failure to report in one line, with exit status 1 (or 2 for usage)."""

    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _setup(args: argparse.Namespace) -> None:
    if getattr(args, "data_dir", None):
        os.environ["ACCORD_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()


def _migrate(quiet: bool = True) -> None:
    from django.conf import settings
    from django.core.management import call_command

    Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    # Reference data and identity are also made by post_migrate; this covers a database
    # that was already fully migrated before this node's key existed.
    from accord.members.actions import ensure_node_identity, seed_members

    seed_members()
    ensure_node_identity()


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(quiet=False)
    print("database is up to date")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from accord.members.demo import DEMO_PASSWORD, load_demo

    _migrate()
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


def cmd_node_show(args: argparse.Namespace) -> int:
    from accord.members.models import NodeIdentity, NodeKey

    _migrate()
    node = NodeIdentity.objects.select_related("member").get(id=1)
    key = NodeKey.objects.filter(node_id=node.node_id, active=True).first()
    info = {
        "node_id": str(node.node_id),
        "name": node.name,
        "member": node.member.code,
        "kid": key.kid if key else None,
        "public_key": key.public_key if key else None,
    }
    if args.json:
        print(json.dumps(info))
    else:
        for name, value in info.items():
            print(f"{name:11} {value}")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from accord.records.verify import dumps, total_items, verify_all

    if args.json or not sys.stderr.isatty():
        report = verify_all()
    else:
        with Progress(transient=True) as progress:
            task = progress.add_task("verifying", total=total_items())
            report = verify_all(lambda: progress.advance(task))
    if args.json:
        print(dumps(report))
    else:
        print(f"audit entries: {report.audit_entries}")
        print(f"versions:      {report.versions}")
        print(f"attachments:   {report.attachments}")
        for problem in report.problems:
            print(f"BROKEN: {problem}")
        print(
            "OK: the audit chain and every signature verify"
            if report.ok
            else f"FAILED: {len(report.problems)} problems"
        )
    return EXIT_OK if report.ok else EXIT_FAIL


def _organisation_for(member_code: str, slug: str | None) -> Any:
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


def cmd_account_add(args: argparse.Namespace) -> int:
    from accord.members import actions

    _migrate()
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CliError("--password-stdin was given but standard input held no password", EXIT_USAGE)
    roles = [r.strip() for part in args.role for r in part.split(",") if r.strip()]
    organisation = _organisation_for(args.member, args.organisation)
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


def cmd_account_list(args: argparse.Namespace) -> int:
    from accord.members.actions import describe_account
    from accord.members.models import Account

    _migrate()
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


def _account(username: str) -> Any:
    from accord.members.models import Account

    account = Account.objects.select_related("organisation__member").filter(username=username).first()
    if account is None:
        raise CliError(f"no account {username!r}")
    return account


def cmd_account_disable(args: argparse.Namespace) -> int:
    from accord.members import actions

    _migrate()
    account = _account(args.username)
    actions.set_active(account, False, acting_user=None)
    print(f"account {account.username} is disabled and its tokens are revoked")
    return EXIT_OK


def cmd_token_create(args: argparse.Namespace) -> int:
    from accord.members import actions

    _migrate()
    account = _account(args.username)
    token, text = actions.create_token(account, name=args.name, scope=args.scope, days=args.days, acting_user=None)
    print(text)
    print(
        f"token {token.prefix} for {account.username}, scope {token.scope}, expires {token.expires_at:%Y-%m-%d}; "
        "it is shown only this once",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from accord.members import actions
    from accord.members.models import ApiToken

    _migrate()
    token = ApiToken.objects.select_related("account").filter(prefix=args.prefix).first()
    if token is None:
        raise CliError(f"no token with prefix {args.prefix!r}")
    actions.revoke_token(token, acting_user=None)
    print(f"token {token.prefix} of {token.account.username} is revoked")
    return EXIT_OK


def _heartbeat(stop: threading.Event, name: str, every: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from accord.records.models import WorkerHeartbeat

    try:
        while not stop.is_set():
            try:
                WorkerHeartbeat.objects.update_or_create(worker=name, defaults={"seen_at": timezone.now()})
            except Exception as error:  # noqa: BLE001  (a missed beat must not kill the worker)
                print(f"worker heartbeat failed: {error}", file=sys.stderr)
            stop.wait(every)
        WorkerHeartbeat.objects.filter(worker=name).delete()
    finally:
        connection.close()


def cmd_worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    _migrate()
    name = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(stop, name, settings.ACCORD_WORKER_HEARTBEAT_SECONDS), daemon=True)
    beat.start()
    try:
        call_command("db_worker", interval=args.interval, reload=False, worker_id=name[:64], verbosity=1)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        stop.set()
        beat.join(timeout=5)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    _migrate()
    from django.conf import settings

    workers: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, ACCORD_DATA_DIR=str(settings.DATA_DIR))
    for _ in range(args.workers):
        workers.append(subprocess.Popen([sys.executable, "-m", "accord.cli", "worker"], env=env))
    print(
        f"Accord serving on http://{args.host}:{args.port} with {args.workers} worker(s); Ctrl-C stops it", flush=True
    )
    try:
        uvicorn.run("accord.asgi:application", host=args.host, port=args.port, log_level="warning", lifespan="off")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for worker in workers:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
    return EXIT_OK


def _service_account() -> Any:
    """This node's own account for imports from the shell: created on first use, focal point of the node's member."""
    from accord.members import actions
    from accord.members.models import Account, NodeIdentity

    existing = Account.objects.filter(username="accord-node").first()
    if existing is not None:
        return existing
    node = NodeIdentity.objects.select_related("member").get(id=1)
    organisation = _organisation_for(node.member.code, None) if node.member.organisations.count() != 1 else None
    if organisation is None:
        organisation = node.member.organisations.get()
    return actions.create_account(
        username="accord-node", organisation=organisation, roles=["focal_point"], acting_user=None
    )


def cmd_alert_import(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from accord.alerts.actions import import_alert
    from accord.lib import cap as caplib
    from accord.records.envelope import Audience
    from accord.records.errors import ActionError

    _migrate()
    user = _account(args.username) if args.username else _service_account()
    audience = (
        Audience(members=[c.strip().upper() for c in args.audience.split(",") if c.strip()]) if args.audience else None
    )
    if (audience is None) != (args.tlp is None):
        raise CliError("give --audience and --tlp together, or neither (then the CAP scope decides)", EXIT_USAGE)
    documents: list[tuple[str, bytes]] = []
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as error:
            raise CliError(f"cannot read {name}: {error.strerror}", EXIT_USAGE) from None
        report = caplib.validate(data)
        if report.kind in ("atom-feed", "rss-feed"):
            documents += [(f"{name}#{i + 1}", caplib.to_xml(a)) for i, a in enumerate(report.alerts)]
            if report.links:
                print(f"{name}: {len(report.links)} linked alerts were not fetched", file=sys.stderr)
        else:
            documents.append((name, data))
    failures = 0
    with Progress(transient=True, disable=len(documents) < 5 or not sys.stderr.isatty()) as progress:
        task = progress.add_task("importing", total=len(documents))
        for name, data in documents:
            try:
                result = import_alert(data, acting_user=user, audience=audience, tlp=args.tlp)
            except ActionError as error:
                failures += 1
                print(f"{name}: not imported: {error.message}", file=sys.stderr)
            else:
                version = result.version
                line = {
                    "file": name,
                    "record": str(version.record_uuid),
                    "seq": version.seq,
                    "status": version.status,
                    "tlp": version.tlp,
                    "warnings": len(result.warnings),
                }
                print(json.dumps(line) if args.json else f"{name}: imported as {version.record_uuid}#{version.seq}")
            progress.advance(task)
    return EXIT_FAIL if failures else EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord manage", *args.rest])
    return EXIT_OK


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    data_dir_help = "where the database, keys and attachments live (default: ACCORD_DATA_DIR)"
    # The option may stand before or after the subcommand; SUPPRESS keeps a subcommand
    # that was not given the option from overwriting a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data-dir", default=None, help=data_dir_help)
    parser = argparse.ArgumentParser(prog="accord", description="Accord: emergency information sharing.", parents=[top])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str, into: Any = sub
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = into.add_parser(name, help=help_, parents=[common])
        p.set_defaults(func=func)
        return p

    serve = add("serve", cmd_serve, "serve the web UI and API, with background workers")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=_port, default=_port(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1, choices=range(0, 17), metavar="N")
    add("migrate", cmd_migrate, "create or update the database")
    add("demo", cmd_demo, "load the demo members, accounts and records (idempotent)")
    worker = add("worker", cmd_worker, "run a background worker")
    worker.add_argument("--interval", type=float, default=1.0)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = add("verify", cmd_audit_verify, "verify the audit chain and every stored signature", audit)
    verify.add_argument("--json", action="store_true")

    node = sub.add_parser("node", help="this node").add_subparsers(dest="node_command", required=True)
    show = add("show", cmd_node_show, "show this node's id, member and public key", node)
    show.add_argument("--json", action="store_true")

    account = sub.add_parser("account", help="accounts").add_subparsers(dest="account_command", required=True)
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

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    token_create = add("create", cmd_token_create, "create an API token and print it once", token)
    token_create.add_argument("--username", required=True)
    token_create.add_argument("--name", default="cli")
    token_create.add_argument("--scope", choices=["read", "write", "feed"], default="write")
    token_create.add_argument("--days", type=int)
    token_revoke = add("revoke", cmd_token_revoke, "revoke an API token", token)
    token_revoke.add_argument("--prefix", required=True)

    from accord.lib.cap.commands import add_commands

    add_commands(sub, common)

    alert = sub.add_parser("alert", help="alerts").add_subparsers(dest="alert_command", required=True)
    alert_import = add(
        "import", cmd_alert_import, "import CAP alerts (files, or Atom/RSS feeds with embedded alerts)", alert
    )
    alert_import.add_argument("files", nargs="+", metavar="FILE_OR_FEED")
    alert_import.add_argument(
        "--as", dest="username", help="the account that imports (default: this node's service account)"
    )
    alert_import.add_argument("--audience", help="member codes, e.g. KZ,RU (default: from the CAP scope)")
    alert_import.add_argument("--tlp", choices=["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"])
    alert_import.add_argument("--json", action="store_true", help="one JSON line per imported alert")

    manage = add("manage", cmd_manage, "run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "django", True):
            _setup(args)
        result: int = args.func(args)
        return result
    except CliError as error:
        print(f"accord: {error.message}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:
        from django.core.exceptions import ImproperlyConfigured

        from accord.records.errors import ActionError

        if isinstance(error, ActionError | ImproperlyConfigured):
            print(f"accord: {getattr(error, 'message', str(error))}", file=sys.stderr)
            return EXIT_FAIL
        raise


if __name__ == "__main__":
    sys.exit(main())
