"""The Content-Security-Policy in a real browser: every main page loads without one violation, and what the pages
do with scripts still works under it (the maps, the composer, the charts, the language chooser, the live banner,
the API documentation).

Violations are caught two ways: a `securitypolicyviolation` listener installed before any script of the page runs,
and Chromium's console messages about the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Route, expect
from pytest_django.live_server_helper import LiveServer

from tests.web.demo_site import Site, build_site, log_in

pytestmark = pytest.mark.browser

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def site(transactional_db: None) -> Site:
    return build_site()


class Watched:
    """A browser context whose pages report CSP violations and script errors."""

    def __init__(self, browser: Browser) -> None:
        self.context: BrowserContext = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(LISTEN)
        self.problems: list[str] = []
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"console: {message.text}")

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("() => window.__cspViolations || []")
        return found + self.problems


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.context.close()


def test_every_main_page_loads_without_a_csp_violation_and_still_works(
    site: Site, live_server: LiveServer, watched: Watched
) -> None:
    page = watched.page
    current: str | None = None
    seen: dict[str, list[str]] = {}
    for visit in site.main_pages():
        if visit.username != current:
            # Leave the page first: a request of the last one still running would bring back its cookies.
            page.goto("about:blank")
            watched.context.clear_cookies()
            if visit.username is not None:
                log_in(page, live_server.url, visit.username)
            current = visit.username
        if visit.name == "records":
            # The live banner's script runs and opens its stream (EventSource to this node: connect-src 'self').
            with page.expect_request(lambda request: "/api/v1/stream" in request.url):
                response = page.goto(live_server.url + visit.path)
        else:
            response = page.goto(live_server.url + visit.path)
        assert response is not None and response.status == 200, f"{visit.name}: {response and response.status}"
        assert "script-src 'self' 'nonce-" in (response.headers.get("content-security-policy") or "")
        if visit.name == "alert":
            expect(page.locator("#alert-map")).to_have_attribute("data-ready", "true")
            expect(page.locator("#alert-map .leaflet-overlay-pane path").first).to_be_attached()
        if visit.name == "alert composer":
            expect(page.locator("#compose-map")).to_have_attribute("data-ready", "true")
            page.click("#add-info")
            expect(page.locator("#infos .info-block")).to_have_count(2)
        if visit.name == "series":
            expect(page.locator("svg.series-chart rect.bar").first).to_be_visible()
        seen[visit.name] = watched.violations()
        watched.problems.clear()
    broken = {name: found for name, found in seen.items() if found}
    assert not broken, broken


def test_the_language_chooser_works_without_an_inline_handler(
    site: Site, live_server: LiveServer, watched: Watched
) -> None:
    page = watched.page
    log_in(page, live_server.url, "kz.health")
    page.goto(f"{live_server.url}/records/")
    with page.expect_navigation():
        page.select_option("#language-select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Записи")
    assert watched.violations() == []


def test_the_api_documentation_runs_under_the_policy_with_no_network_but_this_node(
    live_server: LiveServer, watched: Watched
) -> None:
    """A node may have no internet: with every request to anything but this node refused, the documentation
    still renders its operations (Swagger UI and the schema come from this node, not from a CDN)."""
    page = watched.page
    outside: list[str] = []

    def only_here(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    watched.context.route("**/*", only_here)
    response = page.goto(f"{live_server.url}/api/v1/docs")
    assert response is not None and response.status == 200
    # Swagger UI renders the whole document in the page: on a busy machine that takes more than the default 5 s.
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=30_000)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    expect(page.locator(".swagger-ui .opblock-summary-path", has_text="/api/v1/alerts").first).to_be_visible()
    assert outside == []
    assert watched.violations() == []
