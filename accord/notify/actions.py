"""Every change to channels and subscriptions goes through these functions (audited, validated): add, change
and remove subscriptions and channels, test, disable and enable channels, issue or withdraw a subscription's feed
token. Each checks who may act and writes in one transaction with its audit entry; the pages and the command line
change these rows only through them.

`acting_user=None` is the node's operator (the command line). An account manages its own channels and
subscriptions; an organisation's are managed by that organisation's admins.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accord.lib import http
from accord.notify import dispatch, matching
from accord.notify.feeds import digest
from accord.notify.keys import key_for, language_of_member
from accord.notify.models import Channel, Delivery, Language, Subscription
from accord.notify.territories import known as known_territory
from accord.notify.transports import check_email
from accord.records import audit
from accord.records.errors import ActionError, Forbidden
from accord.records.kinds import check_text

if TYPE_CHECKING:
    from accord.members.models import Account, Organisation

MODES = {m.value for m in Subscription.Mode}
LANGUAGES = {lang.value for lang in Language}
FEED_TOKEN_PREFIX = "sfeed_"  # noqa: S105  (a label, not a secret)


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_owner(account: Account | None, organisation: Organisation | None, acting_user: Account | None) -> None:
    if (account is None) == (organisation is None):
        raise ActionError("a channel or subscription belongs to exactly one account or one organisation")
    if acting_user is None:
        return
    if account is not None and account.pk != acting_user.pk:
        raise Forbidden("you manage only your own subscriptions and channels")
    if organisation is not None and not manages_organisation(acting_user, organisation):
        raise Forbidden("an organisation's subscriptions are managed by its administrators")


def manages_organisation(acting_user: Account, organisation: Organisation) -> bool:
    """Whether an account manages the channels and subscriptions of an organisation: its administrators do."""
    return acting_user.organisation_id == organisation.pk and acting_user.has_role("admin")


def may_manage(item: Channel | Subscription, acting_user: Account | None) -> bool:
    try:
        _check_owner(item.account, item.organisation, acting_user)
    except ActionError:
        return False
    return True


def _default_language(account: Account | None, organisation: Organisation | None) -> str:
    if account is not None:
        return language_of_member(account.member_code)
    return language_of_member(organisation.member.code if organisation is not None else None)


def create_channel(
    *,
    kind: str,
    target: str,
    account: Account | None = None,
    organisation: Organisation | None = None,
    language: str | None = None,
    name: str = "",
    acting_user: Account | None,
) -> Channel:
    """Validate and save a channel. Webhook URLs must be http(s), without credentials, and reach public
    addresses (or ones ACCORD_OUTBOUND_ALLOW permits), checked by `accord.lib.http.check_url` (the guard every
    send goes through again); each webhook gets its own signing secret."""
    _check_owner(account, organisation, acting_user)
    language = language or _default_language(account, organisation)
    if language not in LANGUAGES:
        raise ActionError(f"language {language!r} is not one of {', '.join(sorted(LANGUAGES))}", field="language")
    try:
        if kind == Channel.Kind.EMAIL:
            clean, secret = check_email(target), ""
        elif kind == Channel.Kind.WEBHOOK:
            clean, secret = _check_webhook_url(target), new_secret()
        else:
            raise ActionError(f"channel kind {kind!r} is not email or webhook", field="kind")
    except ValueError as error:
        what = "e-mail address" if kind == "email" else "webhook URL"
        raise ActionError(f"{what} refused: {error}", field="target") from None
    with transaction.atomic():
        channel = Channel.objects.create(
            account=account,
            organisation=organisation,
            kind=kind,
            target=clean,
            secret=secret,
            language=language,
            name=name[:100],
        )
        audit.append(
            "notify.channel.add",
            actor=acting_user,
            object_type="channel",
            object_id=str(channel.uuid),
            data={"kind": kind, "owner": owner_name(channel)},
        )
    return channel


WEBHOOK_URL_MAX = 2000


def _check_webhook_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ValueError("the webhook URL is empty")
    if len(url) > WEBHOOK_URL_MAX:
        raise ValueError(f"the webhook URL is longer than {WEBHOOK_URL_MAX} characters")
    return http.check_url(url)  # URLRefused is a ValueError saying what is wrong


def owner_name(item: Channel | Subscription) -> str:
    if item.account is not None:
        return f"account:{item.account.username}"
    return f"organisation:{item.organisation.slug}" if item.organisation is not None else ""


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    origin_members: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    diseases: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    min_severity: str = ""
    min_urgency: str = ""
    min_certainty: str = ""
    area_members: list[str] = field(default_factory=list)
    area: dict[str, Any] | None = None

    def clean(self) -> dict[str, Any]:
        from accord.members.models import Member
        from accord.records import kinds as record_kinds

        known_kinds = {k.name for k in record_kinds.all_kinds()}
        unknown = sorted(set(self.kinds) - known_kinds)
        if unknown:
            raise ActionError(
                f"unknown record kind {unknown[0]!r}; this node knows: {', '.join(sorted(known_kinds))}", field="kind"
            )
        members = [c.strip().upper() for c in self.origin_members if c.strip()]
        area_members = [c.strip().upper() for c in self.area_members if c.strip()]
        known_members = set(Member.objects.values_list("code", flat=True))
        for code in members + area_members:
            if code not in known_members:
                raise ActionError(f"member {code!r} is not a known member code", field="member")
        for code in area_members:
            if not known_territory(code):
                raise ActionError(f"member {code!r} has no territory to match areas against", field="area_member")
        statuses = self.statuses or ["actual"]
        for status in statuses:
            if status not in ("actual", "exercise", "test"):
                raise ActionError(f"status {status!r} is not actual, exercise or test", field="status")
        for name, scale, value in (
            ("severity", matching.SEVERITIES, self.min_severity),
            ("urgency", matching.URGENCIES, self.min_urgency),
            ("certainty", matching.CERTAINTIES, self.min_certainty),
        ):
            if value and value not in scale:
                raise ActionError(f"{name} {value!r} is not one of {', '.join(reversed(scale))}", field=name)
        return {
            "kinds": sorted(set(self.kinds)),
            "origin_members": sorted(set(members)),
            "categories": sorted({c.strip() for c in self.categories if c.strip()}),
            "events": sorted({e.strip() for e in self.events if e.strip()}),
            "diseases": sorted({d.strip() for d in self.diseases if d.strip()}),
            "statuses": sorted(set(statuses)),
            "min_severity": self.min_severity,
            "min_urgency": self.min_urgency,
            "min_certainty": self.min_certainty,
            "area_members": sorted(set(area_members)),
            "area": _check_area(self.area),
        }


def _check_area(area: dict[str, Any] | None) -> dict[str, Any] | None:
    if area is None:
        return None
    from shapely.geometry import mapping, shape

    if not isinstance(area, dict) or area.get("type") not in ("Polygon", "MultiPolygon"):
        raise ActionError("area must be a GeoJSON Polygon or MultiPolygon (longitude, latitude)", field="area")
    try:
        geometry = shape(area)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ActionError(f"area is not a valid polygon: {error}", field="area") from None
    if geometry.is_empty or not geometry.is_valid:
        raise ActionError("area is not a valid polygon (empty or self-intersecting)", field="area")
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise ActionError("area coordinates must be longitude -180..180, latitude -90..90", field="area")
    # GeoJSON through shapely: tuples become lists, and coordinates stay as given (floats are fine: not signed).
    cleaned: dict[str, Any] = dict(mapping(geometry))
    return {"type": cleaned["type"], "coordinates": _lists(cleaned["coordinates"])}


def _lists(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def _check_settings(
    *,
    account: Account | None,
    organisation: Organisation | None,
    channels: list[Channel],
    filters: Filters,
    mode: str,
    immediate_severity: str,
) -> dict[str, Any]:
    """Check a subscription's mode, digest severity and channels (all of its owner) and clean its filters;
    returns the cleaned filters, as model fields."""
    if mode not in MODES:
        raise ActionError(f"mode {mode!r} is not one of {', '.join(sorted(MODES))}", field="mode")
    if immediate_severity and immediate_severity not in matching.SEVERITIES:
        raise ActionError(f"severity {immediate_severity!r} is not a CAP severity", field="immediate_severity")
    for channel in channels:
        if channel.account_id != (account.pk if account else None) or channel.organisation_id != (
            organisation.pk if organisation else None
        ):
            raise Forbidden("a subscription uses only channels of the same owner")
    return filters.clean()


def _subscription_data(subscription: Subscription, channels: list[Channel], clean: dict[str, Any]) -> dict[str, Any]:
    """The audit entry's data for a subscription added or changed: owner, channels, mode, on/off and filters."""
    return {
        "owner": owner_name(subscription),
        "channels": [str(c.uuid) for c in channels],
        "mode": subscription.mode,
        "active": subscription.active,
        **clean,
        # The audit log is canonical JSON without floats: the polygon is recorded as present or not.
        "area": clean["area"] is not None,
    }


