"""Accessibility of every main page: axe-core finds no serious or critical violation, at desktop width and at
360 px, and no page scrolls sideways at 360 px (tests/web/a11y.py; pages are listed in tests/web/demo_site.py)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import Site, Visit, build_site, log_in

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


# The languages besides English. In the suite each main page is checked in one of them, in turn, at 360 px (so every
# language is checked on five or six pages, right to left for Urdu and Persian), and the pages a focal point opens
# most in all ten. ACCORD_A11Y_LANGUAGES=all (`make a11y-all`) checks every main page in every language.
LANGUAGES = ("zh-hans", "ru", "kk", "ky", "tg", "uz", "hi", "ur", "fa", "be")
MOST_USED = ("my desk", "map", "alert", "alert composer", "incident")


def _in_languages(visits: list[Visit]) -> list[tuple[Visit, str]]:
    if os.environ.get("ACCORD_A11Y_LANGUAGES") == "all":
        return [(visit, language) for language in LANGUAGES for visit in visits]
    chosen = [(visit, LANGUAGES[index % len(LANGUAGES)]) for index, visit in enumerate(visits)]
    chosen += [(visit, language) for visit in visits if visit.name in MOST_USED for language in LANGUAGES]
    return sorted(set(chosen), key=lambda pair: (pair[0].username or "", pair[1], pair[0].path))


def test_every_main_page_passes_axe_and_fits_in_the_other_languages(
    site: Site, live_server: LiveServer, browser: Browser
) -> None:
    from django.conf import settings

    visits = site.main_pages()
    assert {v.name for v in visits} >= set(MOST_USED)
    context = browser.new_context(locale="en-US", viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    failures: list[str] = []
    try:
        page = context.new_page()
        current: str | None = "nobody yet"
        for visit, language in _in_languages(visits):
            if visit.username != current:
                page.goto("about:blank")
                context.clear_cookies()
                if visit.username is not None:
                    log_in(page, live_server.url, visit.username)
                current = visit.username
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
            response = page.goto(live_server.url + visit.path)
            assert response is not None and response.status == 200, (language, visit.name)
            assert page.locator("html").get_attribute("lang") == language, (language, visit.name)
            try:
                check_page(page, label=f"{visit.name} ({visit.path}) in {language} at 360 px")
            except AssertionError as error:
                failures.append(str(error))
        assert not failures, "\n\n".join(failures)
    finally:
        context.close()
