"""The read side of the alliances' joint work, always through the record core's audience filter.

* `activities_of(principal, slug, type=, start=, until=)`: the activities of an alliance the principal may see (a
  QuerySet of Record with `activity_view` joined), not withdrawn, earliest first; `start`/`until` keep those that
  overlap the window;
* `upcoming(principal, slug)`, `recent(principal, slug)`: for the alliance's page;
* `activity_out(record, language=None)`: a plain dict of an activity, the shape of the API (and of the pages).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accord.alliances.work_kinds import ACTIVITY_KIND, title_of
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import signed_time

SECTION_SIZE = 5


def activities_of(
    principal: Principal,
    slug: str,
    *,
    type: str | None = None,
    start: date | None = None,
    until: date | None = None,
) -> QuerySet[Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=ACTIVITY_KIND, activity_view__alliance=slug, activity_view__active=True)
        .select_related("current_version", "activity_view")
    )
    if type:
        rows = rows.filter(activity_view__type=type)
    if start is not None:
        rows = rows.filter(activity_view__ends__gte=start)
    if until is not None:
        rows = rows.filter(activity_view__starts__lte=until)
    return rows.order_by("activity_view__starts", "activity_view__ends", "uuid")


def upcoming(principal: Principal, slug: str, size: int = SECTION_SIZE) -> list[Record]:
    """What has not ended yet (ongoing and to come), soonest first."""
    today = timezone.localdate()
    return list(activities_of(principal, slug, start=today)[:size])


def recent(principal: Principal, slug: str, size: int = SECTION_SIZE) -> list[Record]:
    """What has ended, latest first."""
    today = timezone.localdate()
    rows = activities_of(principal, slug).filter(activity_view__ends__lt=today)
    return list(rows.order_by("-activity_view__ends", "-activity_view__starts", "uuid")[:size])


def _organisation(value: Any) -> dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {"slug": str(value.get("slug", "")), "member": str(value.get("member", ""))}


def activity_out(record: Record, language: str | None = None) -> dict[str, Any]:
    """An activity as the API shows it (`title_text`: its title in `language`, else another)."""
    version = record.current_version
    assert version is not None
    body = version.body
    participants = body.get("participants") or {}
    host = body.get("host") or {}
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "alliance": body.get("alliance", ""),
        "type": body.get("type", ""),
        "rd": bool(body.get("rd", False)),
        "fields": list(body.get("fields") or []),
        "title": dict(body.get("title") or {}),
        "title_text": title_of(body, language),
        "description": dict(body.get("description") or {}),
        "starts": body.get("starts", ""),
        "ends": body.get("ends", ""),
        "host": {**_organisation(host), "name": str(host.get("name", ""))},
        "place": body.get("place", ""),
        "participants": {
            "organisations": [_organisation(o) for o in participants.get("organisations") or []],
            "persons": [
                {"name": str(p.get("name", "")), "organisation": _organisation(p.get("organisation"))}
                for p in participants.get("persons") or []
                if isinstance(p, dict)
            ],
        },
        "outputs": [
            {"title": str(o.get("title", "")), "url": o.get("url"), "document": o.get("document")}
            for o in body.get("outputs") or []
            if isinstance(o, dict)
        ],
        "state": body.get("state", ""),
        "withdrawn": version.state != "active",
        "reason": (version.envelope().get("reason") or "") if version.state != "active" else "",
        "tlp": version.tlp,
        "record_status": version.status,
        "updated_at": signed_time(version),
    }
