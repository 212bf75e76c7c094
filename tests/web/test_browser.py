"""The web shell in a real browser: log in, see only what was shared, switch language, open a record.

Drives the system Chromium (/usr/bin/chromium) through Playwright against pytest-django's
live server. Playwright's browser downloads are never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.records import actions
from accord.records.envelope import Audience
from tests.conftest import PASSWORD, World
from tests.web.conftest import PNG_SIGNATURE

pytestmark = pytest.mark.browser


SHARED_TITLE = "Cholera cases in Kashgar prefecture"
OTHER_SHARED_TITLE = "Flood warning for the Ili river basin"
HIDDEN_TITLE = "Kazakhstan-only situation report on anthrax"


@dataclass(frozen=True)
class Published:
    shared_uuid: str
    hidden_uuid: str


@pytest.fixture
def published(transactional_db: None, world: World) -> Published:
    """Two notes alice shares with everyone, and one carol shares with Kazakhstan only.

    Made before the browser starts: while Playwright's event loop runs in this thread, Django
    hands out a separate database connection (its connections are context-local), so the test
    does no database work of its own inside the browser session.
    """
    everyone = Audience(everyone=True)
    shared = actions.publish(
        "note",
        {"title": SHARED_TITLE, "text": "Twelve confirmed cases, two deaths.", "language": "en"},
        audience=everyone,
        tlp="GREEN",
        acting_user=world.alice,
    )
    actions.publish(
        "note",
        {"title": OTHER_SHARED_TITLE, "text": "Water levels rising.", "language": "en"},
        audience=everyone,
        tlp="GREEN",
        acting_user=world.alice,
    )
    hidden = actions.publish(
        "note",
        {"title": HIDDEN_TITLE, "text": "For Kazakhstan's services only.", "language": "en"},
        audience=Audience(members=["KZ"]),
        tlp="AMBER",
        acting_user=world.carol,
    )
    return Published(shared_uuid=str(shared.record.uuid), hidden_uuid=str(hidden.record.uuid))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _switch_language(page: Page, code: str) -> None:
    # The select submits its form to Django's set_language view on change, which redirects back.
    with page.expect_navigation():
        page.select_option("#language-select", code)


def test_alice_logs_in_sees_what_was_shared_and_reads_it_in_three_languages(
    published: Published, live_server: LiveServer, page: Page, tmp_path: Path
) -> None:
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("h1")).to_have_text("Log in")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    assert page.url == f"{live_server.url}/"  # the desk, the home page after log-in
    page.goto(f"{live_server.url}/records/")

    # English, the default.
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Records")
    expect(page.locator("p.count")).to_have_text("2 records")
    expect(page.get_by_role("link", name=SHARED_TITLE)).to_be_visible()
    expect(page.get_by_role("link", name=OTHER_SHARED_TITLE)).to_be_visible()
    assert HIDDEN_TITLE not in page.content()

    # Chinese.
    _switch_language(page, "zh-hans")
    assert page.url == f"{live_server.url}/records/"
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("记录")
    expect(page.locator("p.count")).to_have_text("2 条记录")
    expect(page.locator("#language-select")).to_have_value("zh-hans")
    expect(page.get_by_role("link", name=SHARED_TITLE)).to_be_visible()
    assert HIDDEN_TITLE not in page.content()

    # Russian.
    _switch_language(page, "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Записи")
    expect(page.locator("p.count")).to_have_text("2 записи")
    expect(page.locator("form.account button")).to_have_text("Выйти")
    assert HIDDEN_TITLE not in page.content()

    screenshot = tmp_path / "records-ru.png"
    page.screenshot(path=str(screenshot), full_page=True)
    data = screenshot.read_bytes()
    assert len(data) > len(PNG_SIGNATURE)
    assert data.startswith(PNG_SIGNATURE)

    # The record's own page, still in Russian.
    with page.expect_navigation():
        page.get_by_role("link", name=SHARED_TITLE).click()
    assert page.url == f"{live_server.url}/records/{published.shared_uuid}/"
    expect(page.locator("h1")).to_have_text(SHARED_TITLE)
    expect(page).to_have_title(f"\u2068{SHARED_TITLE}\u2069 · Accord")  # the title isolated (FSI ... PDI)
    expect(page.locator("dl.facts")).to_contain_text("Информационная записка")
    expect(page.locator("div.body")).to_have_text("Twelve confirmed cases, two deaths.")
    expect(page.get_by_role("link", name="Назад к записям")).to_be_visible()

    # Carol's record is not there for alice even by its address: the same answer as no record at all.
    response = page.goto(f"{live_server.url}/records/{published.hidden_uuid}/")
    assert response is not None
    assert response.status == 404
    assert HIDDEN_TITLE not in page.content()
