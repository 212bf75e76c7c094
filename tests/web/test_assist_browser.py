"""Mutual assistance in a real browser, the whole way (issue 17, item 8): carol (Kazakhstan) requests 10,000 PCR
tests through the form; alice (China) and umid (Uzbekistan) each offer 6,000; carol accepts 6,000 from China, is
refused 6,000 more from Uzbekistan with the 4,000 still open, and accepts 4,000; the ledger shows the request covered,
to everyone. Then umid commits 4,000 and alice 6,000 from the request page; alice deploys from the deploy form (a
blank contact point is refused on its field first), reports the deployment in transit, then arrived with 6,000
delivered (a delivered quantity going down is refused on its field); carol sees the ledger with 6,000 delivered and
follows the link to the deployment, where she gets no report form.

Three people, each in a browser context of their own: carol at desktop width with the keyboard for her forms,
alice and umid at 360 px. Every page is checked with axe-core and for horizontal overflow. Drives the system
Chromium through Playwright against pytest-django's live server; the incident exists before the browser starts.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.records.models import Record
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


def _commit(page: Page, url: str, offer: str, quantity: str, label: str) -> None:
    page.goto(url)
    field = page.locator(f"#commit-{offer}")
    expect(field).to_have_value(quantity)  # what is accepted and not yet committed
    check_page(page, label=label)
    with page.expect_navigation():
        field.press("Enter")
    expect(page.locator("ul.messages")).to_contain_text("The commitment is sent to the requesting member")


def _report(page: Page, status: str, delivered: str = "") -> None:
    page.select_option("#status", status)
    if delivered:
        page.fill("#delivered", delivered)
    with page.expect_navigation():
        page.locator("#report-status").click()


def test_request_two_offers_partial_acceptances_deployment_and_arrival(
    incident: str, live_server: LiveServer, browser: Browser
) -> None:
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

        # Then the offering members commit what was accepted, alice deploys and reports until it arrived.
        offered = Record.objects.filter(kind="assistance_offer").select_related("current_version")
        offers = {o.current_version.body["member"]: str(o.uuid) for o in offered if o.current_version is not None}
        from_cn, from_uz = offers["CN"], offers["UZ"]
        # Each offering member commits what was accepted of its offer; neither sees the other's form.
        _commit(umid, request_url, from_uz, "4000", "request page with a commit form at 360 px")
        expect(umid.locator(f"#commit-{from_cn}")).to_have_count(0)
        expect(umid.locator("#ledger-committed")).to_have_text("4000")
        _commit(alice, request_url, from_cn, "6000", "request page with a commit form at 360 px")
        expect(alice.locator("#ledger-committed")).to_have_text("10000")

        # alice deploys: a blank contact point is refused on its field, nothing is recorded; then the deployment.
        with alice.expect_navigation():
            alice.get_by_role("link", name="Deploy (up to 6000 tests)").click()
        expect(alice.locator("#region")).to_have_value("KZ-61")  # the request's region
        expect(alice.locator("#quantity")).to_have_value("6000")
        check_page(alice, label="deploy form at 360 px")
        with alice.expect_navigation():
            alice.locator("#record-deployment").click()
        expect(alice.locator("#error-summary")).to_contain_text("Name the contact point: a person or a desk.")
        expect(alice.locator("#contact_name")).to_have_attribute("aria-describedby", "contact_name-error")
        check_page(alice, label="deploy form with an error at 360 px")
        alice.fill("#contact_name", "Wang Li")
        alice.fill("#contact_phone", "+86 10 0000 0000")
        alice.fill("#place", "Turkistan regional laboratory")
        alice.fill("#departure", "2026-05-04")
        with alice.expect_navigation():
            alice.locator("#place").press("Enter")
        expect(alice.locator("ul.messages")).to_contain_text("The deployment is recorded")
        expect(alice.locator("#deployment-status")).to_have_text("Mobilising")
        check_page(alice, label="deployment page with the report form at 360 px")
        deployment_url = alice.url.split("#")[0]

        # Status reports, forward only: in transit, then arrived with what was delivered.
        _report(alice, "in_transit")
        expect(alice.locator("#deployment-status")).to_have_text("In transit")
        expect(alice.locator("#status option")).to_have_count(5)  # in transit and the four after it
        _report(alice, "arrived", "6000")
        expect(alice.locator("#deployment-status")).to_have_text("Arrived")
        expect(alice.locator("#deployment-delivered")).to_have_text("6000 tests")
        _report(alice, "operating", "5000")
        expect(alice.locator("#delivered-error")).to_have_text(
            "6000 tests are already reported delivered: the quantity does not go down."
        )
        expect(alice.locator("#delivered")).to_have_attribute("aria-invalid", "true")
        expect(alice.locator("#deployment-status")).to_have_text("Arrived")
        check_page(alice, label="deployment page with a refused report at 360 px")

        # The requester sees the ledger with what was delivered, and the deployment without a report form.
        carol.goto(request_url)
        expect(carol.locator("#ledger-delivered")).to_have_text("6000")
        expect(carol.locator(f"#deploy-{from_cn} .deploy-delivered")).to_have_text("6000 tests")
        expect(carol.locator(".commit-form")).to_have_count(0)
        check_page(carol, label="request page with a deployment")
        with carol.expect_navigation():
            carol.get_by_role("link", name="Deployment of 6000 tests to Turkistan Region (KZ-61)").click()
        assert carol.url.split("#")[0] == deployment_url
        expect(carol.locator(".deployment-history li")).to_have_count(3)
        expect(carol.locator("#report-status")).to_have_count(0)
        expect(carol.locator("#deployment-arrival")).not_to_have_text("—")
        check_page(carol, label="deployment page")
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
