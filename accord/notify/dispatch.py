"""The delivery loop: outbox -> deliveries -> claimed -> sent -> recorded.

Guarantees (docs/notify.md):

* An outbox entry is expanded in parts that commit one by one (sending starts after the first); its
  `processed_at` mark commits with the last. Deliveries are inserted with their unique key
  (`ignore_conflicts`), so a (subscription, version, channel) gets one delivery however often an entry
  is expanded, in whole or in part.
* A worker claims a batch of deliveries with one conditional UPDATE that sets status `sending`, a lease
  and its own random token; only rows still `pending` (or `sending` with an expired lease) change, so
  two workers never hold the same delivery (PostgreSQL: FOR UPDATE SKIP LOCKED). The batch waits in
  the worker's queue, whose leases it renews; outcomes are written in bulk, only while the token holds.
* A worker killed mid-send leaves `sending` rows whose lease expires; another worker (or the same one
  restarted) sends them again with the same key (the webhook-id, the e-mail Message-ID), so a
  receiver that deduplicates on it processes each delivery once.
* Sends run in a bounded pool of threads, each with its own time limit shorter than the lease; a slow
  receiver holds one slot, not the loop, and one host at most ACCORD_NOTIFY_PER_HOST of them.
* Just before a delivery is sent, its channel, subscription and the audience filter are checked again.

The parts: expansion.py (outbox -> deliveries), digests.py (held items -> digest deliveries), claims.py (a batch of
due deliveries becomes one worker's), sending.py (check again, render, send, record the outcome), pacing.py (leases,
time limits, the per-host limit, retry delays). This module is the worker loop that drives them (`Loop`, `run`),
and the names the rest of Accord calls them by (`dispatch.deliver`, `dispatch.claim`, ...).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from accord.notify import matching, outbox
from accord.notify.claims import CLAIM_BATCH, claim
from accord.notify.digests import period_end, release_digests
from accord.notify.expansion import Expander, expand_outbox
from accord.notify.models import Delivery
from accord.notify.pacing import backoff, host_of, lease_seconds, per_host, retry_delay, send_timeout
from accord.notify.sending import (
    Outcome,
    _cancel_many,
    _still_allowed,
    deliver,
    prepare,
    record,
    record_many,
    send,
)
from accord.notify.transports import TransportError
from accord.records.models import Version

__all__ = [
    "CLAIM_BATCH",
    "Expander",
    "Loop",
    "Outcome",
    "backoff",
    "claim",
    "deliver",
    "expand_outbox",
    "host_of",
    "lease_seconds",
    "per_host",
    "period_end",
    "prepare",
    "record",
    "record_many",
    "release_digests",
    "retry_delay",
    "run",
    "send",
    "send_timeout",
]

logger = logging.getLogger("accord.notify")


@dataclass
class _Held:
    """A delivery this worker has claimed: its token, when its lease ends, and the host it goes to."""

    delivery: Delivery
    token: str
    lease_until: datetime
    host: str = ""


class Loop:
    """One notify worker: expands the outbox, releases digests, claims due deliveries in batches into its own
    queue, and keeps up to `concurrency` sends in flight from it."""

    # While busy, how often to look for new outbox entries and for due deliveries once a claim came back short (an
    # idle loop looks every round).
    outbox_interval = 0.25
    # Outcomes are recorded together once as many are in as there are send slots, or the oldest has waited this
    # long. What a crash can send twice is what was sent and not yet recorded: fewer than twice the slots.
    record_interval = 0.1

    def __init__(self, name: str, *, concurrency: int | None = None) -> None:
        self.name = name
        self.concurrency = concurrency or settings.ACCORD_NOTIFY_CONCURRENCY
        self.batch = max(CLAIM_BATCH, 2 * self.concurrency)
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="accord-notify-send")
        self.queue: deque[_Held] = deque()  # claimed, not yet sent
        self.max_queue = 4 * self.batch
        self.per_host = per_host()
        self.hosts: Counter[str] = Counter()  # webhook sends in flight per host
        self.inflight: dict[Future[Outcome], _Held] = {}
        self.outcomes: list[tuple[Delivery, str, Outcome]] = []  # sent, not yet recorded
        self.outcomes_since = 0.0
        self.versions: dict[int, Version] = {}
        self.last_digest_check = 0.0
        self.next_outbox_check = 0.0
        self.next_claim = 0.0
        self.expander: Expander | None = None  # an expansion in progress, one part per round
        self.visibility = matching.Visibility()
        self.visibility_since = time.monotonic()

    # -- the parts of a round

    def _expand(self) -> bool:
        """One part of an expansion in progress, or look for outbox entries and start expanding them."""
        if self.expander is None:
            if time.monotonic() < self.next_outbox_check:
                return False
            expander = Expander()
            if not expander.count:
                self.next_outbox_check = time.monotonic() + self.outbox_interval
                return False
            self.expander = expander
        if self.expander.step():
            self.next_claim = 0.0  # its deliveries are committed: claim them between the parts
            return True
        self.expander = None
        self.next_outbox_check = 0.0  # there may be more entries
        return True

    def _blocked(self, host: str) -> bool:
        return bool(host) and self.hosts[host] >= self.per_host

    def _claim(self) -> bool:
        """Claim a batch when what the queue holds for hosts with a free slot no longer covers the send slots."""
        if len(self.queue) >= self.max_queue:
            return False
        ready = 0
        for held in self.queue:
            ready += not self._blocked(held.host)
            if ready >= self.concurrency:
                return False
        if time.monotonic() < self.next_claim:
            return False
        token, rows = claim(self.batch, versions=self.versions)
        # Fewer than asked for: nothing more is due now; while busy, look again a little later, not every round.
        self.next_claim = 0.0 if len(rows) >= self.batch else time.monotonic() + self.outbox_interval
        if not rows:
            return False
        until = rows[0].lease_until or timezone.now()
        self.queue.extend(_Held(row, token, until, host_of(row.kind, row.address)) for row in rows)
        return True

    def _renew(self) -> None:
        """Extend the lease of what waits in the queue before it runs out (a long queue, a slow receiver)."""
        if not self.queue:
            return
        now = timezone.now()
        margin = timedelta(seconds=lease_seconds() / 2)
        stale: dict[str, list[_Held]] = defaultdict(list)
        for held in self.queue:
            if held.lease_until - now < margin:
                stale[held.token].append(held)
        if not stale:
            return
        until = now + timedelta(seconds=lease_seconds())
        lost: set[int] = set()
        for token, group in stale.items():
            pks = [held.delivery.pk for held in group]
            mine = Delivery.objects.filter(pk__in=pks, lease_token=token, status=Delivery.Status.SENDING)
            if mine.update(lease_until=until) < len(pks):
                kept = set(mine.values_list("pk", flat=True))
                lost |= {pk for pk in pks if pk not in kept}
            for held in group:
                held.lease_until = until
        if lost:  # taken over by another worker (this one stalled past its lease): theirs now
            self.queue = deque(held for held in self.queue if held.delivery.pk not in lost)

    def _submit(self) -> bool:
        """Fill the free send slots from the queue; each delivery is checked again just before it goes."""
        free = self.concurrency - len(self.inflight)
        if free <= 0 or not self.queue:
            return False
        if time.monotonic() - self.visibility_since > 1.0:  # answers of the audience filter, kept 1 s
            self.visibility, self.visibility_since = matching.Visibility(), time.monotonic()
        cancelled: list[tuple[Delivery, str, str]] = []
        unrenderable: list[tuple[Delivery, str, Outcome]] = []
        waiting: deque[_Held] = deque()  # for hosts that have all their slots: they keep their place
        submitted = 0
        while free > 0 and self.queue:
            held = self.queue.popleft()
            if self._blocked(held.host):
                waiting.append(held)
                continue
            delivery = held.delivery
            why = _still_allowed(delivery, self.visibility)
            if why is not None:
                cancelled.append((delivery, held.token, why))
                continue
            try:
                outgoing = prepare(delivery)
            except Exception as error:  # a delivery that cannot be rendered fails, alone
                logger.exception("notify: rendering delivery %s failed", delivery.pk)
                failure = TransportError(f"cannot render: {error}", permanent=True, channel_fault=False)
                unrenderable.append((delivery, held.token, Outcome(error=failure)))
                continue
            self.inflight[self.pool.submit(send, outgoing)] = held
            self.hosts[held.host] += 1
            free -= 1
            submitted += 1
        waiting.extend(self.queue)
        self.queue = waiting
        if cancelled:
            _cancel_many(cancelled)
        if unrenderable:
            record_many(unrenderable, self.name)
        return bool(submitted or cancelled or unrenderable)

    def _collect(self, timeout: float) -> bool:
        """Take the outcomes that are in (waiting up to `timeout` for the first) and record them in batches: all
        at once when enough have gathered, the oldest has waited long enough, or nothing else is going on."""
        got = False
        if self.inflight:
            done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                held = self.inflight.pop(future)
                self.hosts[held.host] -= 1
                if self.hosts[held.host] <= 0:
                    del self.hosts[held.host]
                if not self.outcomes:
                    self.outcomes_since = time.monotonic()
                self.outcomes.append((held.delivery, held.token, future.result()))
                got = True
        if self.outcomes and (
            len(self.outcomes) >= self.concurrency
            or time.monotonic() - self.outcomes_since >= self.record_interval
            or not (self.inflight or self.queue)
        ):
            self._flush()
            got = True
        return got

    def _flush(self) -> None:
        outcomes, self.outcomes = self.outcomes, []
        record_many(outcomes, self.name)

    def step(self, wait_seconds: float) -> bool:
        """One round; True if it did anything. Waits up to `wait_seconds` for sends to finish."""
        busy = self._expand()
        if time.monotonic() - self.last_digest_check > 5:
            self.last_digest_check = time.monotonic()
            busy |= release_digests() > 0
        busy |= self._claim()
        self._renew()
        busy |= self._submit()
        busy |= self._collect(0 if busy else wait_seconds)
        return busy

    def drain(self, timeout: float = 30.0) -> None:
        """Run until nothing is due, queued or in flight (tests, `accord notify run --once`)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.step(0.05) and not (self.inflight or self.queue or self.outcomes):
                self.next_outbox_check = self.next_claim = 0.0
                if not self.step(0.05) and not (self.inflight or self.queue or self.outcomes):
                    return
        raise TimeoutError("notify: still busy after the time limit")

    def close(self) -> None:
        results, self.outcomes = self.outcomes, []
        for future, held in list(self.inflight.items()):
            try:
                results.append((held.delivery, held.token, future.result(timeout=send_timeout() + 1)))
            except Exception:  # noqa: BLE001  (the lease expires and another worker retries)
                logger.warning("notify: delivery %s left to its lease", held.delivery.pk)
        self.inflight.clear()
        if results:
            try:
                record_many(results, self.name)
            except Exception:  # the leases expire and another worker sends them again, with the same keys
                logger.exception("notify: recording the last outcomes failed")
        self._release_queue()
        if self.expander is not None:
            try:
                self.expander.release()
            except Exception:  # noqa: BLE001  (their leases expire instead)
                logger.warning("notify: outbox entries left to their leases")
            self.expander = None
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _release_queue(self) -> None:
        """Give back what was claimed but not sent, so that another worker need not wait for the lease."""
        groups: dict[str, list[int]] = defaultdict(list)
        for held in self.queue:
            groups[held.token].append(held.delivery.pk)
        self.queue.clear()
        try:
            for token, pks in groups.items():
                Delivery.objects.filter(pk__in=pks, lease_token=token, status=Delivery.Status.SENDING).update(
                    status=Delivery.Status.PENDING, lease_until=None, attempts=F("attempts") - 1
                )
        except Exception:  # noqa: BLE001  (their leases expire instead)
            logger.warning("notify: claimed deliveries left to their leases")


