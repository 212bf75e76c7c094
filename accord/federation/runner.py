"""The federation loop of a worker: push wake-up hints for new versions, pull from peers that are due.

Runs in a thread of `accord worker` (and so of `accord serve`). Hints are coalesced: one per peer per
round however many versions were committed, and only to peers entitled to at least one of them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Max, Min, Q
from django.utils import timezone

from accord.federation import client, noderecord
from accord.federation.models import Peer
from accord.federation.protocol import encode_cursor, entitled_versions

logger = logging.getLogger("accord.federation")


def push_hints(transport: client.Transport) -> int:
    return _push_hints(transport)[0]


def _push_hints(transport: client.Transport) -> tuple[int, bool]:
    """Tell each peer with a URL that this node has issued new versions for it; returns the hints sent.

    Only versions this node issued are hinted. Versions it received from others reach its peers from their
    origin (hinted there), or, when a link to the origin is down, by relay at the peers' next periodic pull: in
    a mesh, hinting relayed copies too would make every node wake every other node for every version.

    A peer that accepted a hint and has not pulled since is not hinted again (for up to HINT_PATIENCE seconds):
    the pull it owes starts after the hint, so it brings every version committed before it, and what is
    committed later is hinted once that pull is served. So a peer is woken at most once per pull, and under load
    the versions of many rounds travel in one page.

    Returns the hints sent, and whether a peer that owes a pull was left to hint later."""
    from accord.records.actions import here
    from accord.records.models import Version

    head = Version.objects.aggregate(top=Max("id"))["top"] or 0
    me = here().node_id
    behind = Peer.objects.filter(state=Peer.State.ACTIVE, hinted_upto__lt=head).exclude(url="")
    oldest = behind.aggregate(low=Min("hinted_upto"))["low"]
    if oldest is None:
        return 0, False
    if not Version.objects.filter(id__gt=oldest, id__lte=head, origin_node=me).exists():
        # Only versions received from others arrived since: nothing to hint (the common case on a node that
        # mostly receives), and no per-peer entitlement query.
        behind.update(hinted_upto=head)
        return 0, False
    now = timezone.now()
    due: list[Peer] = []
    settled: list[int] = []
    deferred = False
    for peer in behind:
        if _owes_pull(peer, now):
            deferred = True
            continue  # hinted_upto stays: what arrived since is hinted once the owed pull is served
        if entitled_versions(peer).filter(id__gt=peer.hinted_upto, id__lte=head, origin_node=me).exists():
            due.append(peer)
        else:
            settled.append(peer.pk)
    cursor = encode_cursor(head)
    if len(due) > 1 and isinstance(transport, client.HttpTransport):
        # Over HTTP, to all peers at once: one slow peer must not hold up the hints of the others.
        with ThreadPoolExecutor(max_workers=min(HINT_THREADS, len(due)), thread_name_prefix="hint") as pool:
            accepted = list(pool.map(lambda peer: _hint(peer, transport, cursor, own_connection=True), due))
    else:
        accepted = [_hint(peer, transport, cursor) for peer in due]
    hinted = [peer.pk for peer, ok in zip(due, accepted, strict=True) if ok]
    # A hint that failed counts as sent for hinted_upto (the peer's periodic pull still comes), but leaves no
    # pull owed, so the next version is hinted again.
    Peer.objects.filter(pk__in=hinted).update(hinted_upto=head, hinted_at=now)
    Peer.objects.filter(pk__in=settled + [p.pk for p in due if p.pk not in hinted]).update(hinted_upto=head)
    return len(hinted), deferred


# How long a hint the peer accepted is taken to stand for a pull it owes: past this, the peer is hinted again.
HINT_PATIENCE = 15.0


def _owes_pull(peer: Peer, now: datetime) -> bool:
    """Whether the peer accepted a hint and has not pulled our feed since (within HINT_PATIENCE)."""
    if peer.hinted_at is None or (now - peer.hinted_at).total_seconds() >= HINT_PATIENCE:
        return False
    return peer.served_at is None or peer.served_at < peer.hinted_at


# Hints sent at once by one worker.
HINT_THREADS = 8


def _hint(peer: Peer, transport: client.Transport, cursor: str, *, own_connection: bool = False) -> bool:
    try:
        client.send_hint(peer, transport, cursor)
        return True
    except (client.TransportError, client.PeerError) as error:
        # A missed hint only delays: the peer's periodic pull still comes.
        logger.info("hint to %s failed: %s", peer.name, error)
        return False
    finally:
        if own_connection:
            connections.close_all()  # this thread's connections only


def due_peers() -> list[Peer]:
    """Peers to pull now: woken by a hint, never pulled, or not pulled for their polling interval (jittered)."""
    from accord.records.actions import here

    now = timezone.now()
    poll = settings.ACCORD_FEDERATION_POLL_SECONDS
    shortest = timedelta(seconds=poll * (1 - POLL_JITTER))
    me = here().node_id
    candidates = (
        Peer.objects.filter(state=Peer.State.ACTIVE)
        .exclude(url="")
        .filter(Q(wake_pending=True) | Q(last_pull_at__isnull=True) | Q(last_pull_at__lt=now - shortest))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    )
    return [
        peer
        for peer in candidates
        if peer.wake_pending
        or peer.last_pull_at is None
        or (now - peer.last_pull_at).total_seconds() >= poll_interval(me, peer.node_id)
    ]


# Each link's polling interval is ACCORD_FEDERATION_POLL_SECONDS times a factor between 1 - POLL_JITTER and
# 1 + POLL_JITTER, fixed per (this node, peer): nodes started together (after an outage, or a benchmark's ten)
# would otherwise poll every peer in the same instant, round after round, and each peer would be asked by all
# at once. The mean interval stays the setting.
POLL_JITTER = 0.25


def poll_interval(me: uuid.UUID, peer: uuid.UUID) -> float:
    spread = ((me.int ^ peer.int) % 10_007) / 10_007  # in [0, 1), the same for a link at every round
    return float(settings.ACCORD_FEDERATION_POLL_SECONDS * (1 - POLL_JITTER + 2 * POLL_JITTER * spread))


def step(transport: client.Transport, seen: dict[str, int | bool] | None = None) -> bool:
    """One round; True if anything was done (so the loop comes back sooner).

    `seen` carries the last arrival head between rounds, so an idle round costs two small queries."""
    from accord.federation.auth import prune_nonces
    from accord.records.actions import here
    from accord.records.models import Version

    head = Version.objects.aggregate(top=Max("id"))["top"] or 0
    busy = False
    if seen is None:
        busy = push_hints(transport) > 0
    elif seen.get("head") != head or seen.get("deferred"):
        # Hints are only for versions this node issued: on a node that receives (most rounds of most nodes),
        # one query tells that nothing arrived of its own, and the peers' hinted_upto may lag (it only bounds
        # what the next hinting looks at).
        previous = seen.get("head", 0)
        if (
            seen.get("deferred")
            or not previous
            or Version.objects.filter(id__gt=previous, id__lte=head, origin_node=here().node_id).exists()
        ):
            sent, seen["deferred"] = _push_hints(transport)
            busy = sent > 0
        seen["head"] = head
    for peer in due_peers():
        if client.claim(peer):
            try:
                client.sync(peer, transport, leased=True)  # gives the lease back with the round's outcome
            except BaseException:
                client.release(peer)
                raise
            busy = True
    if seen is None:
        if timezone.now().second == 0:
            prune_nonces()
    elif _prune_due(seen):
        prune_nonces()
    if seen is None or _due(seen, "node_record", noderecord.SYNC_EVERY):
        noderecord.sync()
    return busy


# Forgetting old nonces: once a minute per worker, each worker at its own second (not all nodes at once).
PRUNE_EVERY = 60


def _prune_due(seen: dict[str, int | bool], clock: float | None = None) -> bool:
    return _due(seen, "pruned", PRUNE_EVERY, clock)


def _due(seen: dict[str, int | bool], name: str, every: int, clock: float | None = None) -> bool:
    """Once every `every` seconds per worker, each worker at its own second (the first time: within `every`)."""
    now = int(time.monotonic() if clock is None else clock)
    if name not in seen:
        seen[name] = now - random.randrange(every)  # noqa: S311  (spreading load, not a secret)
    if now - int(seen[name]) < every:
        return False
    seen[name] = now
    return True


DEFERRED_WAIT = 0.05


def run(stop: threading.Event, transport: client.Transport | None = None, idle: float = 0.25) -> None:
    chosen = transport or client.HttpTransport()
    seen: dict[str, int | bool] = {}
    try:
        while not stop.is_set():
            try:
                busy = step(chosen, seen)
            except Exception:  # a bad round must not end federation for this worker
                logger.exception("federation round failed")
                busy = False
                seen.clear()
                close_old_connections()
            # A peer owes a pull (its hint is out): look again soon, to hint what came since once it has pulled.
            stop.wait(0.02 if busy else DEFERRED_WAIT if seen.get("deferred") else idle)
    finally:
        from django.db import connection

        connection.close()
