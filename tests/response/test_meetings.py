"""Meetings: scheduled on an incident, read back, minutes as a new version, the iCalendar invitation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from accord.records.models import Version
from accord.response.models import IncidentItem
from tests.response.conftest import Api, People, incident

pytestmark = pytest.mark.django_db


def _meeting(api: Api, incident_id: str, **changes: Any) -> Any:
    payload: dict[str, Any] = {
        "title": {"en": "Coordination call on measles", "ru": "Координационный звонок по кори"},
        "starts_at": "2031-05-04T10:00:00+05:00",
        "time_zone": "Asia/Almaty",
        "duration_minutes": 90,
        "participants": ["KZ", "KG", "SCO"],
        "agenda": {"en": "1. Situation\n2. Vaccine stocks"},
        "location": "https://meet.example.org/measles",
    }
    payload.update(changes)
    return api.post(f"/api/v1/incidents/{incident_id}/meetings", payload)


def _incident(api: Api) -> dict[str, Any]:
    created = api.post("/api/v1/incidents", incident())
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def test_schedule_read_minutes_and_the_invitation_parses_back(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    created = _meeting(carol, opened["id"])
    assert created.status_code == 201, created.content
    meeting = created.json()
    assert meeting["starts_at"] == "2031-05-04T05:00:00Z"
    assert meeting["local_start"] == "2031-05-04T10:00:00+05:00" and meeting["time_zone"] == "Asia/Almaty"
    assert Version.objects.get(record_uuid=meeting["id"]).body["starts_at"] == "2031-05-04T05:00:00Z"
    assert IncidentItem.objects.get(record__uuid=meeting["id"]).kind == "meeting"
    invitation = kira.get(f"/api/v1/meetings/{meeting['id']}.ics")
    assert invitation.status_code == 200 and invitation["Content-Type"].startswith("text/calendar")
    assert meeting["ics"].endswith(f"/api/v1/meetings/{meeting['id']}.ics")
    calendar = Calendar.from_ical(invitation.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    start = event.decoded("dtstart")
    assert start == datetime(2031, 5, 4, 5, 0, tzinfo=UTC)
    assert start.tzinfo is not None and str(event["dtstart"].params["TZID"]) == "Asia/Almaty"
    assert event.decoded("dtend") - start == (datetime(2031, 5, 4, 6, 30) - datetime(2031, 5, 4, 5, 0))
    assert str(event["summary"]) == "Coordination call on measles"
    assert str(event["uid"]) == f"{meeting['id']}@{meeting['node']}"
    assert "Vaccine stocks" in str(event["description"]) and "KZ, KG, SCO" in str(event["description"])
    assert str(event["location"]) == "https://meet.example.org/measles" and event.decoded("sequence") == 0
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Almaty"]
    assert start.astimezone(ZoneInfo("Asia/Almaty")).hour == 10
    minutes = carol.post(f"/api/v1/meetings/{meeting['id']}/minutes", {"minutes": {"en": "Agreed to share stocks"}})
    assert minutes.status_code == 200 and minutes.json()["minutes"] == {"en": "Agreed to share stocks"}
    again = Calendar.from_ical(kira.get(f"/api/v1/meetings/{meeting['id']}.ics").content)
    assert again.walk("VEVENT")[0].decoded("sequence") == 1
    assert kira.post(f"/api/v1/meetings/{meeting['id']}/minutes", {"minutes": {"en": "x"}}).status_code == 403
    assert Api(people.ivan).get(f"/api/v1/meetings/{meeting['id']}.ics").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", 400),
        ({"time_zone": "../../etc/passwd"}, "time_zone", 400),
        ({"starts_at": "2031-05-04T10:00:00"}, "starts_at", 422),
        ({"participants": ["KZ", "QQ"]}, "participants", 400),
        ({"participants": ["KZ", "IN"]}, "participants", 400),
        ({"duration_minutes": 0}, "duration_minutes", 422),
        ({"title": {"en": ""}}, "title", 400),
    ],
)
def test_bad_meetings_are_refused_naming_the_field(
    people: People, changes: dict[str, Any], field: str, status: int
) -> None:
    carol = Api(people.world.carol)
    opened = _incident(carol)
    versions = Version.objects.count()
    refused = _meeting(carol, opened["id"], **changes)
    assert refused.status_code == status, refused.content
    assert refused.json()["field"] == field
    assert Version.objects.count() == versions
