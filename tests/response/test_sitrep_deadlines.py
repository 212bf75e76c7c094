"""Reporting schedules and deadlines: the overdue flag on the incident and its escalation through notify."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from accord.notify import messages
from accord.notify.models import Delivery
from accord.records.models import AuditEntry, Record
from accord.records.principal import Principal
from accord.response import sitrep_deadlines
from accord.response.models import IncidentView
from accord.response.sitrep_models import SitrepClock, SitrepEscalation
from accord.response.sitrep_tasks import check_sitrep_deadlines
from tests.response.conftest import Api, People
from tests.response.sitrep_support import file, open_incident, report

pytestmark = pytest.mark.django_db


def _opened(incident: str) -> date:
    return IncidentView.objects.get(record__uuid=incident).opened_at.astimezone(UTC).date()


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _first_after(now: datetime, *, monday_only: bool) -> datetime:
    """The first 12:00 UTC after `now` (of a Monday, if `monday_only`): counted here, day by day."""
    moment = _at(now.date(), 12)
    while moment <= now or (monday_only and moment.weekday() != 0):
        moment += timedelta(days=1)
    return moment


def test_schedule_default_by_level_and_set_by_the_opener(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    incident = open_incident(carol)
    default = carol.get(f"/api/v1/incidents/{incident}/sitreps/schedule").json()
    assert default["frequency"] == "by_level" and default["period"] == "weekly" and default["record"] is None
    assert default["deadline_hours"] == 12
    refused = kira.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily"})
    assert refused.status_code == 403, refused.content
    bad = carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily", "deadline_hours": 500})
    assert bad.status_code == 422 and bad.json()["field"] == "deadline_hours"
    daily = carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily", "deadline_hours": 6})
    assert daily.status_code == 200, daily.content
    assert daily.json()["period"] == "daily" and daily.json()["deadline_hours"] == 6
    again = carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "weekly"}).json()
    assert again["period"] == "weekly" and again["record"] == daily.json()["record"]  # the same record, revised
    assert Record.objects.filter(kind="sitrep_schedule").count() == 1
    # Kira sees the schedule the opener set.
    assert kira.get(f"/api/v1/incidents/{incident}/sitreps/schedule").json()["record"] == again["record"]


def test_overdue_reports_are_flagged_and_escalated_once(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily", "deadline_hours": 12})
    opened = _opened(incident)
    file(carol, incident, report(opened.isoformat()))  # KZ reports the first day; KG nothing
    record = Record.objects.get(uuid=incident)
    now = _at(opened + timedelta(days=3), 13)  # the report of opened+2 was due at 12:00
    flag = sitrep_deadlines.status_json(Principal.of(people.world.carol), record, now)
    late = {m["member"]: [p["period_end"] for p in m["overdue"]] for m in flag["members"]}
    days = [(opened + timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert late == {"KZ": days[:2], "KG": days}
    assert flag["overdue_members"] == ["KZ", "KG"]
    assert flag["next_deadline"] == _at(opened + timedelta(days=4), 12)
    made = sitrep_deadlines.escalate(record, now)
    told = sorted((d.address, d.data["members"][0]) for d in made)
    # The late members' focal points and the Secretariat's coordinators (once per member); not KZ's viewer.
    assert told == [
        ("carol@example.org", "KZ"),
        ("kira@example.org", "KG"),
        ("sam@example.org", "KG"),
        ("sam@example.org", "KZ"),
    ]
    assert SitrepEscalation.objects.count() == 2
    assert AuditEntry.objects.filter(action="sitrep.overdue.escalate").count() == 2
    assert sitrep_deadlines.escalate(record, now) == []  # once per member and period
    flagged = sitrep_deadlines.status_json(Principal.of(people.world.carol), record, now)
    assert flagged["members"][0]["overdue"][0]["escalated"] is True
    # Each in the recipient's language: Russian for Kyrgyzstan, English for the Secretariat.
    russian = messages.render(Delivery.objects.get(address="kira@example.org"))
    assert "Ситуационный отчёт просрочен (KG)" in russian.subject and days[0] in russian.text
    assert russian.payload["type"] == "sitrep.overdue" and russian.payload["data"]["period_end"] == days[0]
    english = messages.render(next(d for d in made if d.address == "sam@example.org" and d.data["members"] == ["KZ"]))
    assert "Situation report overdue (KZ)" in english.subject
    # The link leads to the incident's own page, absolute.
    link = english.payload["data"]["links"]["record"]
    assert link.startswith("http") and link.endswith(f"/incidents/{incident}/") and link in english.text
    # Once KG files its first day, that day is no longer overdue.
    file(Api(people.kira), incident, report(days[2]))
    after = sitrep_deadlines.overdue(record, None, now)
    assert [p.end.isoformat() for p in after["KG"]] == days[:2]


def test_the_clock_is_armed_once_and_a_superseded_check_does_nothing(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    record = Record.objects.get(uuid=incident)
    now = datetime.now(UTC)
    due = sitrep_deadlines.arm(record.pk, now)
    assert due is not None and SitrepClock.objects.get(incident=record).due == due
    assert due == _first_after(now, monday_only=True)  # level 0: weekly, due on a Monday at 12:00 UTC
    assert sitrep_deadlines.arm(record.pk) == due
    assert check_sitrep_deadlines.call(record.pk, (due - timedelta(days=7)).isoformat()) == 0  # superseded
    assert check_sitrep_deadlines.call(record.pk, due.isoformat()) == 0  # nothing due yet
    carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily"})
    from accord.response.sitrep_tasks import incident_changed

    schedule = Record.objects.get(kind="sitrep_schedule")
    assert schedule.current_version is not None
    incident_changed(schedule.current_version.pk)
    rearmed = SitrepClock.objects.get(incident=record).due
    assert rearmed == _first_after(datetime.now(UTC), monday_only=False)  # daily now: due each day at 12:00 UTC
    assert rearmed <= due


def test_the_incident_says_whose_report_is_overdue(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    carol.post(f"/api/v1/incidents/{incident}/sitreps/schedule", {"frequency": "daily", "deadline_hours": 12})
    assert carol.get(f"/api/v1/incidents/{incident}").json()["sitreps_overdue"] == []
    # The same incident, as if opened three days ago: the reports of the first two days are late.
    IncidentView.objects.filter(record__uuid=incident).update(
        opened_at=IncidentView.objects.get(record__uuid=incident).opened_at - timedelta(days=3)
    )
    opened = _opened(incident)
    for day in range(3):  # KZ has filed every day that can be due
        file(carol, incident, report((opened + timedelta(days=day)).isoformat(), cumulative=5 * (day + 1)))
    shown = carol.get(f"/api/v1/incidents/{incident}").json()
    assert shown["sitreps_overdue"] == ["KG"]
    listed = carol.get("/api/v1/incidents").json()["items"]
    assert [i["sitreps_overdue"] for i in listed if i["id"] == incident] == [None]
