"""/api/v1/incidents/{id}/decisions and /meetings, /api/v1/decisions and /api/v1/meetings (with the .ics)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.api import account_of, json_integer, links_to, principal_of, require_write
from accord.members.site import absolute_url
from accord.records.models import Record
from accord.response import decision_actions, meetings, work_queries
from accord.response.hanging import TimeText
from accord.response.meetings_kind import zone
from accord.response.refs import signed_time
from accord.response.tasks_kind import parse_time

incident_router: Router = Router(tags=["decisions"])
router: Router = Router(tags=["decisions"])
meetings_router: Router = Router(tags=["meetings"])


class DecisionIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": {"en": "Activate coordinated response (level 2)", "ru": "Перейти к уровню 2"},
                    "participants": ["KZ", "KG", "UZ"],
                    "sets_level": 2,
                }
            ]
        },
    )

    text: dict[str, str] = Field(description="in one or more of zh, ru, en")
    participants: list[str] = Field(max_length=300, description="the members whose positions decide")
    sets_level: Annotated[int, Field(ge=0, le=3), BeforeValidator(json_integer)] | None = Field(
        default=None, description="the level it sets once adopted"
    )
    tasks: list[UUID] = Field(default_factory=list, max_length=100, description="tasks of the incident it decides")


class PositionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    position: Literal["support", "abstain", "object"]
    comment: str = Field(default="", max_length=5000)


class PositionOut(Schema):
    member: str
    position: str
    node: UUID
    record: UUID
    seq: int
    counted: bool = Field(description="whether the decision's origin counted it in the current version")
    at: datetime | None = None


class DecisionOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    text: dict[str, str]
    participants: list[str]
    sets_level: int | None
    tasks: list[dict[str, str]]
    state: str = Field(description="open, adopted (every participant, none objecting) or rejected (one objected)")
    positions: list[PositionOut] = Field(description="the positions counted, and those seen here not yet counted")
    waiting_for: list[str] = Field(description="participants whose position is not counted yet")
    effect: dict[str, Any] | None = Field(description="an adopted level change: applied, or refused and why")
    origin_member: str
    record_status: str
    tlp: str
    updated_at: datetime


class PositionResult(Schema):
    position: UUID = Field(description="the position record")
    counted: bool = Field(description="counted here at once (the decision is this node's); else by its origin")
    decision: DecisionOut


def decision_out(record: Record, request: HttpRequest) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    counted = {p["record"]: p for p in body.get("positions", [])}
    positions: list[dict[str, Any]] = [{**p, "counted": True, "at": None} for p in body.get("positions", [])]
    for row in work_queries.positions_of(principal_of(request), record):
        current = row.current_version
        assert current is not None
        if str(row.uuid) in counted:
            for p in positions:
                if p["record"] == str(row.uuid):
                    p["at"] = signed_time(current)
            continue
        positions.append(
            {
                "member": row.origin_member,
                "position": current.body.get("position", ""),
                "node": row.origin_node,
                "record": row.uuid,
                "seq": current.seq,
                "counted": False,
                "at": signed_time(current),
            }
        )
    members = {p["member"] for p in body.get("positions", [])}
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "text": body.get("text", {}),
        "participants": body.get("participants", []),
        "sets_level": body.get("sets_level"),
        "tasks": body.get("tasks", []),
        "state": body.get("state", "open"),
        "positions": positions,
        "waiting_for": [m for m in body.get("participants", []) if m not in members],
        "effect": body.get("effect"),
        "origin_member": record.origin_member,
        "record_status": version.status,
        "tlp": version.tlp,
        "updated_at": signed_time(version),
    }


@incident_router.post(
    "/{uuid:record_uuid}/decisions",
    response={201: DecisionOut},
    summary="Propose a decision on an incident (taken by consensus of its participants)",
    openapi_extra=links_to(201, "record_uuid", "accord_response_decisions_api_get_decision", pointer="/id"),
)
def propose(request: HttpRequest, record_uuid: UUID, payload: DecisionIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = decision_actions.propose(
        incident=record_uuid,
        text=payload.text,
        participants=payload.participants,
        sets_level=payload.sets_level,
        tasks=payload.tasks,
        acting_user=account_of(request),
    )
    found = decision_actions.decision_for(principal_of(request), version.record_uuid)
    return Status(201, decision_out(found, request))


@router.get("/{uuid:record_uuid}", response=DecisionOut, summary="One decision: its state and the positions")
def get_decision(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return decision_out(decision_actions.decision_for(principal_of(request), record_uuid), request)


@router.post(
    "/{uuid:record_uuid}/positions",
    response={201: PositionResult},
    summary="State your member's position on a decision (participants only)",
)
def take_position(request: HttpRequest, record_uuid: UUID, payload: PositionIn) -> Status[dict[str, Any]]:
    require_write(request)
    version, counted = decision_actions.take_position(
        record_uuid, position=payload.position, comment=payload.comment, acting_user=account_of(request)
    )
    found = decision_actions.decision_for(principal_of(request), record_uuid)
    return Status(
        201, {"position": version.record_uuid, "counted": counted is not None, "decision": decision_out(found, request)}
    )


# ---- meetings ---------------------------------------------------------------------------------------------------


class MeetingIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": {"en": "Coordination call on measles", "ru": "Координационный звонок"},
                    "starts_at": "2026-05-04T10:00:00+05:00",
                    "time_zone": "Asia/Almaty",
                    "duration_minutes": 90,
                    "participants": ["KZ", "KG", "UZ", "SCO"],
                    "agenda": {"en": "1. Situation\n2. Vaccine stocks"},
                }
            ]
        },
    )

    title: dict[str, str] = Field(description="in one or more of zh, ru, en")
    starts_at: TimeText = Field(description="RFC 3339 with offset")
    time_zone: str = Field(max_length=64, description="the IANA time zone it is held in, e.g. Asia/Almaty")
    duration_minutes: Annotated[int, Field(ge=5, le=1440), BeforeValidator(json_integer)] = 60
    participants: list[str] = Field(max_length=300, description="participating members")
    agenda: dict[str, str] = Field(default_factory=dict)
    location: str = Field(default="", max_length=500, description="a place or a conference link")


class MinutesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    minutes: dict[str, str] = Field(description="in one or more of zh, ru, en")


class MeetingOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    title: dict[str, str]
    starts_at: datetime = Field(description="in UTC")
    local_start: datetime = Field(description="the same time in the meeting's time zone")
    time_zone: str
    duration_minutes: int
    participants: list[str]
    agenda: dict[str, str]
    minutes: dict[str, str]
    location: str
    ics: str = Field(description="the iCalendar invitation's URL")
    origin_member: str
    record_status: str
    state: str
    tlp: str


def meeting_out(record: Record, request: HttpRequest) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    start = parse_time(str(body["starts_at"]))
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "title": body.get("title", {}),
        "starts_at": start,
        "local_start": start.astimezone(zone(str(body["time_zone"]))),
        "time_zone": body["time_zone"],
        "duration_minutes": body.get("duration_minutes", 60),
        "participants": body.get("participants", []),
        "agenda": body.get("agenda", {}),
        "minutes": body.get("minutes", {}),
        "location": body.get("location", ""),
        "ics": absolute_url(reverse("api:response-meeting-ics", args=[record.uuid]), request),
        "origin_member": record.origin_member,
        "record_status": version.status,
        "state": version.state,
        "tlp": version.tlp,
    }


@incident_router.post(
    "/{uuid:record_uuid}/meetings",
    response={201: MeetingOut},
    summary="Schedule a meeting on an incident",
    openapi_extra=links_to(201, "record_uuid", "accord_response_decisions_api_get_meeting", pointer="/id"),
)
def schedule_meeting(request: HttpRequest, record_uuid: UUID, payload: MeetingIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = meetings.schedule(
        incident=record_uuid,
        title=payload.title,
        starts_at=payload.starts_at,
        time_zone=payload.time_zone,
        duration_minutes=payload.duration_minutes,
        participants=payload.participants,
        agenda=payload.agenda,
        location=payload.location,
        acting_user=account_of(request),
    )
    return Status(201, meeting_out(meetings.meeting_for(principal_of(request), version.record_uuid), request))


@meetings_router.get("/{uuid:record_uuid}", response=MeetingOut, summary="One meeting", url_name="response-meeting")
def get_meeting(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return meeting_out(meetings.meeting_for(principal_of(request), record_uuid), request)


@meetings_router.get(
    "/{uuid:record_uuid}.ics",
    response={200: None},
    summary="The meeting's iCalendar invitation (text/calendar)",
    url_name="response-meeting-ics",
    openapi_extra={"responses": {200: {"description": "RFC 5545", "content": {"text/calendar": {}}}}},
)
def meeting_ics(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    record = meetings.meeting_for(principal_of(request), record_uuid)
    url = absolute_url(reverse("api:response-meeting", args=[record.uuid]), request)
    response = HttpResponse(meetings.ics(record, url), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{record.uuid}.ics"'
    return response


@meetings_router.post("/{uuid:record_uuid}/minutes", response=MeetingOut, summary="Record a meeting's minutes")
def record_minutes(request: HttpRequest, record_uuid: UUID, payload: MinutesIn) -> dict[str, Any]:
    require_write(request)
    meetings.record_minutes(record_uuid, minutes=payload.minutes, acting_user=account_of(request))
    return meeting_out(meetings.meeting_for(principal_of(request), record_uuid), request)
