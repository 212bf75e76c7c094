"""Surveillance: the projections of shared counts, uploads, detector settings, thresholds and signals.

The counts themselves are records (kind `case_counts`, one per member x disease x region x resolution x year,
see `accord.surveillance.kinds`); `SeriesView` and `CountPoint` are query tables kept in step with each
record's current version by the kind's project hook, for local and received versions alike. Every read joins
back to `Record.objects.visible_to()`.

Signals are not records: each node derives them from the counts it holds (its own and its peers'), with its
own detector settings, so they are node-local like the settings that made them. A signal is visible to a
person only when the counts behind it are (see `accord.surveillance.queries`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.records.models import Record, Version


class SeriesView(models.Model):
    """One `case_counts` record: which series and year it holds."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="series_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    member = models.CharField(max_length=8)
    disease = models.CharField(max_length=20)  # ICD-10 code of the reference list
    region = models.CharField(max_length=12)
    resolution = models.CharField(max_length=4)  # week or day
    year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10)  # the record status: only actual counts are watched
    active = models.BooleanField(default=True)  # False once withdrawn

    class Meta:
        indexes = [models.Index(fields=["member", "disease", "region", "resolution", "year"])]


class CountPoint(models.Model):
    """One period's count of a `case_counts` record (its current version)."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="count_points")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    member = models.CharField(max_length=8)
    disease = models.CharField(max_length=20)
    region = models.CharField(max_length=12)
    resolution = models.CharField(max_length=4)
    period = models.CharField(max_length=10)  # 2026-W07 or 2026-02-14
    period_start = models.DateField()
    count = models.PositiveIntegerField()
    status = models.CharField(max_length=10)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "period"], name="one_count_per_record_period")]
        indexes = [models.Index(fields=["disease", "member", "region", "period_start"])]


class Upload(models.Model):
    """One uploaded file (or API payload) of counts, and how its processing went on the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking the rows")
        STORING = "storing", _("Storing the counts")
        DETECTING = "detecting", _("Looking for signals")
        DONE = "done", _("Done")
        FAILED = "failed", _("Refused")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    member = models.CharField(max_length=8)
    filename = models.CharField(max_length=200, blank=True)
    format = models.CharField(max_length=10)  # csv, xlsx, dhis2, json
    data = models.BinaryField()  # the bytes as received; emptied when the upload is refused
    size = models.PositiveIntegerField(default=0)
    audience = models.JSONField(default=dict)
    tlp = models.CharField(max_length=12)
    record_status = models.CharField(max_length=10, default="actual")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    processed = models.PositiveIntegerField(default=0)  # rows while checking, series while detecting
    total = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": 3, "column": "count", "message": "..."}]
    summary = models.JSONField(default=dict)  # rows, series, records published, revised, unchanged, signals
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["uploader", "created_at"])]


class DetectorSetting(models.Model):
    """Which algorithm watches a disease here, with its control (R names). No row: farringtonFlexible, R defaults."""

    disease = models.CharField(max_length=20, unique=True)
    algorithm = models.CharField(max_length=30)
    control = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)


class Dhis2Code(models.Model):
    """How a DHIS2 dataElement or orgUnit of an uploaded dataValueSet maps to a disease or region."""

    class Kind(models.TextChoices):
        DATA_ELEMENT = "dataElement", "dataElement"
        ORG_UNIT = "orgUnit", "orgUnit"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=100)  # the DHIS2 uid, code or name as it appears in the file
    target = models.CharField(max_length=20)  # disease code or region code

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "source"], name="one_dhis2_mapping")]


class Threshold(models.Model):
    """The detector's result for one week of one series, as last computed (for the charts)."""

    member = models.CharField(max_length=8)
    disease = models.CharField(max_length=20)
    region = models.CharField(max_length=12)
    week_start = models.DateField()
    observed = models.PositiveIntegerField()
    upperbound = models.FloatField(null=True)  # None: not enough history
    expected = models.FloatField(null=True)
    alarm = models.BooleanField(default=False)
    algorithm = models.CharField(max_length=30)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["disease", "member", "region", "week_start"], name="one_threshold_per_week")
        ]


class Signal(models.Model):
    """An alarm of a detector in a monitored week (single), or alarms across a border (joint)."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Signal")
        JOINT = "joint", _("Cross-border signal")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        VERIFIED = "verified", _("Verified")
        DISMISSED = "dismissed", _("Dismissed")
        CLEARED = "cleared", _("Cleared by a correction")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SINGLE)
    member = models.CharField(max_length=8)  # SCO for a joint signal
    disease = models.CharField(max_length=20)
    region = models.CharField(max_length=12, blank=True)  # blank for a joint signal
    week_start = models.DateField()
    period = models.CharField(max_length=10)
    observed = models.PositiveIntegerField()
    threshold = models.FloatField(null=True)
    expected = models.FloatField(null=True)
    algorithm = models.CharField(max_length=30)
    control = models.JSONField(default=dict)
    series = models.ForeignKey(Record, on_delete=models.PROTECT, null=True, related_name="signals")
    components = models.ManyToManyField("self", symmetrical=False, related_name="joint_signals", blank=True)
    members = models.JSONField(default=list)  # joint: the members involved
    regions = models.JSONField(default=list)  # joint: the regions involved
    basis = models.JSONField(default=dict)  # joint: {"rule": "adjacent" | "members", "pairs": [[a, b], ...]}
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(blank=True)  # why dismissed
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True)
    ihr_draft = models.JSONField(default=dict)  # the suggested Annex 2 answers, made when verified
    assessment = models.UUIDField(null=True)  # the ihr_assessment record made from the draft, if any
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["disease", "member", "region", "week_start"],
                condition=models.Q(kind="single"),
                name="one_signal_per_series_week",
            )
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["disease", "member", "region", "week_start"]),
        ]

    def involves(self, member: str) -> bool:
        """Whether the signal is the member's: its own, or a joint signal that names it."""
        return member == self.member or member in (self.members or [])

    @property
    def exceedance(self) -> float | None:
        """observed / threshold (how far above its threshold the count is)."""
        if not self.threshold:
            return None
        return self.observed / self.threshold
