"""What joins the account pages to log-in throttling and two-factor authentication: an administrator unlocks a
log-in and resets a lost authenticator from the account's page; the profile links to two-factor set-up; the login
page links to the forgotten-password page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.members import actions as member_actions
from accord.members import twofactor
from accord.members.models import Account
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World, client_for
from tests.members.support import totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(world: World) -> Account:
    return member_actions.create_account(
        username="ada", organisation=world.secretariat, roles=["admin"], password=PASSWORD, acting_user=None
    )


def _fail(username: str, times: int) -> None:
    for _ in range(times):
        Client(REMOTE_ADDR="203.0.113.9").post("/login/", {"username": username, "password": "not the password"})


def test_an_administrator_unlocks_a_locked_log_in_from_the_account_page(
    world: World, admin: Account, settings: Any
) -> None:
    settings.ACCORD_LOGIN_FAILURE_LIMIT = 3
    _fail("carol", 3)
    web = client_for(admin)
    page = web.get("/admin/accounts/carol/").content.decode()
    assert "Log-in is locked after too many wrong passwords" in page and "Unlock the log-in" in page
    assert web.post("/admin/accounts/carol/unlock/").status_code == 302
    assert "log-in is not locked" in web.get("/admin/accounts/carol/").content.decode()
    assert AuditEntry.objects.filter(action="account.unlock", actor=admin.uuid).exists()
    assert Client().login(username="carol", password=PASSWORD)
    # Only administrators unlock.
    assert client_for(world.carol).post("/admin/accounts/alice/unlock/").status_code == 403


def test_an_administrator_resets_a_lost_authenticator(world: World, admin: Account) -> None:
    device = twofactor.begin_setup(world.carol, acting_user=world.carol)
    twofactor.confirm_setup(world.carol, totp(twofactor.secret_of(device)), acting_user=world.carol)
    web = client_for(admin)
    assert "Two-factor authentication is on." in web.get("/admin/accounts/carol/").content.decode()
    assert client_for(world.alice).post("/admin/accounts/carol/two-factor/").status_code == 403
    assert TOTPDevice.objects.filter(user=world.carol, confirmed=True).exists()
    assert web.post("/admin/accounts/carol/two-factor/").status_code == 302
    assert not TOTPDevice.objects.filter(user=world.carol).exists()
    assert "Two-factor authentication is off." in web.get("/admin/accounts/carol/").content.decode()


def test_the_profile_links_to_two_factor_set_up_and_the_login_page_to_a_password_reset(world: World) -> None:
    profile = client_for(world.carol).get("/account/").content.decode()
    assert 'href="/account/two-factor/"' in profile and "Two-factor authentication is off." in profile
    login = Client().get("/login/").content.decode()
    assert 'href="/account/password-reset/"' in login
