"""Mutual assistance in a real browser (issue 17, item 8): carol (Kazakhstan) requests PCR tests through the form;
alice (China) and umid (Uzbekistan) each offer 6,000; carol accepts 6,000 from China, is refused 6,000 more from
Uzbekistan with the 4,000 still open, and accepts 4,000; the ledger shows the request covered, to everyone.

Three people, each in a browser context of their own: carol at desktop width with the keyboard for her forms,
alice and umid at 360 px. Every page is checked with axe-core and for horizontal overflow. Drives the system
Chromium through Playwright against pytest-django's live server; the incident exists before the browser starts.
Deployments are not driven here: the pages do not offer them yet.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.response import actions
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def incident(transactional_db: None, world: World) -> str:
    """Measles in KZ and KG, shared with CN, UZ and the Secretariat; umid is Uzbekistan's focal point."""
    organisation = member_actions.create_organisation(
        member_code="UZ", slug="uz-health", kind="health_ministry", name_en="uz-health", acting_user=None
    )
    member_actions.create_account(
        username="umid",
        organisation=organisation,
        roles=["focal_point"],
        email="umid@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    version = actions.open_incident(
        title={"en": "Measles in the Fergana valley"},
        hazard="B05",
        affected_members=["KZ", "KG"],
        audience=Audience(members=["KZ", "KG", "CN", "UZ", "SCO"]),
        tlp="GREEN",
        acting_user=world.carol,
    )
    return str(version.record_uuid)


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def _offer(page: Page, url: str, quantity: str, label: str) -> None:
    page.goto(url)
    page.locator("#offers summary").click()
    page.fill("#offer-quantity", quantity)
    page.fill("#offer-available-from", "2026-05-03")
    check_page(page, label=label)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the offer").click()
    expect(page.locator("ul.messages")).to_contain_text("Your offer is sent to the requesting member.")


def _accept(page: Page, member: str, quantity: str) -> None:
    field = page.get_by_label(f"Quantity to accept from {member}")
    field.fill(quantity)
    with page.expect_navigation():
        field.press("Enter")


def test_request_two_offers_and_partial_acceptances(incident: str, live_server: LiveServer, browser: Browser) -> None:
    contexts = [_context(browser, DESKTOP), _context(browser, NARROW), _context(browser, NARROW)]
    try:
        carol, alice, umid = (c.new_page() for c in contexts)
        errors: list[str] = []
        for page in (carol, alice, umid):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(carol, live_server.url, "carol", PASSWORD)
        log_in(alice, live_server.url, "alice", PASSWORD)
        log_in(umid, live_server.url, "umid", PASSWORD)

        # From the incident page to the board and the request form; a blank form is refused field by field.
        carol.goto(f"{live_server.url}/incidents/{incident}/")
        with carol.expect_navigation():
            carol.locator("#assistance-link").click()
        expect(carol.locator("#open-requests")).to_contain_text("No open request.")
        check_page(carol, label="matching board, empty")
        with carol.expect_navigation():
            carol.locator("#request-assistance").click()
        with carol.expect_navigation():
            carol.locator("#publish-request").click()
        expect(carol.locator("#error-summary")).to_contain_text("Choose a resource type of the catalogue.")
        expect(carol.locator("#quantity")).to_have_attribute("aria-describedby", "quantity-error")
        check_page(carol, label="request form with errors")
        carol.select_option("#resource_type", "pcr_tests")
        carol.fill("#detail", "measles virus")
        carol.fill("#quantity", "10000")
        carol.fill("#needed_by", "2026-05-10")
        carol.select_option("#region", "KZ-61")
        carol.select_option("#priority", "high")
        carol.fill("#conditions", "Reagents included")
        carol.locator("#conditions").press("Tab")
        carol.keyboard.press("Space")  # "everyone who may see the incident" is already chosen: stays chosen
        with carol.expect_navigation():
            carol.locator("#publish-request").press("Enter")
        expect(carol.locator("ul.messages")).to_contain_text("The request is published")
        expect(carol.locator("#ledger-gap")).to_have_text("10000")
        request_url = carol.url.split("#")[0]

        # Two other members offer, at 360 px.
        _offer(alice, request_url, "6000", "request page with the offer form at 360 px")
        _offer(umid, request_url, "6000", "another offer at 360 px")
        expect(umid.locator("#ledger-offered")).to_have_text("12000")

        # carol accepts 6000 from China; 6000 from Uzbekistan is refused with what is still open; then 4000.
        carol.goto(request_url)
        check_page(carol, label="request page with two offers")
        _accept(carol, "CN", "6000")
        expect(carol.locator("#ledger-accepted")).to_have_text("6000")
        expect(carol.locator("#ledger-status")).to_have_text("Partly covered")
        _accept(carol, "UZ", "6000")
        expect(carol.locator("tr.offer-UZ .error")).to_have_text(
            "That is more than the request still needs: 4000 tests are still open."
        )
        expect(carol.get_by_label("Quantity to accept from UZ")).to_have_attribute("aria-invalid", "true")
        expect(carol.locator("#ledger-accepted")).to_have_text("6000")
        check_page(carol, label="request page with a refused acceptance")
        _accept(carol, "UZ", "4000")
        expect(carol.locator("#ledger-gap")).to_have_text("0")

        # Everyone sees the same ledger; the board lists the request as covered.
        alice.goto(request_url)
        expect(alice.locator("#ledger-accepted")).to_have_text("10000")
        expect(alice.locator("#ledger-status")).to_have_text("Covered")
        expect(alice.locator("tr.offer-CN .offer-accepted")).to_have_text("6000")
        expect(alice.locator("#history")).to_contain_text("Accepted 4000 tests offered by UZ")
        check_page(alice, label="covered request at 360 px")
        alice.goto(f"{live_server.url}/incidents/{incident}/assistance/")
        expect(alice.locator("#other-requests")).to_contain_text("10000 / 10000")
        check_page(alice, label="matching board at 360 px")
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
