"""Commitment, deployment and status reports in a real browser (issue 17, item 8): carol (Kazakhstan) has requested
10,000 PCR tests, alice (China) and umid (Uzbekistan) offered 6,000 each, and carol accepted 6,000 from China and
4,000 from Uzbekistan (the request form, the offers and the acceptances are driven in a browser by
test_assist_browser.py; here they are made through the actions before the browser starts). In the browser: umid
commits 4,000 and alice 6,000 from the request page; alice deploys from the deploy form (a blank contact point is
refused on its field first), reports the deployment in transit, then arrived with 6,000 delivered (a delivered
quantity going down is refused on its field); carol sees the request's ledger with 6,000 delivered and follows the
link to the deployment, where she gets no report form.

alice works at 360 px, carol and umid at desktop width; every page is checked with axe-core and for horizontal
overflow. Drives the system Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.response import actions, assist_actions
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Accepted:
    request: str
    from_cn: str
    from_uz: str


@pytest.fixture
def accepted(transactional_db: None, world: World) -> Accepted:
    organisation = member_actions.create_organisation(
        member_code="UZ", slug="uz-health", kind="health_ministry", name_en="uz-health", acting_user=None
    )
    umid = member_actions.create_account(
        username="umid",
        organisation=organisation,
        roles=["focal_point"],
        email="umid@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    incident = actions.open_incident(
        title={"en": "Measles in the Fergana valley"},
        hazard="B05",
        affected_members=["KZ", "KG"],
        audience=Audience(members=["KZ", "KG", "CN", "UZ", "SCO"]),
        tlp="GREEN",
        acting_user=world.carol,
    )
    request = assist_actions.create_request(
        incident.record_uuid,
        acting_user=world.carol,
        resource_type="pcr_tests",
        detail="measles virus",
        quantity=10_000,
        needed_by="2026-05-10",
        region="KZ-61",
        priority="high",
    )
    from_cn = assist_actions.make_offer(request.record_uuid, acting_user=world.alice, quantity=6000)
    from_uz = assist_actions.make_offer(request.record_uuid, acting_user=umid, quantity=6000)
    assist_actions.accept(from_cn.record_uuid, acting_user=world.carol, quantity=6000)
    assist_actions.accept(from_uz.record_uuid, acting_user=world.carol, quantity=4000)
    return Accepted(str(request.record_uuid), str(from_cn.record_uuid), str(from_uz.record_uuid))


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


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


def test_commit_deploy_and_report_until_delivered(
    accepted: Accepted, live_server: LiveServer, browser: Browser
) -> None:
    contexts = [_context(browser, DESKTOP), _context(browser, NARROW), _context(browser, DESKTOP)]
    try:
        carol, alice, umid = (c.new_page() for c in contexts)
        errors: list[str] = []
        for page in (carol, alice, umid):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(carol, live_server.url, "carol", PASSWORD)
        log_in(alice, live_server.url, "alice", PASSWORD)
        log_in(umid, live_server.url, "umid", PASSWORD)
        request_url = f"{live_server.url}/assistance/requests/{accepted.request}/"

        # Each offering member commits what was accepted of its offer; neither sees the other's form.
        _commit(umid, request_url, accepted.from_uz, "4000", "request page with a commit form")
        expect(umid.locator(f"#commit-{accepted.from_cn}")).to_have_count(0)
        expect(umid.locator("#ledger-committed")).to_have_text("4000")
        _commit(alice, request_url, accepted.from_cn, "6000", "request page with a commit form at 360 px")
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
        expect(carol.locator(f"#deploy-{accepted.from_cn} .deploy-delivered")).to_have_text("6000 tests")
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
