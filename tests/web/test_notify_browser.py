"""The notification pages in a real browser: the live banner (an alert published in another session appears
on every open page of the people in its audience, in their language, and on nobody else's), and managing a
webhook channel and a subscription (the test notification reaches a real local receiver).

Drives the system Chromium (/usr/bin/chromium) through Playwright. The pages are served by uvicorn in a
thread (tests/notify/asgi_server.py), as `accord serve` serves them: the live stream needs ASGI, while
pytest-django's `live_server` is WSGI. The accounts exist before the browser starts; the alert is published by
sam in his own browser session, through the JSON API with his session cookie and CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accord.notify import stream
from accord.notify.models import Channel, Subscription
from tests.conftest import PASSWORD, World
from tests.notify.asgi_server import AsgiServer, asgi_server
from tests.notify.support import verify, webhook_receiver
from tests.web.conftest import PNG_SIGNATURE

pytestmark = pytest.mark.browser

HEADLINE = "Cholera cases in Turkistan region"
RUSSIAN_HEADLINE = "Холера в Туркестанской области"


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    """carol and dave (KZ) are in the alert's audience, alice (CN) is not; sam (Secretariat) publishes."""
    return world


@pytest.fixture
def server(people: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[AsgiServer]:
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.2)
    with asgi_server() as running:
        yield running


def _context(browser: Browser, locale: str = "en-US") -> BrowserContext:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context


