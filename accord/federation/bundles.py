"""Store-and-forward bundles: the versions a peer is entitled to, in one signed file, for cut-off links.

The file is JSON lines: a header, one line per version (as on the change feed, with its attachments'
bytes inline), and a trailer carrying the count, the SHA-256 of every line before it, and the sending
node's signature over the trailer's canonical form. Import reads the file twice: first to check the
trailer (nothing is stored from a damaged or forged file), then to verify and store each version.
Both passes stream, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.federation.client import Counts, receive
from accord.federation.models import Peer
from accord.federation.protocol import (
    BadRequest,
    decode_cursor,
    encode_cursor,
    entitled_versions,
    log_event,
    version_item,
)
from accord.lib import canonical
from accord.records import audit
from accord.records.errors import ActionError, Forbidden

FORMAT = "accord-bundle-1"


@dataclass(frozen=True)
class ExportResult:
    count: int
    next_cursor: str
    path: Path


def start_cursor(peer: Peer) -> str:
    """Where the next bundle to `peer` starts: after the last one exported to it, or after what it confirmed
    holding (its pulls' cursor, or the acknowledgement in the header of a bundle it sent us), whichever is later."""
    cursors = [c for c in (peer.bundle_sent_cursor, peer.served_cursor) if c]
    try:
        return max(cursors, key=decode_cursor, default="")
    except BadRequest:
        return peer.served_cursor


def export_bundle(
    peer: Peer,
    out: Path,
    *,
    since: str | None = None,
    resend: bool = False,
    progress: Callable[[], None] | None = None,
) -> ExportResult:
    """Write the versions `peer` is entitled to after `since`; by default only what is new since the last bundle
    to it or what it confirmed holding (`start_cursor`); `resend`: everything it is entitled to.

    The header acknowledges the last bundle imported from the peer (`ack`: its cursor), so that the peer knows
    what this node holds, as a pull's cursor would tell it."""
    from django.db import transaction

    from accord.members.identity import signing_key
    from accord.records import attachments as attachment_store
    from accord.records.actions import this_node

    node = this_node()
    key = signing_key()
    cursor_text = "" if resend else (start_cursor(peer) if since is None else since)
    try:
        after = decode_cursor(cursor_text)
    except BadRequest as error:
        raise ActionError(f"--since: {error.message}", field="since") from None
    digest = hashlib.sha256()
    count = 0
    last = after
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("wb") as handle:

        def write(obj: dict[str, Any]) -> None:
            line = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"
            digest.update(line)
            handle.write(line)

        write(
            {
                "format": FORMAT,
                "from_node": str(node.node_id),
                "from_member": node.member.code,
                "to_node": str(peer.node_id),
                "to_member": peer.member,
                "after": cursor_text,
                "ack": peer.bundle_received_cursor,
            }
        )
        rows = (
            entitled_versions(peer).filter(id__gt=after).order_by("id").only("id", "canonical", "signature", "sig_kid")
        )
        for version in rows.iterator(chunk_size=200):
            item = version_item(version)
            item["attachment_data"] = {
                a["sha256"]: base64.b64encode(attachment_store.read_bytes(a["sha256"])).decode("ascii")
                for a in item["attachments"]
            }
            write({"item": item})
            count += 1
            last = version.id
            if progress:
                progress()
        trailer = {"count": count, "next": encode_cursor(last), "sha256": digest.hexdigest(), "kid": key.kid}
        trailer["signature"] = key.sign(canonical.canonical_bytes(trailer))
        handle.write(json.dumps({"trailer": trailer}, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n")
    tmp.replace(out)
    with transaction.atomic():
        if last > decode_cursor(start_cursor(peer)):
            Peer.objects.filter(pk=peer.pk).update(bundle_sent_cursor=encode_cursor(last))
        audit.append(
            "bundle.export",
            actor=None,
            object_type="peer",
            object_id=str(peer.node_id),
            data={"count": count, "after": cursor_text, "next": trailer["next"], "sha256": trailer["sha256"]},
        )
    return ExportResult(count=count, next_cursor=str(trailer["next"]), path=out)


def _check(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and trailer of a bundle whose lines hash and sign correctly; ActionError otherwise."""
    from accord.members.models import NodeKey

    digest = hashlib.sha256()
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    count = 0
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if trailer is not None:
                    raise ActionError(f"line {number}: nothing may follow the trailer")
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ActionError(f"line {number}: not a JSON object")
                if number == 1:
                    header = obj
                    if header.get("format") != FORMAT:
                        raise ActionError(f"not an Accord bundle (format {header.get('format')!r}, want {FORMAT})")
                elif "trailer" in obj:
                    trailer = obj["trailer"]
                    continue
                elif "item" in obj:
                    count += 1
                else:
                    raise ActionError(f"line {number}: neither a version nor the trailer")
                digest.update(line)
    except (ValueError, UnicodeDecodeError):
        raise ActionError("the bundle is damaged: a line is not JSON") from None
    if header is None:
        raise ActionError("the bundle is empty")
    if not isinstance(trailer, dict):
        raise ActionError("the bundle is truncated: its trailer is missing")
    signed = {k: v for k, v in trailer.items() if k != "signature"}
    if trailer.get("sha256") != digest.hexdigest() or trailer.get("count") != count:
        raise ActionError("the bundle was altered: its lines do not match the trailer's hash and count")
    try:
        sender = uuid.UUID(str(header.get("from_node")))
    except ValueError:
        raise ActionError("the bundle's header names no sending node") from None
    key = NodeKey.objects.filter(kid=str(trailer.get("kid")), node_id=sender).first()
    if key is not None and key.revoked_at is not None:
        raise Forbidden(f"the bundle is signed by key {key.kid}, which is revoked")
    public_key = key.public_key if key is not None else _announced_key(path, sender, str(trailer.get("kid")))
    if public_key is None:
        raise Forbidden(f"the bundle is signed by key {trailer.get('kid')}, not a known key of node {sender}")
    if not canonical.verify(public_key, canonical.canonical_bytes(signed), str(trailer.get("signature"))):
        raise Forbidden("the bundle's signature does not verify")
    return header, trailer


def _announced_key(path: Path, sender: uuid.UUID, kid: str) -> str | None:
    """The public key `kid` when the bundle itself carries its announcement: a node_key version of the sender,
    signed by a key of the sender this node knows (or one announced before it in the bundle), adding `kid`.
    A bundle exported after a key rotation is signed with the new key; a peer that knew only the old one
    learns the new one from that announcement, which the second pass then stores like any other version."""
    from django.utils import timezone

    from accord.members.models import NodeKey

    if NodeKey.objects.filter(kid=kid).exists():
        return None  # a key of another node
    now = timezone.now()
    known = {
        k.kid: k.public_key
        for k in NodeKey.objects.filter(node_id=sender)
        if k.revoked_at is None or k.revoked_at > now
    }
    with path.open("rb") as handle:
        for line in handle:
            try:
                item = json.loads(line)["item"]
                data = base64.b64decode(str(item["version"]), validate=True)
                envelope = json.loads(data)
                body = envelope["body"]
                if envelope["kind"] != "node_key" or str(envelope["origin"]["node"]) != str(sender):
                    continue
                signer = known.get(str(item["kid"]))
                if body["action"] != "add" or signer is None:
                    continue
                new_kid, new_key = str(body["kid"]), str(body["public_key"])
                if canonical.key_id(new_key) != new_kid or not canonical.verify(signer, data, str(item["signature"])):
                    continue
            except (KeyError, TypeError, ValueError, binascii.Error):
                continue
            known[new_kid] = new_key
            if new_kid == kid:
                return new_key
    return None


def import_bundle(path: Path, *, progress: Callable[[], None] | None = None) -> Counts:
    """Verify a bundle and store its versions; importing it again changes nothing."""
    from django.db import transaction

    from accord.records import attachments as attachment_store
    from accord.records.actions import this_node

    header, trailer = _check(path)
    sender = uuid.UUID(str(header["from_node"]))
    node = this_node()
    peer = Peer.objects.filter(node_id=sender).first()
    if peer is None or not peer.is_active:
        raise Forbidden(f"node {sender} is not an active peer of this node")
    if str(header.get("to_node")) != str(node.node_id):
        raise Forbidden(f"the bundle was made for node {header.get('to_node')}, not this node ({node.node_id})")
    total = Counts()
    with path.open("rb") as handle:
        for line in handle:
            obj = json.loads(line)
            if "item" not in obj:
                continue
            item = obj["item"]
            try:
                for sha, data in (item.get("attachment_data") or {}).items():
                    raw = base64.b64decode(data, validate=True)
                    if hashlib.sha256(raw).hexdigest() != sha:
                        raise ActionError(f"attachment {sha} does not match its hash")
                    attachment_store.store_bytes(raw)
            except (ActionError, binascii.Error, ValueError, TypeError, AttributeError) as error:
                total.refused += 1
                total.errors.append(str(error))
                log_event("version.refused", f"bundle from {peer.name}: {error}", peer=peer)
                continue
            total.add(receive(peer, [item], None, source=f"bundle:{peer.name}"))
            if progress:
                progress()
    with transaction.atomic():
        _acknowledged(peer, header, trailer)
        audit.append(
            "bundle.import",
            actor=None,
            object_type="peer",
            object_id=str(peer.node_id),
            data={
                "sha256": trailer["sha256"],
                "count": trailer["count"],
                "stored": total.stored,
                "duplicates": total.duplicates,
                "refused": total.refused,
            },
        )
    return total


def _acknowledged(peer: Peer, header: dict[str, Any], trailer: dict[str, Any]) -> None:
    """After an import: remember the sender's cursor (acknowledged in our next bundle to it), and take its
    acknowledgement of our bundles as its served cursor, as its pulls would set it (never moved backwards)."""
    from django.utils import timezone

    received = str(trailer.get("next") or "")
    changes: dict[str, Any] = {}
    if received and len(received) <= 200 and _position(received) >= _position(peer.bundle_received_cursor):
        changes["bundle_received_cursor"] = received
    ack = header.get("ack")
    if isinstance(ack, str) and ack and len(ack) <= 200:
        # What the peer says it holds of ours; never beyond what we sent it, never backwards.
        acknowledged = min(_position(ack), _position(peer.bundle_sent_cursor))
        if acknowledged > _position(peer.served_cursor):
            changes.update(served_cursor=encode_cursor(acknowledged), served_at=timezone.now())
    if changes:
        Peer.objects.filter(pk=peer.pk).update(**changes)


def _position(cursor: str) -> int:
    try:
        return decode_cursor(cursor)
    except BadRequest:
        return 0
