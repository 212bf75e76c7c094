"""Ending things in mutual assistance, and an unsolicited offer, in a real browser (issue 17): carol (Kazakhstan) has
requested 10,000 PCR tests; alice (China) offered 6,000 and carol accepted all of it (made through the actions
before the browser starts). In the browser, alice at 360 px: from the board, by keyboard, she opens the unsolicited
offer form, sends it empty (the error summary names each field), then fills it in and sees her offer waiting on the
board; on the request page she withdraws her offer (a blank reason is refused on its field first). carol, at
desktop width, sees the gap open again and closes the request with a reason; the page then shows it closed, with no
more forms. Every page, error states included, is checked with axe-core and for horizontal overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.envelope import Audience
from accord.response import actions, assist_actions
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Accepted:
    incident: str
    request: str
    from_cn: str


@pytest.fixture
def accepted(transactional_db: None, world: World) -> Accepted:
    incident = actions.open_incident(
        title={"en": "Measles in the Fergana valley"},
        hazard="B05",
        affected_members=["KZ", "KG"],
        audience=Audience(members=["KZ", "KG", "CN", "SCO"]),
        tlp="GREEN",
        acting_user=world.carol,
    )
    request = assist_actions.create_request(
        incident.record_uuid,
        acting_user=world.carol,
        resource_type="pcr_tests",
        quantity=10_000,
        needed_by="2026-05-10",
        region="KZ-61",
        priority="high",
    )
    from_cn = assist_actions.make_offer(request.record_uuid, acting_user=world.alice, quantity=6000)
    assist_actions.accept(from_cn.record_uuid, acting_user=world.carol, quantity=6000)
    return Accepted(str(incident.record_uuid), str(request.record_uuid), str(from_cn.record_uuid))


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def test_unsolicited_offer_withdrawal_and_closing_in_the_browser(
    accepted: Accepted, live_server: LiveServer, browser: Browser
) -> None:
    base = live_server.url
    board_url = f"{base}/incidents/{accepted.incident}/assistance/"
    request_url = f"{base}/assistance/requests/{accepted.request}/"
    narrow, wide = _context(browser, NARROW), _context(browser, DESKTOP)
    try:
        alice = narrow.new_page()
        log_in(alice, base, "alice", PASSWORD)
        alice.goto(board_url)
        check_page(alice, label="board at 360 px")
        alice.locator("#offer-unsolicited").focus()
        with alice.expect_navigation():
            alice.keyboard.press("Enter")
        expect(alice.locator("h1")).to_have_text("Offer assistance no request asked for")
        check_page(alice, label="unsolicited offer form at 360 px")

        with alice.expect_navigation():
            alice.click("#send-offer")
        summary = alice.locator("#error-summary")
        expect(summary).to_be_visible()
        expect(summary.locator("a[href='#resource_type']")).to_be_visible()
        expect(summary.locator("a[href='#quantity']")).to_be_visible()
        expect(summary.locator("a[href='#to_member']")).to_be_visible()
        expect(alice.locator("#quantity")).to_have_attribute("aria-invalid", "true")
        check_page(alice, label="unsolicited offer form with errors at 360 px")

        alice.select_option("#resource_type", "ppe_respirators")
        alice.fill("#quantity", "2000")
        alice.select_option("#to_member", "KG")
        alice.fill("#available_from", "2026-05-03")
        alice.fill("#note", "from the Urumqi depot")
        with alice.expect_navigation():
            alice.click("#send-offer")
        waiting = alice.locator("#waiting-offers")
        expect(waiting).to_contain_text("from the Urumqi depot")
        expect(waiting).to_contain_text("2000")

        alice.goto(request_url)
        form = alice.locator(f"#withdraw-offer-{accepted.from_cn}")
        reason = alice.locator(f"#withdraw-offer-reason-{accepted.from_cn}")
        reason.fill("   ")  # passes the browser's check, not the server's
        with alice.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(alice.locator(f"#withdraw-offer-error-{accepted.from_cn}")).to_contain_text("Say why")
        expect(reason).to_have_attribute("aria-invalid", "true")
        check_page(alice, label="withdraw offer error at 360 px")
        reason.fill("needed at home")
        with alice.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(alice.locator("#history")).to_contain_text("Withdrew the offer: needed at home")
        expect(alice.locator(f"#withdraw-offer-{accepted.from_cn}")).to_have_count(0)
        check_page(alice, label="request after the withdrawal at 360 px")

        carol = wide.new_page()
        log_in(carol, base, "carol", PASSWORD)
        carol.goto(request_url)
        expect(carol.locator("#ledger-accepted")).to_have_text("0")
        expect(carol.locator("#ledger-gap")).to_have_text("10000")
        carol.fill("#close-reason", "the national reserve covers it")
        with carol.expect_navigation():
            carol.click("#close-request")
        expect(carol.locator("#request-status")).to_have_text("Closed")
        expect(carol.locator("article")).to_contain_text("the national reserve covers it")
        expect(carol.locator("#end-request")).to_have_count(0)
        expect(carol.locator(".accept-form")).to_have_count(0)
        check_page(carol, label="closed request")
    finally:
        narrow.close()
        wide.close()
