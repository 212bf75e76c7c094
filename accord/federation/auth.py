"""Node-to-node request authentication, separate from record signatures (docs/federation.md, "Requests").

The sender signs, with its node key, the lines

    accord-request-v1
    <METHOD>
    <path with query, as sent>
    <recipient node id>
    <unix time in seconds>
    <nonce>
    <lowercase hex SHA-256 of the body (of b"" when there is none)>

joined by "\\n", and sends the signature and its inputs in the Accord-* headers. The receiver refuses a
request from a node that is not an active peer, a key that is unknown, revoked or not the node's, a time
outside its window (answering with its own clock in Accord-Time so an honest sender can correct its skew),
a nonce it has seen, or a signature that does not verify.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.lib.canonical import verify
from accord.records import rows

if TYPE_CHECKING:
    from accord.federation.models import Peer
    from accord.members.identity import SigningKey

H_NODE = "Accord-Node"
H_KEY = "Accord-Key"
H_TIME = "Accord-Time"
H_NONCE = "Accord-Nonce"
H_SIGNATURE = "Accord-Signature"

# The clock requests are checked against (and answered with in Accord-Time); the simulation gives each node its own.
clock: Callable[[], float] = time.time


def string_to_sign(*, method: str, target: str, recipient: str, when: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join(["accord-request-v1", method.upper(), target, recipient, when, nonce, digest]).encode("utf-8")


def sign_request(
    key: SigningKey, *, sender: uuid.UUID, recipient: uuid.UUID, method: str, target: str, body: bytes, now: float
) -> dict[str, str]:
    when = str(int(now))
    nonce = secrets.token_urlsafe(18)
    signature = key.sign(
        string_to_sign(method=method, target=target, recipient=str(recipient), when=when, nonce=nonce, body=body)
    )
    return {H_NODE: str(sender), H_KEY: key.kid, H_TIME: when, H_NONCE: nonce, H_SIGNATURE: signature}


@dataclass
class Refused(Exception):
    """A request that is not authentic. `status` is the HTTP status to answer with."""

    status: int
    message: str
    peer: Peer | None = None
    node_id: uuid.UUID | None = None


def check_request(
    *, method: str, target: str, headers: dict[str, str], body: bytes, recipient: uuid.UUID, now: float | None = None
) -> Peer:
    """The active peer that sent this request, or Refused."""
    from accord.federation.models import Peer, SeenNonce
    from accord.members.models import NodeKey

    def header(name: str) -> str:
        value = headers.get(name.lower(), "")
        if not value:
            raise Refused(401, f"the request is not signed: header {name} is missing")
        return value

    node_text = header(H_NODE)
    try:
        node_id = uuid.UUID(node_text)
    except ValueError:
        raise Refused(401, f"header {H_NODE} is not a node id") from None
    # One prepared statement each (rows.one): this runs for every federation request.
    peer = rows.one(Peer, "node_id", node_id)
    if peer is None:
        raise Refused(403, f"node {node_id} is not a peer of this node", node_id=node_id)
    if not peer.is_active:
        raise Refused(403, f"peer {peer.name} is {peer.state}", peer=peer, node_id=node_id)
    kid = header(H_KEY)
    key = rows.one(NodeKey, "kid", kid)
    if key is None or key.node_id != node_id:
        raise Refused(403, f"key {kid} is not a known key of node {node_id}", peer=peer, node_id=node_id)
    if key.revoked_at is not None and key.revoked_at <= timezone.now():
        raise Refused(403, f"key {kid} of node {node_id} is revoked", peer=peer, node_id=node_id)
    when_text = header(H_TIME)
    nonce = header(H_NONCE)
    signature = header(H_SIGNATURE)
    if not when_text.isdigit():
        raise Refused(401, f"header {H_TIME} is not a time in seconds", peer=peer, node_id=node_id)
    if not (8 <= len(nonce) <= 64):
        raise Refused(401, f"header {H_NONCE} must have 8 to 64 characters", peer=peer, node_id=node_id)
    current = clock() if now is None else now
    window = settings.ACCORD_FEDERATION_WINDOW_SECONDS
    if abs(current - int(when_text)) > window:
        raise Refused(
            401,
            f"request time {when_text} is more than {window} s from this node's clock {int(current)}",
            peer=peer,
            node_id=node_id,
        )
    if int(when_text) <= peer.nonce_floor:
        raise Refused(
            401,
            f"request time {when_text} is not after {peer.nonce_floor}, the oldest time this node still remembers "
            "nonces from (its clock may have been set back)",
            peer=peer,
            node_id=node_id,
        )
    if not verify(
        key.public_key,
        string_to_sign(method=method, target=target, recipient=str(recipient), when=when_text, nonce=nonce, body=body),
        signature,
    ):
        raise Refused(401, "the request signature does not verify", peer=peer, node_id=node_id)
    try:
        with transaction.atomic():
            rows.insert([SeenNonce(node_id=node_id, nonce=nonce, signed_at=int(when_text))])
    except IntegrityError:
        raise Refused(401, "replayed request: this nonce was used before", peer=peer, node_id=node_id) from None
    return peer


def prune_nonces() -> int:
    """Forget the nonces of requests signed more than twice the window ago by this node's clock.

    Such requests are refused by their time anyway, unless this clock is later set back; so each peer keeps a
    floor, the newest signed time forgotten, and a request signed at or before it is refused."""
    from django.db.models import Max

    from accord.federation.models import Peer, SeenNonce

    limit = int(clock()) - 2 * settings.ACCORD_FEDERATION_WINDOW_SECONDS
    old = SeenNonce.objects.filter(signed_at__lt=limit)
    with transaction.atomic():
        for node_id, newest in old.values_list("node_id").annotate(newest=Max("signed_at")):
            Peer.objects.filter(node_id=node_id, nonce_floor__lt=newest).update(nonce_floor=newest)
        deleted, _ = old.delete()
    return deleted