def _log_in(page: Page, server: AsgiServer, username: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def _live(page: Page) -> None:
    """Wait until the page's banner script reads the stream (or waits for the tab that does)."""
    expect(page.locator("#live-banner")).to_have_attribute("data-live", "open")


PUBLISH = """async ([headline, russian]) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).split("=")[1];
  const info = (language, text) => ({
    language, category: ["Health"], event: "Cholera outbreak", urgency: "Immediate", severity: "Severe",
    certainty: "Observed", headline: text,
    area: [{areaDesc: "Turkistan region", polygon: ["43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0"]}],
  });
  const answer = await fetch("/api/v1/alerts", {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
    body: JSON.stringify({cap: {info: [info("en-US", headline), info("ru-RU", russian)]},
                          audience: {members: ["KZ"]}, tlp: "AMBER"}),
  });
  return [answer.status, await answer.json()];
}"""


def test_the_banner_appears_on_every_open_page_of_the_audience(
    people: World, server: AsgiServer, browser: Browser, tmp_path: Path
) -> None:
    carol_context = _context(browser)
    dave_context = _context(browser, "ru-RU")
    alice_context = _context(browser)
    sam_context = _context(browser)
    try:
        errors: list[str] = []
        # carol has two tabs open: the alert list and the records list.
        carol = carol_context.new_page()
        carol.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(carol, server, "carol")
        carol.goto(f"{server.url}/alerts/")
        carol_records = carol_context.new_page()
        carol_records.on("pageerror", lambda error: errors.append(str(error)))
        carol_records.goto(f"{server.url}/records/")
        dave = dave_context.new_page()
        _log_in(dave, server, "dave")
        alice = alice_context.new_page()
        _log_in(alice, server, "alice")
        for page in (carol, dave, alice):
            _live(page)
            expect(page.locator("#live-banner")).to_be_hidden()
        # One tab of carol's reads the stream; the other waits for the lock and hears it from the first.
        expect(carol_records.locator("#live-banner")).to_have_attribute("data-live", "waiting")

        # dave is on his desk (the home page after log-in): nothing waits for him yet.
        assert dave.url == f"{server.url}/"
        expect(dave.locator("[data-desk-total]")).to_be_hidden()
        expect(dave.locator("p.empty")).to_be_visible()

        sam = sam_context.new_page()
        _log_in(sam, server, "sam")
        status, published = sam.evaluate(PUBLISH, [HEADLINE, RUSSIAN_HEADLINE])
        assert status == 201, published
        record = published["alert"]["uuid"]

        for page in (carol, carol_records):
            banner = page.locator("#live-banner")
            expect(banner).to_be_visible()
            item = banner.locator(f'.live-item[data-record="{record}"]')
            expect(item).to_have_count(1)
            expect(item.locator(".live-label")).to_have_text("New alert")
            expect(item.locator(".live-link")).to_have_text(HEADLINE)
            expect(item.locator(".live-meta")).to_contain_text("Severe")
            expect(item.locator(".live-meta")).to_contain_text("Turkistan region")
            expect(item).to_have_class("live-item sev-severe")
        # dave reads Russian: the headline of the Russian info block, the label translated.
        dave_item = dave.locator(f'#live-banner .live-item[data-record="{record}"]')
        expect(dave_item.locator(".live-link")).to_have_text(RUSSIAN_HEADLINE)
        expect(dave_item.locator(".live-label")).to_have_text("Новое оповещение")
        # ... and his desk counts the acknowledgement now due from Kazakhstan, without a reload.
        expect(dave.locator("[data-desk-total]")).to_have_text("1")
        expect(dave.locator("#desk-acknowledgements li.desk-item")).to_have_count(1)
        expect(dave.locator("#desk-acknowledgements")).to_contain_text(RUSSIAN_HEADLINE.split(maxsplit=1)[0])
        shot = tmp_path / "banner.png"
        carol.screenshot(path=str(shot))
        assert shot.read_bytes().startswith(PNG_SIGNATURE)

        # The link opens the alert; the banner is dismissed with its button.
        carol_records.locator(".live-item .live-dismiss").click()
        expect(carol_records.locator("#live-banner")).to_be_hidden()
        with carol.expect_navigation():
            carol.locator(".live-item .live-link").click()
        expect(carol.locator("h1")).to_have_text(HEADLINE)

        # alice (CN) is outside the audience: no banner, though her page reads the stream all along.
        _live(alice)
        expect(alice.locator("#live-banner")).to_be_hidden()
        expect(alice.locator(".live-item")).to_have_count(0)
        assert errors == []
    finally:
        for context in (carol_context, dave_context, alice_context, sam_context):
            context.close()


def test_a_webhook_channel_is_added_and_tested_and_a_subscription_made_and_removed(
    people: World, server: AsgiServer, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    context = _context(browser)
    try:
        with webhook_receiver() as receiver:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            _log_in(page, server, "carol")
            page.goto(f"{server.url}/notifications/")

            page.select_option("#id_kind", "webhook")
            page.fill("#id_target", receiver.url("/hooks/carol"))
            page.fill("#id_name", "Duty desk hook")
            with page.expect_navigation():
                page.click("form.channel-form button[type=submit]")
            secret = page.locator("#webhook-secret").inner_text().strip()
            assert secret.startswith("whsec_")
            with page.expect_navigation():
                page.click("text=Back to notifications")
            channel_row = page.locator("#channels tr.channel")
            expect(channel_row).to_have_count(1)
            expect(channel_row).to_contain_text("Duty desk hook")

            with page.expect_navigation():
                channel_row.locator("button.test-channel").click()
            expect(page.locator(".message.success")).to_contain_text("Test notification sent to")
            [received] = receiver.wait_for(1, "/hooks/carol")
            assert verify(received, secret)["type"] == "test"

            with page.expect_navigation():
                page.click("#subscriptions >> text=New subscription")
            page.fill("#id_name", "Cholera in the region")
            page.locator("#fieldset-channels label", has_text="Duty desk hook").locator("input").check()
            with page.expect_navigation():
                page.click("form.subscription-form button[type=submit]")
            row = page.locator("#subscriptions tr.subscription")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("Cholera in the region")
            expect(row).to_contain_text("Duty desk hook")
            subscription = Subscription.objects.get(account=people.carol)
            assert list(subscription.channels.values_list("name", flat=True)) == ["Duty desk hook"]

            with page.expect_navigation():
                row.locator("button", has_text="Delete").click()
            expect(page.locator(".message.success")).to_contain_text("The subscription is removed.")
            expect(page.locator("#subscriptions tr.subscription")).to_have_count(0)
            assert not Subscription.objects.exists()
            # The channel stays: on the pages, channels are removed on their own.
            expect(page.locator("#channels tr.channel")).to_have_count(1)
            assert Channel.objects.filter(account=people.carol).count() == 1
            assert errors == []
    finally:
        context.close()
