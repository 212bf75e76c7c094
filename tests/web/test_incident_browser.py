"""An incident in a real browser: open it from the list with the keyboard, fix the errors the summary links to,
see it on its page with the map drawn from the bundled outlines (no request leaves the node), at 360 px too.
The work on an incident (consents, level, reports, tasks, decisions, closing) is in
tests/web/test_response_flow_browser.py.

Drives the system Chromium (/usr/bin/chromium) through Playwright against pytest-django's live server; the
accounts exist before the browser starts and the test does no database work while Playwright's loop runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser

TITLE = "Crimean-Congo haemorrhagic fever in Turkistan and Osh"


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    """carol (KZ focal point) opens the incident."""
    return world


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


@pytest.mark.parametrize("viewport", [DESKTOP, NARROW], ids=["desktop", "360px"])
def test_open_an_incident_with_the_keyboard(
    people: World, live_server: LiveServer, browser: Browser, viewport: dict[str, int]
) -> None:
    context = _context(browser, viewport)
    try:
        page = context.new_page()
        errors: list[str] = []
        hosts: set[str] = set()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        log_in(page, live_server.url, "carol", PASSWORD)

        page.goto(f"{live_server.url}/incidents/")
        expect(page.get_by_text("No incident matches.")).to_be_visible()
        check_page(page, label="empty incident list")
        with page.expect_navigation():
            page.get_by_role("link", name="Open an incident").click()
        check_page(page, label="incident form")

        # Submitted with the title and hazard forgotten: the error summary takes the focus and links to fields.
        page.check("#affected-KG")
        page.select_option("#regions", ["KZ-61", "KG-O"])
        with page.expect_navigation():
            page.get_by_role("button", name="Open the incident").press("Enter")
        summary = page.locator("#error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link")).to_have_count(2)
        check_page(page, label="incident form with errors")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.locator("#title-en")).to_be_focused()
        expect(page.locator("#title-en")).to_have_attribute("aria-invalid", "true")
        page.keyboard.type(TITLE)
        page.select_option("#hazard", "A98.0")
        expect(page.locator("#affected-KG")).to_be_checked()  # kept from the first try
        page.focus("#title-en")
        with page.expect_navigation():
            page.keyboard.press("Enter")  # submits the form from a text field

        # The incident's page: level 0, the affected members, and the map of the bundled outlines.
        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.locator("#incident-level")).to_contain_text("Monitoring")
        expect(page.locator(".incident-facts")).to_contain_text("Turkistan Region")
        expect(page.locator("#incident-map")).to_have_attribute("data-ready", "true")
        tooltips = page.locator("#incident-map .leaflet-tooltip")
        expect(tooltips).to_have_count(2)
        # Each named region drawn with its bundled outline and named on it, over its member (dashed).
        assert sorted(tooltips.all_inner_texts()) == ["Osh Region", "Turkistan Region"]
        expect(page.locator("#incident-map path.leaflet-interactive")).to_have_count(4)
        check_page(page, label="incident page")

        page.goto(f"{live_server.url}/incidents/")
        expect(page.get_by_role("link", name=TITLE)).to_be_visible()
        check_page(page, label="incident list")
        assert hosts == {urlsplit(live_server.url).netloc}, hosts
        assert not errors, errors
    finally:
        context.close()
