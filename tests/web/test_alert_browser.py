"""An alert's life in a real browser: compose with a map, fix an inline error, publish, acknowledge, cancel.

Drives the system Chromium (/usr/bin/chromium) through Playwright against pytest-django's live
server, like tests/web/test_browser.py: the accounts exist before the browser starts, and the
test does no database work of its own while Playwright's event loop runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, World
from tests.web.conftest import PNG_SIGNATURE

pytestmark = pytest.mark.browser

HEADLINE = "Anthrax cases near Almaty"
RUSSIAN_HEADLINE = "Сибирская язва под Алматы"


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    """carol (KZ focal point) writes the alert; alice (CN focal point) is addressed and acknowledges."""
    return world


def _context(browser: Browser) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context


def _log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def _draw_polygon(page: Page) -> None:
    """Click four corners on the map (about central Kazakhstan at the default view), then close the ring."""
    page.click("#tool-polygon")
    box = page.locator("#compose-map").bounding_box()
    assert box is not None
    for x, y in ((0.45, 0.42), (0.53, 0.42), (0.53, 0.52), (0.45, 0.52)):
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    expect(page.locator("#tool-close")).to_be_enabled()
    page.click("#tool-close")


def test_compose_publish_acknowledge_and_cancel_an_alert(
    people: World, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    author_context = _context(browser)
    reader_context = _context(browser)
    try:
        page = author_context.new_page()
        asked: list[str] = []  # publishing an Actual alert asks first (a browser dialog, accepted here)

        def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, live_server, "carol")

        # The composer, from the alert list.
        page.goto(f"{live_server.url}/alerts/")
        with page.expect_navigation():
            page.get_by_role("link", name="New alert").click()
        expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")

        # An English block, with the event forgotten, and a Russian one.
        page.select_option("#info-0-urgency", "Immediate")
        page.select_option("#info-0-severity", "Severe")
        page.select_option("#info-0-certainty", "Observed")
        page.fill("#info-0-headline", HEADLINE)
        page.fill("#info-0-description", "Three cases of cutaneous anthrax in the Talgar district.")
        page.click("#add-info")
        expect(page.locator("#infos .info-block")).to_have_count(2)
        russian = page.locator("#infos .info-block").nth(1)
        expect(russian.locator(".info-language")).to_have_value("ru-RU")
        expect(russian.locator('[name$="-severity"]')).to_have_value("Severe")  # copied from the first block
        russian.locator('[name$="-event"]').fill("Сибирская язва")
        russian.locator('[name$="-headline"]').fill(RUSSIAN_HEADLINE)

        # An area drawn on the map, and the outline of a member state.
        _draw_polygon(page)
        polygon_row = page.locator("#areas .area-row.kind-polygon")
        expect(polygon_row).to_have_count(1)
        polygon_row.locator(".area-desc").fill("Central Kazakhstan")
        corners = polygon_row.locator(".area-polygon").input_value().split()
        assert len(corners) == 5 and corners[0] == corners[-1]
        page.select_option("#member-outline", "KG")
        page.click("#tool-member")
        expect(page.locator("#areas .area-row.kind-member .area-desc")).to_have_value("Kyrgyzstan")
        expect(page.locator("#compose-map path.leaflet-interactive")).to_have_count(2)

        # For Kazakhstan (already ticked) and China, TLP:AMBER.
        page.check('input[name="audience"][value="named"]')
        page.check('input[name="members"][value="CN"]')
        page.select_option("#tlp", "AMBER")

        # Check: the missing event is shown inline, and nothing was lost.
        with page.expect_navigation():
            page.click("#check")
        expect(page.locator(".finding-box.errors")).to_contain_text("CAP-REQUIRED")
        expect(page.locator(".finding-box.errors")).to_contain_text("/alert/info[1]/event")
        event = page.locator("#info-0-event")
        expect(event).to_have_class("invalid")
        expect(page.locator("#infos .info-block").nth(1).locator('[name$="-headline"]')).to_have_value(RUSSIAN_HEADLINE)
        expect(page.locator("#areas .area-row")).to_have_count(2)
        expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")
        page.screenshot(path=str(tmp_path / "composer-error.png"), full_page=True)

        # Fixed and published.
        event.fill("Anthrax")
        with page.expect_navigation():
            page.click("#publish")
        expect(page.locator("h1")).to_have_text(HEADLINE)
        expect(page.locator("ul.messages")).to_contain_text("The alert is published.")
        assert len(asked) == 1 and "Actual alert" in asked[0]
        expect(page.locator("#alert-map")).to_have_attribute("data-ready", "true")
        expect(page.locator("#alert-map path.leaflet-interactive")).to_have_count(2)
        expect(page.locator('section.info[lang="ru-RU"]')).to_contain_text(RUSSIAN_HEADLINE)
        expect(page.locator('tr[data-member="CN"]')).to_contain_text("Waiting")
        alert_url = page.url
        shot = tmp_path / "alert.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(PNG_SIGNATURE)

        # alice, for China, acknowledges it in her own session.
        reader = reader_context.new_page()
        _log_in(reader, live_server, "alice")
        reader.goto(alert_url)
        with reader.expect_navigation():
            reader.get_by_role("button", name="Acknowledge").click()
        expect(reader.locator('tr[data-member="CN"]')).to_contain_text("Acknowledged")
        expect(reader.get_by_role("button", name="Acknowledge")).to_have_count(0)

        # carol sees the acknowledgement, then cancels the alert.
        page.reload()
        expect(page.locator('tr[data-member="CN"]')).to_contain_text("Acknowledged")
        page.fill("#cancel-reason", "Laboratory results were negative")
        with page.expect_navigation():
            page.get_by_role("button", name="Cancel the alert").click()
        expect(page.locator(".badges .badge.withdrawn")).to_have_text("Cancelled")
        expect(page.locator(".withdrawn-reason")).to_contain_text("Laboratory results were negative")
        with page.expect_navigation():
            page.get_by_role("link", name="Back to alerts").click()
        row = page.locator("table.alerts tbody tr").filter(has_text=HEADLINE)
        expect(row).to_have_class("status-actual cancelled")
        expect(row.locator(".badge.withdrawn")).to_have_text("Cancelled")
        assert errors == []
    finally:
        author_context.close()
        reader_context.close()
