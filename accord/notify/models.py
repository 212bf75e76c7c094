"""Dissemination: channels, subscriptions, the outbox, deliveries and their attempts.

The flow: a version is written -> in the same transaction an `OutboxEntry` -> a worker expands
it into one `Delivery` per (subscription, version, channel) that matches and that the
subscription's owner may see -> a worker claims deliveries with a conditional UPDATE (status +
lease) and sends them through the channel's transport -> each try is a `DeliveryAttempt`.

`Delivery.key` is the idempotency key: unique, stable across retries and restarts, and sent as
the webhook's `webhook-id`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.members.models import Account, Organisation
from accord.records.models import Record, Version


class Language(models.TextChoices):
    EN = "en", "English"
    ZH = "zh-hans", "中文"
    RU = "ru", "Русский"
    KK = "kk", "Қазақ тілі"
    KY = "ky", "Кыргызча"
    TG = "tg", "Тоҷикӣ"
    UZ = "uz", "Oʻzbekcha"
    HI = "hi", "हिन्दी"
    UR = "ur", "اردو"
    FA = "fa", "فارسی"
    BE = "be", "Беларуская"


class Channel(models.Model):
    """Where notifications go: an e-mail address or a webhook URL, owned by an account or an organisation."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Exactly one owner: an account, or an organisation (managed by its admins).
    account = models.ForeignKey(Account, on_delete=models.CASCADE, null=True, blank=True, related_name="channels")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="channels"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    target = models.CharField(max_length=2000)  # the e-mail address or the webhook URL, validated when saved
    secret = models.CharField(max_length=100, blank=True)  # webhooks: "whsec_" + base64, the signing secret
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.EN)
    created_at = models.DateTimeField(default=timezone.now)
    # Permanent failures in a row (reset by a success); at ACCORD_NOTIFY_DISABLE_AFTER the channel is disabled.
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, organisation__isnull=True)
                | Q(account__isnull=True, organisation__isnull=False),
                name="channel_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}"

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


class Subscription(models.Model):
    """What someone wants to hear about, and on which channels.

    Empty lists match everything; thresholds match that level and worse. Matching always runs
    through the audience filter as the owner (see `accord.notify.matching`)."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("Immediately")
        HOURLY = "hourly", _("Hourly digest")
        DAILY = "daily", _("Daily digest")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    channels = models.ManyToManyField(Channel, related_name="subscriptions", blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)
    # In digest mode, alerts of this severity or worse still go out at once ("": everything waits).
    immediate_severity = models.CharField(max_length=10, blank=True)

    # Filters. JSON lists of strings; [] = any.
    kinds = models.JSONField(default=list, blank=True)  # record kinds, e.g. ["alert"]
    origin_members = models.JSONField(default=list, blank=True)  # member codes of the origin
    categories = models.JSONField(default=list, blank=True)  # CAP categories (Health, Met, ...)
    events = models.JSONField(default=list, blank=True)  # CAP event names, case-insensitive exact
    diseases = models.JSONField(default=list, blank=True)  # ICD codes or names, case-insensitive
    statuses = models.JSONField(default=list, blank=True)  # record statuses; [] means ["actual"]
    min_severity = models.CharField(max_length=10, blank=True)  # Minor|Moderate|Severe|Extreme
    min_urgency = models.CharField(max_length=10, blank=True)  # Past|Future|Expected|Immediate
    min_certainty = models.CharField(max_length=10, blank=True)  # Unlikely|Possible|Likely|Observed
    area_members = models.JSONField(default=list, blank=True)  # member codes whose territory the areas touch
    area = models.JSONField(null=True, blank=True)  # a GeoJSON Polygon/MultiPolygon (lon, lat)

    # Per-subscription feed (Atom/RSS): SHA-256 of the feed token, shown once when made.
    feed_token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, organisation__isnull=True)
                | Q(account__isnull=True, organisation__isnull=False),
                name="subscription_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.name or str(self.uuid)


class OutboxEntry(models.Model):
    """Written in the transaction that writes a version: the version still has to be disseminated.

    A worker claims entries (lease), expands them into deliveries, and sets `processed_at`."""

    version = models.OneToOneField(Version, on_delete=models.CASCADE, related_name="outbox_entry")
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=40, blank=True)
    tries = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["processed_at", "id"])]


class Delivery(models.Model):
    """One message to one channel (or one e-mail address): sent at most once per key, retried on temporary errors."""

    class Purpose(models.TextChoices):
        MATCH = "match", _("Subscription")
        DIGEST = "digest", _("Digest")
        ESCALATION = "escalation", _("Escalation")
        NOTICE = "notice", _("Notice to the owner")
        TEST = "test", _("Test notification")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # waiting to be sent (next_attempt_at)
        SENDING = "sending", _("Sending")  # claimed by a worker until lease_until
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")  # permanent failure, or retries exhausted
        HELD = "held", _("Held for digest")  # a digest item waiting for its period to end
        BATCHED = "batched", _("Sent in a digest")  # a digest item carried by `digest`
        CANCELLED = "cancelled", _("Cancelled")  # channel removed or disabled, owner lost sight of it

    key = models.CharField(max_length=200, unique=True)  # idempotency key; the webhook-id
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.MATCH)
    kind = models.CharField(max_length=10, choices=Channel.Kind.choices)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    account = models.ForeignKey(  # the recipient account (escalations, notices), when there is one
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    address = models.CharField(max_length=2000)  # e-mail address or URL as it was when the delivery was made
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.EN)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    digest = models.ForeignKey(  # for a batched item: the digest delivery that carried it
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    data = models.JSONField(default=dict, blank=True)  # purpose-specific content (escalation, notice, test)
    message_id = models.CharField(max_length=300, blank=True)  # e-mail Message-ID, stable across retries
    thread_root = models.CharField(max_length=300, blank=True)  # Message-ID of the first message of the thread

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)  # pending: not before; held: end of period
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["lease_token"]),
            models.Index(fields=["record", "channel"]),
            # The two halves of the claim (claims.claim): due pending rows in order, and expired leases.
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="notify_delivery_due"),
            models.Index(fields=["lease_until", "id"], condition=Q(status="sending"), name="notify_delivery_lease"),
        ]

    def __str__(self) -> str:
        return self.key


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, with what outcome."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Delivered")
        TEMPORARY = "temporary", _("Temporary failure")
        PERMANENT = "permanent", _("Permanent failure")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
