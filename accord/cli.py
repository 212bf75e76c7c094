"""The `accord` command. Every subcommand takes --data-dir (default: ACCORD_DATA_DIR)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
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
    if not quiet or not _schema_is_current():
        call_command("migrate", interactive=False, verbosity=0 if quiet else 1)
    # Reference data and identity are also made by post_migrate; this covers a database
    # that was already fully migrated before this node's key existed.
    from accord.members.actions import ensure_node_identity, seed_members

    seed_members()
    ensure_node_identity()


def _schema_is_current() -> bool:
    """Whether every migration file of every app is recorded as applied: one query and a directory listing
    per app, where `migrate` would load the whole migration graph (half a second for every command)."""
    from django.apps import apps
    from django.db import DatabaseError, connection

    on_disk: set[tuple[str, str]] = set()
    for config in apps.get_app_configs():
        folder = Path(config.path) / "migrations"
        if folder.is_dir():
            on_disk |= {
                (config.label, entry.stem)
                for entry in folder.iterdir()
                if entry.suffix == ".py" and entry.stem[:4].isdigit()
            }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = {(str(app), str(name)) for app, name in cursor.fetchall()}
    except DatabaseError:
        return False
    return on_disk <= applied


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


def _node_info() -> dict[str, Any]:
    from accord.members import site
    from accord.members.identity import signing_key
    from accord.records.actions import this_node

    node = this_node()
    key = signing_key()
    return {
        "node_id": str(node.node_id),
        "name": node.name,
        "member": node.member.code,
        "url": node.url,
        "public_url": site.public_url() or None,
        "kid": key.kid,
        "public_key": key.public_key,
    }


def cmd_node_show(args: argparse.Namespace) -> int:
    _migrate()
    info = _node_info()
    if args.json:
        print(json.dumps(info))
    else:
        for name, value in info.items():
            print(f"{name:11} {value}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from django.conf import settings

    from accord.federation import actions as federation
    from accord.members.actions import ensure_node_identity
    from accord.members.seed import MEMBERS

    code = args.member.strip().upper()
    if code not in {m[0] for m in MEMBERS}:
        raise CliError(f"--member {args.member!r} is not a known member code ({', '.join(m[0] for m in MEMBERS)})")
    name = args.name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise CliError("--name must be 1-200 printable characters", EXIT_USAGE)
    url = federation._check_url(args.url) if args.url is not None else None
    # `migrate` makes the identity (post_migrate) from these settings when the node is new.
    settings.ACCORD_NODE_MEMBER = code
    settings.ACCORD_NODE_NAME = name
    _migrate()
    node = ensure_node_identity(name=name, member_code=code)
    if node.member.code != code or node.name != name:
        raise CliError(
            f"this data dir holds node {node.node_id} already, named {node.name!r} for member {node.member.code}; "
            f"init cannot make it {name!r} for {code} (use a new --data-dir for a new node)"
        )
    if url is not None and url != node.url:
        federation.set_node_url(url, acting_user=None)
    print(json.dumps(_node_info()))
    return EXIT_OK


def cmd_node_rotate_key(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation
    from accord.members.identity import signing_key

    _migrate()
    previous = signing_key().kid
    key = federation.rotate_key(acting_user=None)
    info = {"node_id": str(key.node_id), "kid": key.kid, "public_key": key.public_key, "previous_kid": previous}
    print(json.dumps(info))
    return EXIT_OK


def _rfc3339(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CliError(f"--from {text!r} is not an RFC 3339 time such as 2026-11-27T10:00:00Z", EXIT_USAGE) from None
    if when.tzinfo is None:
        raise CliError(f"--from {text!r} needs a time zone, e.g. Z or +05:00", EXIT_USAGE)
    return when


def cmd_node_revoke_key(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation

    when = _rfc3339(args.revoked_from)
    _migrate()
    key = federation.revoke_key(args.kid, revoked_from=when, acting_user=None)
    print(json.dumps({"kid": key.kid, "revoked_at": _when(key.revoked_at)}))
    return EXIT_OK


# ---- federation: peers, status, sync, bundles -------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _peer_info(peer: Any) -> dict[str, Any]:
    return {
        "name": peer.name,
        "node_id": str(peer.node_id),
        "member": peer.member,
        "url": peer.url,
        "state": peer.state,
        "pull_cursor": peer.pull_cursor,
        "served_cursor": peer.served_cursor,
        "last_success_at": _when(peer.last_success_at),
        "last_error": peer.last_error,
    }


def _print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped output is read by people too: do not squeeze it into 80 columns.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def _short(when: str | None) -> str:
    return when[:19].replace("T", " ") if when else "-"


def cmd_peer_add(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation

    _migrate()
    name = args.name or re.sub(r"[^a-z0-9-]+", "-", f"{args.member}-{args.node_id[:8]}".lower()).strip("-")
    peer = federation.add_peer(
        name=name,
        node_id=args.node_id,
        public_key=args.public_key.strip(),
        member=args.member,
        url=args.url or "",
        acting_user=None,
    )
    print(json.dumps(_peer_info(peer)))
    return EXIT_OK


def cmd_peer_list(args: argparse.Namespace) -> int:
    from accord.federation.models import Peer

    _migrate()
    peers = [_peer_info(p) for p in Peer.objects.order_by("name")]
    if args.json:
        for info in peers:
            print(json.dumps(info))
        return EXIT_OK
    _print_table(
        "Peers",
        ("name", "member", "node id", "url", "state", "last success", "last error"),
        (
            (
                p["name"],
                p["member"],
                p["node_id"],
                p["url"] or "-",
                p["state"],
                _short(p["last_success_at"]),
                p["last_error"] or "",
            )
            for p in peers
        ),
    )
    return EXIT_OK


def cmd_peer_remove(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation

    _migrate()
    peer = federation.remove_peer(federation.find_peer(args.peer), acting_user=None)
    print(f"peer {peer.name} is removed: nothing more is exchanged with it; what it signed stays valid")
    return EXIT_OK


def cmd_peer_revoke(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation

    _migrate()
    peer = federation.revoke_peer(federation.find_peer(args.peer), acting_user=None, reason=args.reason or "")
    print(f"peer {peer.name} is revoked: its requests and every version its keys sign from now on are refused")
    return EXIT_OK


def cmd_peer_invite(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation
    from accord.records.actions import this_node

    _migrate()
    token = federation.create_invitation(hours=args.hours)
    if not this_node().url:
        print(
            "accord: this node has no URL (set it with `accord init --url`); the peer will not be able to pull from it",
            file=sys.stderr,
        )
    print(token)
    return EXIT_OK


def cmd_peer_accept(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation

    invitation = sys.stdin.readline() if args.invitation == "-" else args.invitation
    _migrate()
    peer = federation.accept_invitation(invitation.strip(), name=args.name, acting_user=None)
    print(json.dumps({"peer": _peer_info(peer), "reply": federation.create_invitation()}))
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


def cmd_records_list(args: argparse.Namespace) -> int:
    from accord.records.models import Version

    _migrate()

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
    _print_table(
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


def cmd_federation_status(args: argparse.Namespace) -> int:
    from accord.federation.models import Peer
    from accord.federation.protocol import BadRequest, decode_cursor, entitled_versions

    _migrate()
    rows = []
    for peer in Peer.objects.order_by("name"):
        try:
            pending: int | None = entitled_versions(peer).filter(id__gt=decode_cursor(peer.served_cursor)).count()
        except BadRequest:
            pending = None
        info = _peer_info(peer) | {
            "remote_remaining": peer.remote_remaining,
            "pending_to_peer": pending,
            "last_pull_at": _when(peer.last_pull_at),
            "last_error_at": _when(peer.last_error_at),
            "stored": peer.stored,
            "refused": peer.refused,
            "bundle_sent_cursor": peer.bundle_sent_cursor,
            "bundle_received_cursor": peer.bundle_received_cursor,
        }
        rows.append(info)
        if args.json:
            print(json.dumps(info))
    if not args.json:
        _print_table(
            "Federation",
            (
                "peer",
                "member",
                "state",
                "to pull",
                "to serve",
                "stored",
                "refused",
                "last pull",
                "last success",
                "last error",
            ),
            (
                (
                    r["name"],
                    r["member"],
                    r["state"],
                    r["remote_remaining"],
                    r["pending_to_peer"],
                    r["stored"],
                    r["refused"],
                    _short(r["last_pull_at"]),
                    _short(r["last_success_at"]),
                    r["last_error"] or "",
                )
                for r in rows
            ),
        )
    return EXIT_OK


def _counts_info(counts: Any) -> dict[str, Any]:
    return {
        "stored": counts.stored,
        "duplicates": counts.duplicates,
        "quarantined": counts.quarantined,
        "refused": counts.refused,
        "awaiting_key": counts.awaiting,
        "errors": list(counts.errors),
    }


def cmd_federation_sync(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation
    from accord.federation import client
    from accord.federation.models import Peer

    _migrate()
    if args.peer:
        peer = federation.find_peer(args.peer)
        if not peer.is_active:
            raise CliError(f"peer {peer.name} is {peer.state}; nothing is exchanged with it")
        peers = [peer]
    else:
        peers = list(Peer.objects.filter(state=Peer.State.ACTIVE).order_by("name"))
    transport = client.HttpTransport()
    failed = 0
    for peer in peers:
        if not client.claim(peer):
            failed += 1
            print(json.dumps({"peer": peer.name, "error": "a worker is syncing with this peer now; try again shortly"}))
            continue
        try:
            counts = client.sync(peer, transport, force_anti_entropy=args.anti_entropy, leased=True)
        except ValueError as error:  # e.g. a malformed ACCORD_OUTBOUND_ALLOW
            raise CliError(f"peer {peer.name}: {error}") from None
        finally:
            client.release(peer)
        if peer.last_error:
            failed += 1
            print(f"accord: peer {peer.name}: {peer.last_error}", file=sys.stderr)
        print(json.dumps({"peer": peer.name} | _counts_info(counts)))
    return EXIT_FAIL if failed else EXIT_OK


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


def cmd_bundle_export(args: argparse.Namespace) -> int:
    from accord.federation import actions as federation
    from accord.federation import bundles

    _migrate()
    peer = federation.find_peer(args.peer)
    if not peer.is_active:
        raise CliError(f"peer {peer.name} is {peer.state}; nothing is exported to it")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist", EXIT_USAGE)
    with _progress() as progress:
        task = progress.add_task("exporting", total=None)
        try:
            result = bundles.export_bundle(
                peer, out, since=args.since, resend=args.resend, progress=lambda: progress.advance(task)
            )
        except OSError as error:
            raise CliError(f"cannot write {out}: {error.strerror}") from None
    print(json.dumps({"count": result.count, "next": result.next_cursor, "path": str(result.path)}))
    return EXIT_OK


def cmd_bundle_import(args: argparse.Namespace) -> int:
    from accord.federation import bundles

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"cannot read {path}: no such file", EXIT_USAGE)
    _migrate()
    with _progress() as progress:
        task = progress.add_task("importing", total=None)
        try:
            counts = bundles.import_bundle(path, progress=lambda: progress.advance(task))
        except OSError as error:
            raise CliError(f"cannot read {path}: {error.strerror}") from None
    print(json.dumps(_counts_info(counts)))
    if counts.refused:
        first = counts.errors[0] if counts.errors else "see the federation log"
        print(f"accord: {counts.refused} versions of the bundle were refused; the first: {first}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


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


def _split(values: Iterable[str], upper: bool = False) -> list[str]:
    found = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return [part.upper() for part in found] if upper else found


def _subscription_info(subscription: Any) -> dict[str, Any]:
    channels = [
        {
            "id": str(c.uuid),
            "kind": c.kind,
            "target": c.target,
            "language": c.language,
            "disabled": c.disabled_at is not None,
            **({"disabled_reason": c.disabled_reason} if c.disabled_at is not None else {}),
        }
        for c in subscription.channels.all()
    ]
    return {
        "id": str(subscription.uuid),
        "owner": subscription.account.username if subscription.account else None,
        "organisation": subscription.organisation.slug if subscription.organisation else None,
        "name": subscription.name,
        "active": subscription.active,
        "mode": subscription.mode,
        "immediate_severity": subscription.immediate_severity or None,
        "kinds": subscription.kinds,
        "members": subscription.origin_members,
        "categories": subscription.categories,
        "events": subscription.events,
        "diseases": subscription.diseases,
        "statuses": subscription.statuses,
        "min_severity": subscription.min_severity or None,
        "min_urgency": subscription.min_urgency or None,
        "min_certainty": subscription.min_certainty or None,
        "area_members": subscription.area_members,
        "area": subscription.area,
        "channels": channels,
    }


def cmd_subscription_add(args: argparse.Namespace) -> int:
    from django.db import transaction

    from accord.members.models import Organisation
    from accord.notify import actions

    _migrate()
    account = _account(args.username) if args.username else None
    organisation = None
    if args.organisation:
        organisation = Organisation.objects.select_related("member").filter(slug=args.organisation).first()
        if organisation is None:
            raise CliError(f"no organisation {args.organisation!r}")
    area = None
    if args.area:
        text = args.area
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as error:
                raise CliError(f"cannot read {text[1:]}: {error.strerror}") from None
        try:
            area = json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(f"--area is not JSON: {error}") from None
        if isinstance(area, dict) and area.get("type") == "Feature":
            area = area.get("geometry")
    filters = actions.Filters(
        kinds=_split(args.kind),
        origin_members=_split(args.member, upper=True),
        categories=_split(args.category),
        events=args.event,
        diseases=_split(args.disease),
        statuses=args.status,
        min_severity=args.min_severity or "",
        min_urgency=args.min_urgency or "",
        min_certainty=args.min_certainty or "",
        area_members=_split(args.area_member, upper=True),
        area=area,
    )
    with transaction.atomic():
        channel = actions.create_channel(
            kind="webhook" if args.webhook else "email",
            target=args.webhook or args.email,
            account=account,
            organisation=organisation,
            language=args.language,
            acting_user=None,
        )
        subscription = actions.create_subscription(
            channels=[channel],
            filters=filters,
            account=account,
            organisation=organisation,
            mode=args.mode,
            immediate_severity=args.immediate_severity or "",
            name=args.name,
            acting_user=None,
        )
    result = {
        "id": str(subscription.uuid),
        "channel": str(channel.uuid),
        "kind": channel.kind,
        "target": channel.target,
    }
    if channel.secret:
        result["secret"] = channel.secret
    print(json.dumps(result))
    return EXIT_OK


def cmd_subscription_list(args: argparse.Namespace) -> int:
    from accord.notify.models import Subscription

    _migrate()
    query = Subscription.objects.select_related("account", "organisation").prefetch_related("channels")
    if args.username:
        query = query.filter(account=_account(args.username))
    for subscription in query.order_by("id"):
        print(json.dumps(_subscription_info(subscription)))
    return EXIT_OK


def cmd_subscription_remove(args: argparse.Namespace) -> int:
    import uuid

    from accord.notify import actions
    from accord.notify.models import Subscription

    _migrate()
    try:
        key = uuid.UUID(args.id)
    except ValueError:
        raise CliError(f"{args.id!r} is not a subscription id (a UUID, as `accord subscription list` shows)") from None
    subscription = Subscription.objects.select_related("account", "organisation").filter(uuid=key).first()
    if subscription is None:
        raise CliError(f"no subscription {args.id}")
    actions.remove_subscription(subscription, acting_user=None)
    print(json.dumps({"removed": str(key)}))
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
    from accord.records import checkpoint

    # Signs the audit head every ACCORD_AUDIT_CHECKPOINT_SECONDS when it moved (the audit lock keeps workers from
    # issuing the same checkpoint twice).
    checkpoints = threading.Thread(target=checkpoint.run, args=(stop,), daemon=True, name="audit-checkpoint")
    checkpoints.start()
    federation: threading.Thread | None = None
    if not args.no_federation:
        from accord.federation import runner

        federation = threading.Thread(target=runner.run, args=(stop,), daemon=True, name="federation")
        federation.start()
    notify: threading.Thread | None = None
    if not args.no_notify:
        from accord.notify import dispatch

        notify = threading.Thread(target=dispatch.run, args=(stop, f"{name}:notify"), daemon=True, name="notify")
        notify.start()
    try:
        call_command("db_worker", interval=args.interval, reload=False, worker_id=name[:64], verbosity=1)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        stop.set()
        beat.join(timeout=5)
        checkpoints.join(timeout=5)
        if federation is not None:
            federation.join(timeout=5)
        if notify is not None:
            notify.join(timeout=15)
    return EXIT_OK


def default_web_workers() -> int:
    """Server processes when --web-workers is not given: one per core on PostgreSQL; one on SQLite, whose single
    writer lock for the whole file would make several processes queue on every write (docs/operations.md)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 1
    return max(1, os.cpu_count() or 1)


