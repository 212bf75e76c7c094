"""The account pages in-process (Django test client): my profile (language, time zone, password), my API tokens
(shown once, listed, revoked; never another's) and CSRF on every form."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accord.members import actions
from accord.members.models import Account, ApiToken
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World, client_for


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _audit(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


# ---- profile -------------------------------------------------------------------------------------------------


def test_the_pages_need_a_login(world: World) -> None:
    client = Client()
    for url in ("/account/", "/account/tokens/", "/admin/accounts/", "/admin/new-account/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url


def test_profile_shows_the_account_and_the_header_links_to_the_pages(world: World) -> None:
    response = client_for(world.alice).get("/account/")
    assert response.status_code == 200
    html = _html(response)
    assert "alice" in html and "cn-health" in html and "Focal point" in html
    assert "Two-factor authentication" in html
    assert 'href="/account/"' in html and 'href="/account/tokens/"' in html
    assert 'href="/admin/accounts/"' not in html  # only for administrators


def test_language_and_time_zone_are_saved_and_used(world: World) -> None:
    client = client_for(world.alice)
    response = client.post("/account/preferences/", {"language": "ru", "time_zone": "Asia/Almaty"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "ru"
    alice = Account.objects.get(pk=world.alice.pk)
    assert (alice.language, alice.time_zone) == ("ru", "Asia/Almaty")
    [entry] = _audit("account.preferences")
    assert entry.data == {"username": "alice", "language": "ru", "time_zone": "Asia/Almaty"}

    page = _html(client.get("/account/"))
    assert '<html lang="ru" dir="ltr">' in page
    assert "Мой профиль" in page
    assert "Asia/Almaty" in page

    # Times on the pages are in the account's zone: Almaty is UTC+5.
    token, _ = actions.create_token(alice, name="clock", scope="read", acting_user=alice)
    ApiToken.objects.filter(pk=token.pk).update(created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    assert "2026-03-02 03:30" in _html(client.get("/account/tokens/"))


def test_the_profile_language_is_applied_when_the_account_logs_in(world: World) -> None:
    actions.set_preferences(world.alice, language="zh-hans", time_zone="", acting_user=world.alice)
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    first = client.get("/account/")
    assert '<html lang="zh-hans" dir="ltr">' in _html(first)
    assert first.cookies["django_language"].value == "zh-hans"
    # The language menu still works for the rest of the session.
    client.post("/i18n/setlang/", {"language": "en", "next": "/account/"})
    assert '<html lang="en" dir="ltr">' in _html(client.get("/account/"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"language": "fr", "time_zone": ""}, "language", "Select a valid choice"),
        ({"language": "en", "time_zone": "Mars/Olympus_Mons"}, "time_zone", "Mars/Olympus_Mons"),
        ({"language": "en", "time_zone": "x" * 65}, "time_zone", "at most 64 characters"),
    ],
)
def test_bad_preferences_are_refused_at_their_field(
    world: World, data: dict[str, str], field: str, message: str
) -> None:
    response = client_for(world.alice).post("/account/preferences/", data)
    assert response.status_code == 400
    assert message in _html(response)
    assert response.context["preferences_form"].errors[field]
    alice = Account.objects.get(pk=world.alice.pk)
    assert (alice.language, alice.time_zone) == ("", "")
    assert not _audit("account.preferences")


def test_the_password_is_changed_with_the_current_one(world: World) -> None:
    client = client_for(world.alice)
    new = "a-much-longer-passphrase-2026"
    wrong = client.post("/account/password/", {"old_password": "not-it", "new_password1": new, "new_password2": new})
    assert wrong.status_code == 400
    assert wrong.context["password_form"].errors["old_password"]
    weak = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"}
    )
    assert weak.status_code == 400
    assert "too short" in _html(weak) or "too common" in _html(weak)
    assert Account.objects.get(pk=world.alice.pk).check_password(PASSWORD)
    assert not _audit("account.password")

    done = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert Account.objects.get(pk=world.alice.pk).check_password(new)
    [entry] = _audit("account.password")
    assert entry.data == {"username": "alice", "how": "change"}
    assert new not in str(entry.data)
    assert client.get("/account/").status_code == 200  # this session stays logged in


def test_every_form_needs_its_csrf_token(world: World, admin: Account) -> None:
    token, _ = actions.create_token(world.alice, name="t", scope="read", acting_user=world.alice)
    posts = [
        (world.alice, "/account/preferences/", {"language": "ru", "time_zone": ""}),
        (world.alice, "/account/password/", {"old_password": PASSWORD}),
        (world.alice, "/account/tokens/new/", {"name": "x", "scope": "read", "days": "5"}),
        (world.alice, f"/account/tokens/{token.prefix}/revoke/", {}),
        (admin, "/admin/new-account/", {"username": "zed"}),
        (admin, "/admin/accounts/alice/roles/", {"roles": ["viewer"]}),
        (admin, "/admin/accounts/alice/active/", {"active": "0"}),
        (admin, "/admin/accounts/alice/password-link/", {}),
    ]
    for account, url, data in posts:
        client = Client(enforce_csrf_checks=True)
        client.force_login(account)
        assert client.post(url, data).status_code == 403, url
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert Account.objects.get(pk=world.alice.pk).is_active
    assert Account.objects.get(pk=world.alice.pk).language == ""


# ---- API tokens ----------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_works(world: World, caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(world.alice)
    with caplog.at_level(logging.DEBUG):
        response = client.post("/account/tokens/new/", {"name": "Nightly export", "scope": "read", "days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(account=world.alice)
    secret = response.context["secret"]
    assert secret in _html(response)
    assert actions.authenticate_token(secret)[1].pk == token.pk
    assert (token.name, token.scope) == ("Nightly export", "read")
    assert token.expires_at is not None
    assert 29 < (token.expires_at - timezone.now()).total_seconds() / 86400 <= 30
    [entry] = _audit("token.create")
    assert entry.data["account"] == "alice" and secret not in str(entry.data)
    assert secret not in caplog.text

    listing = _html(client.get("/account/tokens/"))
    assert token.prefix in listing and "Nightly export" in listing and "Read" in listing
    assert secret not in listing
    assert secret.split(".", 1)[1] not in listing


def test_the_list_shows_the_last_use(world: World) -> None:
    client = client_for(world.alice)
    client.post("/account/tokens/new/", {"name": "bot", "scope": "read", "days": "10"})
    token = ApiToken.objects.get(account=world.alice)
    row = _html(client.get("/account/tokens/"))
    assert "never" in row
    _, text = actions.create_token(world.alice, name="used", scope="read", acting_user=world.alice)
    response = Client().get("/api/v1/records", HTTP_AUTHORIZATION=f"Bearer {text}")
    assert response.status_code == 200
    used = ApiToken.objects.get(name="used")
    assert used.last_used_at is not None
    assert timezone.localtime(used.last_used_at).strftime("%Y-%m-%d %H:%M") in _html(client.get("/account/tokens/"))
    assert ApiToken.objects.get(pk=token.pk).last_used_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read", "days": "30"}, "name"),
        ({"name": "   ", "scope": "read", "days": "30"}, "name"),
        ({"name": "x" * 101, "scope": "read", "days": "30"}, "name"),
        ({"name": "n", "scope": "admin", "days": "30"}, "scope"),
        ({"name": "n", "scope": "read", "days": "0"}, "days"),
        ({"name": "n", "scope": "read", "days": "3651"}, "days"),
        ({"name": "n", "scope": "read", "days": "soon"}, "days"),
    ],
)
def test_a_bad_token_request_is_refused_at_its_field(world: World, data: dict[str, str], field: str) -> None:
    response = client_for(world.alice).post("/account/tokens/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not ApiToken.objects.exists()


def test_one_cannot_see_or_revoke_anothers_token(world: World) -> None:
    token, _ = actions.create_token(world.bob, name="bob's robot", scope="write", acting_user=world.bob)
    alice = client_for(world.alice)
    assert token.prefix not in _html(alice.get("/account/tokens/"))
    assert alice.post(f"/account/tokens/{token.prefix}/revoke/").status_code == 404
    assert alice.post("/account/tokens/000000000000/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert not _audit("token.revoke")


def test_revoking_my_token(world: World) -> None:
    token, text = actions.create_token(world.alice, name="old", scope="write", acting_user=world.alice)
    client = client_for(world.alice)
    assert client.get(f"/account/tokens/{token.prefix}/revoke/").status_code == 405
    response = client.post(f"/account/tokens/{token.prefix}/revoke/")
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    [entry] = _audit("token.revoke")
    assert entry.object_id == token.prefix
    with pytest.raises(actions.TokenRejected):
        actions.authenticate_token(text)
    listing = _html(client.get("/account/tokens/"))
    assert "Revoked" in listing
    assert f"/account/tokens/{token.prefix}/revoke/" not in listing


def test_pages_that_label_times_utc_stay_in_utc(world: World) -> None:
    from zoneinfo import ZoneInfo

    from django.utils import formats

    from accord.records import actions as record_actions
    from accord.records.envelope import Audience

    version = record_actions.publish(
        "note",
        {"title": "Clock check", "text": "t", "language": "en"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.alice,
    )
    actions.set_preferences(world.alice, language="", time_zone="Asia/Almaty", acting_user=world.alice)
    issued = datetime.fromisoformat(str(version.created_at).replace("Z", "+00:00"))
    in_utc = formats.date_format(issued.astimezone(UTC), "DATETIME_FORMAT")
    in_almaty = formats.date_format(issued.astimezone(ZoneInfo("Asia/Almaty")), "DATETIME_FORMAT")
    assert in_utc != in_almaty
    html = _html(client_for(world.alice).get(f"/records/{version.record.uuid}/"))
    assert f"{in_utc} UTC" in html
    assert in_almaty not in html
