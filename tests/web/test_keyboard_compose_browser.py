"""Composing and publishing an alert with the keyboard alone: the skip link, then Tab from field to field, typing,
choosing options by typing, an area chosen from the member outlines with a button, and Enter to publish. No
mouse, no click, no value set by script: `_tab_to` fails when Tab cannot reach a control."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser

MAX_TABS = 400


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches `selector`; fail when a whole round of Tabs never reaches it."""
    for _ in range(MAX_TABS):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached {selector}")


def _type_into(page: Page, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _choose(page: Page, selector: str, option_text: str) -> None:
    """A <select> answered from the keyboard: focus it, type the start of the option (Chromium's type-ahead)."""
    _tab_to(page, selector)
    page.keyboard.type(option_text)
    expect(page.locator(selector + " option:checked")).to_have_text(option_text)


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    return world


def test_an_alert_is_composed_and_published_with_the_keyboard_alone(
    people: World, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        asked: list[str] = []  # publishing an Actual alert asks first: the browser's dialog, answered OK

        def answer(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        page.goto(f"{live_server.url}/login/")
        _type_into(page, "#id_username", "carol")
        _type_into(page, "#id_password", PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.goto(f"{live_server.url}/alerts/new/")
        expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")

        # The first Tab reaches the skip link, which takes the focus to the page's content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('skip-link')")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

        _type_into(page, "#info-0-event", "Anthrax")
        _choose(page, "#info-0-urgency", "Immediate")
        _choose(page, "#info-0-severity", "Severe")
        _choose(page, "#info-0-certainty", "Observed")
        _type_into(page, "#info-0-headline", "Anthrax cases near Almaty")
        _type_into(page, "#info-0-description", "Three cases of cutaneous anthrax in the Talgar district.")
        # The area: a member's outline, chosen from the list and added with its button.
        _choose(page, "#member-outline", "Kazakhstan")
        _tab_to(page, "#tool-member")
        page.keyboard.press("Enter")
        expect(page.locator("#areas .area-row.kind-member .area-desc")).to_have_value("Kazakhstan")
        # A circle typed: its button adds a row and puts the focus in its first field.
        _tab_to(page, "#type-circle")
        page.keyboard.press("Enter")
        circle = page.locator("#areas .area-row.kind-circle")
        expect(circle).to_have_count(1)
        assert page.evaluate("document.activeElement.classList.contains('area-desc')")
        page.keyboard.type("Talgar district")
        _type_into(page, "#areas .area-row.kind-circle .area-lat", "43.3")
        _type_into(page, "#areas .area-row.kind-circle .area-lon", "77.2")
        expect(circle.locator(".area-radius")).to_have_value("25")
        # A first-level region, chosen from the list: sent as its ISO 3166-2 code.
        _tab_to(page, "#region-choice")
        page.keyboard.type("KZ")  # type-ahead to the member's first region, then down the list to Almaty
        for _ in range(30):
            if page.eval_on_selector("#region-choice", "s => s.value") == "KZ-75":
                break
            page.keyboard.press("ArrowDown")
        _tab_to(page, "#tool-region")
        page.keyboard.press("Enter")
        region = page.locator("#areas .area-row.kind-geocode")
        expect(region.locator(".area-geocode-name")).to_have_value("ISO3166-2")
        expect(region.locator(".area-geocode-value")).to_have_value("KZ-75")  # Almaty, the city
        # The map draws the region with its bundled outline (solid), not as its member dashed.
        expect(page.locator("#compose-map path.leaflet-interactive")).to_have_count(3)
        expect(page.locator('#compose-map path[stroke-dasharray="6 4"]')).to_have_count(0)
        # Every member, TLP:GREEN.
        _tab_to(page, 'input[name="audience"]')
        page.keyboard.press("Home")  # radio group: the first choice, "Every member"
        expect(page.locator('input[name="audience"][value="everyone"]')).to_be_checked()
        _choose(page, "#tlp", "TLP:GREEN")
        _tab_to(page, "#publish")
        focused_outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert focused_outline != "none", "the focused button shows no focus outline"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Anthrax cases near Almaty")
        expect(page.locator("#alert-map")).to_have_attribute("data-ready", "true")
        # The member's outline, the circle and the region's outline.
        expect(page.locator("#alert-map path.leaflet-interactive")).to_have_count(3)
        expect(page.locator("main")).to_contain_text("Talgar district")
        found = re.search(r"/alerts/([0-9a-f-]{36})/", page.url)
        assert found, page.url
        record_uuid = found.group(1)
        cap = page.request.get(f"{live_server.url}/api/v1/alerts/{record_uuid}.cap").text()
        assert "<valueName>ISO3166-2</valueName><value>KZ-75</value>" in "".join(cap.split())
        assert "<circle>43.3,77.2 25</circle>" in cap
        expect(page.locator("ul.messages")).to_contain_text("The alert is published.")
        assert len(asked) == 1 and "Actual alert" in asked[0]
    finally:
        context.close()