def _pool_connections() -> None:
    """Server processes use a pool of database connections on PostgreSQL (settings.py says why): this process
    from now on, and the server processes it starts (ACCORD_DB_POOL in their environment)."""
    from django.conf import settings
    from django.db import connections

    os.environ["ACCORD_DB_POOL"] = "1"
    default = connections.settings["default"]
    if default["ENGINE"] != "django.db.backends.postgresql":
        return
    connections.close_all()
    default["CONN_MAX_AGE"] = 0
    default.setdefault("OPTIONS", {})["pool"] = settings.ACCORD_DB_POOL


def _serve_asgi(host: str, port: int, web_workers: int = 1) -> None:
    """uvicorn, as `uvicorn.run` would, but open live streams (/api/v1/stream), which never finish by themselves,
    are told to end as soon as shutting down begins (EventSource clients reconnect and resume elsewhere or later);
    whatever is still open after 5 s is cut."""
    import uvicorn
    from django.conf import settings
    from uvicorn.config import LOGGING_CONFIG

    from accord.lib.redact import uvicorn_log_config
    from accord.notify.stream import close_streams

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            close_streams()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        "accord.asgi:application",
        host=host,
        port=port,
        # uvicorn's logging with the secret-redacting filter on its loggers and handlers (accord/lib/redact.py);
        # the access log (request lines) only when ACCORD_ACCESS_LOG is on.
        log_config=uvicorn_log_config(LOGGING_CONFIG),
        log_level="info" if settings.ACCORD_ACCESS_LOG else "warning",
        access_log=settings.ACCORD_ACCESS_LOG,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    if web_workers > 1:
        # Several server processes on one socket (uvicorn's supervisor: it restarts a process that dies). Each
        # answers its own requests with its own database connection; open live streams end with the 5 s grace.
        from uvicorn.supervisors import Multiprocess

        config.workers = web_workers
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = Server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # as uvicorn.run: the server could not start (the port is taken, ...)


