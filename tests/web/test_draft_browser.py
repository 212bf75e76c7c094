"""A saved draft alert in a real browser: found again in the author's list, opened and published by keyboard, at
360 px without sideways scrolling, with no serious axe violation; its signal's region drawn on the map.

The draft is saved (from a verified signal, through the actions) before the browser starts; the test does no
database work of its own while Playwright's event loop runs (like tests/web/test_alert_browser.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.envelope import Audience
from accord.records.models import Record
from accord.surveillance import actions, alert_draft
from accord.surveillance.models import Signal, Upload
from tests.conftest import PASSWORD, World
from tests.surveillance.support import csv_bytes, last_week, rows_for, series
from tests.web.a11y import check_page

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(transactional_db: None, world: World) -> Record:
    """carol (KZ focal point) verified a cholera signal in Almaty Region: her draft alert of it."""
    submitted = actions.submit_upload(
        csv_bytes(rows_for("A00", "KZ-19", series(outbreak=60))),
        acting_user=world.carol,
        audience=Audience(members=["KZ", "SCO"]),
        tlp="AMBER",
    )
    done = actions.process_upload(submitted.pk)
    assert done is not None and done.status == Upload.Status.DONE
    signal = Signal.objects.get(period=last_week().label)
    signal = actions.verify_signal(signal, acting_user=world.carol, note="Lab confirmed: 3 of 5 samples")
    return alert_draft.write_draft(signal, world.carol)


def _log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element `selector` has the keyboard focus (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus by Tab")


def test_a_draft_is_found_again_and_published_by_keyboard_at_360_px(
    draft: Record, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 740})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # publishing an Actual alert asks first
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, live_server, "carol")

        # The list of drafts: the page was left, the draft is still there.
        page.goto(f"{live_server.url}/alerts/drafts/")
        expect(page.locator("h1")).to_have_text("My draft alerts")
        link = f'a[href="/alerts/drafts/{draft.uuid}/"]'
        expect(page.locator(link)).to_contain_text("Cholera above the expected level in Almaty Region")
        check_page(page, label="drafts at 360 px")
        _tab_to(page, link)
        with page.expect_navigation():
            page.keyboard.press("Enter")

        # The draft in the composer: the reviewer's note, the region (named, and outlined on the map).
        expect(page.locator("h1")).to_have_text("Draft alert")
        expect(page.locator(".draft-note")).to_have_text("Lab confirmed: 3 of 5 samples")
        expect(page.locator('.draft-region[data-code="KZ-19"]')).to_contain_text("Almaty Region")
        expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")
        expect(page.locator("#compose-map .leaflet-tooltip")).to_contain_text("Almaty Region")
        expect(page.locator('#compose-map path[stroke-dasharray="6 4"]')).to_have_count(1)
        check_page(page, label="draft at 360 px")

        # Saved again by keyboard (nothing lost), then published by keyboard.
        _tab_to(page, "#save-draft")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("ul.messages")).to_contain_text("The draft is saved. Only you can see it.")
        _tab_to(page, "#publish")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("ul.messages")).to_contain_text("The alert is published.")
        assert f"/alerts/{draft.uuid}/" not in page.url and "/alerts/drafts/" not in page.url
        page.goto(f"{live_server.url}/alerts/drafts/")
        expect(page.locator(".empty")).to_have_text("You have no draft alerts.")
        assert errors == []
    finally:
        context.close()


def test_the_draft_page_passes_axe_on_a_desktop_and_nobody_else_finds_it(
    draft: Record, live_server: LiveServer, browser: Browser
) -> None:
    author = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    colleague = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        page = author.new_page()
        _log_in(page, live_server, "carol")
        page.goto(f"{live_server.url}/alerts/drafts/{draft.uuid}/")
        expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")
        check_page(page, label="draft, desktop")
        # dave, a viewer of the same organisation, finds no such page, nor the draft in the alert list.
        other = colleague.new_page()
        _log_in(other, live_server, "dave")
        assert other.goto(f"{live_server.url}/alerts/drafts/{draft.uuid}/").status == 404  # type: ignore[union-attr]
        assert other.goto(f"{live_server.url}/alerts/{draft.uuid}/").status == 404  # type: ignore[union-attr]
    finally:
        author.close()
        colleague.close()
