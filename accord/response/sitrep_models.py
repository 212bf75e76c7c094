"""Query tables of situation reports, kept in step with the signed `sitrep` and `sitrep_schedule` versions, and
the escalations of missed reporting deadlines.

Nothing here is a source of truth for figures: every SitrepView row is derived from the current version of a
record (accord.response.sitrep_kinds), and every read joins back to `Record.objects.visible_to()`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accord.records.models import Record, Version


class SitrepView(models.Model):
    """The current version of one situation report: whose, for which incident and period, the headline figures."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="sitrep_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveIntegerField()  # of the current version: above 1, the report was corrected
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    member = models.CharField(max_length=8)  # the reporting member (body.member, the version's member)
    period_start = models.DateField()
    period_end = models.DateField()
    new_cases = models.BigIntegerField()
    new_deaths = models.BigIntegerField()
    cumulative_cases = models.BigIntegerField()
    cumulative_deaths = models.BigIntegerField()
    figures = models.JSONField()  # the body's figures as signed (by region, age and sex, hospitalised, tested)
    traffic = models.CharField(max_length=10)  # the envelope status: actual / exercise / test
    active = models.BooleanField(default=True)  # false once withdrawn
    first_reported_at = models.DateTimeField()  # the signed time of the first version seen here
    reported_at = models.DateTimeField()  # the signed time of the current version (of the correction, if any)

    class Meta:
        indexes = [
            # The consolidation: one incident's reports of one member, latest period first.
            models.Index("incident_record", "member", models.F("period_end").desc(), name="sitrepview_incident_member"),
            # Finding the record a correction revises.
            models.Index(fields=["incident_record", "member", "period_start"], name="sitrepview_period"),
        ]


class ScheduleView(models.Model):
    """The reporting schedule an incident's origin set (a `sitrep_schedule` record); none means the default."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="schedule_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField(db_index=True)
    frequency = models.CharField(max_length=10)  # by_level / daily / weekly
    deadline_hours = models.PositiveSmallIntegerField()
    set_at = models.DateTimeField()


class SitrepEscalation(models.Model):
    """A member's report for a period that was not here by its deadline, escalated once (per incident, member
    and period) through notify."""

    incident = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="sitrep_escalations")
    member = models.CharField(max_length=8)
    period_start = models.DateField()
    period_end = models.DateField()
    deadline = models.DateTimeField()
    escalated_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "member", "period_end"], name="one_sitrep_escalation")
        ]


class SitrepClock(models.Model):
    """When this node next checks an incident's reporting deadlines: one chain of deadline tasks per incident
    (a task whose `due` is no longer the clock's was superseded and does nothing)."""

    incident = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="sitrep_clock")
    due = models.DateTimeField()
