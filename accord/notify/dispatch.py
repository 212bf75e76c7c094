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
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, F, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.sql.subqueries import UpdateQuery
from django.utils import timezone

from accord.notify import matching, messages, outbox
from accord.notify.keys import key_for
from accord.notify.models import Channel, Delivery, DeliveryAttempt, OutboxEntry, Subscription
from accord.notify.transports import RETRY_AFTER_MAX_SECONDS, TRANSPORTS, Outgoing, Sent, TransportError
from accord.records.models import Version

logger = logging.getLogger("accord.notify")


# ---- settings ---------------------------------------------------------------------------------------


def lease_seconds() -> int:
    return int(settings.ACCORD_NOTIFY_LEASE_SECONDS)


def per_host() -> int:
    """Webhook sends in flight to one host (name and port) per worker, so that one host cannot take every slot."""
    return max(1, int(settings.ACCORD_NOTIFY_PER_HOST))


def host_of(kind: str, address: str) -> str:
    """What the per-host limit counts: a webhook's host and port ("" for e-mail, which all goes to one relay)."""
    if kind != Channel.Kind.WEBHOOK:
        return ""
    try:
        parts = urlsplit(address)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return address
    return f"{(parts.hostname or '').lower()}:{port}"


def send_timeout() -> float:
    """Each send's time limit: the configured one, and never more than half the lease."""
    return float(min(settings.ACCORD_NOTIFY_TIMEOUT_SECONDS, max(1, lease_seconds() // 2)))


def backoff(attempts: int) -> timedelta:
    """Delay before try `attempts + 1`: base * 2^(attempts-1), capped, with +-10 % jitter."""
    base = settings.ACCORD_NOTIFY_RETRY_SECONDS
    delay = min(base * 2 ** max(0, attempts - 1), settings.ACCORD_NOTIFY_RETRY_MAX_SECONDS)
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311  (jitter, not secrecy)


def period_end(mode: str, moment: datetime) -> datetime:
    """End of the digest period that `moment` falls in (UTC hours; days end at ACCORD_NOTIFY_DIGEST_HOUR)."""
    if mode == Subscription.Mode.HOURLY:
        return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = moment.replace(hour=settings.ACCORD_NOTIFY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return end if end > moment else end + timedelta(days=1)


# ---- outbox -> deliveries -----------------------------------------------------------------------------


def _claim_outbox(limit: int) -> list[OutboxEntry]:
    now = timezone.now()
    token = uuid.uuid4().hex
    candidates = list(
        OutboxEntry.objects.filter(processed_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    if not candidates:
        return []
    OutboxEntry.objects.filter(pk__in=candidates, processed_at__isnull=True).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ).update(lease_until=now + timedelta(seconds=lease_seconds()), lease_token=token, tries=F("tries") + 1)
    return list(
        OutboxEntry.objects.filter(lease_token=token, processed_at__isnull=True)
        .select_related("version", "version__record")
        .order_by("id")
    )


def _settle_unsubscribed() -> int:
    """When nobody subscribes, mark every entry waiting in the outbox processed; returns how many.

    One statement, which reads the subscriptions and the entries in one snapshot: an entry it marks was
    committed while no subscription was, so no subscription misses a version committed after it. A node
    absorbing a peer's backlog with no subscribers thus never loads the versions of its outbox."""
    now = timezone.now()
    if not OutboxEntry.objects.filter(processed_at__isnull=True).exists():
        return 0  # a read: an idle loop does not take SQLite's one write lock
    return int(
        OutboxEntry.objects.filter(processed_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(~Exists(Subscription.objects.filter(active=True)))
        .update(processed_at=now, last_error="")
    )


# Subscriptions per committed part of an expansion: the first deliveries of a large fan-out are claimed and sent
# while the rest are still being made.
EXPAND_PART = 200


class _SubscriptionParts:
    """The active subscriptions in parts of `size` by id, each loaded when first needed and kept for the rest of
    one expansion (every entry it expands sees the same subscriptions)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or EXPAND_PART
        self.parts: list[list[Subscription]] = []
        self.complete = False

    def get(self, index: int) -> list[Subscription]:
        while len(self.parts) <= index and not self.complete:
            after = self.parts[-1][-1].pk if self.parts and self.parts[-1] else 0
            rows = list(
                Subscription.objects.filter(active=True, pk__gt=after)
                .select_related("account__organisation__member", "organisation__member")
                .prefetch_related("channels")
                .order_by("id")[: self.size]
            )
            self.complete = len(rows) < self.size
            if rows or not self.parts:
                self.parts.append(rows)
        return self.parts[index] if index < len(self.parts) else []

    def is_last(self, index: int) -> bool:
        return self.complete and index >= len(self.parts) - 1


@dataclass
class _Expansion:
    """What one version's expansion works out once and shares between its parts."""

    version: Version
    facts: matching.Facts
    told: set[int]  # subscriptions already told about this record: updates reach them whatever they say
    threaded: set[int]  # e-mail channels that already had a message of this record: a reply, not a new thread
    visibility: matching.Visibility
    used_channels: set[int]  # one message per channel and version, however many subscriptions match
    now: datetime


def _begin(entry: OutboxEntry) -> _Expansion:
    version = entry.version
    record = version.record
    # Updates of a record someone was already told about reach them even if the update alone would not match
    # (a Cancel without info blocks, a lowered severity): threads stay complete.
    told = (
        set()
        if version.seq == 1
        else set(
            Delivery.objects.filter(record=record, purpose=Delivery.Purpose.MATCH)
            .exclude(version=version)
            .values_list("subscription_id", flat=True)
        )
    )
    threaded = set(
        Delivery.objects.filter(record=record, purpose=Delivery.Purpose.MATCH, kind=Channel.Kind.EMAIL)
        .exclude(status__in=[Delivery.Status.HELD, Delivery.Status.BATCHED])
        .values_list("channel_id", flat=True)
    )
    return _Expansion(
        version=version,
        facts=matching.facts_of(version),
        told=told,
        threaded=threaded,
        visibility=matching.Visibility(),  # the audience filter, asked once per kind of owner it can tell apart
        used_channels=set(),
        now=timezone.now(),
    )


def _deliveries(expansion: _Expansion, subscriptions: list[Subscription]) -> list[Delivery]:
    """The deliveries of one part of the subscriptions: each that matches and whose owner may see the version, on
    each usable channel not already used by an earlier subscription of the same expansion."""
    version, facts = expansion.version, expansion.facts
    wanted = [s for s in subscriptions if s.channels.all() and (s.pk in expansion.told or matching.matches(s, facts))]
    allowed = [s for s in wanted if expansion.visibility.allowed(matching.principal_of(s), version.pk)]
    made: list[Delivery] = []
    for subscription in sorted(allowed, key=lambda s: s.pk):
        for channel in sorted(subscription.channels.all(), key=lambda c: c.pk):
            if channel.is_disabled or channel.pk in expansion.used_channels:
                continue
            expansion.used_channels.add(channel.pk)
            key = key_for(
                "match", subscription.uuid, version.origin_node, version.record_uuid, version.seq, channel.uuid
            )
            held = subscription.mode != Subscription.Mode.IMMEDIATE and not _urgent(subscription, facts)
            delivery = Delivery(
                key=key,
                purpose=Delivery.Purpose.MATCH,
                kind=channel.kind,
                subscription=subscription,
                channel=channel,
                account=subscription.account,
                address=channel.target,
                language=channel.language,
                record=version.record,
                version=version,
                status=Delivery.Status.HELD if held else Delivery.Status.PENDING,
                next_attempt_at=period_end(subscription.mode, expansion.now) if held else expansion.now,
            )
            if channel.kind == Channel.Kind.EMAIL and not held:
                root = messages.thread_message_id(version.record, str(channel.uuid))
                delivery.thread_root = root
                delivery.message_id = messages.message_id(key) if channel.pk in expansion.threaded else root
                expansion.threaded.add(channel.pk)
            made.append(delivery)
    return made


def _urgent(subscription: Subscription, facts: matching.Facts) -> bool:
    """In digest mode, what is `immediate_severity` or worse still goes out at once."""
    threshold = subscription.immediate_severity
    return bool(threshold) and matching.passes(matching.SEVERITIES, facts.severity, threshold)


class Expander:
    """Turns claimed outbox entries into deliveries, one part of the subscriptions (`EXPAND_PART`) per `step`.

    Each part's deliveries commit (and wake idle workers) on their own, so a fan-out to thousands starts sending
    after its first part; the entry's `processed_at` mark commits with its last part, and each part renews the
    entry's lease (a worker that has lost the lease writes nothing more). An entry whose expansion stops half-way
    (a crash, a lost lease) is expanded again from its first part: the deliveries already made are not made twice
    (their unique key, `ignore_conflicts`)."""

    def __init__(self, limit: int = 50) -> None:
        self.index = 0
        self.part = 0
        self.current: _Expansion | None = None
        self.subscriptions = _SubscriptionParts()
        settled = _settle_unsubscribed()
        self.entries = [] if settled else _claim_outbox(limit)
        self.count = settled or len(self.entries)

    def _next_entry(self) -> None:
        self.index += 1
        self.part = 0
        self.current = None

    def step(self) -> bool:
        """Expand one part of one entry; False once every entry is done (nothing was expanded by this call)."""
        if self.index >= len(self.entries):
            return False
        entry = self.entries[self.index]
        try:
            subscriptions = self.subscriptions.get(self.part)
            last = self.subscriptions.is_last(self.part)
            mine = OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token, processed_at__isnull=True)
            with transaction.atomic():
                # The lease first: a worker that lost it (it stalled, another took the entry over) writes nothing.
                if last:
                    kept = mine.update(processed_at=timezone.now(), last_error="")
                else:
                    kept = mine.update(lease_until=timezone.now() + timedelta(seconds=lease_seconds()))
                if kept:
                    if self.current is None:
                        self.current = _begin(entry)
                    made = _deliveries(self.current, subscriptions)
                    Delivery.objects.bulk_create(made, ignore_conflicts=True)
                    if made:
                        outbox.wake()  # idle workers claim them as soon as they commit
            if last or not kept:  # done, or taken over by another worker (which expands it again)
                self._next_entry()
            else:
                self.part += 1
        except Exception as error:  # one bad version must not stop the others
            logger.exception("notify: expanding version %s failed", entry.version_id)
            give_up = entry.tries >= settings.ACCORD_NOTIFY_MAX_ATTEMPTS
            OutboxEntry.objects.filter(pk=entry.pk).update(
                last_error=str(error)[:500],
                lease_until=timezone.now() + backoff(entry.tries),
                processed_at=timezone.now() if give_up else None,
            )
            self._next_entry()
        return True

    def release(self) -> None:
        """Give back the entries not yet expanded (a worker stopping), so that another need not wait for the
        lease; one expanded half-way is expanded again, without duplicates."""
        left = self.entries[self.index :]
        self.entries = []
        if left:
            OutboxEntry.objects.filter(
                pk__in=[e.pk for e in left], lease_token=left[0].lease_token, processed_at__isnull=True
            ).update(lease_until=None)


def expand_outbox(limit: int = 50) -> int:
    """Turn up to `limit` outbox entries into deliveries. Returns how many entries were processed."""
    expander = Expander(limit)
    while expander.step():
        pass
    return expander.count


# ---- digests ------------------------------------------------------------------------------------------


def release_digests() -> int:
    """Batch the held items whose period has ended into one digest delivery per (subscription, channel)."""
    now = timezone.now()
    groups = (
        Delivery.objects.filter(status=Delivery.Status.HELD, next_attempt_at__lte=now)
        .values_list("subscription_id", "channel_id", "next_attempt_at")
        .distinct()
    )
    made = 0
    for subscription_id, channel_id, period in list(groups):
        with transaction.atomic():
            items = list(
                Delivery.objects.filter(
                    status=Delivery.Status.HELD,
                    subscription_id=subscription_id,
                    channel_id=channel_id,
                    next_attempt_at=period,
                ).order_by("id")
            )
            if not items:
                continue
            first = items[0]
            channel = Channel.objects.filter(pk=channel_id).first()
            if channel is None or channel.is_disabled:
                Delivery.objects.filter(pk__in=[i.pk for i in items], status=Delivery.Status.HELD).update(
                    status=Delivery.Status.CANCELLED, last_error="the channel was removed or disabled"
                )
                continue
            key = key_for("digest", subscription_id, channel.uuid, period.isoformat(), first.pk)
            digest, _ = Delivery.objects.get_or_create(
                key=key,
                defaults={
                    "purpose": Delivery.Purpose.DIGEST,
                    "kind": channel.kind,
                    "subscription_id": subscription_id,
                    "channel": channel,
                    "account_id": first.account_id,
                    "address": channel.target,
                    "language": channel.language,
                    "message_id": messages.message_id(key),
                    "data": {"period_end": period.isoformat()},
                },
            )
            moved = Delivery.objects.filter(pk__in=[i.pk for i in items], status=Delivery.Status.HELD).update(
                status=Delivery.Status.BATCHED, digest=digest
            )
            if moved == 0 and not digest.items.exists():
                digest.delete()
            else:
                made += 1
    return made


# ---- claim, prepare, send, record -------------------------------------------------------------------

# Deliveries claimed by one call of the loop (one conditional UPDATE), then sent from the worker's own queue.
CLAIM_BATCH = 100


def _mark_claimed(
    due: Q, order: tuple[str, ...], limit: int, *, token: str, until: datetime, ids: list[int] | None
) -> int:
    """One conditional UPDATE: up to `limit` rows that are `due` become this worker's (status, lease, token).

    On PostgreSQL the candidates are picked with `FOR UPDATE SKIP LOCKED` in a materialised CTE of the same
    statement (evaluated once), so workers claiming at the same time take different rows instead of waiting for
    each other; the UPDATE checks `due` again on each row. SQLite runs one writer at a time: a subquery will do."""
    candidates = Delivery.objects.filter(due)
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    candidates = candidates.order_by(*order)
    changes = {
        "status": Delivery.Status.SENDING,
        "lease_until": until,
        "lease_token": token,
        "attempts": F("attempts") + 1,
    }
    with transaction.atomic():
        if connection.vendor != "postgresql":
            return Delivery.objects.filter(due, pk__in=Subquery(candidates.values("pk")[:limit])).update(**changes)
        picked = candidates.select_for_update(skip_locked=True).values("pk")[:limit]
        picked_sql, picked_params = picked.query.get_compiler(connection=connection).as_sql()
        update = Delivery.objects.filter(due).filter(pk__in=RawSQL("SELECT picked.claimed_id FROM picked", ()))
        # The UPDATE's own SQL, with the CTE in front of it.
        compiler = update.query.chain(UpdateQuery).get_compiler(connection=connection)
        compiler.query.add_update_values(changes)
        update_sql, update_params = compiler.as_sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH picked (claimed_id) AS MATERIALIZED ({picked_sql}) {update_sql}",
                (*picked_params, *update_params),
            )
            return int(cursor.rowcount)


def claim(
    limit: int, *, ids: Iterable[int] | None = None, versions: dict[int, Version] | None = None
) -> tuple[str, list[Delivery]]:
    """Claim up to `limit` due deliveries (or the given ones, if due) for this worker. Returns (token, rows).

    Due: `pending` with `next_attempt_at` passed, or `sending` whose lease has expired (its worker died); the
    latter first. `versions`: the caller's cache of versions (immutable), shared by the rows that need them."""
    now = timezone.now()
    token = uuid.uuid4().hex
    until = now + timedelta(seconds=lease_seconds())
    wanted = None if ids is None else list(ids)
    expired = Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    pending = Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
    due = Delivery.objects.filter(expired | pending)
    if not (due if wanted is None else due.filter(pk__in=wanted)).exists():
        # Nothing is due (an idle loop's poll): a read, not a writing transaction (on SQLite the claim's UPDATE
        # would take the one write lock, which ingest and publishing wait for).
        return "", []
    taken = _mark_claimed(expired, ("lease_until", "id"), limit, token=token, until=until, ids=wanted)
    if taken < limit:
        taken += _mark_claimed(pending, ("next_attempt_at", "id"), limit - taken, token=token, until=until, ids=wanted)
    if not taken:
        return "", []
    rows = list(
        Delivery.objects.filter(lease_token=token, status=Delivery.Status.SENDING)
        .select_related(
            "channel",
            "subscription__account__organisation__member",
            "subscription__organisation__member",
        )  # not `account`: only an escalation reads it, and there are few of those
        .order_by("id")
    )
    _attach_versions(rows, {} if versions is None else versions)
    return token, rows


def _attach_versions(rows: list[Delivery], cache: dict[int, Version]) -> None:
    """Give the rows their versions (with records), read once per version: a fan-out sends one version many times."""
    missing = {row.version_id for row in rows if row.version_id is not None} - cache.keys()
    if missing:
        if len(cache) > 256:
            cache.clear()
        cache.update({v.pk: v for v in Version.objects.select_related("record").filter(pk__in=missing)})
    for row in rows:
        if row.version_id is not None and row.version_id in cache:
            row.version = cache[row.version_id]


def _still_allowed(delivery: Delivery, visibility: matching.Visibility | None = None) -> str | None:
    """Why a delivery may no longer go out (None: it may). Checked again just before sending."""
    visibility = visibility or matching.Visibility()
    channel = delivery.channel
    if delivery.purpose in (Delivery.Purpose.MATCH, Delivery.Purpose.DIGEST):
        if channel is None:
            return "the channel was removed"
        if channel.is_disabled:
            return "the channel is disabled"
        subscription = delivery.subscription
        if subscription is None or not subscription.active:
            return "the subscription was removed or paused"
        if delivery.purpose == Delivery.Purpose.MATCH:
            assert delivery.version_id is not None
            if not visibility.allowed(matching.principal_of(subscription), delivery.version_id):
                return "the owner may no longer see this version"
        else:
            principal = matching.principal_of(subscription)
            items = list(delivery.items.values_list("pk", "version_id"))
            hidden = [pk for pk, version in items if version is None or not visibility.allowed(principal, version)]
            if hidden:
                Delivery.objects.filter(pk__in=hidden).update(
                    status=Delivery.Status.CANCELLED, digest=None, last_error="the owner may no longer see it"
                )
            if len(hidden) == len(items):
                return "nothing in this digest may still be seen by its owner"
    elif delivery.purpose == Delivery.Purpose.ESCALATION:
        if delivery.account is not None and not delivery.account.is_active:
            return "the recipient's account is disabled"
        if channel is not None and channel.is_disabled:
            return "the channel is disabled"
    return None


def _cancel_many(cancelled: list[tuple[Delivery, str, str]]) -> None:
    """Cancel claimed deliveries (delivery, token, why): one UPDATE per token and reason, only while the token holds."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for delivery, token, why in cancelled:
        groups[(token, why[:500])].append(delivery.pk)
    for (token, why), pks in groups.items():
        Delivery.objects.filter(pk__in=pks, lease_token=token, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.CANCELLED, last_error=why, lease_until=None
        )


def prepare(delivery: Delivery) -> Outgoing:
    content = messages.render(delivery)
    outgoing = Outgoing(key=delivery.key, kind=delivery.kind, address=delivery.address, timeout=send_timeout())
    if delivery.kind == Channel.Kind.EMAIL:
        outgoing.subject, outgoing.text, outgoing.html = content.subject, content.text, content.html
        outgoing.headers["Message-ID"] = delivery.message_id or messages.message_id(delivery.key)
        if delivery.thread_root and delivery.thread_root != outgoing.headers["Message-ID"]:
            outgoing.headers["In-Reply-To"] = delivery.thread_root
            outgoing.headers["References"] = delivery.thread_root
    else:
        payload = dict(content.payload)
        payload["timestamp"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        outgoing.payload = messages.payload_bytes(payload)
        outgoing.secret = delivery.channel.secret if delivery.channel is not None else ""
    return outgoing


@dataclass
class Outcome:
    sent: Sent | None = None
    error: TransportError | None = None
    duration_ms: int = 0


def send(outgoing: Outgoing) -> Outcome:
    """Send one message (no database access: runs in the pool)."""
    started = time.monotonic()
    try:
        sent = TRANSPORTS[outgoing.kind].notify(outgoing)
        return Outcome(sent=sent, duration_ms=int((time.monotonic() - started) * 1000))
    except TransportError as error:
        return Outcome(error=error, duration_ms=int((time.monotonic() - started) * 1000))
    except Exception as error:  # a transport bug is a temporary failure, recorded, not a crash
        logger.exception("notify: transport %s failed unexpectedly", outgoing.kind)
        return Outcome(
            error=TransportError(f"unexpected error: {error}", permanent=False),
            duration_ms=int((time.monotonic() - started) * 1000),
        )


def _attempt_outcome(error: TransportError | None) -> str:
    if error is None:
        return DeliveryAttempt.Outcome.OK
    return DeliveryAttempt.Outcome.PERMANENT if error.permanent else DeliveryAttempt.Outcome.TEMPORARY


def record_many(results: list[tuple[Delivery, str, Outcome]], worker: str = "") -> dict[int, str]:
    """Write the attempts and the deliveries' new statuses for (delivery, token, outcome) triples, in one
    transaction: the attempts in one INSERT, the sent ones in one UPDATE per token; a status changes only while
    this worker's token still holds. Returns {delivery id: new status}."""
    now = timezone.now()
    statuses: dict[int, str] = {}
    sent: dict[str, list[int]] = defaultdict(list)
    recovered: set[int] = set()  # channels with failures counted that have now delivered
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(
                    delivery=delivery,
                    started_at=now - timedelta(milliseconds=outcome.duration_ms),
                    duration_ms=outcome.duration_ms,
                    outcome=_attempt_outcome(outcome.error),
                    status_code=(
                        outcome.sent.status_code
                        if outcome.sent
                        else outcome.error.status_code
                        if outcome.error
                        else None
                    ),
                    error=outcome.error.message if outcome.error else "",
                    worker=worker[:100],
                )
                for delivery, _, outcome in results
            ]
        )
        for delivery, token, outcome in results:
            error = outcome.error
            if error is None:
                sent[token].append(delivery.pk)
                statuses[delivery.pk] = Delivery.Status.SENT
                if delivery.channel is not None and delivery.channel.failures:
                    recovered.add(delivery.channel.pk)
                continue
            mine = Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.SENDING)
            if not error.permanent and delivery.attempts < settings.ACCORD_NOTIFY_MAX_ATTEMPTS:
                statuses[delivery.pk] = Delivery.Status.PENDING
                mine.update(
                    status=Delivery.Status.PENDING,
                    next_attempt_at=now + retry_delay(delivery.attempts, error),
                    last_error=error.message,
                    lease_until=None,
                )
                continue
            statuses[delivery.pk] = Delivery.Status.FAILED
            mine.update(status=Delivery.Status.FAILED, last_error=error.message, lease_until=None)
            if error.channel_fault and delivery.channel_id is not None:
                _count_permanent_failure(delivery.channel_id, error.message)
        for token, pks in sent.items():
            Delivery.objects.filter(pk__in=pks, lease_token=token, status=Delivery.Status.SENDING).update(
                status=Delivery.Status.SENT, sent_at=now, last_error="", lease_until=None
            )
        if recovered:
            Channel.objects.filter(pk__in=recovered, failures__gt=0).update(failures=0, last_error="")
    return statuses


def record(delivery: Delivery, token: str, outcome: Outcome, worker: str = "") -> str:
    """Write one attempt and the delivery's new status (only while this worker's lease holds). Returns it."""
    return record_many([(delivery, token, outcome)], worker)[delivery.pk]


def retry_delay(attempts: int, error: TransportError) -> timedelta:
    """When to try again after a temporary failure: when the receiver asked (Retry-After on 429 and 503, read by
    the transport: at least 1 s, at most an hour), else the backoff."""
    if error.retry_after is not None:
        return timedelta(seconds=max(1, min(error.retry_after, RETRY_AFTER_MAX_SECONDS)))
    return backoff(attempts)


def _count_permanent_failure(channel_id: int, message: str) -> None:
    """One more permanent failure that is the address's own; at ACCORD_NOTIFY_DISABLE_AFTER in a row the channel (a
    webhook or an e-mail address) is disabled and its owner told."""
    Channel.objects.filter(pk=channel_id).update(failures=F("failures") + 1, last_error=message[:500])
    channel = Channel.objects.select_related("account", "organisation").get(pk=channel_id)
    if not channel.is_disabled and channel.failures >= settings.ACCORD_NOTIFY_DISABLE_AFTER:
        from accord.notify.actions import disable_channel

        disable_channel(channel, reason=f"{channel.failures} permanent failures in a row; last: {message}")


# ---- the loop -----------------------------------------------------------------------------------------


def deliver(ids: Iterable[int], worker: str = "inline") -> dict[int, str]:
    """Claim and send the given deliveries now, one after another (escalations, test notifications).
    Those another worker holds are left to it. Returns {delivery id: new status}."""
    token, rows = claim(1000, ids=ids)
    results: dict[int, str] = {}
    visibility = matching.Visibility()
    for delivery in rows:
        results[delivery.pk] = _send_one(delivery, token, worker, visibility)
    return results


def _send_one(delivery: Delivery, token: str, worker: str, visibility: matching.Visibility) -> str:
    why = _still_allowed(delivery, visibility)
    if why is not None:
        _cancel_many([(delivery, token, why)])
        return Delivery.Status.CANCELLED
    return record(delivery, token, send(prepare(delivery)), worker)


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
