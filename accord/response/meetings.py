"""Meetings on an incident: schedule one, record its minutes (a new version), and its iCalendar invitation."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from accord.records import actions as record_actions
from accord.records.errors import ActionError, Forbidden
from accord.records.kinds import Author
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import hanging
from accord.response.meetings_kind import KIND, MEETING, zone
from accord.response.refs import pick
from accord.response.tasks_kind import format_time, parse_time

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_MEETING = "no such meeting"
_FIELDS = ("title", "starts_at", "time_zone", "duration_minutes", "participants", "agenda", "minutes", "location")


def meeting_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    return hanging.visible(principal, KIND, record_uuid, NO_SUCH_MEETING)


def _checked(body: dict[str, Any], acting_user: Account, status: str) -> dict[str, Any]:
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot schedule meetings")
    try:
        return MEETING.check(body, Author(member=organisation.member.code, status=status))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in _FIELDS:
                error.field = head
        raise


def schedule(
    *,
    incident: uuid.UUID | str,
    title: dict[str, str],
    starts_at: datetime,
    time_zone: str,
    participants: list[str],
    acting_user: Account,
    duration_minutes: int = 60,
    agenda: dict[str, str] | None = None,
    location: str = "",
) -> Version:
    """Schedule a meeting on an incident the caller may see."""
    context = hanging.incident(Principal.of(acting_user), incident)
    if starts_at.tzinfo is None:
        raise ActionError("starts_at: give the time with its offset or Z", field="starts_at")
    try:
        zone(time_zone)
    except ValueError as error:
        raise ActionError(f"time_zone: {error}", field="time_zone") from None
    body = {
        "incident": context.ref,
        "title": title,
        "starts_at": format_time(starts_at),
        "time_zone": time_zone,
        "duration_minutes": duration_minutes,
        "participants": participants,
        "agenda": agenda or {},
        "minutes": {},
        "location": location,
    }
    body = _checked(body, acting_user, context.status)
    hanging.reaching(context.audience, participants, "participants")
    return record_actions.publish(
        KIND, body, audience=context.audience, tlp=context.tlp, status=context.status, acting_user=acting_user
    )


def record_minutes(meeting_uuid: uuid.UUID | str, *, minutes: dict[str, str], acting_user: Account) -> Version:
    """The minutes of a meeting: its next version (issued by the organisation that scheduled it, on its node)."""
    record = meeting_for(Principal.of(acting_user), meeting_uuid)
    current = record.current_version
    assert current is not None
    body = dict(current.body)
    body["minutes"] = minutes
    body = _checked(body, acting_user, current.status)
    return record_actions.revise(record, acting_user=acting_user, body=body)


def ics(record: Record, url: str) -> bytes:
    """The meeting's iCalendar invitation (RFC 5545): one VEVENT in the meeting's time zone, with its VTIMEZONE;
    `SEQUENCE` follows the record's versions, so a calendar updates the event it already holds."""
    from icalendar import Calendar, Event

    version = record.current_version
    assert version is not None
    body = version.body
    tz = zone(str(body["time_zone"]))
    start = parse_time(str(body["starts_at"])).astimezone(tz)
    calendar = Calendar()
    calendar.add("prodid", "-//Accord//Joint response//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{record.uuid}@{record.origin_node}")
    event.add("sequence", version.seq - 1)
    event.add("dtstamp", parse_time(version.created_at))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=int(body.get("duration_minutes", 60))))
    event.add("summary", pick(body.get("title")))
    parts = [*(body.get("agenda") or {}).values()]
    parts.append("Participants: " + ", ".join(body.get("participants", [])))
    event.add("description", "\n\n".join(parts))
    if body.get("location"):
        event.add("location", body["location"])
    event.add("categories", list(body.get("participants", [])))
    event.add("url", url)
    event.add("status", "CANCELLED" if version.state != "active" else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data
