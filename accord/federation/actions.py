"""Changes to federation state: peers, invitations, this node's keys. Each writes its audit entry."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.federation import noderecord
from accord.federation.models import FederationEvent, Peer
from accord.lib import canonical
from accord.members.identity import SigningKey, key_path, reset_cache, signing_key
from accord.records import audit
from accord.records.errors import ActionError, Conflict

if TYPE_CHECKING:
    from accord.members.models import Account, NodeIdentity, NodeKey

INVITATION_PREFIX = "accord-invitation:"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}$")


def _check_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url and not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise ActionError(f"url {url!r} must be an http:// or https:// address", field="url")
    return url


def _check_member(code: str) -> str:
    from accord.members.models import Member

    code = code.strip().upper()
    if not Member.objects.filter(code=code).exists():
        raise ActionError(f"member {code!r} is not a known member code", field="member")
    return code


def add_peer(
    *,
    name: str,
    node_id: str,
    public_key: str,
    member: str,
    url: str = "",
    acting_user: Account | None,
) -> Peer:
    """Trust another node: remember its id, member, address and public key."""
    from accord.members.models import NodeKey
    from accord.records.actions import this_node

    if not _NAME.match(name):
        raise ActionError(f"peer name {name!r}: use 1-79 lowercase letters, digits and hyphens", field="name")
    try:
        node = uuid.UUID(str(node_id))
    except ValueError:
        raise ActionError(f"node id {node_id!r} is not a UUID", field="node_id") from None
    try:
        kid = canonical.key_id(public_key)
        if len(canonical.unb64(public_key)) != 32:
            raise ValueError
    except (ValueError, binascii.Error):
        raise ActionError("the public key must be base64 of a 32-byte Ed25519 key", field="public_key") from None
    code = _check_member(member)
    clean_url = _check_url(url)
    if node == this_node().node_id:
        raise ActionError("a node cannot be its own peer", field="node_id")
    with transaction.atomic():
        if Peer.objects.filter(name=name).exclude(node_id=node).exists():
            raise Conflict(f"another peer is already named {name!r}")
        key = NodeKey.objects.filter(kid=kid).first()
        if key is not None and key.node_id != node:
            raise Conflict(f"key {kid} already belongs to node {key.node_id}")
        peer = Peer.objects.filter(node_id=node).first()
        if peer is not None and peer.state == Peer.State.REVOKED:
            raise Conflict(f"node {node} was revoked as peer {peer.name}; a revoked peer is not added again")
        if peer is None:
            peer = Peer.objects.create(name=name, node_id=node, member=code, url=clean_url)
        else:
            peer.name, peer.member, peer.url, peer.state = name, code, clean_url, Peer.State.ACTIVE
            peer.save(update_fields=["name", "member", "url", "state"])
        if key is None:
            NodeKey.objects.create(node_id=node, kid=kid, public_key=public_key)
        noderecord.forget()
        audit.append(
            "peer.add",
            actor=acting_user,
            object_type="peer",
            object_id=str(node),
            data={"name": name, "member": code, "url": clean_url, "kid": kid},
        )
    return peer


def find_peer(name_or_id: str) -> Peer:
    peer = Peer.objects.filter(name=name_or_id).first()
    if peer is None:
        try:
            peer = Peer.objects.filter(node_id=uuid.UUID(name_or_id)).first()
        except ValueError:
            peer = None
    if peer is None:
        raise ActionError(f"no peer named {name_or_id!r}", field="peer")
    return peer


def remove_peer(peer: Peer, *, acting_user: Account | None) -> Peer:
    """Stop exchanging with a peer; its keys stay trusted for the versions already received."""
    with transaction.atomic():
        peer.state = Peer.State.REMOVED
        peer.save(update_fields=["state"])
        audit.append(
            "peer.remove", actor=acting_user, object_type="peer", object_id=str(peer.node_id), data={"name": peer.name}
        )
    return peer


def revoke_peer(peer: Peer, *, acting_user: Account | None, reason: str = "") -> Peer:
    """Distrust a peer from now on: refuse its requests, and every version its keys sign from now,
    whoever relays it. Versions it signed before stay valid."""
    from accord.members.models import NodeKey

    now = timezone.now()
    with transaction.atomic():
        peer.state = Peer.State.REVOKED
        peer.revoked_at = now
        peer.save(update_fields=["state", "revoked_at"])
        NodeKey.objects.filter(node_id=peer.node_id, revoked_at__isnull=True).update(revoked_at=now)
        NodeKey.objects.filter(node_id=peer.node_id, revoked_at__gt=now).update(revoked_at=now)
        audit.append(
            "peer.revoke",
            actor=acting_user,
            object_type="peer",
            object_id=str(peer.node_id),
            data={"name": peer.name, "reason": reason},
        )
        FederationEvent.objects.create(
            peer=peer,
            node_id=peer.node_id,
            level="warning",
            kind="peer.revoked",
            detail=reason or "revoked by this node's admin",
        )
    return peer


def set_node_url(url: str, *, acting_user: Account | None) -> NodeIdentity:
    from accord.members.models import NodeIdentity

    clean = _check_url(url)
    with transaction.atomic():
        node = NodeIdentity.objects.select_for_update().get(id=1)
        node.url = clean
        node.save(update_fields=["url"])
        audit.append(
            "node.url", actor=acting_user, object_type="node", object_id=str(node.node_id), data={"url": clean}
        )
    from accord.members import site

    transaction.on_commit(site.forget)
    site.forget()
    return node


# ---- invitations ----------------------------------------------------------------------------------------


def create_invitation(*, hours: int = 72) -> str:
    """A token that tells another node's admin who this node is, signed with this node's key."""
    from accord.members.models import NodeKey
    from accord.records.actions import this_node

    node = this_node()
    key = signing_key()
    offer = {
        "node_id": str(node.node_id),
        "name": node.name,
        "member": node.member.code,
        "url": node.url,
        "kid": key.kid,
        "public_key": key.public_key,
        # Every key of this node not revoked, so the new peer can verify versions signed before a rotation.
        "keys": [
            {"kid": k.kid, "public_key": k.public_key}
            for k in NodeKey.objects.filter(node_id=node.node_id, revoked_at__isnull=True).order_by("created_at", "id")
        ],
        "expires_at": (timezone.now() + timedelta(hours=hours)).replace(microsecond=0).isoformat(),
        "nonce": secrets.token_urlsafe(12),
    }
    data = canonical.canonical_bytes(offer)
    token = {"offer": offer, "signature": key.sign(data)}
    raw = json.dumps(token, separators=(",", ":")).encode("utf-8")
    return INVITATION_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def read_invitation(token: str) -> dict[str, Any]:
    """The offer inside a token, after checking its signature and expiry."""
    token = token.strip()
    if not token.startswith(INVITATION_PREFIX):
        raise ActionError(f"an invitation starts with {INVITATION_PREFIX!r}", field="token")
    raw = token[len(INVITATION_PREFIX) :]
    try:
        parsed = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        offer = parsed["offer"]
        signature = str(parsed["signature"])
        public_key = str(offer["public_key"])
        valid = canonical.verify(public_key, canonical.canonical_bytes(offer), signature)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ActionError("the invitation is damaged (copy it whole)", field="token") from None
    if not valid:
        raise ActionError("the invitation's signature does not verify", field="token")
    if canonical.key_id(public_key) != offer.get("kid"):
        raise ActionError("the invitation's key id does not match its key", field="token")
    expires = datetime.fromisoformat(str(offer["expires_at"]))
    if expires < timezone.now():
        raise ActionError(f"the invitation expired at {offer['expires_at']}", field="token")
    result: dict[str, Any] = offer
    return result


def accept_invitation(token: str, *, name: str | None, acting_user: Account | None) -> Peer:
    offer = read_invitation(token)
    peer_name = name or re.sub(r"[^a-z0-9-]+", "-", str(offer["name"]).lower()).strip("-")[:79] or "peer"
    with transaction.atomic():
        peer = add_peer(
            name=peer_name,
            node_id=str(offer["node_id"]),
            public_key=str(offer["public_key"]),
            member=str(offer["member"]),
            url=str(offer.get("url") or ""),
            acting_user=acting_user,
        )
        for item in offer.get("keys") or []:
            if isinstance(item, dict) and item.get("public_key"):
                _trust_older_key(peer, str(item["public_key"]), acting_user=acting_user)
    return peer


def _trust_older_key(peer: Peer, public_key: str, *, acting_user: Account | None) -> None:
    """Trust another key the peer's signed invitation lists as its own (one it signed with before a rotation)."""
    from accord.members.models import NodeKey

    try:
        kid = canonical.key_id(public_key)
        if len(canonical.unb64(public_key)) != 32:
            raise ValueError
    except (ValueError, binascii.Error):
        raise ActionError("the invitation lists a key that is not base64 of 32 bytes", field="token") from None
    existing = NodeKey.objects.filter(kid=kid).first()
    if existing is not None:
        if existing.node_id != peer.node_id:
            raise Conflict(f"key {kid} already belongs to node {existing.node_id}")
        return
    NodeKey.objects.create(node_id=peer.node_id, kid=kid, public_key=public_key, active=False)
    audit.append(
        "node.key.trust",
        actor=acting_user,
        object_type="node",
        object_id=str(peer.node_id),
        data={"kid": kid, "from": "invitation"},
    )