def create_subscription(
    *,
    channels: list[Channel],
    filters: Filters | None = None,
    account: Account | None = None,
    organisation: Organisation | None = None,
    mode: str = Subscription.Mode.IMMEDIATE,
    immediate_severity: str = "",
    name: str = "",
    active: bool = True,
    acting_user: Account | None,
) -> Subscription:
    _check_owner(account, organisation, acting_user)
    check_text(name, "name")
    clean = _check_settings(
        account=account,
        organisation=organisation,
        channels=channels,
        filters=filters or Filters(),
        mode=mode,
        immediate_severity=immediate_severity,
    )
    with transaction.atomic():
        subscription = Subscription.objects.create(
            account=account,
            organisation=organisation,
            mode=mode,
            immediate_severity=immediate_severity,
            name=name[:200],
            active=active,
            **clean,
        )
        subscription.channels.set(channels)
        audit.append(
            "notify.subscription.add",
            actor=acting_user,
            object_type="subscription",
            object_id=str(subscription.uuid),
            data=_subscription_data(subscription, channels, clean),
        )
    return subscription


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
    _check_owner(subscription.account, subscription.organisation, acting_user)
    clean = _check_settings(
        account=subscription.account,
        organisation=subscription.organisation,
        channels=channels,
        filters=filters,
        mode=mode,
        immediate_severity=immediate_severity,
    )
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
            data=_subscription_data(locked, channels, clean),
        )
    return locked


