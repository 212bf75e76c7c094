"""The record core: records, their signed versions, quarantine, attachments and the audit log.

A version row keeps the exact canonical bytes that were signed (`canonical`); every other
column is a copy taken from those bytes for indexing and filtering. `accord audit verify`
re-derives the copies from the bytes, so editing a column by hand is caught.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.records.querysets import RecordQuerySet, VersionQuerySet


class Status(models.TextChoices):
    ACTUAL = "actual", _("Actual")
    EXERCISE = "exercise", _("Exercise")
    TEST = "test", _("Test")
    DRAFT = "draft", _("Draft")


class State(models.TextChoices):
    ACTIVE = "active", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Tlp(models.TextChoices):
    CLEAR = "CLEAR", "TLP:CLEAR"
    GREEN = "GREEN", "TLP:GREEN"
    AMBER = "AMBER", "TLP:AMBER"
    AMBER_STRICT = "AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "RED", "TLP:RED"


class Record(models.Model):
    """A record: the chain of its versions. Only `origin_node` issues versions of it."""

    uuid = models.UUIDField()
    origin_node = models.UUIDField()
    origin_member = models.CharField(max_length=8)
    kind = models.CharField(max_length=40, db_index=True)
    current_seq = models.PositiveIntegerField(default=0)
    current_version = models.OneToOneField("Version", on_delete=models.PROTECT, null=True, related_name="+")
    first_seen_at = models.DateTimeField(default=timezone.now)

    objects = RecordQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origin_node", "uuid"], name="record_origin_uuid_unique")]
        indexes = [models.Index(fields=["uuid"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.uuid}"


class Version(models.Model):
    """One immutable, signed version. `id` is the local arrival order (the change-feed order)."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="versions")
    origin_node = models.UUIDField()
    record_uuid = models.UUIDField()
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    tlp = models.CharField(max_length=12, choices=Tlp.choices)
    audience_everyone = models.BooleanField(default=False)
    origin_member = models.CharField(max_length=8)
    origin_organisation = models.UUIDField(null=True)
    author = models.UUIDField(null=True)
    created_at = models.CharField(max_length=40)  # as signed, RFC 3339 UTC
    prev_hash = models.CharField(max_length=71, null=True)  # noqa: DJ001  (null: first version, as signed)
    content_hash = models.CharField(max_length=71)
    canonical = models.BinaryField()
    signature = models.CharField(max_length=100)
    sig_alg = models.CharField(max_length=20)
    sig_kid = models.CharField(max_length=40)
    search_text = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    objects = VersionQuerySet.as_manager()

    class Meta:
        constraints = [
            # Idempotent ingest and equivocation detection rest on this constraint.
            models.UniqueConstraint(fields=["origin_node", "record_uuid", "seq"], name="version_identity_unique")
        ]
        indexes = [models.Index(fields=["tlp", "status"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_uuid}#{self.seq}"

    def envelope(self) -> dict[str, Any]:
        import json

        result: dict[str, Any] = json.loads(bytes(self.canonical))
        return result

    @property
    def body(self) -> dict[str, Any]:
        signed: dict[str, Any] | None = self.__dict__.get("_signed_body")
        if signed is not None:
            return signed
        body: dict[str, Any] = self.envelope()["body"]
        return body

    def keep_body(self, body: dict[str, Any]) -> None:
        """Remember the body this new version was just signed with (the value its canonical bytes encode), so
        that the projections run in the same transaction read it without decoding the bytes again. Only the batch
        writer calls it, with the body it encoded; the value is not copied, so nothing may change it."""
        self.__dict__["_signed_body"] = body


class AudienceEntry(models.Model):
    """One named target of a version's audience: 'member:CN', 'org:<uuid>' or 'person:<uuid>'."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="audience_entries")
    target = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "target"], name="audience_entry_unique")]
        indexes = [models.Index(fields=["target", "version"])]


class QuarantinedVersion(models.Model):
    """A received version kept aside, shown to no one: it claims an identity already taken by a different version
    (equivocation; `existing_hash` is the stored one), or it breaks its kind's rules or speaks for a member its
    origin node may not speak for (`existing_hash` is empty; `reason` says which)."""

    origin_node = models.UUIDField()
    record_uuid = models.UUIDField()
    seq = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=71)
    existing_hash = models.CharField(max_length=71)
    canonical = models.BinaryField()
    signature = models.CharField(max_length=100)
    sig_kid = models.CharField(max_length=40)
    reason = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["origin_node", "record_uuid", "seq", "content_hash"], name="quarantine_unique"
            )
        ]


class Attachment(models.Model):
    """An original document kept byte for byte, addressed by its SHA-256."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=120)
    stored_at = models.DateTimeField(default=timezone.now)


class VersionAttachment(models.Model):
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="attachment_links")
    attachment = models.ForeignKey(Attachment, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="version_attachment_unique")]


class AuditEntry(models.Model):
    """Append-only, hash-chained. `entry_hash` covers every field and the previous entry's hash."""

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.CharField(max_length=40)
    node_id = models.UUIDField(null=True)
    actor = models.UUIDField(null=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=71)
    entry_hash = models.CharField(max_length=71)

    class Meta:
        ordering = ["seq"]


class AuditHead(models.Model):
    """One row locked by every append, so concurrent appends form one chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=71, default="")


class WorkerHeartbeat(models.Model):
    worker = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()


class SearchDocumentField(models.TextField):  # type: ignore[type-arg]
    """A search entry's document; its lookup `matches` (accord/records/search.py) asks the database's index."""


class SearchEntry(models.Model):
    """The search document of a record's current version (accord/records/search.py); indexed by the database.

    `listed_at` is the time its kind's lists are ordered by (an alert's CAP `sent`), when the kind has one: a search
    walks the entries newest first by it, so it reads only the entries it shows and those it skips on the way."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="search_entry")
    document = SearchDocumentField()
    listed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(F("listed_at").desc(), F("record").desc(), name="searchentry_listed")]
