"""Actions the subscription pages need beyond `accord.notify.actions`: change a subscription, remove a channel,
issue or withdraw a subscription's feed token. Each checks who may act, writes in one transaction with its
audit entry, and is the only way the pages change these rows.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accord.notify import matching
from accord.notify.actions import MODES, Filters, may_manage, owner_name
from accord.notify.feeds import digest
from accord.notify.models import Channel, Delivery, Subscription
from accord.records import audit
from accord.records.errors import ActionError, Forbidden

if TYPE_CHECKING:
    from accord.members.models import Account

FEED_TOKEN_PREFIX = "sfeed_"  # noqa: S105  (a label, not a secret)


def _check(item: Channel | Subscription, acting_user: Account | None) -> None:
    if not may_manage(item, acting_user):
        raise Forbidden(
            "you manage only your own subscriptions and channels"
            if item.account is not None
            else "an organisation's subscriptions are managed by its administrators"
        )


def update_subscription(
    subscription: Subscription,
    *,
    channels: list[Channel],
    filters: Filters,
    mode: str,
    immediate_severity: str = "",
    name: str = "",
    active: bool = True,
    acting_user: Account | None,
) -> Subscription:
    """Replace a subscription's filters, channels, mode, name and on/off switch. What was already queued stays
    queued; what arrives from now on is matched with the new filters."""
    _check(subscription, acting_user)
    if mode not in MODES:
        raise ActionError(f"mode {mode!r} is not one of {', '.join(sorted(MODES))}", field="mode")
    if immediate_severity and immediate_severity not in matching.SEVERITIES:
        raise ActionError(f"severity {immediate_severity!r} is not a CAP severity", field="immediate_severity")
    for channel in channels:
        if channel.account_id != subscription.account_id or channel.organisation_id != subscription.organisation_id:
            raise Forbidden("a subscription uses only channels of the same owner")
    clean = filters.clean()
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        for key, value in clean.items():
            setattr(locked, key, value)
        locked.mode = mode
        locked.immediate_severity = immediate_severity
        locked.name = name[:200]
        locked.active = active
        locked.updated_at = timezone.now()
        locked.save()
        locked.channels.set(channels)
        audit.append(
            "notify.subscription.update",
            actor=acting_user,
            object_type="subscription",
            object_id=str(locked.uuid),
            data={
                "owner": owner_name(locked),
                "channels": [str(c.uuid) for c in channels],
                "mode": mode,
                "active": active,
                **clean,
                "area": clean["area"] is not None,  # no floats in the audit log
            },
        )
    return locked


def remove_channel(channel: Channel, *, acting_user: Account | None) -> None:
    """Delete a channel: what waits for it is cancelled, the subscriptions using it keep their other channels
    (a subscription without channels still feeds its Atom/RSS feed and the live banner)."""
    _check(channel, acting_user)
    with transaction.atomic():
        Delivery.objects.filter(
            channel=channel, status__in=[Delivery.Status.PENDING, Delivery.Status.HELD, Delivery.Status.SENDING]
        ).update(status=Delivery.Status.CANCELLED, last_error="the channel was removed", lease_until=None)
        audit.append(
            "notify.channel.remove",
            actor=acting_user,
            object_type="channel",
            object_id=str(channel.uuid),
            data={"kind": channel.kind, "owner": owner_name(channel)},
        )
        channel.delete()


def issue_feed_token(subscription: Subscription, *, acting_user: Account | None) -> str:
    """A new secret for the subscription's Atom/RSS feed, returned once; any earlier one stops working."""
    _check(subscription, acting_user)
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(feed_token_digest=digest(token))
        audit.append(
            "notify.subscription.feed_token",
            actor=acting_user,
            object_type="subscription",
            object_id=str(subscription.uuid),
            data={"owner": owner_name(subscription), "replaced": subscription.feed_token_digest is not None},
        )
    subscription.feed_token_digest = digest(token)
    return token


def withdraw_feed_token(subscription: Subscription, *, acting_user: Account | None) -> None:
    _check(subscription, acting_user)
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(feed_token_digest=None)
        audit.append(
            "notify.subscription.feed_token.withdraw",
            actor=acting_user,
            object_type="subscription",
            object_id=str(subscription.uuid),
            data={"owner": owner_name(subscription)},
        )
    subscription.feed_token_digest = None