def remove_subscription(
    subscription: Subscription, *, acting_user: Account | None, keep_channels: bool = False
) -> None:
    """Delete a subscription; what it still had to send is cancelled, and channels no other subscription
    uses go with it (the command line made them for it), unless `keep_channels` (the pages, where channels are
    added and removed on their own)."""
    _check_owner(subscription.account, subscription.organisation, acting_user)
    with transaction.atomic():
        channels = list(subscription.channels.all())
        Delivery.objects.filter(
            subscription=subscription,
            status__in=[Delivery.Status.PENDING, Delivery.Status.HELD, Delivery.Status.SENDING],
        ).update(status=Delivery.Status.CANCELLED, last_error="the subscription was removed", lease_until=None)
        audit.append(
            "notify.subscription.remove",
            actor=acting_user,
            object_type="subscription",
            object_id=str(subscription.uuid),
            data={"owner": owner_name(subscription)},
        )
        subscription.delete()
        for channel in [] if keep_channels else channels:
            if not channel.subscriptions.exists():
                Delivery.objects.filter(
                    channel=channel, status__in=[Delivery.Status.PENDING, Delivery.Status.HELD]
                ).update(status=Delivery.Status.CANCELLED, last_error="the channel was removed")
                channel.delete()


def remove_channel(channel: Channel, *, acting_user: Account | None) -> None:
    """Delete a channel: what waits for it is cancelled, the subscriptions using it keep their other channels
    (a subscription without channels still feeds its Atom/RSS feed and the live banner)."""
    _check_owner(channel.account, channel.organisation, acting_user)
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
    _check_owner(subscription.account, subscription.organisation, acting_user)
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
    _check_owner(subscription.account, subscription.organisation, acting_user)
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


def disable_channel(channel: Channel, *, reason: str) -> None:
    """Stop using a channel that keeps failing: flag it, cancel what waits for it, tell its owner by e-mail."""
    now = timezone.now()
    with transaction.atomic():
        changed = Channel.objects.filter(pk=channel.pk, disabled_at__isnull=True).update(
            disabled_at=now, disabled_reason=reason[:500]
        )
        if not changed:
            return
        Delivery.objects.filter(channel=channel, status__in=[Delivery.Status.PENDING, Delivery.Status.HELD]).update(
            status=Delivery.Status.CANCELLED, last_error="the channel was disabled"
        )
        audit.append(
            "notify.channel.disable",
            actor=None,
            actor_name="worker",
            object_type="channel",
            object_id=str(channel.uuid),
            data={"reason": reason[:500]},
        )
        for account, address in _owner_addresses(channel):
            Delivery.objects.get_or_create(
                key=key_for("notice", channel.uuid, now.isoformat(), address),
                defaults={
                    "purpose": Delivery.Purpose.NOTICE,
                    "kind": Channel.Kind.EMAIL,
                    "account": account,
                    "address": address,
                    "language": channel.language,
                    "data": {"target": channel.target, "reason": reason[:500], "channel": str(channel.uuid)},
                },
            )


def _owner_addresses(channel: Channel) -> list[tuple[Account | None, str]]:
    from accord.members.models import Account

    if channel.account is not None:
        owner = channel.account
        return [(owner, owner.email)] if owner.email and owner.is_active else []
    admins = Account.objects.filter(organisation=channel.organisation, is_active=True, roles__role="admin").exclude(
        email=""
    )
    return [(a, a.email) for a in admins.distinct()]


def enable_channel(channel: Channel, *, acting_user: Account | None) -> Channel:
    _check_owner(channel.account, channel.organisation, acting_user)
    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(disabled_at=None, disabled_reason="", failures=0, last_error="")
        audit.append("notify.channel.enable", actor=acting_user, object_type="channel", object_id=str(channel.uuid))
    channel.refresh_from_db()
    return channel


def send_test(channel: Channel, *, acting_user: Account | None) -> Delivery:
    """Send a test notification to a channel now; returns the delivery with its outcome."""
    _check_owner(channel.account, channel.organisation, acting_user)
    delivery = Delivery.objects.create(
        key=key_for("test", channel.uuid, timezone.now().isoformat(), secrets.token_hex(4)),
        purpose=Delivery.Purpose.TEST,
        kind=channel.kind,
        channel=channel,
        account=channel.account,
        address=channel.target,
        language=channel.language,
    )
    dispatch.deliver([delivery.pk])
    delivery.refresh_from_db()
    return delivery
