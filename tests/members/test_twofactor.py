"""Two-factor authentication with TOTP (django-otp): set-up, log-in with a code, recovery codes, the roles that
require it, turning it off, and the administrator's reset."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.cli import main
from accord.members import twofactor
from accord.members.models import Account, NodeIdentity
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.members.support import totp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle(settings: Any) -> None:
    # django-otp makes a device wait after a wrong code (1 s, doubling); these tests type the right code at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def set_up(client: Client) -> tuple[str, list[str]]:
    """Set up 2FA on the settings page as a person would; returns the key shown and the recovery codes."""
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.content.decode())
    assert secret, "the set-up page shows the key"
    done = client.post("/account/two-factor/", {"action": "confirm", "code": totp(secret.group(1))})
    assert done.status_code == 302
    shown = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", shown)
    assert len(codes) == 10
    return secret.group(1), codes


def password_step(username: str, next_url: str = "/alerts/") -> tuple[Client, Any]:
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD, "next": next_url})
    return client, response


def test_set_up_shows_the_key_a_qr_code_and_the_recovery_codes_once(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    page = client.get("/account/two-factor/").content.decode()
    node = NodeIdentity.objects.get()
    label = quote(f"Accord ({node.name}):alice")
    assert f"otpauth://totp/{label}?secret=" in page and f"&amp;issuer={quote(f'Accord ({node.name})')}" in page
    assert "<svg" in page and "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page)
    assert secret
    wrong = client.post("/account/two-factor/", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400 and "The code is not correct" in wrong.content.decode()
    assert not twofactor.is_enabled(world.alice)
    done = client.post("/account/two-factor/", {"action": "confirm", "code": totp(secret.group(1))})
    assert done.status_code == 302
    first = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", first)
    assert len(codes) == 10 and len(set(codes)) == 10
    again = client.get("/account/two-factor/").content.decode()
    assert not re.findall(r"<li><code>", again) and "10 unused recovery codes" in again
    assert twofactor.is_enabled(world.alice)
    actions = list(AuditEntry.objects.filter(action__startswith="account.2fa").values_list("action", flat=True))
    assert actions == ["account.2fa.begin", "account.2fa.enable"]
    # The stored key is the one shown (what the person typed into the app).
    assert twofactor.secret_of(TOTPDevice.objects.get(user=world.alice)) == secret.group(1)


def test_log_in_needs_the_code_after_the_password(world: World) -> None:
    setup_client = Client()
    setup_client.force_login(world.alice)
    secret, _codes = set_up(setup_client)
    client, response = password_step("alice", "/alerts/")
    assert response.status_code == 302 and response["Location"].startswith("/login/code/?next=")
    # Between the steps nothing else opens: pages send to the code step, the API answers as to a stranger.
    blocked = client.get("/records/")
    assert blocked.status_code == 302 and blocked["Location"].startswith("/login/code/")
    assert client.get("/api/v1/me").status_code == 401
    wrong = client.post("/login/code/", {"code": "123456", "next": "/alerts/"})
    assert wrong.status_code == 400 and "The code is not correct" in wrong.content.decode()
    right = client.post("/login/code/", {"code": totp(secret, ahead=1), "next": "/alerts/"})
    assert right.status_code == 302 and right["Location"] == "/alerts/"
    assert client.get("/records/").status_code == 200
    assert client.get("/api/v1/me").json()["username"] == "alice"


def test_a_code_is_accepted_only_once(world: World) -> None:
    setup_client = Client()
    setup_client.force_login(world.alice)
    secret, _ = set_up(setup_client)
    code = totp(secret, ahead=1)
    first, _ = password_step("alice")
    assert first.post("/login/code/", {"code": code}).status_code == 302
    second, _ = password_step("alice")
    assert second.post("/login/code/", {"code": code}).status_code == 400


def test_wrong_codes_make_the_next_try_wait(world: World, settings: Any) -> None:
    setup_client = Client()
    setup_client.force_login(world.alice)
    secret, _ = set_up(setup_client)
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    settings.OTP_STATIC_THROTTLE_FACTOR = 3600
    client, _ = password_step("alice")
    client.post("/login/code/", {"code": "123456"})
    refused = client.post("/login/code/", {"code": totp(secret, ahead=1)})
    assert refused.status_code == 400 and "Too many wrong codes" in refused.content.decode()


def test_a_recovery_code_works_once(world: World) -> None:
    setup_client = Client()
    setup_client.force_login(world.alice)
    _secret, codes = set_up(setup_client)
    client, _ = password_step("alice")
    used = client.post("/login/code/", {"code": codes[3].upper()})
    assert used.status_code == 302
    assert client.get("/records/").status_code == 200
    entry = AuditEntry.objects.get(action="account.2fa.recovery_used")
    assert entry.data == {"username": "alice", "left": 9}
    again, _ = password_step("alice")
    assert again.post("/login/code/", {"code": codes[3]}).status_code == 400
    assert StaticToken.objects.filter(device__user=world.alice).count() == 9


def test_new_recovery_codes_replace_the_old_ones(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    _secret, old = set_up(client)
    renewed = client.post("/account/two-factor/", {"action": "codes"})
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", client.get(renewed["Location"]).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other, _ = password_step("alice")
    assert other.post("/login/code/", {"code": old[0]}).status_code == 400
    assert other.post("/login/code/", {"code": new[0]}).status_code == 302
    assert AuditEntry.objects.filter(action="account.2fa.recovery_codes").count() == 1


def test_turning_it_off_needs_a_code(world: World) -> None:
    client = Client()
    client.force_login(world.alice)
    secret, _ = set_up(client)
    wrong = client.post("/account/two-factor/", {"action": "disable", "code": "999999"})
    assert wrong.status_code == 400 and twofactor.is_enabled(world.alice)
    off = client.post("/account/two-factor/", {"action": "disable", "code": totp(secret, ahead=1)})
    assert off.status_code == 302 and not twofactor.is_enabled(world.alice)
    assert AuditEntry.objects.filter(action="account.2fa.disable").count() == 1
    _plain, response = password_step("alice", "/alerts/")
    assert response["Location"] == "/alerts/"


def test_required_roles_must_set_it_up_before_anything_else(world: World, settings: Any) -> None:
    settings.ACCORD_2FA_REQUIRED_ROLES = ["focal_point", "coordinator", "admin"]
    client, response = password_step("alice", "/alerts/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/?next=")
    for path in ("/records/", "/alerts/", "/notifications/"):
        blocked = client.get(path)
        assert blocked.status_code == 302 and blocked["Location"].startswith("/account/two-factor/"), path
    assert client.get("/login/code/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401
    page = client.get(response["Location"]).content.decode()
    assert "Your roles require two-factor authentication" in page
    secret, _codes = set_up(client)
    assert client.get("/records/").status_code == 200
    # Required: no form to turn it off, and the action refuses.
    assert 'name="action" value="disable"' not in client.get("/account/two-factor/").content.decode()
    refused = client.post("/account/two-factor/", {"action": "disable", "code": totp(secret, ahead=1)})
    assert refused.status_code == 403 and twofactor.is_enabled(world.alice)
    # A viewer is not required to have it.
    viewer, response = password_step("dave", "/alerts/")
    assert response["Location"] == "/alerts/" and viewer.get("/records/").status_code == 200


SETUP = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'accord.settings'; django.setup(); "


def _settings_process(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | env
    return subprocess.run(
        [sys.executable, "-c", SETUP + code], env=environ, capture_output=True, text=True, check=False
    )


def test_production_requires_it_for_focal_points_coordinators_and_admins_by_default() -> None:
    def roles(**env: str) -> str:
        code = "from django.conf import settings; print(','.join(settings.ACCORD_2FA_REQUIRED_ROLES))"
        done = _settings_process(code, **env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    key = "k" * 40
    assert roles(ACCORD_ENV="production", ACCORD_SECRET_KEY=key) == "focal_point,coordinator,admin"
    assert roles(ACCORD_ENV="development") == ""
    assert roles(ACCORD_ENV="development", ACCORD_2FA_REQUIRED_ROLES="admin") == "admin"
    bad = _settings_process("", ACCORD_2FA_REQUIRED_ROLES="boss")
    assert bad.returncode != 0 and "ACCORD_2FA_REQUIRED_ROLES names unknown roles: boss" in bad.stderr


def test_an_administrator_resets_it_from_the_command_line(world: World, settings: Any, capsys: Any) -> None:
    client = Client()
    client.force_login(world.alice)
    set_up(client)
    assert main(["account", "reset-2fa", "--username", "alice"]) == 0
    assert "two-factor authentication of alice is reset: 2 devices removed" in capsys.readouterr().out
    assert not twofactor.is_enabled(world.alice) and not StaticToken.objects.exists()
    entry = AuditEntry.objects.get(action="account.2fa.reset")
    assert entry.data == {"username": "alice", "devices_removed": 2} and entry.actor is None
    # Without a device the password is enough again, unless the roles require 2FA: then set-up comes first.
    _client, response = password_step("alice", "/alerts/")
    assert response["Location"] == "/alerts/"
    settings.ACCORD_2FA_REQUIRED_ROLES = ["focal_point"]
    _client, response = password_step("alice", "/alerts/")
    assert response["Location"].startswith("/account/two-factor/")
    assert main(["account", "reset-2fa", "--username", "nobody"]) == 1
    assert "no account 'nobody'" in capsys.readouterr().err


def test_pages_need_a_login(world: World) -> None:
    assert Client().get("/account/two-factor/")["Location"].startswith("/login/")
    assert Client().get("/login/code/")["Location"].startswith("/login/")
    assert Account.objects.filter(username="alice").exists()


def test_a_recovery_code_works_right_after_a_wrong_authenticator_code(world: World, settings: Any) -> None:
    """A wrong six-digit code throttles the authenticator only: the recovery codes stay usable at once."""
    setup_client = Client()
    setup_client.force_login(world.alice)
    _secret, codes = set_up(setup_client)
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    settings.OTP_STATIC_THROTTLE_FACTOR = 3600
    client, _ = password_step("alice")
    assert client.post("/login/code/", {"code": "123456"}).status_code == 400
    assert client.post("/login/code/", {"code": codes[0]}).status_code == 302
