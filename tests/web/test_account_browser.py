"""The account pages in a real browser (Debian's Chromium through Playwright, against the live server):
API tokens created and revoked with the keyboard only, the profile's language and password, an administrator
who creates and disables an account, and a password reset through a real SMTP server. Every page is checked
at 360 px for horizontal scrolling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.members import actions as member_actions
from accord.members.models import Account
from tests.conftest import PASSWORD, World
from tests.notify.support import Mailbox, send_mail_to, smtp_server, text_of

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a-new-and-long-passphrase"


@pytest.fixture
def admin(transactional_db: None, world: World) -> Account:
    """Made before the browser starts (see tests/web/test_browser.py)."""
    return member_actions.create_account(
        username="root",
        organisation=world.secretariat,
        roles=["admin"],
        email="root@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server; the task that sends the mail runs right after the live server's commit."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    with smtp_server() as box:
        yield send_mail_to(settings, box)


def _log_in(page: Page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def _no_sideways_scroll(page: Page, label: str) -> None:
    """At 360 px wide, the page is no wider than the window."""
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{label}: the page is {widths[0]} px wide in a {widths[1]} px window"
    finally:
        if size is not None:
            page.set_viewport_size(size)


def _tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement !== null && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_tokens_are_created_and_revoked_with_the_keyboard_only(
    world: World, live_server: LiveServer, page: Page
) -> None:
    url = live_server.url
    page.goto(f"{url}/login/")
    _tab_to(page, "#id_username")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{url}/"  # the desk, the home page after log-in

    _tab_to(page, "header nav a[href='/account/tokens/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("My API tokens")
    expect(page.locator("#token-list")).to_contain_text("You have no API tokens.")
    _no_sideways_scroll(page, "tokens, empty")

    _tab_to(page, "#id_name")
    page.keyboard.type("Nightly export")
    page.keyboard.press("Tab")  # the scope: read is chosen; one down is "Read and write"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Token created")
    secret = page.locator("#token-secret").inner_text().strip()
    assert re.fullmatch(r"accord_[0-9a-f]{12}\.[A-Za-z0-9_-]+", secret), secret
    _no_sideways_scroll(page, "token created")

    api = page.request.get(f"{url}/api/v1/records", headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 200

    _tab_to(page, "a.button.primary[href='/account/tokens/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    prefix = secret[len("accord_") :].split(".", 1)[0]
    row = page.locator(f"tr[data-prefix='{prefix}']")
    expect(row).to_contain_text("Nightly export")
    expect(row).to_contain_text("Read and write")
    expect(row).to_contain_text("Active")
    assert secret not in page.content()
    _no_sideways_scroll(page, "tokens, one")

    _tab_to(page, f"tr[data-prefix='{prefix}'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("ul.messages")).to_contain_text(f"The token {prefix} is revoked.")
    expect(row).to_contain_text("Revoked")
    assert page.request.get(f"{url}/api/v1/records", headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_the_profile_changes_the_language_time_zone_and_password(
    world: World, live_server: LiveServer, page: Page, browser: Browser
) -> None:
    url = live_server.url
    _log_in(page, url, "alice")
    with page.expect_navigation():
        page.get_by_role("link", name="My profile").click()
    expect(page.locator("h1")).to_have_text("My profile")
    expect(page.locator("#two-factor h2")).to_have_text("Two-factor authentication")
    _no_sideways_scroll(page, "profile")

    page.select_option("#id_language", "ru")
    page.fill("#id_time_zone", "Asia/Almaty")
    with page.expect_navigation():
        page.get_by_role("button", name="Save language and time zone").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("h1")).to_have_text("Мой профиль")
    expect(page.locator("ul.messages")).to_contain_text("Язык и часовой пояс сохранены.")
    expect(page.locator("#preferences")).to_contain_text("Asia/Almaty")
    expect(page.locator("#language-select")).to_have_value("ru")
    _no_sideways_scroll(page, "profile in Russian")

    # A wrong time zone is refused at its field.
    page.fill("#id_time_zone", "Europe/Atlantis")
    with page.expect_navigation():
        page.get_by_role("button", name="Сохранить язык и часовой пояс").click()
    expect(page.locator("#preferences")).to_contain_text("Europe/Atlantis")
    expect(page.locator("#id_time_zone")).to_have_attribute("aria-invalid", "true")

    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Сменить пароль").click()
    expect(page.locator("ul.messages")).to_contain_text("Пароль изменён.")

    # A new browser: the old password no longer works, the new one does, and the interface is in Russian.
    context = browser.new_context(locale="en-US")
    try:
        other = context.new_page()
        _log_in(other, url, "alice")
        expect(other.locator("p.error")).to_be_visible()
        _log_in(other, url, "alice", NEW_PASSWORD)
        assert other.url == f"{url}/"  # the desk, the home page after log-in
        expect(other.locator("html")).to_have_attribute("lang", "ru")
    finally:
        context.close()


def test_an_administrator_creates_and_disables_an_account(
    admin: Account, live_server: LiveServer, page: Page, browser: Browser
) -> None:
    url = live_server.url
    _log_in(page, url, "root")
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name="Accounts").click()
    expect(page.locator("h1")).to_have_text("Accounts of this node")
    expect(page.locator("tr[data-username='alice']")).to_contain_text("cn-health")
    _no_sideways_scroll(page, "accounts")

    with page.expect_navigation():
        page.get_by_role("link", name="New account").click()
    _no_sideways_scroll(page, "new account")
    page.fill("#id_username", "kz.analyst")
    page.select_option("#id_member", "KZ")
    page.select_option("#id_organisation", "kz-health")
    page.get_by_label("Analyst").check()
    page.fill("#id_email", "analyst@example.org")
    page.get_by_label("Set an initial password now").check()
    page.fill("#id_password", "short")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the account").click()
    expect(page.locator("form.account-form")).to_contain_text("too short")
    page.fill("#id_password", "kz-analyst-passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the account").click()
    assert page.url == f"{url}/admin/accounts/kz.analyst/"
    expect(page.locator("ul.messages")).to_contain_text("The account kz.analyst is created.")
    expect(page.locator("#account-state")).to_have_text("Active")
    _no_sideways_scroll(page, "account")

    context = browser.new_context(locale="en-US")
    try:
        analyst = context.new_page()
        _log_in(analyst, url, "kz.analyst", "kz-analyst-passphrase")
        assert analyst.url == f"{url}/"  # the desk, the home page after log-in
        # Not an administrator: the accounts are not there for them.
        expect(analyst.locator("header nav")).not_to_contain_text("Accounts")
        response = analyst.goto(f"{url}/admin/accounts/")
        assert response is not None and response.status == 403

        with page.expect_navigation():
            page.get_by_role("button", name="Disable the account").click()
        expect(page.locator("#account-state")).to_have_text("Disabled")
        expect(page.locator("ul.messages")).to_contain_text("is disabled")

        # The disabled account's session ends, and it cannot log in again.
        analyst.goto(f"{url}/records/")
        assert "/login/" in analyst.url
        _log_in(analyst, url, "kz.analyst", "kz-analyst-passphrase")
        expect(analyst.locator("p.error")).to_be_visible()
    finally:
        context.close()

    # The administrator cannot disable themselves: the button is not offered, and the request is refused.
    page.goto(f"{url}/admin/accounts/root/")
    expect(page.get_by_role("button", name="Disable the account")).to_have_count(0)


def test_a_password_reset_through_a_real_smtp_server(
    world: World, mailbox: Mailbox, live_server: LiveServer, page: Page
) -> None:
    url = live_server.url
    page.goto(f"{url}/account/password-reset/")
    expect(page.locator("h1")).to_have_text("Forgotten password")
    _no_sideways_scroll(page, "forgotten password")
    page.fill("#id_email", "carol@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the link").click()
    expect(page.locator("h1")).to_have_text("Check your mail")

    [message] = mailbox.to("carol@example.org")
    found = re.search(r"(http://\S+/account/reset/\S+/)", text_of(message))
    assert found is not None
    link = found.group(1)
    assert link.startswith(url)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    _no_sideways_scroll(page, "choose a new password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Set the password").click()
    expect(page.locator("h1")).to_have_text("Password set")

    page.goto(link)
    expect(page.locator("#invalid-link")).to_be_visible()

    _log_in(page, url, "carol", NEW_PASSWORD)
    assert page.url == f"{url}/"  # the desk, the home page after log-in
