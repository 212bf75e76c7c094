"""The read side of incidents, always through the record core's audience filter."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import consents, hazards
from accord.response.kinds import KIND

NO_SUCH_INCIDENT = "no such incident"


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None  # open / closed
    level: int | None = None
    hazard: str | None = None  # an ICD-10 or ICD-11 code of the list, or a hazard type
    member: str | None = None  # an affected member
    traffic: str | None = None  # the envelope status: actual / exercise / test / draft


def incidents_for(principal: Principal, where: IncidentFilter | None = None) -> QuerySet[Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=KIND, incident_view__isnull=False)
        .select_related("current_version", "incident_view")
    )
    w = where or IncidentFilter()
    if w.status:
        rows = rows.filter(incident_view__status=w.status)
    if w.level is not None:
        rows = rows.filter(incident_view__level=w.level)
    if w.hazard:
        rows = rows.filter(incident_view__hazard=hazards.filter_key(w.hazard))
    if w.member:
        rows = rows.filter(incident_view__affected__contains=f",{w.member},")
    if w.traffic:
        rows = rows.filter(current_version__status=w.traffic)
    return rows.order_by("-incident_view__opened_at", "-incident_view__record")


def incident_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """One incident the principal may see; otherwise the same 404 as for none at all."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(NO_SUCH_INCIDENT) from None
    record = incidents_for(principal).filter(uuid=key).first()
    if record is None:
        raise NotFound(NO_SUCH_INCIDENT)
    return record


# ---- pages: keyset pagination over (opened, record), as alerts page -----------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Record]
    cursor: str | None


def encode_cursor(opened_at: datetime, pk: int) -> str:
    raw = f"{opened_at.astimezone(UTC).isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        when, pk = raw.split("|")
        opened_at = datetime.fromisoformat(when)
        if opened_at.tzinfo is None:
            raise ValueError(when)
        return opened_at, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ActionError(
            "cursor is not a cursor this list gave (use the `next` link as it is)", field="cursor"
        ) from None


def page(rows: QuerySet[Record], limit: int, cursor: str | None = None) -> Page:
    """One page of `rows` (newest first) after `cursor`: never an OFFSET."""
    if cursor:
        opened_at, pk = decode_cursor(cursor)
        rows = rows.filter(Q(incident_view__opened_at__lt=opened_at) | Q(incident_view__opened_at=opened_at, pk__lt=pk))
    found = list(rows[: limit + 1])
    shown = found[:limit]
    following = None
    if len(found) > limit and shown:
        last: Any = shown[-1]
        following = encode_cursor(last.incident_view.opened_at, last.pk)
    return Page(rows=shown, cursor=following)


# ---- what hangs from an incident ---------------------------------------------------------------------------


def links_for(principal: Principal, incident: Record) -> QuerySet[Record]:
    """The incident's active links that `principal` may see, and whose target it may see too: a reader who cannot
    see either end never sees the link. Oldest first."""
    visible = Record.objects.visible_to(principal)
    target_visible = visible.filter(
        origin_node=OuterRef("link_view__target_node"), uuid=OuterRef("link_view__target_record")
    )
    return (
        visible.filter(
            kind="incident_link",
            link_view__incident_node=incident.origin_node,
            link_view__incident_record=incident.uuid,
            link_view__active=True,
        )
        .filter(Exists(target_visible))
        .select_related("current_version", "link_view")
        .order_by("current_version_id")
    )


def link_for(principal: Principal, incident: Record, link_uuid: uuid.UUID | str) -> Record:
    try:
        key = uuid.UUID(str(link_uuid))
    except ValueError:
        raise NotFound("no such link") from None
    record = links_for(principal, incident).filter(uuid=key).first()
    if record is None:
        raise NotFound("no such link")
    return record


def incidents_of(principal: Principal, target: Record) -> QuerySet[Record]:
    """The incidents `target` (an alert, an assessment ...) is linked to, as `principal` may see them: the
    incident, the link and the target all visible."""
    visible = Record.objects.visible_to(principal)
    linked = visible.filter(
        kind="incident_link",
        link_view__target_node=target.origin_node,
        link_view__target_record=target.uuid,
        link_view__active=True,
        link_view__incident_node=OuterRef("origin_node"),
        link_view__incident_record=OuterRef("uuid"),
    )
    return incidents_for(principal).filter(Exists(linked))


def consent_board(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    """Each affected member's consent as the reader may see it: state, condition, when, and the record."""
    version = incident.current_version
    assert version is not None
    visible = set(
        Record.objects.visible_to(principal)
        .filter(kind=consents.KIND, consent_view__incident_record=incident.uuid)
        .values_list("pk", flat=True)
    )
    found = consents.states(incident, version.status)
    rows = []
    for member in version.body.get("affected_members", []):
        row = found.get(member)
        if row is not None and row.record_id not in visible:
            row = None
        rows.append(
            {
                "member": member,
                "consent": row.consent if row is not None else None,
                "condition": row.condition if row is not None else "",
                "at": row.at if row is not None else None,
                "record": row.record.uuid if row is not None else None,
            }
        )
    return rows
