"""Digests: held items of an hourly or daily subscription become one delivery per (subscription, channel) once
their period has ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.notify import messages
from accord.notify.keys import key_for
from accord.notify.models import Channel, Delivery, Subscription


def period_end(mode: str, moment: datetime) -> datetime:
    """End of the digest period that `moment` falls in (UTC hours; days end at ACCORD_NOTIFY_DIGEST_HOUR)."""
    if mode == Subscription.Mode.HOURLY:
        return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = moment.replace(hour=settings.ACCORD_NOTIFY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return end if end > moment else end + timedelta(days=1)


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
