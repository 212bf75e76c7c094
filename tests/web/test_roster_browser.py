"""The expert roster in a real browser (issue 18, item 8): aida, an expert of a Kazakh university, puts her profile
on the roster with the keyboard at 360 px and makes it visible to the Secretariat only; alice, an account of another
member (China), searches the roster and does not find her, nor opens her page; sam, the Secretariat's coordinator,
finds her by field and opens her page. Then aida withdraws (with the confirmation), and sam no longer finds her.

Every page is checked with axe-core and, at 360 px, for horizontal overflow. Drives the system Chromium through
Playwright against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.alliances.roster_models import ExpertProfile
from tests.alliances.roster_support import Roster, roster_fixture  # noqa: F401
from tests.conftest import PASSWORD
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db: None, roster: Roster) -> Roster:
    return roster


def _context(browser: Browser, viewport: dict[str, int], locale: str = "en-US") -> BrowserContext:
    context = browser.new_context(locale=locale, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def _tick(page: Page, selector: str) -> None:
    """Tick a checkbox or radio button with the keyboard."""
    page.focus(selector)
    page.keyboard.press("Space")
    expect(page.locator(selector)).to_be_checked()


def _put_profile(page: Page, base: str) -> None:
    page.goto(f"{base}/experts/me/")
    check_page(page, label="my profile, empty, 360 px")
    _tick(page, "#field-epidemiology")
    _tick(page, "#field-laboratory_diagnostics")
    page.focus("#level-ru")
    page.select_option("#level-ru", "C1")
    page.select_option("#level-kk", "native")
    page.fill("#from-0", "2026-06-01")
    page.fill("#until-0", "2026-08-31")
    _tick(page, "#deployable")
    page.fill("#deploy_within_days", "7")
    _tick(page, "#visibility-secretariat")
    page.select_option("#tlp", "AMBER")
    page.focus("#save-profile")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("ul.messages")).to_contain_text("Your profile is on the roster")
    expect(page.locator(".roster-summary")).to_contain_text("Only the Secretariat (TLP:AMBER)")
    check_page(page, label="my profile, saved, 360 px")


def test_a_profile_for_the_secretariat_only_is_not_found_by_another_member(
    people: Roster, live_server: LiveServer, browser: Browser
) -> None:
    base = live_server.url
    contexts = [_context(browser, NARROW), _context(browser, DESKTOP), _context(browser, NARROW, "ru-RU")]
    try:
        aida, alice, sam = (context.new_page() for context in contexts)
        log_in(aida, base, "aida", PASSWORD)
        log_in(alice, base, "alice", PASSWORD)
        log_in(sam, base, "sam", PASSWORD)

        # A refusal first: no field of expertise.
        aida.goto(f"{base}/experts/me/")
        with aida.expect_navigation():
            aida.click("#save-profile")
        expect(aida.locator("#error-summary")).to_be_visible()
        expect(aida.locator("#fields-error")).to_contain_text("at least 1")
        check_page(aida, label="my profile, refused, 360 px")

        _put_profile(aida, base)
        row = ExpertProfile.objects.get()
        expert = str(row.record.uuid)

        alice.goto(f"{base}/experts/?field=epidemiology")
        expect(alice.locator("#expert-count")).to_have_text("0 experts")
        expect(alice.locator("table.experts")).to_have_count(0)
        check_page(alice, label="roster search, another member")
        alice.goto(f"{base}/experts/")
        expect(alice.locator("#expert-count")).to_have_text("0 experts")
        assert alice.goto(f"{base}/experts/{expert}/").status == 404  # type: ignore[union-attr]

        sam.goto(f"{base}/experts/")
        sam.select_option("#field", "epidemiology")
        with sam.expect_navigation():
            sam.click("#search-experts")
        expect(sam.locator("#expert-count")).to_have_text("1 эксперт")
        check_page(sam, label="roster search, the Secretariat, Russian, 360 px")
        with sam.expect_navigation():
            sam.get_by_role("link", name="aida").click()
        expect(sam.locator("dl.facts")).to_contain_text("Эпидемиология")
        check_page(sam, label="an expert's page, Russian, 360 px")

        aida.goto(f"{base}/experts/me/withdraw/")
        check_page(aida, label="withdrawal, 360 px")
        _tick(aida, "#confirm")
        with aida.expect_navigation():
            aida.click("#withdraw")
        expect(aida.locator("ul.messages")).to_contain_text("You have left the roster")
        sam.goto(f"{base}/experts/")
        expect(sam.locator("#expert-count")).to_have_text("0 экспертов")
        assert sam.goto(f"{base}/experts/{expert}/").status == 404  # type: ignore[union-attr]
    finally:
        for context in contexts:
            context.close()