def _warn_public_url() -> None:
    from accord.members.site import production_warning

    warning = production_warning()
    if warning:
        print(f"accord: warning: {warning}", file=sys.stderr, flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    _migrate()
    from accord.web.static import ensure_collected

    ensure_collected()  # hashed, compressed static files, collected again only when their sources changed
    from django.conf import settings

    def terminate(signum: int, frame: object) -> None:
        # uvicorn shuts down on SIGTERM and then raises the signal again with this handler restored: leave
        # through `finally`, so the workers are stopped too (a bare SIGTERM would orphan them).
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    _warn_public_url()
    workers: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, ACCORD_DATA_DIR=str(settings.DATA_DIR))
    try:
        web_workers = args.web_workers if args.web_workers is not None else default_web_workers()
        for _ in range(args.workers):
            workers.append(subprocess.Popen([sys.executable, "-m", "accord.cli", "worker"], env=env))
        print(
            f"Accord serving on http://{args.host}:{args.port} with {web_workers} server process(es) and "
            f"{args.workers} worker(s); Ctrl-C stops it",
            flush=True,
        )
        _pool_connections()
        _serve_asgi(args.host, args.port, web_workers)
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


def _importer(username: str | None) -> Any:
    """The account `accord alert import` acts as: the one named, or this node's service account."""
    return _account(username) if username else _service_account()


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


