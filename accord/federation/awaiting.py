"""Versions that wait for their signing key.

A version signed by a key this node does not know for its origin (a relay passed it on before the key's
announcement reached us, or an anti-entropy fetch brought it first) is not refused for good: it is kept
(`AwaitingKey`), and stored as soon as that key is registered here: when the announcement is received (the
`node_key` kind creates the key), or when an admin adds or trusts the key. The retry runs when the transaction
that registered the key commits, so the version is stored within the same sync round, not at the next
anti-entropy round.

A peer could send any number of versions under keys that will never exist: only versions of nodes with a key
known here are kept (a node that rotated its key; not one this node has never heard of, whose origin ids cost
nothing to invent), at most AWAITING_MAX per origin node. Past that a version is refused as before, and
registering the key then also makes anti-entropy due with every peer, which fetches what was not kept.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F

from accord.federation.models import AwaitingKey, FederationEvent, Peer
from accord.federation.protocol import log_event
from accord.lib.canonical import content_hash

if TYPE_CHECKING:
    from accord.records.errors import UnknownKey
    from accord.records.ingest import Incoming

AWAITING_MAX = 10_000
RETRY_CHUNK = 200
OVERFLOW = "version.awaiting_full"


def keep(peer: Peer | None, item: Incoming, error: UnknownKey, *, source: str) -> bool:
    """Keep a version refused for an unknown key; False when the origin's allowance is full (then it is refused)."""
    from accord.members.models import NodeKey

    if len(error.kid) > 80 or len(item.signature) > 200 or not NodeKey.objects.filter(node_id=error.node).exists():
        return False  # not a key id or signature of ours, or a node never heard of: refused as before
    digest = content_hash(item.data)
    held = AwaitingKey.objects.filter(origin_node=error.node)
    if held.filter(kid=error.kid, content_hash=digest).exists():
        return True
    if held.count() >= AWAITING_MAX:
        log_event(
            OVERFLOW,
            f"{source}: {AWAITING_MAX} versions of node {error.node} already wait for a key; refused: {error.message}",
            peer=peer,
        )
        return False
    first = not held.filter(kid=error.kid).exists()
    try:
        with transaction.atomic():
            AwaitingKey.objects.create(
                origin_node=error.node,
                kid=error.kid,
                content_hash=digest,
                canonical=item.data,
                signature=item.signature,
                peer=peer,
                source=source[:120],
            )
    except IntegrityError:
        return True  # kept by another worker meanwhile
    if NodeKey.objects.filter(node_id=error.node, kid=error.kid).exists():
        # The key was registered (by another worker) after this version was refused: it may stand now.
        transaction.on_commit(lambda: retry(error.node, error.kid))
    if first:
        log_event(
            "version.awaiting_key",
            f"{source}: versions of node {error.node} signed by key {error.kid}, not known here yet, are kept "
            "until the key's announcement arrives",
            peer=peer,
            level="info",
        )
    return True


def key_registered(node_id: uuid.UUID, kid: str) -> None:
    """Called in the transaction that registers key `kid` of `node_id`: retry what waits for it once it commits."""
    overflowed = FederationEvent.objects.filter(kind=OVERFLOW, detail__contains=f"key {kid} is not a known key")
    if overflowed.exists():
        # Some versions signed by this key were not kept: anti-entropy with every peer fetches them.
        Peer.objects.filter(state=Peer.State.ACTIVE).update(last_anti_entropy_at=None)
    if AwaitingKey.objects.filter(origin_node=node_id, kid=kid).exists():
        transaction.on_commit(lambda: retry(node_id, kid))


def retry(node_id: uuid.UUID, kid: str) -> dict[str, int]:
    """Store the versions that waited for key `kid` of `node_id` (each checked again in full); the counts."""
    from accord.records.actions import here
    from accord.records.errors import ActionError
    from accord.records.ingest import Incoming, ingest_many

    member = here().member
    counts = {"stored": 0, "duplicates": 0, "quarantined": 0, "refused": 0}
    while True:
        rows = list(AwaitingKey.objects.filter(origin_node=node_id, kid=kid).order_by("id")[:RETRY_CHUNK])
        if not rows:
            return counts
        items = [Incoming(bytes(row.canonical), row.signature, row.kid) for row in rows]
        with transaction.atomic():
            results = ingest_many(items, source=f"awaiting-key:{kid}", receiver_member=member)
            AwaitingKey.objects.filter(pk__in=[row.pk for row in rows]).delete()
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, ActionError):
                counts["refused"] += 1
                log_event("version.refused", f"{row.source} (after key {kid}): {result.message}", peer=row.peer)
                continue
            counts["duplicates" if result.outcome == "duplicate" else result.outcome] += 1
            if result.outcome == "stored" and row.peer_id is not None:
                Peer.objects.filter(pk=row.peer_id).update(stored=F("stored") + 1)