# ---- this node's keys -------------------------------------------------------------------------------------


def rotate_key(*, acting_user: Account | None) -> NodeKey:
    """Make a new signing key. Its addition is announced to peers in a version signed by the old key;
    the old key stays valid for what it signed."""
    from accord.members.models import NodeKey
    from accord.records.actions import issue_as_node, this_node

    if settings.ACCORD_NODE_PRIVATE_KEY:
        raise ActionError("the key comes from ACCORD_NODE_PRIVATE_KEY; change that variable to rotate it")
    node = this_node()
    old = signing_key()
    private = canonical.generate_private_key()
    public = canonical.public_key_b64(private)
    new = SigningKey(kid=canonical.key_id(public), public_key=public, private_key=private)
    path = key_path()
    pending = path.with_name("node-ed25519.next.pem")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(canonical.private_key_to_pem(private))
        handle.flush()
        os.fsync(handle.fileno())
    with transaction.atomic():
        key = NodeKey.objects.create(node_id=node.node_id, kid=new.kid, public_key=new.public_key, active=False)
        issue_as_node(
            "node_key",
            {"action": "add", "kid": new.kid, "public_key": new.public_key},
            key=old,
            action="node.key.rotate",
            actor=acting_user,
        )
        NodeKey.objects.filter(node_id=node.node_id).exclude(kid=new.kid).update(active=False)
        NodeKey.objects.filter(kid=new.kid).update(active=True)
        retired = path.parent / "retired"
        retired.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, retired / f"{old.kid.replace(':', '-')}.pem")
        os.replace(pending, path)
    reset_cache()
    key.refresh_from_db()
    return key


def revoke_key(kid: str, *, revoked_from: datetime, acting_user: Account | None) -> NodeKey:
    """Revoke one of this node's keys from a date (it was compromised): versions it signs from then on are
    refused here and, once the announcement arrives, on every peer."""
    from accord.members.models import NodeKey
    from accord.records.actions import issue_as_node, this_node

    node = this_node()
    key = NodeKey.objects.filter(kid=kid, node_id=node.node_id).first()
    if key is None:
        raise ActionError(f"{kid} is not a key of this node", field="kid")
    if kid == signing_key().kid:
        raise ActionError("this key signs for the node now; rotate the key first, then revoke the old one")
    if revoked_from.tzinfo is None:
        raise ActionError("the revocation time needs a time zone", field="from")
    stamp = revoked_from.astimezone(UTC).isoformat().replace("+00:00", "Z")
    issue_as_node(
        "node_key",
        {"action": "revoke", "kid": kid, "revoked_from": stamp},
        key=signing_key(),
        action="node.key.revoke",
        actor=acting_user,
    )
    key.refresh_from_db()
    return key


def retired_key_dir() -> Path:
    return key_path().parent / "retired"
