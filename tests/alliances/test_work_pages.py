"""The pages of the alliances' joint work: the alliance page's section (upcoming and recent activities, the calendar
link), the list, an activity's page, the form (create and edit, with errors on their fields and nothing stored), and
cancel and withdraw; pages in zh, ru and en; what one may not see is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from accord.alliances import sections
from accord.alliances.models import Alliance
from accord.alliances.work_models import ActivityView
from accord.records.models import Record, Version
from tests.alliances.work_support import ACTIVITY_KIND, Api, activity, on_council
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

NEW = "/alliances/medicine/activities/new/"


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "training",
        "title_en": "Biosafety training",
        "title_ru": "Обучение биобезопасности",
        "title_zh": "",
        "description_en": "Laboratory biosafety, level 3.",
        "starts": "2026-10-05",
        "ends": "2026-10-09",
        "place": "Novosibirsk",
        "state": "planned",
        "organisations": "kz-health | KZ\nru-health | RU",
        "persons": "Ivan Petrov | ru-health | RU",
        "outputs": "Training manual | https://example.org/manual\nCertificates",
        "audience": "everyone",
        "tlp": "GREEN",
    }
    data.update(changes)
    return data


def _create(world: World, **changes: Any) -> str:
    response = Api(world.alice).post("/api/v1/alliances/medicine/activities", activity(**changes))
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def test_the_form_creates_an_activity(world: World) -> None:
    on_council(world)
    client = client_for(world.alice)
    page = client.get(NEW)
    assert page.status_code == 200 and 'id="save-activity"' in page.content.decode()
    response = client.post(NEW, _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    record = Record.objects.get(kind=ACTIVITY_KIND)
    assert response["Location"] == f"/activities/{record.uuid}/"
    body = record.current_version.body  # type: ignore[union-attr]
    assert body["title"] == {"en": "Biosafety training", "ru": "Обучение биобезопасности"}
    assert body["participants"]["organisations"] == [
        {"slug": "kz-health", "member": "KZ"},
        {"slug": "ru-health", "member": "RU"},
    ]
    assert body["participants"]["persons"] == [
        {"name": "Ivan Petrov", "organisation": {"slug": "ru-health", "member": "RU"}}
    ]
    assert body["outputs"] == [
        {"title": "Training manual", "url": "https://example.org/manual"},
        {"title": "Certificates"},
    ]
    shown = client.get(response["Location"]).content.decode()
    assert "Biosafety training" in shown and "Ivan Petrov" in shown and 'id="edit-activity"' in shown


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"starts": "2026-10-09", "ends": "2026-10-05"}, "ends-error"),
        ({"type": ""}, "type-error"),
        ({"title_en": "", "title_ru": ""}, "title_en-error"),
        ({"persons": "Ivan Petrov"}, "persons-error"),
        ({"organisations": "kz-health | QQ"}, "organisations-error"),
        ({"outputs": "Slides | ftp://example.org/x"}, "outputs-error"),
        ({"audience": "named", "tlp": "AMBER"}, "audience-error"),
        ({"tlp": "AMBER"}, "tlp-error"),
    ],
)
def test_form_errors_on_their_fields_store_nothing(world: World, changes: dict[str, Any], where: str) -> None:
    on_council(world)
    response = client_for(world.alice).post(NEW, _form(**changes))
    assert response.status_code == 400
    text = response.content.decode()
    assert f'id="{where}"' in text and 'id="error-summary"' in text
    assert not Version.objects.filter(kind=ACTIVITY_KIND).exists()


def test_the_form_is_for_those_who_may(world: World) -> None:
    on_council(world)
    assert client_for(world.carol).get(NEW).status_code == 403
    assert client_for(world.carol).post(NEW, _form()).status_code == 403
    assert client_for(world.alice).get("/alliances/astronomy/activities/new/").status_code == 404
    assert not Version.objects.filter(kind=ACTIVITY_KIND).exists()
    assert client_for(world.sam).get(NEW).status_code == 200


def test_edit_cancel_and_withdraw(world: World) -> None:
    on_council(world)
    record_id = _create(world)
    client = client_for(world.alice)
    edit = client.get(f"/activities/{record_id}/edit/")
    assert edit.status_code == 200 and "kz-health | KZ" in edit.content.decode()
    back = client.post(f"/activities/{record_id}/edit/", _form(state="planned", expected_seq="1", place="Omsk"))
    assert back.status_code == 302
    assert ActivityView.objects.get(record__uuid=record_id).version.seq == 2
    stale = client.post(f"/activities/{record_id}/edit/", _form(expected_seq="1"))
    assert stale.status_code == 409 and "reload" in stale.content.decode()
    assert client_for(world.carol).get(f"/activities/{record_id}/edit/").status_code == 403
    assert client.post(f"/activities/{record_id}/cancel/").status_code == 302
    assert ActivityView.objects.get(record__uuid=record_id).state == "cancelled"
    refused = client.post(f"/activities/{record_id}/edit/", _form(state="planned", expected_seq="3"))
    assert refused.status_code == 409 and 'id="state-error"' in refused.content.decode()
    no_reason = client.post(f"/activities/{record_id}/withdraw/", {"reason": ""})
    assert no_reason.status_code == 400 and 'id="withdraw-error"' in no_reason.content.decode()
    assert client_for(world.carol).post(f"/activities/{record_id}/withdraw/", {"reason": "x"}).status_code == 403
    done = client.post(f"/activities/{record_id}/withdraw/", {"reason": "recorded in error"})
    assert done.status_code == 302 and done["Location"] == "/alliances/medicine/activities/"
    assert not ActivityView.objects.get(record__uuid=record_id).active
    assert record_id not in client.get("/alliances/medicine/activities/").content.decode()
    page = client.get(f"/activities/{record_id}/").content.decode()
    assert "recorded in error" in page and 'id="edit-activity"' not in page


def test_a_restricted_activity_is_404_and_not_listed(world: World) -> None:
    on_council(world)
    open_id = _create(world, title={"en": "Open course"})
    closed_id = _create(world, title={"en": "Closed meeting"}, audience={"members": ["CN"]}, tlp="AMBER")
    carol = client_for(world.carol)
    assert carol.get(f"/activities/{closed_id}/").status_code == 404
    listed = carol.get("/alliances/medicine/activities/").content.decode()
    assert "Open course" in listed and "Closed meeting" not in listed
    assert open_id in listed
    assert client_for(world.bob).get(f"/activities/{closed_id}/").status_code == 200


def test_the_section_lists_upcoming_and_recent(world: World) -> None:
    on_council(world)
    today = timezone.localdate()
    _create(
        world, title={"en": "Next month"}, starts=str(today + timedelta(days=30)), ends=str(today + timedelta(days=32))
    )
    _create(
        world, title={"en": "Last month"}, starts=str(today - timedelta(days=40)), ends=str(today - timedelta(days=35))
    )
    _create(
        world, title={"en": "Secret"}, audience={"members": ["CN"]}, tlp="AMBER", starts=str(today), ends=str(today)
    )
    request = RequestFactory().get("/alliances/medicine/")
    request.user = world.carol
    found = dict(sections.for_alliance(request, Alliance.objects.get(slug="medicine")))
    context = found["alliances/_activities.html"]
    assert [a["title_text"] for a in context["upcoming"]] == ["Next month"]
    assert [a["title_text"] for a in context["recent"]] == ["Last month"]
    assert context["calendar_url"] == "/alliances/medicine/calendar.ics" and context["new_url"] == ""
    html = render_to_string("alliances/_activities.html", context, request)
    assert "Next month" in html and "Last month" in html and "Secret" not in html
    assert 'href="/alliances/medicine/calendar.ics"' in html and 'id="new-activity"' not in html
    request.user = world.alice
    assert (
        dict(sections.for_alliance(request, Alliance.objects.get(slug="medicine")))["alliances/_activities.html"][
            "new_url"
        ]
        == NEW
    )


@pytest.mark.parametrize(("language", "text"), [("ru", "Запланировано"), ("zh", "计划中"), ("en", "Planned")])
def test_pages_speak_the_readers_language(world: World, language: str, text: str) -> None:
    on_council(world)
    record_id = _create(world)
    client = client_for(world.alice)
    client.cookies["django_language"] = language
    page = client.get(f"/activities/{record_id}/").content.decode()
    assert text in page
    assert client.get(NEW).status_code == 200
