"""Log-in throttling and two-factor authentication in a real browser (Chromium through Playwright), with the
keyboard only, at 360 px width: set-up with a code computed from the key the page shows, log-in with a code,
a wrong code refused, a recovery code, and the lockout message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, World
from tests.members.support import totp
from tests.web.conftest import PNG_SIGNATURE

pytestmark = pytest.mark.browser


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 740})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def accounts_world(transactional_db: None, world: World, settings: Any) -> World:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    settings.ACCORD_2FA_REQUIRED_ROLES = ["focal_point", "coordinator", "admin"]
    settings.ACCORD_LOGIN_FAILURE_LIMIT = 3
    settings.ACCORD_LOGIN_COOLOFF_MINUTES = 15
    return world


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll at 360 px"


def type_into_focused_field(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def password_step(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.focus("#id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element is focused (fails if the keyboard cannot reach it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_set_up_then_log_in_with_a_code_and_with_a_recovery_code(
    accounts_world: World, live_server: LiveServer, narrow: Page, tmp_path: Path
) -> None:
    page, base = narrow, live_server.url
    # alice is a focal point, and her role requires 2FA: after the password comes the set-up page.
    password_step(page, base, "alice")
    assert page.url.startswith(f"{base}/account/two-factor/")
    expect(page.locator("h1")).to_have_text("Set up two-factor authentication")
    expect(page.locator("figure.qr svg")).to_be_visible()
    fits(page)
    screenshot = tmp_path / "two-factor-setup.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    # Nothing else opens before set-up is done.
    page.goto(f"{base}/records/")
    assert page.url.startswith(f"{base}/account/two-factor/")
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    assert secret
    tab_to(page, "#id_code")
    type_into_focused_field(page, "000000")
    expect(page.locator("#code-error")).to_contain_text("The code is not correct")
    tab_to(page, "#id_code")
    with page.expect_navigation():
        type_into_focused_field(page, totp(secret))
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    fits(page)
    tab_to(page, "#continue-link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/records/"  # where the account was going when set-up was asked

    # Log out, then log in again: the code step, a wrong code refused, then the right one.
    tab_to(page, "form.account button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    password_step(page, base, "alice")
    assert page.url.startswith(f"{base}/login/code/")
    expect(page.locator("h1")).to_have_text("Two-factor code")
    fits(page)
    type_into_focused_field(page, "123456")  # the code field has the focus
    expect(page.locator("#code-error")).to_contain_text("The code is not correct")
    page.focus("#id_code")
    with page.expect_navigation():
        type_into_focused_field(page, totp(secret, ahead=1))
    assert page.url == f"{base}/"  # the desk, the home page after log-in

    # A recovery code works once.
    page.click("form.account button")
    password_step(page, base, "alice")
    with page.expect_navigation():
        type_into_focused_field(page, codes[0])
    assert page.url == f"{base}/"  # the desk, the home page after log-in
    page.click("form.account button")
    password_step(page, base, "alice")
    type_into_focused_field(page, codes[0])
    expect(page.locator("#code-error")).to_contain_text("The code is not correct")
    assert page.url.startswith(f"{base}/login/code/")

    # The settings page shows what is left, at 360 px too.
    page.focus("#id_code")
    with page.expect_navigation():
        type_into_focused_field(page, codes[1])
    page.goto(f"{base}/account/two-factor/")
    expect(page.locator("main")).to_contain_text("You have 8 unused recovery codes.")
    fits(page)


def test_the_lockout_message_says_until_when(accounts_world: World, live_server: LiveServer, narrow: Page) -> None:
    page, base = narrow, live_server.url
    for _ in range(2):
        password_step(page, base, "dave", "not-the-password")
        expect(page.locator("p.error")).to_contain_text("The username or password is not correct")
    password_step(page, base, "dave", "not-the-password")
    locked = page.locator("#login-locked")
    expect(locked).to_contain_text("Too many failed log-ins")
    expect(locked).to_contain_text("Try again in 15 minutes, after")
    fits(page)
    password_step(page, base, "dave")
    expect(page.locator("#login-locked")).to_be_visible()
    assert page.url == f"{base}/login/"
