"""The iCalendar feed of an alliance: it parses back with `icalendar`; one VEVENT per activity the reader may see
(UID from the record, dates, SUMMARY in the reader's language, SEQUENCE the version, STATUS CANCELLED); a restricted
activity is absent for an outsider; without login only public ones (TLP:CLEAR to everyone); tokens as the alert
feeds take them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from accord.members import actions as member_actions
from tests.alliances.work_support import Api, activity, on_council
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

FEED = "/alliances/medicine/calendar.ics"


@pytest.fixture
def ids(world: World) -> dict[str, str]:
    """green (everyone), public (CLEAR, everyone), closed (AMBER: CN and RU), cancelled, withdrawn."""
    on_council(world)
    api = Api(world.alice)

    def create(name: str, **changes: Any) -> str:
        response = api.post("/api/v1/alliances/medicine/activities", activity(**changes))
        assert response.status_code == 201, response.content
        return str(response.json()["id"])

    found = {
        "green": create("green", title={"en": "Field epidemiology course", "zh": "现场流行病学课程"}),
        "public": create("public", title={"en": "Open conference"}, type="conference", tlp="CLEAR"),
        "closed": create("closed", title={"en": "Closed meeting"}, audience={"members": ["CN", "RU"]}, tlp="AMBER"),
        "cancelled": create("cancelled", title={"en": "Cancelled course"}),
        "withdrawn": create("withdrawn", title={"en": "Recorded twice"}),
    }
    assert api.post(f"/api/v1/activities/{found['cancelled']}/cancel", {}).status_code == 200
    assert api.post(f"/api/v1/activities/{found['withdrawn']}/withdraw", {"reason": "twice"}).status_code == 200
    return found


def _events(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def test_the_feed_parses_and_describes_each_activity(world: World, ids: dict[str, str]) -> None:
    events = _events(client_for(world.alice).get(FEED))
    assert set(events) == {ids["green"], ids["public"], ids["closed"], ids["cancelled"]}
    green = events[ids["green"]]
    assert str(green["SUMMARY"]) == "Field epidemiology course"
    assert green.decoded("DTSTART") == date(2026, 9, 14)
    assert green.decoded("DTEND") == date(2026, 9, 26)  # the day after the last: all-day events end exclusive
    assert int(green["SEQUENCE"]) == 1 and str(green["STATUS"]) == "CONFIRMED"
    assert str(green["LOCATION"]) == "Almaty"
    assert str(green["URL"]).endswith(f"/activities/{ids['green']}/")
    assert "Two weeks of outbreak investigation practice." in str(green["DESCRIPTION"])
    cancelled = events[ids["cancelled"]]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 2


def test_summary_in_the_readers_language_with_fallback(world: World, ids: dict[str, str]) -> None:
    chinese = _events(client_for(world.alice).get(FEED, {"lang": "zh"}))
    assert str(chinese[ids["green"]]["SUMMARY"]) == "现场流行病学课程"
    assert str(chinese[ids["public"]]["SUMMARY"]) == "Open conference"  # no Chinese title: English
    russian = _events(client_for(world.alice).get(FEED, headers={"Accept-Language": "ru"}))
    assert str(russian[ids["green"]]["SUMMARY"]) == "Field epidemiology course"
    assert str(_events(client_for(world.alice).get(FEED, {"lang": "ru"}))[ids["green"]]["SUMMARY"]) == (
        "Field epidemiology course"
    )


def test_a_restricted_activity_is_absent_for_an_outsider(world: World, ids: dict[str, str]) -> None:
    outsider = _events(client_for(world.carol).get(FEED))
    assert ids["closed"] not in outsider and ids["green"] in outsider
    _, feed_token = member_actions.create_token(world.carol, name="cal", scope="feed", acting_user=None)
    by_header = _events(Client().get(FEED, headers={"Authorization": f"Bearer {feed_token}"}))
    assert set(by_header) == {ids["green"], ids["public"], ids["cancelled"]}
    by_path = _events(Client().get(f"/feeds/t/{feed_token}/alliances/medicine/calendar.ics"))
    assert set(by_path) == set(by_header)
    insider = _events(Client().get(FEED, headers={"Authorization": f"Bearer {Api(world.bob, 'read').token}"}))
    assert ids["closed"] in insider


def test_without_login_only_public_activities(world: World, ids: dict[str, str]) -> None:
    response = Client().get(FEED)
    assert set(_events(response)) == {ids["public"]}
    assert "public" in response["Cache-Control"]


def test_refused_tokens(world: World, ids: dict[str, str]) -> None:
    bad = Client().get(FEED, headers={"Authorization": "Bearer accord_nope.nope"})
    assert bad.status_code == 401 and "WWW-Authenticate" in bad
    read_token = Api(world.carol, "read").token
    assert Client().get(f"/feeds/t/{read_token}/alliances/medicine/calendar.ics").status_code == 404
    assert Client().get("/feeds/t/accord_nope.nope/alliances/medicine/calendar.ics").status_code == 404
    assert Client().get("/alliances/astronomy/calendar.ics").status_code == 404


def test_the_api_calendar(world: World, ids: dict[str, str]) -> None:
    api = Api(world.carol, "read")
    events = _events(api.get("/api/v1/alliances/medicine/calendar.ics"))
    assert set(events) == {ids["green"], ids["public"], ids["cancelled"]}
    assert api.get("/api/v1/alliances/astronomy/calendar.ics").status_code == 404
    assert Client().get("/api/v1/alliances/medicine/calendar.ics").status_code == 401
