"""POST/GET /api/v1/incidents/{id}/sitreps: filing, correcting, who may file, bad input, the kind's rules."""

from __future__ import annotations

from typing import Any

import pytest

from accord.members import actions as member_actions
from accord.records.errors import ActionError
from accord.records.kinds import Author
from accord.records.models import AuditEntry, Version
from accord.response.models import IncidentItem
from accord.response.sitrep_kinds import SITREP
from accord.response.sitrep_models import SitrepView
from accord.response.sitrep_periods import today_anywhere
from tests.conftest import PASSWORD
from tests.response.conftest import Api, People
from tests.response.sitrep_support import MONDAY, day, file, open_incident, report

pytestmark = pytest.mark.django_db


def test_file_then_correct_is_one_record_with_two_versions(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    payload = report(
        day(0),
        day(6),
        new=42,
        deaths=1,
        cumulative=180,
        cumulative_deaths=3,
        figures={"by_region": [{"region": "KZ-61", "new_cases": 30, "new_deaths": 1}], "new_tested": 400},
        measures=["isolation", {"type": "vaccination_campaign", "regions": ["KZ-61"]}],
        narrative={"en": "Cases in Turkistan region.", "ru": "Случаи в Туркестанской области."},
        needs={"en": "Vaccine"},
    )
    first = file(carol, incident, payload)
    assert first["seq"] == 1 and not first["corrected"] and first["member"] == "KZ"
    assert first["figures"]["by_region"] == [{"region": "KZ-61", "new_cases": 30, "new_deaths": 1}]
    assert [(m["type"], m["regions"]) for m in first["measures"]] == [
        ("isolation", []),
        ("vaccination_campaign", ["KZ-61"]),
    ]
    assert first["record_status"] == "actual" and first["tlp"] == "GREEN"
    payload["figures"]["new_cases"] = 44
    payload["figures"]["cumulative_cases"] = 182
    second = file(carol, incident, payload, status=200)
    assert second["id"] == first["id"] and second["seq"] == 2 and second["corrected"]
    assert second["figures"]["new_cases"] == 44
    listed = carol.get(f"/api/v1/incidents/{incident}/sitreps").json()
    assert listed["count"] == 1 and listed["items"][0]["seq"] == 2
    assert Version.objects.filter(record_uuid=first["id"]).count() == 2
    assert AuditEntry.objects.filter(object_type="sitrep", action="record.revise").count() == 1
    # The report hangs from the incident: the timeline reads it there.
    item = IncidentItem.objects.get(record__uuid=first["id"])
    assert str(item.incident_record) == incident and item.kind == "sitrep"
    # Another member sees it (same audience as the incident); the report carries the incident's audience.
    assert Api(people.kira).get(f"/api/v1/incidents/{incident}/sitreps").json()["count"] == 1


def test_who_may_file(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    refused = {
        "dave": (people.world.dave, 403),  # KZ viewer
        "alice": (people.world.alice, 403),  # CN: sees the incident, not affected
        "sam": (people.world.sam, 403),  # the Secretariat reports no figures
        "ivan": (people.ivan, 404),  # IN: outside the incident's audience, it does not exist for him
    }
    for name, (account, status) in refused.items():
        response = Api(account).post(f"/api/v1/incidents/{incident}/sitreps", report(day(0)))
        assert response.status_code == status, (name, response.content)
    assert Api(people.world.alice).post(f"/api/v1/incidents/{incident}/sitreps", report(day(0))).json()["field"] == (
        "member"
    )
    assert SitrepView.objects.count() == 0
    analyst = member_actions.create_account(
        username="asel",
        organisation=people.world.kz_health,
        roles=["analyst"],
        email="asel@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    assert file(Api(analyst), incident, report(day(0)))["member"] == "KZ"
    assert file(Api(people.kira), incident, report(day(0)))["member"] == "KG"
    assert SitrepView.objects.count() == 2


def _bad(people: People, incident: str) -> list[tuple[str, dict[str, Any], int, str]]:
    future = today_anywhere().toordinal() + 2
    from datetime import date

    tomorrow = date.fromordinal(future).isoformat()
    return [
        ("negative", report(day(0), new=-1), 422, "figures.new_cases"),
        (
            "negative region",
            report(day(0), figures={"by_region": [{"region": "KZ-61", "new_deaths": -2}]}),
            422,
            "figures.by_region.0.new_deaths",
        ),
        ("fraction", report(day(0), new=2.5), 422, "figures.new_cases"),  # type: ignore[arg-type]
        ("text", report(day(0), cumulative="7"), 422, "figures.cumulative_cases"),  # type: ignore[arg-type]
        ("boolean", report(day(0), deaths=True), 422, "figures.new_deaths"),
        ("ends before it starts", report(day(3), day(1)), 400, "period_end"),
        ("future", report(tomorrow), 400, "period_end"),
        ("not a date", report("2026-02-30"), 422, "period_start"),
        ("a date-time", report("2026-03-02T00:00:00Z"), 422, "period_start"),
        (
            "unknown region",
            report(day(0), figures={"by_region": [{"region": "KZ-99", "new_cases": 1}]}),
            400,
            "figures.by_region.0.region",
        ),
        (
            "region of another member",
            report(day(0), figures={"by_region": [{"region": "KG-O", "new_cases": 1}]}),
            400,
            "figures.by_region.0.region",
        ),
        (
            "whole member as region",
            report(day(0), figures={"by_region": [{"region": "KZ", "new_cases": 1}]}),
            400,
            "figures.by_region.0.region",
        ),
        (
            "measure in another member",
            report(day(0), measures=[{"type": "quarantine", "regions": ["UZ-FA"]}]),
            400,
            "measures.0.regions",
        ),
        ("unknown measure", report(day(0), measures=["curfew"]), 422, "measures.0"),
        ("cumulative below new", report(day(0), new=9, cumulative=5), 400, "figures"),
        (
            "regions above total",
            report(day(0), new=1, figures={"by_region": [{"region": "KZ-61", "new_cases": 3}]}),
            400,
            "figures",
        ),
        ("too long", report(day(0), "2026-04-30"), 400, "period_end"),
        ("language", report(day(0), narrative={"fr": "non"}), 400, "narrative"),
        ("extra field", {**report(day(0)), "colour": "red"}, 422, "colour"),
    ]


def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    versions = Version.objects.count()
    for name, payload, status, field in _bad(people, incident):
        response = carol.post(f"/api/v1/incidents/{incident}/sitreps", payload)
        assert response.status_code == status, (name, response.content)
        assert response.json().get("field", "").startswith(field), (name, response.json())
    assert Version.objects.count() == versions and SitrepView.objects.count() == 0


def test_cumulative_never_goes_down_and_periods_do_not_overlap(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    file(carol, incident, report(day(0), cumulative=10, new=10, cumulative_deaths=2))
    file(carol, incident, report(day(2), cumulative=20, new=4, cumulative_deaths=2))
    cases = [
        (report(day(1), new=0, cumulative=9, cumulative_deaths=2), "figures.cumulative_cases"),  # below day 0
        (report(day(1), new=0, cumulative=10, cumulative_deaths=1), "figures.cumulative_deaths"),
        (report(day(1), new=0, cumulative=21, cumulative_deaths=2), "figures.cumulative_cases"),  # above day 2
        (report(day(3), new=0, cumulative=19, cumulative_deaths=2), "figures.cumulative_cases"),
        (report(day(1), day(2), new=0, cumulative=20, cumulative_deaths=2), "period_start"),  # overlaps day 2
    ]
    for payload, field in cases:
        response = carol.post(f"/api/v1/incidents/{incident}/sitreps", payload)
        assert response.status_code == 400 and response.json()["field"] == field, response.content
    # A correction of day 2 may not drop below day 0 either, and may move within its neighbours.
    refused = carol.post(f"/api/v1/incidents/{incident}/sitreps", report(day(2), new=0, cumulative=9))
    assert refused.status_code == 400 and refused.json()["field"] == "figures.cumulative_cases"
    file(carol, incident, report(day(2), new=3, cumulative=13, cumulative_deaths=2), status=200)
    file(carol, incident, report(day(1), new=0, cumulative=12, cumulative_deaths=2))
    assert SitrepView.objects.count() == 3


def test_a_closed_incident_takes_no_reports_and_another_organisation_does_not_correct(people: People) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    file(carol, incident, report(day(0)))
    from accord.members.models import Organisation

    other = Organisation.objects.create(member=people.world.kz_health.member, slug="kz-emergency", name_en="kz-em")
    colleague = member_actions.create_account(
        username="nurlan",
        organisation=other,
        roles=["focal_point"],
        email="nurlan@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    response = Api(colleague).post(f"/api/v1/incidents/{incident}/sitreps", report(day(0), new=6, cumulative=6))
    assert response.status_code == 403, response.content
    assert SitrepView.objects.get().seq == 1


def test_the_kind_rules_on_received_versions() -> None:
    """A version from a peer passes the rules that need no other record; a region of another member does not."""
    body: dict[str, Any] = {
        "incident": {"node": "00000000-0000-4000-8000-000000000001", "record": "00000000-0000-4000-8000-000000000002"},
        "member": "KZ",
        "period_start": MONDAY.isoformat(),
        "period_end": MONDAY.isoformat(),
        "figures": {"new_cases": 1, "new_deaths": 0, "cumulative_cases": 1, "cumulative_deaths": 0},
    }
    received = Author(member="KZ", received=True)
    assert SITREP.check(body, received)["member"] == "KZ"  # the incident is not here: checked where it was filed
    body["figures"]["by_region"] = [{"region": "KG-O", "new_cases": 1}]
    with pytest.raises(ActionError) as refused:
        SITREP.check(body, received)
    assert refused.value.field == "figures.by_region.0.region"
    del body["figures"]["by_region"]
    with pytest.raises(ActionError) as local:
        SITREP.check(body, Author(member="KZ"))
    assert local.value.status == 404 and local.value.field == "incident"
    with pytest.raises(ActionError) as other:
        SITREP.check(body, Author(member="KG", received=True))
    assert other.value.status == 403  # speaks for KZ, issued for KG


def test_a_whole_number_written_with_a_fraction_is_an_integer(people: People) -> None:
    """JSON Schema's `integer` takes 5.0; it is signed as 5."""
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    filed = file(carol, incident, report(day(0), new=5.0, cumulative=5))  # type: ignore[arg-type]
    body = Version.objects.get(record_uuid=filed["id"]).body
    assert body["figures"]["new_cases"] == 5 and isinstance(body["figures"]["new_cases"], int)
    other = carol.post(f"/api/v1/incidents/{incident}/sitreps", report(day(1), measures=[{"type": "other"}]))
    assert other.status_code == 400 and other.json()["field"] == "measures.0", other.content
