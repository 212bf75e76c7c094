"""The record kind `meeting`: a meeting on an incident, with its time and time zone, the participating members,
the agenda and, once held, the minutes (a new version of the same record)."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import ActionError
from accord.records.models import Version
from accord.response.refs import RecordRef, check_texts, hang, pick
from accord.response.tasks_kind import format_time, parse_time

KIND = "meeting"
MEETING_ROLES = frozenset({"focal_point", "coordinator"})


def zone(name: str) -> zoneinfo.ZoneInfo:
    """An IANA time zone by name (`Asia/Almaty`); ValueError for any other text."""
    if not name or len(name) > 64 or name.startswith("/") or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Asia/Almaty") from None


class MeetingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    title: dict[str, str] = Field(min_length=1, max_length=3)
    starts_at: str = Field(max_length=40, description="RFC 3339, stored in UTC")
    time_zone: str = Field(max_length=64, description="the IANA time zone the meeting is held in")
    duration_minutes: int = Field(default=60, ge=5, le=1440)
    participants: list[str] = Field(min_length=1, max_length=300)
    agenda: dict[str, str] = Field(default_factory=dict, max_length=3)
    minutes: dict[str, str] = Field(default_factory=dict, max_length=3)
    location: str = Field(default="", max_length=500)

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 300, required=True)

    @field_validator("agenda", "minutes")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 50_000, required=False)

    @field_validator("starts_at")
    @classmethod
    def _starts(cls, value: str) -> str:
        try:
            return format_time(parse_time(value))
        except ValueError:
            raise ValueError("not an RFC 3339 time with an offset, such as 2026-05-01T10:00:00+05:00") from None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("participants")
    @classmethod
    def _participants(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a member twice")
        return value


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    participants = list(body["participants"])
    known = set(Member.objects.filter(code__in=participants).values_list("code", flat=True))
    unknown = [code for code in participants if code not in known]
    if unknown:
        raise ActionError(f"participants: not members: {', '.join(unknown)}", field="participants")


def _project(version: Version) -> None:
    hang(version, version.body.get("incident"))


MEETING = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Meeting"),
        body_model=MeetingBody,
        title=lambda body: pick(body.get("title")),
        search_text=lambda body: "\n".join([*(body.get("title") or {}).values(), *(body.get("agenda") or {}).values()]),
        publish_roles=MEETING_ROLES,
        project=_project,
        rules=_rules,
        endpoint="POST /api/v1/incidents/{id}/meetings",
    )
)