def _hours(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 8760:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours from 1 to 8760")
    return int(text)


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
    serve.add_argument(
        "--web-workers",
        type=int,
        default=None,
        choices=range(1, 65),
        metavar="N",
        help="server processes answering requests (default: the number of cores on PostgreSQL, 1 on SQLite)",
    )
    add("migrate", cmd_migrate, "create or update the database")
    add("demo", cmd_demo, "load the demo members, accounts and records (idempotent)")
    worker = add("worker", cmd_worker, "run a background worker")
    worker.add_argument("--interval", type=float, default=1.0)
    worker.add_argument(
        "--no-federation", action="store_true", help="do not pull from peers nor send them hints in this worker"
    )
    worker.add_argument(
        "--no-notify", action="store_true", help="do not send notifications (e-mail, webhooks) in this worker"
    )
    init = add("init", cmd_init, "create this node: its identity, member and address (idempotent)")
    init.add_argument("--name", required=True, help="this node's name, e.g. accord-kz")
    init.add_argument("--member", required=True, help="the code of the member that operates the node, e.g. KZ")
    init.add_argument(
        "--url",
        help="this node's public address (links in e-mails, feeds; where peers reach it), e.g. https://accord.example.kz",
    )

    from accord.records.commands import add_commands as add_audit_commands

    add_audit_commands(sub, common, _migrate)

    node = sub.add_parser("node", help="this node").add_subparsers(dest="node_command", required=True)
    show = add("show", cmd_node_show, "show this node's id, member and public key", node)
    show.add_argument("--json", action="store_true")
    add("rotate-key", cmd_node_rotate_key, "make a new signing key, announced to peers under the old one", node)
    revoke_key = add("revoke-key", cmd_node_revoke_key, "revoke one of this node's old keys from a time", node)
    revoke_key.add_argument("--kid", required=True, help="the key id, ed25519:...")
    revoke_key.add_argument(
        "--from", dest="revoked_from", required=True, metavar="RFC3339", help="e.g. 2026-11-27T10:00:00Z"
    )

    peer = sub.add_parser("peer", help="the nodes this node federates with").add_subparsers(
        dest="peer_command", required=True
    )
    peer_add = add("add", cmd_peer_add, "trust another node (its admin gave you its id and key)", peer)
    peer_add.add_argument("--url", help="where the peer is reached (none: it can only pull from us, or use bundles)")
    peer_add.add_argument("--node-id", required=True)
    peer_add.add_argument("--public-key", required=True, help="base64 of its Ed25519 public key")
    peer_add.add_argument("--member", required=True, help="the member that operates the peer, e.g. CN")
    peer_add.add_argument("--name", help="a short name (default: <member>-<first 8 characters of the node id>)")
    peer_list = add("list", cmd_peer_list, "list the peers", peer)
    peer_list.add_argument("--json", action="store_true")
    peer_remove = add("remove", cmd_peer_remove, "stop exchanging with a peer", peer)
    peer_remove.add_argument("peer", metavar="NAME")
    peer_revoke = add("revoke", cmd_peer_revoke, "distrust a peer and its keys from now on", peer)
    peer_revoke.add_argument("peer", metavar="NAME")
    peer_revoke.add_argument("--reason")
    peer_invite = add("invite", cmd_peer_invite, "print a signed invitation for another node's admin", peer)
    peer_invite.add_argument("--hours", type=_hours, default=72, metavar="N", help="how long it is valid (1 to 8760)")
    peer_accept = add("accept", cmd_peer_accept, "add the peer an invitation describes; prints a reply", peer)
    peer_accept.add_argument("invitation", metavar="TOKEN", help="the invitation (- reads it from standard input)")
    peer_accept.add_argument("--name", help="a short name for the peer (default: from its node name)")

    records = sub.add_parser("records", help="stored versions").add_subparsers(dest="records_command", required=True)
    records_list = add("list", cmd_records_list, "list every stored version in arrival order", records)
    records_list.add_argument("--json", action="store_true", help="one JSON object per line")

    federation = sub.add_parser("federation", help="exchange with peers").add_subparsers(
        dest="federation_command", required=True
    )
    status = add("status", cmd_federation_status, "how far each peer and this node are behind", federation)
    status.add_argument("--json", action="store_true", help="one JSON object per peer")
    sync = add("sync", cmd_federation_sync, "pull once from each active peer now", federation)
    sync.add_argument("--peer", metavar="NAME", help="only this peer")
    sync.add_argument("--anti-entropy", action="store_true", help="also compare manifests to find missed versions")

    bundle = sub.add_parser("bundle", help="store-and-forward files").add_subparsers(
        dest="bundle_command", required=True
    )
    bundle_export = add("export", cmd_bundle_export, "write the versions a peer is entitled to into a file", bundle)
    bundle_export.add_argument("--peer", required=True, metavar="NAME")
    bundle_export.add_argument("--out", required=True, metavar="FILE")
    start = bundle_export.add_mutually_exclusive_group()
    start.add_argument(
        "--since",
        metavar="CURSOR",
        help="a cursor printed by an earlier export ('' for everything; default: after the last bundle exported "
        "to the peer, or what it confirmed holding, whichever is later)",
    )
    start.add_argument("--resend", action="store_true", help="everything the peer is entitled to, again")
    bundle_import = add("import", cmd_bundle_import, "verify a bundle and store its versions", bundle)
    bundle_import.add_argument("file", metavar="FILE")

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
    from accord.members.commands import add_account_commands

    add_account_commands(account, add)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    token_create = add("create", cmd_token_create, "create an API token and print it once", token)
    token_create.add_argument("--username", required=True)
    token_create.add_argument("--name", default="cli")
    token_create.add_argument("--scope", choices=["read", "write", "feed"], default="write")
    token_create.add_argument("--days", type=int)
    token_revoke = add("revoke", cmd_token_revoke, "revoke an API token", token)
    token_revoke.add_argument("--prefix", required=True)

    subscription = sub.add_parser("subscription", help="notification subscriptions").add_subparsers(
        dest="subscription_command", required=True
    )
    sub_add = add(
        "add", cmd_subscription_add, "subscribe an account (or organisation) by e-mail or webhook", subscription
    )
    owner = sub_add.add_mutually_exclusive_group(required=True)
    owner.add_argument("--username", help="the account that owns the subscription")
    owner.add_argument("--organisation", metavar="SLUG", help="an organisation that owns it (managed by its admins)")
    target = sub_add.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="URL", help="POST signed JSON here (Standard Webhooks)")
    target.add_argument("--email", metavar="ADDR", help="send e-mail here")
    sub_add.add_argument("--kind", action="append", default=[], help="record kind, e.g. alert; repeatable")
    sub_add.add_argument("--min-severity", choices=["Minor", "Moderate", "Severe", "Extreme"])
    sub_add.add_argument("--min-urgency", choices=["Past", "Future", "Expected", "Immediate"])
    sub_add.add_argument("--min-certainty", choices=["Unlikely", "Possible", "Likely", "Observed"])
    sub_add.add_argument("--member", action="append", default=[], help="origin member code; repeatable")
    sub_add.add_argument("--area-member", action="append", default=[], help="member whose territory the areas touch")
    sub_add.add_argument("--area", metavar="GEOJSON", help="a GeoJSON Polygon (or @FILE) the areas must touch")
    sub_add.add_argument("--category", action="append", default=[], help="CAP category, e.g. Health; repeatable")
    sub_add.add_argument("--event", action="append", default=[], help="CAP event, exact; repeatable")
    sub_add.add_argument("--disease", action="append", default=[], help="ICD code or name; repeatable")
    sub_add.add_argument("--status", action="append", default=[], choices=["actual", "exercise", "test"])
    sub_add.add_argument("--mode", choices=["immediate", "hourly", "daily"], default="immediate")
    sub_add.add_argument("--immediate-severity", choices=["Minor", "Moderate", "Severe", "Extreme"])
    sub_add.add_argument("--language", choices=["en", "zh-hans", "ru"], help="of the messages (default: by member)")
    sub_add.add_argument("--name", default="")
    sub_list = add("list", cmd_subscription_list, "list subscriptions as JSON lines", subscription)
    sub_list.add_argument("--username", help="only this account's")
    sub_remove = add("remove", cmd_subscription_remove, "remove a subscription by id", subscription)
    sub_remove.add_argument("id", metavar="ID")

    from accord.lib.cap.commands import add_commands

    add_commands(sub, common)

    from accord.alerts.commands import add_commands as add_alert_commands

    add_alert_commands(sub, common, migrate=_migrate, account=_importer)

    from accord.surveillance.commands import add_commands as add_counts_commands

    add_counts_commands(sub, common, _migrate, _service_account)

    detect = add("detect", cmd_detect, "run an R surveillance aberration detector over count series in a CSV")
    detect.set_defaults(django=False)
    detect.add_argument("--input", required=True, metavar="DATA.csv", help="long format: dataset, unit, t, ...")
    detect.add_argument("--algorithm", required=True, metavar="NAME", help="R name, e.g. farringtonFlexible, earsC")
    detect.add_argument("--control", required=True, metavar="JSON", help="the resolved control, or @FILE")
    detect.add_argument("--control-id", required=True, metavar="ID", help="written to the control_id column")
    detect.add_argument("--range", required=True, metavar="FIRST:LAST", help="monitored time indices t, 1-based")
    detect.add_argument("--start", metavar="YEAR,EPOCH", help="R's start slot (default: from the first row)")
    detect.add_argument("--output", required=True, metavar="OUT.csv", help="result CSV ('-': standard output)")

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
