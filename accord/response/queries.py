"""The read side of incidents, always through the record core's audience filter."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet

from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import hazards
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
