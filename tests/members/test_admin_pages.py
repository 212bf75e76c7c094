"""The node's accounts for its administrators (Django test client): list, create with a password or an
invitation by e-mail (real SMTP), roles, disable and enable; others get 403; an administrator cannot lock
themselves out, and the node keeps an active administrator."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accord.members import actions
from accord.members.models import Account, ApiToken
from accord.records.errors import Forbidden
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World, client_for
from tests.notify.support import Mailbox, text_of


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _new(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "kz.analyst",
        "member": "KZ",
        "organisation": "kz-health",
        "roles": ["analyst"],
        "email": "analyst@example.org",
        "how": "password",
        "password": "a-long-passphrase-here",
    }
    data.update(overrides)
    return data


def test_non_administrators_are_refused_everywhere(world: World, admin: Account) -> None:
    for person in (world.alice, world.sam, world.dave):
        client = client_for(person)
        for url in ("/admin/accounts/", "/admin/new-account/", "/admin/accounts/carol/"):
            response = client.get(url)
            assert response.status_code == 403, (person.username, url)
            assert "Only the administrators of this node" in _html(response)
        assert client.post("/admin/new-account/", _new()).status_code == 403
        assert client.post("/admin/accounts/carol/roles/", {"roles": ["admin"]}).status_code == 403
        assert client.post("/admin/accounts/carol/active/", {"active": "0"}).status_code == 403
        assert client.post("/admin/accounts/carol/password-link/").status_code == 403
    assert not Account.objects.filter(username="kz.analyst").exists()
    carol = Account.objects.get(username="carol")
    assert carol.is_active and carol.role_names() == {"focal_point"}
    assert 'href="/admin/accounts/"' not in _html(client_for(world.alice).get("/account/"))


def test_the_administrator_lists_the_accounts(world: World, admin: Account) -> None:
    response = client_for(admin).get("/admin/accounts/")
    assert response.status_code == 200
    html = _html(response)
    for name in ("alice", "bob", "carol", "dave", "sam", "eve", "root"):
        assert f'data-username="{name}"' in html
    assert re.search(r'data-username="eve".*?Disabled', html, re.S)
    assert 'href="/admin/accounts/"' in html  # the header links to it for administrators
    assert client_for(admin).get("/admin/accounts/nobody/").status_code == 404


def test_the_administrator_creates_an_account_with_a_password(world: World, admin: Account) -> None:
    response = client_for(admin).post("/admin/new-account/", _new())
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/kz.analyst/"
    created = Account.objects.get(username="kz.analyst")
    assert created.organisation == world.kz_health
    assert created.role_names() == {"analyst"}
    assert created.check_password("a-long-passphrase-here")
    entry = AuditEntry.objects.filter(action="account.create").order_by("-seq").first()
    assert entry is not None and entry.actor_name == "root" and entry.data["username"] == "kz.analyst"
    assert Client().login(username="kz.analyst", password="a-long-passphrase-here")


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"username": "has space"}, "username", 400),
        ({"username": "alice"}, None, 409),
        ({"roles": []}, "roles", 400),
        ({"roles": ["coordinator"]}, "roles", 400),
        ({"organisation": "cn-health"}, "organisation", 400),
        ({"member": "XX"}, "member", 400),
        ({"password": "short"}, "password", 400),
        ({"password": ""}, "password", 400),
        ({"how": "invite", "email": ""}, "email", 400),
        ({"email": "not-an-address"}, "email", 400),
    ],
)
def test_a_bad_new_account_is_refused_at_its_field(
    world: World, admin: Account, overrides: dict[str, Any], field: str | None, status: int
) -> None:
    before = Account.objects.count()
    response = client_for(admin).post("/admin/new-account/", _new(**overrides))
    assert response.status_code == status
    form = response.context["form"]
    assert form.errors.get(field or "__all__"), form.errors
    assert Account.objects.count() == before


def test_a_member_without_an_organisation_gets_a_national_office(world: World, admin: Account) -> None:
    response = client_for(admin).post("/admin/new-account/", _new(member="UZ", organisation="", username="uz.one"))
    assert response.status_code == 302
    assert Account.objects.get(username="uz.one").organisation.slug == "uz-national"  # type: ignore[union-attr]
    several = client_for(admin).post("/admin/new-account/", _new(member="CN", organisation="", username="cn.x"))
    assert several.status_code == 400
    assert several.context["form"].errors["organisation"]


@pytest.mark.django_db(transaction=True)
def test_an_invitation_is_sent_by_mail_and_its_link_sets_the_password(
    world: World, admin: Account, mailbox: Mailbox
) -> None:
    response = client_for(admin).post("/admin/new-account/", _new(how="invite", password=""))
    assert response.status_code == 302
    created = Account.objects.get(username="kz.analyst")
    assert not created.has_usable_password()
    [message] = mailbox.to("analyst@example.org")
    assert "invited" in str(message["Subject"])
    body = text_of(message)
    assert "kz.analyst" in body
    link = re.search(r"http://testserver(/account/reset/\S+/)", body)
    assert link is not None
    client = Client()
    opened = client.get(link.group(1))
    assert opened.status_code == 302  # Django moves the token out of the address into the session
    form_page = client.get(opened["Location"])
    assert form_page.context["validlink"]
    new = "my-own-passphrase-2026"
    done = client.post(opened["Location"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert Account.objects.get(pk=created.pk).check_password(new)
    sent = AuditEntry.objects.get(action="account.password_link")
    assert sent.actor_name == "root" and sent.data["invitation"] is True


def test_roles_are_changed(world: World, admin: Account) -> None:
    client = client_for(admin)
    response = client.post("/admin/accounts/carol/roles/", {"roles": ["focal_point", "analyst"]})
    assert response.status_code == 302
    assert Account.objects.get(username="carol").role_names() == {"focal_point", "analyst"}
    entry = AuditEntry.objects.get(action="account.roles")
    assert entry.data == {"username": "carol", "before": ["focal_point"], "after": ["analyst", "focal_point"]}
    refused = client.post("/admin/accounts/carol/roles/", {"roles": ["coordinator"]})
    assert refused.status_code == 400
    assert "coordinator role is for Secretariat accounts" in _html(refused)
    assert client.post("/admin/accounts/carol/roles/", {"roles": []}).status_code == 400
    assert Account.objects.get(username="carol").role_names() == {"focal_point", "analyst"}


def test_an_administrator_cannot_remove_their_own_admin_role_or_disable_themselves(
    world: World, admin: Account
) -> None:
    other = actions.create_account(
        username="root2", organisation=world.secretariat, roles=["admin"], password=PASSWORD, acting_user=None
    )
    client = client_for(admin)
    response = client.post("/admin/accounts/root/roles/", {"roles": ["viewer"]})
    assert response.status_code == 403
    assert "you cannot remove your own admin role" in _html(response)
    assert client.post("/admin/accounts/root/roles/", {"roles": ["admin", "viewer"]}).status_code == 302
    response = client.post("/admin/accounts/root/active/", {"active": "0"})
    assert response.status_code == 403
    assert "you cannot disable your own account" in _html(response)
    in_russian = client.post("/admin/accounts/root/active/", {"active": "0"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "нельзя отключить собственную учётную запись" in _html(in_russian)
    root = Account.objects.get(pk=admin.pk)
    assert root.is_active and root.role_names() == {"admin", "viewer"}
    # Another administrator may.
    assert client_for(other).post("/admin/accounts/root/roles/", {"roles": ["viewer"]}).status_code == 302
    assert Account.objects.get(pk=admin.pk).role_names() == {"viewer"}


def test_the_node_keeps_an_active_administrator(world: World, admin: Account) -> None:
    with pytest.raises(Forbidden, match="last active administrator"):
        actions.set_roles(admin, ["viewer"], acting_user=None)
    with pytest.raises(Forbidden, match="last active administrator"):
        actions.set_active(admin, False, acting_user=None)
    assert Account.objects.get(pk=admin.pk).is_active


def test_disabling_and_enabling_an_account(world: World, admin: Account) -> None:
    token, text = actions.create_token(world.carol, name="robot", scope="read", acting_user=world.carol)
    client = client_for(admin)
    assert client.post("/admin/accounts/carol/active/", {"active": "maybe"}).status_code == 302
    assert Account.objects.get(username="carol").is_active
    response = client.post("/admin/accounts/carol/active/", {"active": "0"})
    assert response.status_code == 302
    carol = Account.objects.get(username="carol")
    assert not carol.is_active
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert not Client().login(username="carol", password=PASSWORD)
    assert AuditEntry.objects.filter(action="account.disable", actor_name="root").exists()
    assert "Enable the account" in _html(client.get("/admin/accounts/carol/"))
    assert client.post("/admin/accounts/carol/active/", {"active": "1"}).status_code == 302
    assert Client().login(username="carol", password=PASSWORD)
    with pytest.raises(actions.TokenRejected):
        actions.authenticate_token(text)  # enabling does not bring revoked tokens back


@pytest.mark.django_db(transaction=True)
def test_the_administrator_sends_a_new_password_link(world: World, admin: Account, mailbox: Mailbox) -> None:
    response = client_for(admin).post("/admin/accounts/carol/password-link/")
    assert response.status_code == 302
    [message] = mailbox.to("carol@example.org")
    assert "/account/reset/" in text_of(message)
    # A disabled account gets no link: the page says why.
    actions.set_active(world.carol, False, acting_user=admin)
    page = client_for(admin).post("/admin/accounts/carol/password-link/", follow=True)
    assert "the account is disabled" in _html(page)
    assert len(mailbox.to("carol@example.org")) == 1
