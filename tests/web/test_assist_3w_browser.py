"""The 3W page (who does what where) in a real browser, on the demo data (Uzbekistan's PCR tests deployed to
Turkistan Region for Kazakhstan): the map is drawn in the page with a dot for the deployment and the outlines
around it, it fits 360 px (the map shrinks, the table scrolls in its own box), axe-core finds nothing serious at
either width, and the deployment's number leads to its page. Drives the system Chromium through Playwright against
pytest-django's live server."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import Site, build_site, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(transactional_db: None) -> Site:
    return build_site()


@pytest.mark.parametrize("viewport", [DESKTOP, NARROW], ids=["desktop", "360px"])
def test_the_3w_page_shows_its_map_and_table(
    site: Site, live_server: LiveServer, browser: Browser, viewport: dict[str, int]
) -> None:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kz.health")
        page.goto(live_server.url + reverse("assist-board", args=[site.incident_uuid]))
        page.click("#deployments-link")
        expect(page.locator("h1")).to_have_text("Who does what where: deployments")
        check_page(page, label=f"3W page at {viewport['width']} px")
        drawing = page.locator("svg.deployment-map")
        expect(drawing).to_be_visible()
        assert drawing.get_attribute("role") == "img"
        assert drawing.locator("g.deployment").count() == 1 == page.locator("table.deployments tbody tr").count()
        box = drawing.bounding_box()
        assert box is not None and box["width"] <= viewport["width"] and box["height"] > 100
        expect(page.locator("table.deployments")).to_contain_text("Turkistan Region (KZ-61)")
        expect(page.locator("table.deployments")).to_contain_text("Arrived")
        page.get_by_role("link", name="Deployment 1").click()
        expect(page.locator("h1")).to_contain_text("Deployment")
    finally:
        context.close()
