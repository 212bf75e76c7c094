"""Query tables kept in step with the signed incident, link and consent versions.

Nothing here is a source of truth: every row is derived from the current version of a record (see
`accord.response.kinds`, `links` and `consents`), and every read joins back to `Record.objects.visible_to()`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F

from accord.records.models import Record, Version


class IncidentView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="incident_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    member = models.CharField(max_length=8)  # the origin member
    status = models.CharField(max_length=8)  # open / closed (the incident's, not the envelope's)
    level = models.PositiveSmallIntegerField(default=0)
    hazard = models.CharField(max_length=20)  # ICD-10 code of a disease, else the hazard type (hazards.key)
    hazard_type = models.CharField(max_length=20)
    domains = models.CharField(max_length=60)  # ",human,animal," for exact-word filtering
    affected = models.CharField(max_length=2000)  # ",KZ,KG,"
    lead = models.CharField(max_length=8)
    title = models.CharField(max_length=300)
    opened_at = models.DateTimeField()  # the signed time of the first version seen here
    updated_at = models.DateTimeField()  # the signed time of the current version

    class Meta:
        # Lists are newest first (opened, then record), like alerts: each index ends in that order.
        indexes = [
            models.Index(F("opened_at").desc(), F("record").desc(), name="incidentview_opened"),
            models.Index("status", F("opened_at").desc(), F("record").desc(), name="incidentview_status_opened"),
            models.Index("level", F("opened_at").desc(), F("record").desc(), name="incidentview_level_opened"),
            models.Index("hazard", F("opened_at").desc(), F("record").desc(), name="incidentview_hazard_opened"),
        ]


class IncidentItem(models.Model):
    """A record that hangs from an incident (a link, a consent, and later sitreps, tasks, meetings, decisions,
    requests, offers): which incident, by its identity. The timeline and the incident page read these."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="incident_item")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    kind = models.CharField(max_length=40)
    active = models.BooleanField(default=True)  # false once the record is withdrawn

    class Meta:
        indexes = [models.Index(fields=["incident_record", "kind"], name="incidentitem_incident")]


class LinkView(models.Model):
    """An incident link: which record it attaches to which incident."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="link_view")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    target_node = models.UUIDField()
    target_record = models.UUIDField(db_index=True)  # "the incidents this alert belongs to"
    target_kind = models.CharField(max_length=40)
    active = models.BooleanField(default=True)  # a withdrawn link is unlinked

    class Meta:
        indexes = [models.Index(fields=["incident_record", "active"], name="linkview_incident")]


class ConsentView(models.Model):
    """The current state of one consent record: one member's consent to an incident's activation, as given by
    one of its organisations."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="consent_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    member = models.CharField(max_length=8)
    consent = models.CharField(max_length=10)  # given / refused / withdrawn
    condition = models.TextField(blank=True)
    at = models.DateTimeField()  # the signed time of the current version
    traffic = models.CharField(max_length=10)  # the envelope status: actual / exercise / test
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["incident_record", "member"], name="consentview_incident")]


# Mutual assistance (accord.response.assist_models); situation reports (accord.response.sitrep_models); tasks, task
# updates, decisions and positions (accord.response.work_models).
from accord.response.assist_models import (  # noqa: E402,F401
    AssistanceAcceptanceView,
    AssistanceCommitmentView,
    AssistanceOfferView,
    AssistanceRequestView,
    DeploymentView,
)
from accord.response.sitrep_models import ScheduleView, SitrepClock, SitrepEscalation, SitrepView  # noqa: E402,F401
from accord.response.timeline_models import TimelineEntry  # noqa: E402,F401
from accord.response.work_models import (  # noqa: E402,F401
    DecisionView,
    PositionView,
    TaskEscalation,
    TaskUpdateView,
    TaskView,
)
