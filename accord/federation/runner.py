"""The federation loop of a worker: push wake-up hints for new versions, pull from peers that are due.

Runs in a thread of `accord worker` (and so of `accord serve`). Hints are coalesced: one per peer per
round however many versions were committed, and only to peers entitled to at least one of them.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Max, Min, Q
from django.utils import timezone

from accord.federation import client
from accord.federation.models import Peer
from accord.federation.protocol import encode_cursor, entitled_versions

logger = logging.getLogger("accord.federation")


def push_hints(transport: client.Transport) -> int:
    """Tell each peer with a URL that this node has issued new versions for it; returns the hints sent.

    Only versions this node issued are hinted. Versions it received from others reach its peers from their
    origin (hinted there), or, when a link to the origin is down, by relay at the peers' next periodic pull: in
    a mesh, hinting relayed copies too would make every node wake every other node for every version."""
    from accord.records.actions import this_node
    from accord.records.models import Version

    head = Version.objects.aggregate(top=Max("id"))["top"] or 0
    me = this_node().node_id
    behind = Peer.objects.filter(state=Peer.State.ACTIVE, hinted_upto__lt=head).exclude(url="")
    oldest = behind.aggregate(low=Min("hinted_upto"))["low"]
    if oldest is None:
        return 0
    if not Version.objects.filter(id__gt=oldest, id__lte=head, origin_node=me).exists():
        # Only versions received from others arrived since: nothing to hint (the common case on a node that
        # mostly receives), and no per-peer entitlement query.
        behind.update(hinted_upto=head)
        return 0
    due = [
        peer
        for peer in behind
        if entitled_versions(peer).filter(id__gt=peer.hinted_upto, id__lte=head, origin_node=me).exists()
    ]
    cursor = encode_cursor(head)
    if len(due) > 1 and isinstance(transport, client.HttpTransport):
        # Over HTTP, to all peers at once: one slow peer must not hold up the hints of the others.
        with ThreadPoolExecutor(max_workers=min(HINT_THREADS, len(due)), thread_name_prefix="hint") as pool:
            sent = sum(pool.map(lambda peer: _hint(peer, transport, cursor, own_connection=True), due))
    else:
        sent = sum(_hint(peer, transport, cursor) for peer in due)
    behind.update(hinted_upto=head)
    return sent


# Hints sent at once by one worker.
HINT_THREADS = 8


def _hint(peer: Peer, transport: client.Transport, cursor: str, *, own_connection: bool = False) -> int:
    try:
        client.send_hint(peer, transport, cursor)
        return 1
    except (client.TransportError, client.PeerError) as error:
        # A missed hint only delays: the peer's periodic pull still comes.
        logger.info("hint to %s failed: %s", peer.name, error)
        return 0
    finally:
        if own_connection:
            connections.close_all()  # this thread's connections only


def due_peers() -> list[Peer]:
    now = timezone.now()
    poll = timedelta(seconds=settings.ACCORD_FEDERATION_POLL_SECONDS)
    return list(
        Peer.objects.filter(state=Peer.State.ACTIVE)
        .exclude(url="")
        .filter(Q(wake_pending=True) | Q(last_pull_at__isnull=True) | Q(last_pull_at__lt=now - poll))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )


def step(transport: client.Transport, seen: dict[str, int] | None = None) -> bool:
    """One round; True if anything was done (so the loop comes back sooner).

    `seen` carries the last arrival head between rounds, so an idle round costs two small queries."""
    from accord.federation.auth import prune_nonces
    from accord.records.models import Version

    head = Version.objects.aggregate(top=Max("id"))["top"] or 0
    busy = False
    if seen is None or seen.get("head") != head:
        busy = push_hints(transport) > 0
        if seen is not None:
            seen["head"] = head
    for peer in due_peers():
        if client.claim(peer):
            try:
                client.sync(peer, transport)
            finally:
                client.release(peer)
            busy = True
    if timezone.now().second == 0:
        prune_nonces()
    return busy


def run(stop: threading.Event, transport: client.Transport | None = None, idle: float = 0.25) -> None:
    chosen = transport or client.HttpTransport()
    seen: dict[str, int] = {}
    try:
        while not stop.is_set():
            try:
                busy = step(chosen, seen)
            except Exception:  # a bad round must not end federation for this worker
                logger.exception("federation round failed")
                busy = False
                seen.clear()
                close_old_connections()
            stop.wait(0.02 if busy else idle)
    finally:
        from django.db import connection

        connection.close()
