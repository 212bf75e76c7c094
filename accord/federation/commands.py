"""The `accord` subcommands of federation: `init` (this node), `node` (its keys), `peer` (whom it federates with),
`federation` (status, sync) and `bundle` (store-and-forward files). accord/cli.py registers them, in the order of
`accord --help`: `add_init_command`, `add_commands` (node, peer), `add_exchange_commands` (federation, bundle)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from accord.lib.commands import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Migrate,
    adder,
    hours_arg,
    iso_time,
    print_table,
    progress_bar,
    short,
)


def add_init_command(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``init``. `migrate` prepares the database (the CLI's)."""
    add = adder(common_parent, migrate)
    init = add("init", cmd_init, "create this node: its identity, member and address (idempotent)", subparsers)
    init.add_argument("--name", required=True, help="this node's name, e.g. accord-kz")
    init.add_argument("--member", required=True, help="the code of the member that operates the node, e.g. KZ")
    init.add_argument(
        "--url",
        help="this node's public address (links in e-mails, feeds; where peers reach it), e.g. https://accord.example.kz",
    )


def add_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``node show|rotate-key|revoke-key`` and ``peer add|list|remove|revoke|invite|accept``."""
    add = adder(common_parent, migrate)
    node = subparsers.add_parser("node", help="this node").add_subparsers(dest="node_command", required=True)
    show = add("show", cmd_node_show, "show this node's id, member and public key", node)
    show.add_argument("--json", action="store_true")
    add("rotate-key", cmd_node_rotate_key, "make a new signing key, announced to peers under the old one", node)
    revoke_key = add("revoke-key", cmd_node_revoke_key, "revoke one of this node's old keys from a time", node)
    revoke_key.add_argument("--kid", required=True, help="the key id, ed25519:...")
    revoke_key.add_argument(
        "--from", dest="revoked_from", required=True, metavar="RFC3339", help="e.g. 2026-11-27T10:00:00Z"
    )

    peer = subparsers.add_parser("peer", help="the nodes this node federates with").add_subparsers(
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
    peer_invite.add_argument(
        "--hours", type=hours_arg, default=72, metavar="N", help="how long it is valid (1 to 8760)"
    )
    peer_accept = add("accept", cmd_peer_accept, "add the peer an invitation describes; prints a reply", peer)
    peer_accept.add_argument("invitation", metavar="TOKEN", help="the invitation (- reads it from standard input)")
    peer_accept.add_argument("--name", help="a short name for the peer (default: from its node name)")


def add_exchange_commands(subparsers: Any, common_parent: argparse.ArgumentParser, migrate: Migrate) -> None:
    """Add ``federation status|sync`` and ``bundle export|import``."""
    add = adder(common_parent, migrate)
    federation = subparsers.add_parser("federation", help="exchange with peers").add_subparsers(
        dest="federation_command", required=True
    )
    status = add("status", cmd_federation_status, "how far each peer and this node are behind", federation)
    status.add_argument("--json", action="store_true", help="one JSON object per peer")
    sync = add("sync", cmd_federation_sync, "pull once from each active peer now", federation)
    sync.add_argument("--peer", metavar="NAME", help="only this peer")
    sync.add_argument("--anti-entropy", action="store_true", help="also compare manifests to find missed versions")

    bundle = subparsers.add_parser("bundle", help="store-and-forward files").add_subparsers(
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


# ---- this node -----------------------------------------------------------------------------------------------


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


def cmd_node_show(args: argparse.Namespace, migrate: Migrate) -> int:
    migrate()
    info = _node_info()
    if args.json:
        print(json.dumps(info))
    else:
        for name, value in info.items():
            print(f"{name:11} {value}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace, migrate: Migrate) -> int:
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
    migrate()
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


def cmd_node_rotate_key(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation
    from accord.members.identity import signing_key

    migrate()
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


def cmd_node_revoke_key(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation

    when = _rfc3339(args.revoked_from)
    migrate()
    key = federation.revoke_key(args.kid, revoked_from=when, acting_user=None)
    print(json.dumps({"kid": key.kid, "revoked_at": iso_time(key.revoked_at)}))
    return EXIT_OK


# ---- peers ------------------------------------------------------------------------------------------------


def _peer_info(peer: Any) -> dict[str, Any]:
    return {
        "name": peer.name,
        "node_id": str(peer.node_id),
        "member": peer.member,
        "url": peer.url,
        "state": peer.state,
        "pull_cursor": peer.pull_cursor,
        "served_cursor": peer.served_cursor,
        "last_success_at": iso_time(peer.last_success_at),
        "last_error": peer.last_error,
    }


def cmd_peer_add(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation

    migrate()
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


def cmd_peer_list(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation.models import Peer

    migrate()
    peers = [_peer_info(p) for p in Peer.objects.order_by("name")]
    if args.json:
        for info in peers:
            print(json.dumps(info))
        return EXIT_OK
    print_table(
        "Peers",
        ("name", "member", "node id", "url", "state", "last success", "last error"),
        (
            (
                p["name"],
                p["member"],
                p["node_id"],
                p["url"] or "-",
                p["state"],
                short(p["last_success_at"]),
                p["last_error"] or "",
            )
            for p in peers
        ),
    )
    return EXIT_OK


def cmd_peer_remove(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation

    migrate()
    peer = federation.remove_peer(federation.find_peer(args.peer), acting_user=None)
    print(f"peer {peer.name} is removed: nothing more is exchanged with it; what it signed stays valid")
    return EXIT_OK


def cmd_peer_revoke(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation

    migrate()
    peer = federation.revoke_peer(federation.find_peer(args.peer), acting_user=None, reason=args.reason or "")
    print(f"peer {peer.name} is revoked: its requests and every version its keys sign from now on are refused")
    return EXIT_OK


def cmd_peer_invite(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation
    from accord.records.actions import this_node

    migrate()
    token = federation.create_invitation(hours=args.hours)
    if not this_node().url:
        print(
            "accord: this node has no URL (set it with `accord init --url`); the peer will not be able to pull from it",
            file=sys.stderr,
        )
    print(token)
    return EXIT_OK


def cmd_peer_accept(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation

    invitation = sys.stdin.readline() if args.invitation == "-" else args.invitation
    migrate()
    peer = federation.accept_invitation(invitation.strip(), name=args.name, acting_user=None)
    print(json.dumps({"peer": _peer_info(peer), "reply": federation.create_invitation()}))
    return EXIT_OK


# ---- exchange: status, sync, bundles -------------------------------------------------------------------------


def cmd_federation_status(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation.models import Peer
    from accord.federation.protocol import BadRequest, decode_cursor, entitled_versions

    migrate()
    rows = []
    for peer in Peer.objects.order_by("name"):
        try:
            pending: int | None = entitled_versions(peer).filter(id__gt=decode_cursor(peer.served_cursor)).count()
        except BadRequest:
            pending = None
        info = _peer_info(peer) | {
            "remote_remaining": peer.remote_remaining,
            "pending_to_peer": pending,
            "last_pull_at": iso_time(peer.last_pull_at),
            "last_error_at": iso_time(peer.last_error_at),
            "stored": peer.stored,
            "refused": peer.refused,
            "bundle_sent_cursor": peer.bundle_sent_cursor,
            "bundle_received_cursor": peer.bundle_received_cursor,
        }
        rows.append(info)
        if args.json:
            print(json.dumps(info))
    if not args.json:
        print_table(
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
                    short(r["last_pull_at"]),
                    short(r["last_success_at"]),
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


def cmd_federation_sync(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation
    from accord.federation import client
    from accord.federation.models import Peer

    migrate()
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


def cmd_bundle_export(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import actions as federation
    from accord.federation import bundles

    migrate()
    peer = federation.find_peer(args.peer)
    if not peer.is_active:
        raise CliError(f"peer {peer.name} is {peer.state}; nothing is exported to it")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"cannot write {out}: folder {out.parent} does not exist", EXIT_USAGE)
    with progress_bar() as progress:
        task = progress.add_task("exporting", total=None)
        try:
            result = bundles.export_bundle(
                peer, out, since=args.since, resend=args.resend, progress=lambda: progress.advance(task)
            )
        except OSError as error:
            raise CliError(f"cannot write {out}: {error.strerror}") from None
    print(json.dumps({"count": result.count, "next": result.next_cursor, "path": str(result.path)}))
    return EXIT_OK


def cmd_bundle_import(args: argparse.Namespace, migrate: Migrate) -> int:
    from accord.federation import bundles

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"cannot read {path}: no such file", EXIT_USAGE)
    migrate()
    with progress_bar() as progress:
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
