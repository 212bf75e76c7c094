"""The desk, the map and the search in Chromium: a demo focal point's real items, one-click acknowledgement, the
count in the navigation bar, the map's layers and list, the search box, and a right-to-left (Urdu) page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tests.web.a11y import NARROW, check_page
from tests.web.demo_site import Site, build_site, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(transactional_db: None) -> Site:
    return build_site()


def test_the_desk_lists_real_items_and_acknowledges_in_one_click(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kg.health")
        assert page.url == live_server.url + "/"  # the desk is the home page after login
        group = page.locator("#desk-acknowledgements")
        expect(group.locator("li.desk-item")).to_have_count(3)  # the demo's two alerts and the site's own
        expect(group.locator("li.is-overdue")).to_have_count(1)
        expect(group.locator("li.is-overdue")).to_contain_text("Flooding in the Kashgar prefecture")
        expect(group.locator("li.is-overdue")).to_contain_text("Overdue")  # in words, not only in colour
        expect(page.locator("#desk-tasks li.desk-item")).to_have_count(1)
        badge = page.locator("[data-desk-total]")
        expect(badge).to_be_visible()
        total = int(badge.inner_text())
        assert total >= 5
        cholera = group.locator("li.desk-item", has_text="Cholera in the Turkistan region")
        with page.expect_navigation():
            cholera.get_by_role("button", name="Acknowledge receipt").click()
        expect(page.locator(".message.success")).to_contain_text("acknowledgement is recorded")
        page.goto(live_server.url + "/desk/")
        expect(page.locator("#desk-acknowledgements li.desk-item")).to_have_count(2)
        expect(page.locator("[data-desk-total]")).to_have_text(str(total - 1))
    finally:
        context.close()


def test_the_map_shows_every_layer_filters_and_lists_what_is_in_view(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kz.health")
        page.goto(live_server.url + "/map/")
        expect(page.locator("#cop-map")).to_have_attribute("data-ready", "true")
        items = page.locator("[data-cop-list] li")
        expect(items).to_have_count(6)  # three alerts, the incident, the signal and the deployment
        for kind in ("alert", "incident", "signal", "deployment"):
            assert items.and_(page.locator(f".cop-{kind}")).count() >= 1, kind
        expect(page.locator(".cop-alert").first).to_contain_text(re.compile("Severe|Moderate"))
        page.get_by_label("Alerts").uncheck()
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#cop-map")).to_have_attribute("data-ready", "true")
        expect(items).to_have_count(3)
        expect(page.locator("[data-geojson-link]")).to_have_attribute("href", re.compile("kind=incident%2Csignal"))
        # keyboard only: every marker is a focusable button with a name; Enter on a dot opens its popup
        markers = page.locator("#cop-map .cop-dot, #cop-map .cop-cluster")
        assert markers.count() >= 1
        for index in range(markers.count()):
            marker = markers.nth(index)
            expect(marker).to_have_attribute("tabindex", "0")
            expect(marker).to_have_attribute("aria-label", re.compile(r"\w"))
        dots = page.locator("#cop-map .cop-dot")
        assert dots.count() >= 1
        dots.first.focus()
        page.keyboard.press("Enter")
        expect(page.locator(".leaflet-popup-content a")).to_have_count(1)
        # keyboard only: from the list, Enter opens the item's page
        link = page.locator(".cop-incident a").first
        link.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/incidents/" in page.url
    finally:
        context.close()


def test_the_search_box_finds_an_inflected_word_with_highlights(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kz.health")
        page.get_by_role("searchbox", name="Search all records").fill("холеры")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        results = page.locator("ol.search-results > li")
        expect(results.first).to_contain_text("Холера")
        expect(results.first.locator("mark").first).to_have_text(re.compile("^[Хх]олер"))
        expect(page.locator(".facets")).to_contain_text("Alert")
        page.goto(live_server.url + "/search/?q=zzzz")
        expect(page.locator("p.empty")).to_contain_text("No record you may see matches")
    finally:
        context.close()


def test_an_urdu_page_is_right_to_left_and_accessible_at_360_px(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(locale="en-US", viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kz.health")
        with page.expect_navigation():
            page.select_option("#language-select", "ur")
        html = page.locator("html")
        expect(html).to_have_attribute("dir", "rtl")
        expect(html).to_have_attribute("lang", "ur")
        check_page(page, label="the desk in Urdu at 360 px")
        page.goto(live_server.url + "/map/")
        expect(page.locator("#cop-map")).to_have_attribute("data-ready", "true")
        check_page(page, label="the map in Urdu at 360 px")
        page.goto(live_server.url + "/alerts/new/")
        check_page(page, label="the composer in Urdu at 360 px")
    finally:
        context.close()
