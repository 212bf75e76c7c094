"""The query tables of mobilisation, kept in step with the signed versions of roster calls, replies and selections
by their kinds' `project` (on every write path: versions issued here and versions received from peers).

Nothing here is a source of truth, and nothing here is read without the audience filter: every read joins back to
`Record.objects.visible_to()` (`mobilise_queries`). The experts a call names are rows of `RosterCalled` (profile,
member, the person's account): what tells a node who may answer a call, and lists an expert's calls.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from django.db import models

from accord.records.models import Record, Version

__all__ = ["RosterCallView", "RosterCalled", "RosterReplyView", "RosterSelectionView"]

logger = logging.getLogger("accord.alliances")


class RosterCallView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="roster_call")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()  # the call's origin node
    incident_record = models.UUIDField(db_index=True)
    request_record = models.UUIDField(null=True, db_index=True)
    member = models.CharField(max_length=8)  # the calling member
    requester = models.CharField(max_length=8)  # the member that selects
    field = models.CharField(max_length=40)
    language = models.CharField(max_length=3, blank=True)
    start = models.DateField()
    until = models.DateField()
    called = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)


class RosterCalled(models.Model):
    call = models.ForeignKey(RosterCallView, on_delete=models.CASCADE, related_name="called_rows")
    profile_node = models.UUIDField()
    profile_record = models.UUIDField(db_index=True)
    member = models.CharField(max_length=8)
    account = models.UUIDField(null=True, db_index=True)  # the person's own account; none for a managed profile
    organisation = models.UUIDField(null=True)  # the organisation that issued the profile


class RosterReplyView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="roster_reply")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()
    call_record = models.UUIDField(db_index=True)
    profile_record = models.UUIDField()
    member = models.CharField(max_length=8)
    available = models.BooleanField()
    start = models.DateField(null=True)
    until = models.DateField(null=True)
    active = models.BooleanField(default=True)
    at = models.CharField(max_length=40)  # the version's signed created_at

    class Meta:
        indexes = [models.Index(fields=["call_record", "profile_record"], name="rosterreply_call")]


class RosterSelectionView(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="roster_selection")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()
    call_record = models.UUIDField(db_index=True)
    profile_record = models.UUIDField()
    reply_record = models.UUIDField()
    reply_seq = models.PositiveIntegerField()
    request_record = models.UUIDField()
    offer_record = models.UUIDField()
    deployment_record = models.UUIDField()
    active = models.BooleanField(default=True)


def _ref(value: Any) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(str(value["node"])), uuid.UUID(str(value["record"]))


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def project_call(version: Version) -> None:
    body = version.body
    try:
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "incident_record": _ref(body["incident"])[1],
            "request_record": _ref(body["request"])[1] if body.get("request") else None,
            "member": str(body["member"])[:8],
            "requester": str(body["requester"])[:8],
            "field": str(body["field"])[:40],
            "language": str(body.get("language") or "")[:3],
            "start": date.fromisoformat(str(body["from"])),
            "until": date.fromisoformat(str(body["until"])),
            "called": len(body["called"]),
            "active": version.state == "active",
        }
        called = [
            (*_ref(c["profile"]), str(c["member"])[:8], _uuid(c.get("account")), _uuid(c.get("organisation")))
            for c in body["called"]
        ]
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("roster call %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        RosterCallView.objects.filter(record_id=version.record_id).delete()
        return
    row, _ = RosterCallView.objects.update_or_create(record_id=version.record_id, defaults=values)
    RosterCalled.objects.filter(call=row).delete()
    RosterCalled.objects.bulk_create(
        [
            RosterCalled(call=row, profile_node=n, profile_record=r, member=m, account=a, organisation=o)
            for n, r, m, a, o in called
        ]
    )


def project_reply(version: Version) -> None:
    body = version.body
    try:
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "call_record": _ref(body["call"])[1],
            "profile_record": _ref(body["expert"])[1],
            "member": str(body["member"])[:8],
            "available": bool(body["available"]),
            "start": _day(body.get("from")),
            "until": _day(body.get("until")),
            "active": version.state == "active",
            "at": version.created_at[:40],
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("roster reply %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        RosterReplyView.objects.filter(record_id=version.record_id).delete()
        return
    RosterReplyView.objects.update_or_create(record_id=version.record_id, defaults=values)


def project_selection(version: Version) -> None:
    body = version.body
    try:
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "call_record": _ref(body["call"])[1],
            "profile_record": _ref(body["expert"])[1],
            "reply_record": _ref(body["reply"])[1],
            "reply_seq": int(body["reply"]["seq"]),
            "request_record": _ref(body["request"])[1],
            "offer_record": _ref(body["offer"])[1],
            "deployment_record": _ref(body["deployment"])[1],
            "active": version.state == "active",
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("roster selection %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        RosterSelectionView.objects.filter(record_id=version.record_id).delete()
        return
    RosterSelectionView.objects.update_or_create(record_id=version.record_id, defaults=values)
