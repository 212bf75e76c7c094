"""Outbox -> deliveries: each committed version in the outbox is matched against the active subscriptions, part by
part, and becomes one delivery per matching subscription's channel (docs/notify.md)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Q
from django.utils import timezone

from accord.notify import matching, messages, outbox
from accord.notify.digests import period_end
from accord.notify.keys import key_for
from accord.notify.models import Channel, Delivery, OutboxEntry, Subscription
from accord.notify.pacing import backoff, lease_seconds
from accord.records.models import Version

logger = logging.getLogger("accord.notify")


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
