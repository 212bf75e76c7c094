"""The incident timeline's sort keys (`accord.response.timeline` keeps them and reads them a page at a time).

Nothing here is a source of truth: a row says that a version may be an item of an incident's timeline and where it
sorts; whether a reader sees it is decided at read time, row by row, by the audience filter (`timeline.page`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accord.records.models import Record, Version


class TimelineEntry(models.Model):
    """A version that may show on an incident's timeline, with its sort key (signed time, record, seq, id).

    Three sources: the incident's own versions; every version of a record that hangs from it (its body names the
    incident); every version of a record linked to it, once per link (`via`: the link record), of which a reader
    sees the first version they may see."""

    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    at = models.DateTimeField()  # the version's signed time, as a time (the signed text may use any UTC offset)
    record_uuid = models.UUIDField()
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    via = models.ForeignKey(Record, on_delete=models.CASCADE, null=True, related_name="+")  # the link record

    class Meta:
        indexes = [
            # One index walk per page, in either direction: equality on the incident, then the sort key.
            models.Index(
                fields=["incident_record", "incident_node", "at", "record_uuid", "seq", "id"],
                name="timelineentry_order",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident_record", "incident_node", "version"],
                condition=Q(via__isnull=True),
                name="timelineentry_unique",
            ),
            models.UniqueConstraint(
                fields=["incident_record", "incident_node", "version", "via"],
                condition=Q(via__isnull=False),
                name="timelineentry_unique_via",
            ),
        ]
