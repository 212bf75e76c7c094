"""The query table of the alliances' joint work: one row per activity, kept in step with the activity's current
version (`work_kinds.project_activity`, on every write path, versions received from peers included).

Nothing here is a source of truth: lists and the calendar read it joined back to `Record.objects.visible_to()`.
"""

from __future__ import annotations

from django.db import models

from accord.records.models import Record, Version

__all__ = ["ActivityView"]


class ActivityView(models.Model):
    """An activity as its current version states it: what lists filter and order on."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="activity_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()  # the activity's origin node: the one that issues its versions
    alliance = models.CharField(max_length=40)
    type = models.CharField(max_length=12)  # training / exchange / research / conference
    rd = models.BooleanField(default=False)  # vaccine and medicine R&D
    state = models.CharField(max_length=12)  # planned / ongoing / completed / cancelled
    starts = models.DateField()
    ends = models.DateField()
    host_slug = models.CharField(max_length=80)
    host_member = models.CharField(max_length=8)
    active = models.BooleanField(default=True)  # false once the record is withdrawn
    traffic = models.CharField(max_length=10)  # the envelope status: actual / exercise / test / draft
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["alliance", "starts"], name="activityview_alliance"),
            models.Index(fields=["alliance", "ends"], name="activityview_ends"),
        ]
