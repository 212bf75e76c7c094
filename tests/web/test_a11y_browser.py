"""Accessibility of every main page: axe-core finds no serious or critical violation, at desktop width and at
360 px, and no page scrolls sideways at 360 px (tests/web/a11y.py; pages are listed in tests/web/demo_site.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import Site, build_site, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def site(transactional_db: None) -> Site:
    return build_site()


@pytest.mark.parametrize("viewport", [DESKTOP, NARROW], ids=["desktop", "360px"])
def test_every_main_page_passes_axe_and_fits(
    site: Site, live_server: LiveServer, browser: Browser, viewport: dict[str, int]
) -> None:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        current: str | None = None
        failures: list[str] = []
        for visit in site.main_pages():
            if visit.username != current:
                # Leave the page first: a request of the last one still running would bring back its cookies.
                page.goto("about:blank")
                context.clear_cookies()
                if visit.username is not None:
                    log_in(page, live_server.url, visit.username)
                current = visit.username
            response = page.goto(live_server.url + visit.path)
            assert response is not None and response.status == 200, visit.name
            try:
                check_page(page, label=f"{visit.name} ({visit.path}) at {viewport['width']} px")
            except AssertionError as error:
                failures.append(str(error))
        assert not failures, "\n\n".join(failures)
    finally:
        context.close()


# The languages besides English: every one of them is checked on the pages a focal point opens most, at 360 px
# (right to left for Urdu and Persian). The full list of pages runs in English above.
LANGUAGES = ("zh-hans", "ru", "kk", "ky", "tg", "uz", "hi", "ur", "fa", "be")


def test_the_pages_most_used_pass_axe_and_fit_in_every_language(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    from django.conf import settings
    from django.urls import reverse

    paths = [
        reverse("home"),
        reverse("map"),
        reverse("search") + "?q=cholera",
        reverse("alerts"),
        reverse("alert", args=[site.alert_uuid]),
        reverse("alert-new"),
        reverse("incident", args=[site.incident_uuid]),
        reverse("profile"),
    ]
    context = browser.new_context(locale="en-US", viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    failures: list[str] = []
    try:
        page = context.new_page()
        log_in(page, live_server.url, "kz.health")
        for language in LANGUAGES:
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
            for path in paths:
                response = page.goto(live_server.url + path)
                assert response is not None and response.status == 200, (language, path)
                assert page.locator("html").get_attribute("lang") == language, (language, path)
                try:
                    check_page(page, label=f"{path} in {language} at 360 px")
                except AssertionError as error:
                    failures.append(str(error))
        assert not failures, "\n\n".join(failures)
    finally:
        context.close()
