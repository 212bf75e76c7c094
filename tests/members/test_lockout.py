"""Password log-ins are throttled per account and per client address (django-axes), with a cool-off, an audit
entry and an e-mail to the owner of a locked account (through the notification outbox, over real SMTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client

from accord.cli import main
from accord.members import lockout
from accord.notify.models import Delivery
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.notify.conftest import drain
from tests.notify.support import Mailbox, send_mail_to, smtp_server, text_of

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
OTHER = "198.51.100.20"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.ACCORD_LOGIN_FAILURE_LIMIT = 3
    settings.ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT = 5
    settings.ACCORD_LOGIN_COOLOFF_MINUTES = 15


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield send_mail_to(settings, box)


def attempt(username: str, password: str, address: str = ATTACKER) -> Any:
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def logged_in(response: Any) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def alert_text(response: Any) -> str:
    match = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    assert match, response.content.decode()[:2000]
    return " ".join(match.group(1).split())


def test_an_account_is_locked_after_the_limit_and_even_the_right_password_is_refused(world: World) -> None:
    for _ in range(2):
        response = attempt("alice", "wrong-password")
        assert response.status_code == 200
        assert "not correct" in alert_text(response)
    third = attempt("alice", "wrong-password")
    assert third.status_code == 429
    text = alert_text(third)
    assert "Too many failed log-ins" in text and "Try again in 15 minutes, after" in text and "UTC" in text
    assert int(third["Retry-After"]) == 15 * 60
    # Locked: the right password from anywhere does not open the account, and is not counted either.
    for address in (ATTACKER, OTHER):
        right = attempt("alice", PASSWORD, address)
        assert right.status_code == 429 and not logged_in(right)
    assert lockout.lock_state("alice", ATTACKER).account_failures == 3
    # Another account from the same address is not locked (3 failures < the address limit of 5).
    assert logged_in(attempt("bob", PASSWORD))
    (entry,) = AuditEntry.objects.filter(action="account.lockout")
    assert entry.object_id == str(world.alice.uuid)
    assert entry.data["username"] == "alice" and entry.data["address"] == ATTACKER
    assert entry.data["locked"] == ["account"]
    (notice,) = Delivery.objects.filter(purpose="notice")
    assert notice.address == "alice@example.org" and notice.data["notice"] == "account_locked"


def test_a_name_that_does_not_exist_is_locked_with_the_same_words(world: World) -> None:
    for _ in range(3):
        missing = attempt("nobody-here", "wrong-password", OTHER)
        existing = attempt("alice", "wrong-password")
    assert missing.status_code == existing.status_code == 429
    assert alert_text(missing) == alert_text(existing)
    entry = AuditEntry.objects.get(action="account.lockout", data__username="nobody-here")
    assert entry.object_type == "login" and entry.object_id == "nobody-here"
    # Only the real account's owner is told; nobody is mailed for a name that does not exist.
    assert list(Delivery.objects.filter(purpose="notice").values_list("address", flat=True)) == ["alice@example.org"]


def test_an_address_is_locked_after_its_limit_across_usernames(world: World) -> None:
    for name in ("alice", "bob", "carol", "dave"):
        assert attempt(name, "wrong-password").status_code == 200
    fifth = attempt("sam", "wrong-password")
    assert fifth.status_code == 429
    # From that address nobody gets in, not even with the right password; from another address they do.
    assert attempt("carol", PASSWORD).status_code == 429
    assert logged_in(attempt("carol", PASSWORD, OTHER))
    (entry,) = AuditEntry.objects.filter(action="account.lockout")
    assert entry.data["locked"] == ["address"] and entry.data["username"] == "sam"
    # No account reached its own limit, so no owner is told.
    assert not Delivery.objects.filter(purpose="notice").exists()


def test_the_lock_ends_after_the_cool_off(world: World, settings: Any) -> None:
    settings.ACCORD_LOGIN_COOLOFF_MINUTES = 10
    for _ in range(3):
        attempt("alice", "wrong-password")
    assert attempt("alice", PASSWORD).status_code == 429
    # Nine minutes later it is still locked; eleven minutes after the last failure it is not.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=9))
    assert attempt("alice", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=2))
    assert logged_in(attempt("alice", PASSWORD))


def test_unlock_from_the_command_line_by_username_and_by_address(world: World, capsys: Any) -> None:
    for _ in range(3):
        attempt("alice", "wrong-password")
    for name in ("bob", "carol"):
        attempt(name, "wrong-password", OTHER)
        attempt(name, "wrong-password", OTHER)
    attempt("dave", "wrong-password", OTHER)
    assert attempt("dave", PASSWORD, OTHER).status_code == 429  # the address OTHER is locked
    assert main(["account", "unlock", "--username", "alice"]) == 0
    assert "account alice unlocked" in capsys.readouterr().out
    assert logged_in(attempt("alice", PASSWORD))
    assert attempt("dave", PASSWORD, OTHER).status_code == 429
    assert main(["account", "unlock", "--address", OTHER]) == 0
    assert logged_in(attempt("dave", PASSWORD, OTHER))
    entries = list(AuditEntry.objects.filter(action="account.unlock").order_by("seq"))
    assert [e.data["username"] for e in entries] == ["alice", None]
    assert entries[0].data["attempts_removed"] == 1 and entries[1].data["address"] == OTHER
    assert main(["account", "unlock"]) == 2
    assert "give --username, --address or both" in capsys.readouterr().err
    assert main(["account", "unlock", "--address", "not-an-ip"]) == 1
    assert "is not an IP address" in capsys.readouterr().err


def test_the_owner_is_told_by_e_mail_once_per_lockout(world: World, mailbox: Mailbox) -> None:
    for _ in range(6):  # three counted failures lock the account; the three refused while locked add nothing
        attempt("sam", "wrong-password")
    for _ in range(3):
        attempt("alice", "wrong-password", OTHER)
    drain()
    (message,) = mailbox.to("sam@example.org")
    assert str(message["Subject"]).strip() == "[Accord] Your account was locked after failed log-ins"
    body = " ".join(text_of(message).split())
    assert "3 wrong passwords in a row for your Accord account sam" in body and ATTACKER in body
    assert "blocked until" in body and "UTC" in body
    # alice is of CN: her notice is in Chinese, as her notifications are by default.
    (chinese,) = mailbox.to("alice@example.org")
    assert str(chinese["Subject"]).strip() == "[Accord] 您的账户因登录失败已被锁定"
    assert OTHER in text_of(chinese)
    assert AuditEntry.objects.filter(action="account.lockout").count() == 2


def test_the_client_address_behind_trusted_proxies(rf: Any, settings: Any) -> None:
    request = rf.get("/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.1")
    settings.ACCORD_LOGIN_PROXY_COUNT = 0
    assert lockout.client_address(request) == "10.0.0.2"
    settings.ACCORD_LOGIN_PROXY_COUNT = 2  # the client cannot forge what the two proxies added
    assert lockout.client_address(request) == "203.0.113.9"
    settings.ACCORD_LOGIN_PROXY_COUNT = 4  # fewer hops than proxies: the peer's address
    assert lockout.client_address(request) == "10.0.0.2"


def test_the_test_clients_login_is_not_counted(world: World) -> None:
    client = Client()
    assert not client.login(username="alice", password="wrong-password")
    assert client.login(username="alice", password=PASSWORD)
    assert not AccessAttempt.objects.exists()


def test_a_failed_attempt_keeps_no_password(world: World) -> None:
    attempt("alice", "my-secret-guess-123")
    (row,) = AccessAttempt.objects.all()
    assert row.username == "alice" and row.ip_address == ATTACKER and row.failures_since_start == 1
    assert "my-secret-guess-123" not in row.post_data and "password=****" in row.post_data
