"""/api/v1/incidents: open incidents, read them, and (in the modules below) consent, level, links, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from accord.api import AudienceIn, Tlp, account_of, principal_of, require_write
from accord.members.site import absolute_url
from accord.records.envelope import parse_audience
from accord.records.models import Record
from accord.response import actions, hazards, queries, sitrep_deadlines
from accord.response.refs import signed_time

router: Router = Router(tags=["incidents"])


class IncidentIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": {"en": "Measles across the Fergana valley", "ru": "Корь в Ферганской долине"},
                    "hazard": "1F03",
                    "affected_members": ["KZ", "KG", "UZ"],
                    "regions": ["KZ-61", "KG-O", "UZ-FA"],
                    "audience": {"members": ["KZ", "KG", "UZ", "SCO"]},
                    "tlp": "AMBER",
                }
            ]
        },
    )

    title: dict[str, str] = Field(description="the title in one or more of zh, ru, en")
    summary: dict[str, str] = Field(default_factory=dict, description="a summary in any of zh, ru, en")
    hazard: str = Field(
        max_length=40,
        description="a disease of the surveillance reference list by ICD-11 or ICD-10 code, or a hazard type: "
        + ", ".join(hazards.HAZARD_TYPES),
    )
    domains: list[Literal["human", "animal", "plant", "environment"]] | None = Field(
        default=None, description="One Health domains (default: human)"
    )
    affected_members: list[str] = Field(max_length=300)
    regions: list[str] = Field(default_factory=list, max_length=1000, description="first-level regions (ISO 3166-2)")
    lead_member: str | None = Field(default=None, description="default: your member if affected (or the Secretariat)")
    audience: AudienceIn
    tlp: Tlp
    status: Literal["actual", "exercise", "test"] = "actual"


class HazardOut(Schema):
    type: str
    icd10: str | None = None
    icd11: str | None = None
    name: str


class IncidentOut(Schema):
    id: UUID
    node: UUID
    seq: int
    title: dict[str, str]
    summary: dict[str, str]
    hazard: HazardOut
    domains: list[str]
    affected_members: list[str]
    regions: list[str]
    lead_member: str
    level: int
    status: str = Field(description="open or closed")
    change: dict[str, Any] = Field(description="what the current version changed, and why")
    consents: list[dict[str, Any]] = Field(description="the consents a level of 2 or 3 rests on")
    origin_member: str
    record_status: str = Field(description="the record's traffic: actual, exercise, test (or draft)")
    state: str = Field(description="active, or withdrawn (opened in error)")
    tlp: str
    audience: dict[str, Any]
    opened_at: datetime
    updated_at: datetime
    sitreps_overdue: list[str] | None = Field(
        default=None,
        description="the affected members whose situation report is overdue (one incident only; null in lists: "
        "see GET /api/v1/incidents/{id}/sitreps/schedule for the periods)",
    )


class IncidentPage(Schema):
    items: list[IncidentOut]
    next: str | None = Field(description="the next page's URL (also in the Link header); null on the last page")
    cursor: str | None = Field(description="the next page's cursor (the `cursor` parameter of `next`)")


class IncidentFilters(Schema):
    status: Literal["open", "closed"] | None = None
    level: int | None = Field(default=None, ge=0, le=3)
    hazard: str | None = Field(default=None, max_length=40, description="ICD-11 or ICD-10 code, or hazard type")
    member: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2,8}$", description="an affected member")
    record_status: Literal["actual", "exercise", "test", "draft"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


def incident_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    envelope = version.envelope()
    body = envelope["body"]
    view = getattr(record, "incident_view", None)
    hazard = dict(body.get("hazard") or {})
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "title": body.get("title", {}),
        "summary": body.get("summary", {}),
        "hazard": {**hazard, "name": hazards.label(hazard)},
        "domains": body.get("domains", []),
        "affected_members": body.get("affected_members", []),
        "regions": body.get("regions", []),
        "lead_member": body.get("lead_member", ""),
        "level": body.get("level", 0),
        "status": body.get("status", ""),
        "change": body.get("change", {}),
        "consents": body.get("consents", []),
        "origin_member": record.origin_member,
        "record_status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "audience": envelope["audience"],
        "opened_at": view.opened_at if view is not None else signed_time(version),
        "updated_at": signed_time(version),
    }


@router.post("", response={201: IncidentOut}, summary="Open an incident (level 0, open)")
def open_incident(request: HttpRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = actions.open_incident(
        title=payload.title,
        summary=payload.summary,
        hazard=payload.hazard,
        domains=list(payload.domains) if payload.domains is not None else None,
        affected_members=payload.affected_members,
        regions=payload.regions,
        lead_member=payload.lead_member,
        audience=parse_audience(payload.audience.plain()),
        tlp=payload.tlp,
        status=payload.status,
        acting_user=account_of(request),
    )
    return Status(201, incident_out(queries.incident_for(principal_of(request), version.record_uuid)))


@router.get(
    "",
    response=IncidentPage,
    summary="Incidents you may see, newest first",
)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]) -> HttpResponse | dict[str, Any]:
    rows = queries.incidents_for(
        principal_of(request),
        queries.IncidentFilter(
            status=filters.status,
            level=filters.level,
            hazard=filters.hazard,
            member=filters.member,
            traffic=filters.record_status,
        ),
    )
    found = queries.page(rows, filters.limit, filters.cursor)
    following = None
    if found.cursor is not None:
        params = request.GET.copy()
        params["cursor"] = found.cursor
        following = absolute_url(f"{request.path}?{params.urlencode()}", request)
    return {"items": [incident_out(r) for r in found.rows], "next": following, "cursor": found.cursor}


@router.get("/{uuid:record_uuid}", response=IncidentOut, summary="One incident")
def get_incident(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    late = sitrep_deadlines.overdue(incident, principal)  # the members with overdue periods, in affected order
    return {**incident_out(incident), "sitreps_overdue": list(late)}


# Consents, the level, links and the timeline register their routes on this router.
from accord.response import room_api  # noqa: E402, F401
