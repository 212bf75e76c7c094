"""The web shell's pages, in-process: login, language, dates, and the 404 page."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accord.records import actions
from accord.records.envelope import Audience
from tests.conftest import PASSWORD, World, client_for


def test_pages_need_a_login(world: World) -> None:
    response = Client().get("/records/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_login_with_a_wrong_password_says_so_without_saying_which(world: World) -> None:
    response = Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "The username or password is not correct" in response.content.decode()
    disabled = Client().post("/login/", {"username": "eve", "password": PASSWORD})
    assert "The username or password is not correct" in disabled.content.decode()
    assert Client().post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


def test_a_hidden_record_gets_the_translated_not_found_page(world: World) -> None:
    hidden = actions.publish(
        "note", {"title": "kz only"}, audience=Audience(members=["KZ"]), tlp="AMBER", acting_user=world.carol
    )
    client = client_for(world.alice)
    client.cookies["django_language"] = "ru"
    response = client.get(f"/records/{hidden.record_uuid}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Не найдено" in html and "kz only" not in html and 'lang="ru"' in html


def test_issue_times_are_shown_in_the_readers_language(world: World) -> None:
    version = actions.publish(
        "note", {"title": "dated"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice
    )
    client = client_for(world.carol)
    page = client.get(f"/records/{version.record_uuid}/").content.decode()
    assert f'datetime="{version.created_at}"' in page
    assert version.created_at not in page.replace(f'datetime="{version.created_at}"', "")
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/records/{version.record_uuid}/").content.decode()
    assert "年" in page  # Chinese date format


def test_a_page_reads_the_readers_roles_once(world: World) -> None:
    """The navigation shows links by role: it reads the roles once, not once per link (the view may read them once
    more for its own controls)."""
    client = client_for(world.alice)
    for path in ("/records/", "/alerts/", "/incidents/"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        roles = [q["sql"] for q in queries.captured_queries if "accountrole" in q["sql"].lower()]
        assert 1 <= len(roles) <= 2, (path, len(roles))
