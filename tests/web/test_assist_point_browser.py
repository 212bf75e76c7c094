"""The point of a request and of a deployment in a real browser (issue 17): carol (Kazakhstan) requests PCR tests
through the request form at 360 px wide, typing the point from the keyboard: a latitude without a longitude is
refused on the point's field with the error summary, then a point in Beijing is refused by the kinds' territory rule
on the same field, then Turkistan is published and shown on the request page. alice (China), whose offer carol
accepted (through the actions), finds the point preset on the deploy form, records the deployment, and its page
shows the point. Every state is checked with axe-core and, at 360 px, for horizontal overflow. Drives the system
Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import actions, assist_actions
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def incident(transactional_db: None, world: World) -> str:
    version = actions.open_incident(
        title={"en": "Measles in the Fergana valley"},
        hazard="B05",
        affected_members=["KZ", "KG"],
        audience=Audience(members=["KZ", "KG", "CN", "SCO"]),
        tlp="GREEN",
        acting_user=world.carol,
    )
    return str(version.record_uuid)


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def test_a_point_typed_refused_then_published_and_preset_on_the_deploy_form(
    incident: str, world: World, live_server: LiveServer, browser: Browser
) -> None:
    contexts = [_context(browser, NARROW), _context(browser, DESKTOP)]
    try:
        carol, alice = (c.new_page() for c in contexts)
        errors: list[str] = []
        for page in (carol, alice):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(carol, live_server.url, "carol", PASSWORD)
        log_in(alice, live_server.url, "alice", PASSWORD)

        carol.goto(f"{live_server.url}/incidents/{incident}/assistance/new/")
        expect(carol.get_by_label("Latitude, e.g. 43.25")).to_have_attribute("inputmode", "decimal")
        check_page(carol, label="request form at 360 px")
        carol.select_option("#resource_type", "pcr_tests")
        carol.fill("#quantity", "10000")
        carol.fill("#needed_by", "2026-05-10")
        carol.select_option("#region", "KZ-61")
        carol.get_by_label("Latitude, e.g. 43.25").focus()
        carol.keyboard.type("43.3")
        with carol.expect_navigation():
            carol.keyboard.press("Enter")
        message = "Give both the latitude and the longitude of the point, or neither."
        expect(carol.locator("#error-summary")).to_contain_text(message)
        expect(carol.locator("#point-error")).to_have_text(message)
        expect(carol.locator("#point_lat")).to_have_attribute("aria-invalid", "true")
        expect(carol.locator("#point_lat")).to_have_value("43.3")
        check_page(carol, label="request form with a point error at 360 px")
        expect(carol.locator("#error-summary a")).to_have_attribute("href", "#point_lat")  # the point's first input

        carol.fill("#point_lat", "39.9")
        carol.get_by_label("Longitude, e.g. 76.95").focus()
        carol.keyboard.type("116.4")
        with carol.expect_navigation():
            carol.keyboard.press("Enter")
        expect(carol.locator("#point-error")).to_contain_text("The point 39.9, 116.4 is not in KZ")
        check_page(carol, label="request form with a point outside the member at 360 px")
        assert not Record.objects.filter(kind="assistance_request").exists()

        carol.fill("#point_lat", "43.3")
        carol.fill("#point_lon", "68.25")
        with carol.expect_navigation():
            carol.locator("#point_lon").press("Enter")
        expect(carol.locator(".request-point")).to_have_text("43.3, 68.25")
        check_page(carol, label="request page with a point at 360 px")

        request = Record.objects.get(kind="assistance_request")
        offer = assist_actions.make_offer(request.uuid, acting_user=world.alice, quantity=6000)
        assist_actions.accept(offer.record_uuid, acting_user=world.carol, quantity=6000)
        alice.goto(f"{live_server.url}/assistance/offers/{offer.record_uuid}/deploy/?request={request.uuid}")
        expect(alice.locator("#point_lat")).to_have_value("43.3")  # the request's point
        expect(alice.locator("#point_lon")).to_have_value("68.25")
        check_page(alice, label="deploy form with the request's point")
        alice.fill("#contact_name", "Wang Li")
        alice.fill("#point_lat", "43.2975")
        with alice.expect_navigation():
            alice.locator("#point_lat").press("Enter")
        expect(alice.locator(".deployment-point")).to_have_text("43.2975, 68.25")
        check_page(alice, label="deployment page with a point")
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