class _Wakeup:
    """How an idle loop waits: on PostgreSQL it LISTENs on the channel that `outbox.write_entry` NOTIFYs when a
    version commits, so it starts at once instead of at its next poll; elsewhere (and if listening fails) it
    sleeps for the poll interval."""

    def __init__(self) -> None:
        self.listener: Any = None
        if connection.vendor != "postgresql":
            return
        try:
            listener = connection.get_new_connection(connection.get_connection_params())
            listener.autocommit = True
            listener.execute(f"LISTEN {outbox.WAKEUP_CHANNEL}")
            self.listener = listener
        except Exception:  # noqa: BLE001  (polling still works)
            logger.warning("notify: cannot listen for new outbox entries; polling instead")

    def wait(self, stop: threading.Event, timeout: float) -> bool:
        """Wait up to `timeout` seconds; True if woken by a new outbox entry."""
        if self.listener is None:
            stop.wait(timeout)
            return False
        try:
            for _ in self.listener.notifies(timeout=timeout, stop_after=1):
                return True
        except Exception:  # noqa: BLE001  (a lost connection: back to polling)
            logger.warning("notify: listening for new outbox entries failed; polling instead")
            self.close()
            stop.wait(timeout)
        return False

    def close(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(Exception):
                self.listener.close()
            self.listener = None


def run(stop: threading.Event, name: str = "notify") -> None:
    """The notify thread of `accord worker`: runs until `stop` is set."""
    poll = settings.ACCORD_NOTIFY_POLL_SECONDS
    # Matching an alert's areas needs shapely (and numpy): import them now, not while the first alert waits.
    import shapely.geometry  # noqa: F401

    loop = Loop(name)
    wakeup = _Wakeup()
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                if not loop.step(poll) and not stop.is_set():
                    wakeup.wait(stop, poll)
                    loop.next_outbox_check = loop.next_claim = 0.0  # after an idle wait, look again at once
            except Exception:  # a database hiccup must not end dissemination
                logger.exception("notify: loop round failed")
                stop.wait(max(poll, 2))
    finally:
        wakeup.close()
        loop.close()
        connection.close()
