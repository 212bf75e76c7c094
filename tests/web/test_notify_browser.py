"""The live banner in a real browser: an alert published in another session appears on every open page of
the people in its audience, in their language, and on nobody else's.

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
from tests.conftest import PASSWORD, World
from tests.notify.asgi_server import AsgiServer, asgi_server
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
