"""Sending claimed deliveries: checked again, rendered, sent by their channel's transport, and the outcome recorded
(retried later, failed, or sent) while the worker's token holds."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accord.notify import matching, messages
from accord.notify.claims import claim
from accord.notify.models import Channel, Delivery, DeliveryAttempt
from accord.notify.pacing import retry_delay, send_timeout
from accord.notify.transports import TRANSPORTS, Outgoing, Sent, TransportError

logger = logging.getLogger("accord.notify")


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


def _count_permanent_failure(channel_id: int, message: str) -> None:
    """One more permanent failure that is the address's own; at ACCORD_NOTIFY_DISABLE_AFTER in a row the channel (a
    webhook or an e-mail address) is disabled and its owner told."""
    Channel.objects.filter(pk=channel_id).update(failures=F("failures") + 1, last_error=message[:500])
    channel = Channel.objects.select_related("account", "organisation").get(pk=channel_id)
    if not channel.is_disabled and channel.failures >= settings.ACCORD_NOTIFY_DISABLE_AFTER:
        from accord.notify.actions import disable_channel

        disable_channel(channel, reason=f"{channel.failures} permanent failures in a row; last: {message}")


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
