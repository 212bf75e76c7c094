"""Query tables kept in step with the signed alert, assessment and acknowledgement versions.

Nothing here is a source of truth: every row is derived from the current version of a record
(see `accord.alerts.kinds`), and every read joins back to `Record.objects.visible_to()`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone

from accord.records.models import Record, Version


class AlertView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="alert_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    member = models.CharField(max_length=8, default="")  # the record's origin member, for the list's indexes
    identifier = models.CharField(max_length=300, db_index=True)
    sender = models.CharField(max_length=300)
    sent_at = models.DateTimeField()
    first_sent_at = models.DateTimeField()
    msg_type = models.CharField(max_length=10)
    cap_status = models.CharField(max_length=10)
    scope = models.CharField(max_length=12)
    event = models.CharField(max_length=300, blank=True)
    headline = models.CharField(max_length=500, blank=True)
    categories = models.CharField(max_length=200, blank=True)  # ",Health,Met," for exact-word filtering
    severity = models.CharField(max_length=10, blank=True)
    urgency = models.CharField(max_length=10, blank=True)
    certainty = models.CharField(max_length=10, blank=True)
    languages = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True)
    bbox_west = models.FloatField(null=True)
    bbox_south = models.FloatField(null=True)
    bbox_east = models.FloatField(null=True)
    bbox_north = models.FloatField(null=True)
    areas = models.JSONField(default=list)  # GeoJSON features (polygons and circles as polygons)
    disease_system = models.CharField(max_length=10, blank=True)
    disease_code = models.CharField(max_length=20, blank=True)
    disease_name = models.CharField(max_length=200, blank=True)
    cases = models.PositiveIntegerField(null=True)
    deaths = models.PositiveIntegerField(null=True)
    assessment = models.UUIDField(null=True)
    ack_deadline = models.DateTimeField(null=True)

    class Meta:
        # Lists are newest first (sent, then record): each index ends with that order, so a page of a filtered
        # list is read in order and stops after the page, however many alerts there are (docs/alerts.md).
        indexes = [
            models.Index(F("sent_at").desc(), F("record").desc(), name="alertview_sent"),
            models.Index("member", F("sent_at").desc(), F("record").desc(), name="alertview_member_sent"),
            models.Index("severity", F("sent_at").desc(), F("record").desc(), name="alertview_severity_sent"),
            models.Index(
                "member", "severity", F("sent_at").desc(), F("record").desc(), name="alertview_member_severity_sent"
            ),
            models.Index(Upper("event"), F("sent_at").desc(), F("record").desc(), name="alertview_event_sent"),
        ]

    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at < timezone.now()


class AlertMessage(models.Model):
    """Every CAP message of every alert thread, so a referenced message finds its thread."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="alert_messages")
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=300)
    identifier = models.CharField(max_length=300)
    sent = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "seq"], name="one_message_per_version")]
        indexes = [models.Index(fields=["identifier", "sender"])]


class AssessmentView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="assessment_view")
    alert_record = models.UUIDField(null=True, db_index=True)
    outcome = models.CharField(max_length=16)
    assessed_at = models.DateTimeField()


class AcknowledgementView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="ack_view")
    alert_node = models.UUIDField()
    alert_record = models.UUIDField(db_index=True)
    member = models.CharField(max_length=8)
    acknowledged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert_node", "alert_record", "member"], name="one_ack_per_member")
        ]


class Escalation(models.Model):
    """An overdue acknowledgement that was escalated (once per alert and member)."""

    alert = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="escalations")
    member = models.CharField(max_length=8)
    escalated_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "member"], name="one_escalation_per_member")]


def view_of(record: Record) -> AlertView:
    """The alert view of a record (loaded with select_related("alert_view") where lists need it)."""
    # getattr: whether mypy's Django plugin knows this reverse accessor depends on its cache state.
    view: AlertView = getattr(record, "alert_view")  # noqa: B009
    return view
