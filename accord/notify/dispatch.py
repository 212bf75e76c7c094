"""The delivery loop: outbox -> deliveries -> claimed -> sent -> recorded.

Guarantees (docs/notify.md):

* Expansion of an outbox entry and the `processed_at` mark commit together; deliveries are inserted
  with their unique key (`ignore_conflicts`), so a (subscription, version, channel) gets one
  delivery however often an entry is expanded.
* A worker claims deliveries with one conditional UPDATE that sets status `sending`, a lease and its
  own random token; only rows still `pending` (or `sending` with an expired lease) change, so two
  workers never hold the same delivery. The outcome is written only while the token still holds.
* A worker killed mid-send leaves `sending` rows whose lease expires; another worker (or the same one
  restarted) sends them again with the same key (the webhook-id, the e-mail Message-ID), so a
  receiver that deduplicates on it processes each delivery once.
* Sends run in a bounded pool of threads, each with its own time limit shorter than the lease; a slow
  receiver holds one slot, not the loop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accord.notify import matching, messages
from accord.notify.keys import key_for
from accord.notify.models import Channel, Delivery, DeliveryAttempt, OutboxEntry, Subscription
from accord.notify.transports import TRANSPORTS, Outgoing, Sent, TransportError

logger = logging.getLogger("accord.notify")


# ---- settings ---------------------------------------------------------------------------------------


def lease_seconds() -> int:
    return int(settings.ACCORD_NOTIFY_LEASE_SECONDS)


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


def _subscriptions() -> list[Subscription]:
    return list(
        Subscription.objects.filter(active=True)
        .select_related("account__organisation__member", "organisation__member")
        .prefetch_related("channels")
        .order_by("id")
    )


def deliveries_for(entry: OutboxEntry, subscriptions: list[Subscription]) -> list[Delivery]:
    """The deliveries a version makes: each matching subscription whose owner may see it, on each usable channel."""
    version = entry.version
    record = version.record
    facts = matching.facts_of(version)
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
    wanted = [s for s in subscriptions if s.channels.all() and (s.pk in told or matching.matches(s, facts))]
    # The audience filter, as each owner; asked once per kind of owner the filter can tell apart.
    visibility = matching.Visibility()
    allowed = [s for s in wanted if visibility.allowed(matching.principal_of(s), version.pk)]
    if not allowed:
        return []
    now = timezone.now()
    threaded = set(
        Delivery.objects.filter(record=record, purpose=Delivery.Purpose.MATCH, kind=Channel.Kind.EMAIL)
        .exclude(status__in=[Delivery.Status.HELD, Delivery.Status.BATCHED])
        .values_list("channel_id", flat=True)
    )
    made: list[Delivery] = []
    used_channels: set[int] = set()
    for subscription in sorted(allowed, key=lambda s: s.pk):
        for channel in sorted(subscription.channels.all(), key=lambda c: c.pk):
            if channel.is_disabled or channel.pk in used_channels:
                continue  # one message per channel and version, however many subscriptions match
            used_channels.add(channel.pk)
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
                record=record,
                version=version,
                status=Delivery.Status.HELD if held else Delivery.Status.PENDING,
                next_attempt_at=period_end(subscription.mode, now) if held else now,
            )
            if channel.kind == Channel.Kind.EMAIL and not held:
                root = messages.thread_message_id(record, str(channel.uuid))
                delivery.thread_root = root
                delivery.message_id = messages.message_id(key) if channel.pk in threaded else root
                threaded.add(channel.pk)
            made.append(delivery)
    return made


def _urgent(subscription: Subscription, facts: matching.Facts) -> bool:
    """In digest mode, what is `immediate_severity` or worse still goes out at once."""
    threshold = subscription.immediate_severity
    return bool(threshold) and matching.passes(matching.SEVERITIES, facts.severity, threshold)


def expand_outbox(limit: int = 50) -> int:
    """Turn up to `limit` outbox entries into deliveries. Returns how many entries were processed."""
    entries = _claim_outbox(limit)
    if not entries:
        return 0
    subscriptions = _subscriptions()
    if not subscriptions:
        # Nobody subscribes: nothing to expand (a node absorbing a peer's backlog stays cheap).
        OutboxEntry.objects.filter(pk__in=[e.pk for e in entries], lease_token=entries[0].lease_token).update(
            processed_at=timezone.now(), last_error=""
        )
        return len(entries)
    for entry in entries:
        try:
            with transaction.atomic():
                made = deliveries_for(entry, subscriptions)
                Delivery.objects.bulk_create(made, ignore_conflicts=True)
                OutboxEntry.objects.filter(pk=entry.pk, lease_token=entry.lease_token).update(
                    processed_at=timezone.now(), last_error=""
                )
        except Exception as error:  # one bad version must not stop the others
            logger.exception("notify: expanding version %s failed", entry.version_id)
            give_up = entry.tries >= settings.ACCORD_NOTIFY_MAX_ATTEMPTS
            OutboxEntry.objects.filter(pk=entry.pk).update(
                last_error=str(error)[:500],
                lease_until=timezone.now() + backoff(entry.tries),
                processed_at=timezone.now() if give_up else None,
            )
    return len(entries)


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


def claim(limit: int, *, ids: Iterable[int] | None = None) -> tuple[str, list[Delivery]]:
    """Claim up to `limit` due deliveries (or the given ones, if due) for this worker. Returns (token, rows)."""
    now = timezone.now()
    due = Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Delivery.Status.SENDING, lease_until__lt=now
    )
    query = Delivery.objects.filter(due)
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    candidates = list(query.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    if not candidates:
        return "", []
    token = uuid.uuid4().hex
    Delivery.objects.filter(due, pk__in=candidates).update(
        status=Delivery.Status.SENDING,
        lease_until=now + timedelta(seconds=lease_seconds()),
        lease_token=token,
        attempts=F("attempts") + 1,
    )
    rows = list(
        Delivery.objects.filter(lease_token=token, status=Delivery.Status.SENDING)
        .select_related(
            "channel",
            "subscription__account__organisation__member",
            "subscription__organisation__member",
            "account",
            "version__record",
            "record",
        )
        .order_by("id")
    )
    return token, rows


def _cancel(delivery: Delivery, token: str, why: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.CANCELLED, last_error=why[:500], lease_until=None
    )


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


def record(delivery: Delivery, token: str, outcome: Outcome, worker: str = "") -> str:
    """Write the attempt and the delivery's new status (only while this worker's lease holds). Returns it."""
    now = timezone.now()
    error = outcome.error
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=now - timedelta(milliseconds=outcome.duration_ms),
            duration_ms=outcome.duration_ms,
            outcome=(
                DeliveryAttempt.Outcome.OK
                if error is None
                else DeliveryAttempt.Outcome.PERMANENT
                if error.permanent
                else DeliveryAttempt.Outcome.TEMPORARY
            ),
            status_code=(outcome.sent.status_code if outcome.sent else error.status_code if error else None),
            error=error.message if error else "",
            worker=worker[:100],
        )
        mine = Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.SENDING)
        if error is None:
            status = Delivery.Status.SENT
            mine.update(status=status, sent_at=now, last_error="", lease_until=None)
            if delivery.channel is not None and delivery.channel.failures:
                Channel.objects.filter(pk=delivery.channel.pk, failures__gt=0).update(failures=0, last_error="")
            return status
        if not error.permanent and delivery.attempts < settings.ACCORD_NOTIFY_MAX_ATTEMPTS:
            status = Delivery.Status.PENDING
            mine.update(
                status=status,
                next_attempt_at=now + backoff(delivery.attempts),
                last_error=error.message,
                lease_until=None,
            )
            return status
        status = Delivery.Status.FAILED
        mine.update(status=status, last_error=error.message, lease_until=None)
        if error.permanent and delivery.channel_id is not None:
            _count_permanent_failure(delivery.channel_id, error.message)
    return status


def _count_permanent_failure(channel_id: int, message: str) -> None:
    Channel.objects.filter(pk=channel_id).update(failures=F("failures") + 1, last_error=message[:500])
    channel = Channel.objects.select_related("account", "organisation").get(pk=channel_id)
    if (
        channel.kind == Channel.Kind.WEBHOOK
        and not channel.is_disabled
        and channel.failures >= settings.ACCORD_NOTIFY_DISABLE_AFTER
    ):
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
        _cancel(delivery, token, why)
        return Delivery.Status.CANCELLED
    return record(delivery, token, send(prepare(delivery)), worker)


class Loop:
    """One notify worker: expands the outbox, releases digests, keeps up to `concurrency` sends in flight."""

    def __init__(self, name: str, *, concurrency: int | None = None) -> None:
        self.name = name
        self.concurrency = concurrency or settings.ACCORD_NOTIFY_CONCURRENCY
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="accord-notify-send")
        self.inflight: dict[Future[Outcome], tuple[Delivery, str]] = {}
        self.last_digest_check = 0.0
        self.visibility = matching.Visibility()
        self.visibility_since = time.monotonic()

    def step(self, wait_seconds: float) -> bool:
        """One round; True if it did anything. Waits up to `wait_seconds` for sends to finish."""
        busy = expand_outbox() > 0
        if time.monotonic() - self.last_digest_check > 5:
            self.last_digest_check = time.monotonic()
            busy |= release_digests() > 0
        free = self.concurrency - len(self.inflight)
        # Claim in batches (half the slots at least), not one slot at a time.
        if free > 0 and (free >= max(1, self.concurrency // 2) or not self.inflight):
            token, rows = claim(free)
            if time.monotonic() - self.visibility_since > 1.0:  # answers of the audience filter, kept 1 s
                self.visibility, self.visibility_since = matching.Visibility(), time.monotonic()
            for delivery in rows:
                busy = True
                why = _still_allowed(delivery, self.visibility)
                if why is not None:
                    _cancel(delivery, token, why)
                    continue
                try:
                    outgoing = prepare(delivery)
                except Exception as error:  # a delivery that cannot be rendered fails, alone
                    logger.exception("notify: rendering delivery %s failed", delivery.pk)
                    record(delivery, token, Outcome(error=TransportError(f"cannot render: {error}", permanent=True)))
                    continue
                self.inflight[self.pool.submit(send, outgoing)] = (delivery, token)
        if self.inflight:
            done, _ = wait(list(self.inflight), timeout=0 if busy else wait_seconds, return_when=FIRST_COMPLETED)
            if done:
                busy = True
                with transaction.atomic():  # one commit for the outcomes that are in
                    for future in done:
                        delivery, token = self.inflight.pop(future)
                        record(delivery, token, future.result(), self.name)
        return busy

    def drain(self, timeout: float = 30.0) -> None:
        """Run until nothing is due and nothing is in flight (tests, `accord notify run --once`)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.step(0.05) and not self.inflight:
                return
        raise TimeoutError("notify: still busy after the time limit")

    def close(self) -> None:
        for future, (delivery, token) in list(self.inflight.items()):
            try:
                record(delivery, token, future.result(timeout=send_timeout() + 1), self.name)
            except Exception:  # noqa: BLE001  (the lease expires and another worker retries)
                logger.warning("notify: delivery %s left to its lease", delivery.pk)
        self.inflight.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)


def run(stop: threading.Event, name: str = "notify") -> None:
    """The notify thread of `accord worker`: runs until `stop` is set."""
    poll = settings.ACCORD_NOTIFY_POLL_SECONDS
    loop = Loop(name)
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                if not loop.step(poll):
                    stop.wait(poll)
            except Exception:  # a database hiccup must not end dissemination
                logger.exception("notify: loop round failed")
                stop.wait(max(poll, 2))
    finally:
        loop.close()
        connection.close()
