"""Password reset by e-mail, through a real SMTP server (aiosmtpd on 127.0.0.1, ACCORD_EMAIL_BACKEND=smtp):
the request page never tells whether an address exists, the mail is in the account's language, the link
sets the password once and expires after PASSWORD_RESET_TIMEOUT."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accord.members import actions
from accord.members.models import Account
from accord.records.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.notify.support import Mailbox, text_of

NEW = "a-new-and-long-passphrase"

pytestmark = pytest.mark.django_db(transaction=True)  # the mail is sent by a task after the commit


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _link(mailbox: Mailbox, address: str) -> str:
    [message] = mailbox.to(address)
    found = re.search(r"https?://[^/\s]+(/account/reset/\S+/)", text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


def _use(client: Client, link: str, password: str = NEW) -> Any:
    opened = client.get(link)
    assert opened.status_code == 302
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_a_reset_link_sets_the_password_once(world: World, mailbox: Mailbox) -> None:
    client = Client()
    page = client.get("/account/password-reset/")
    assert page.status_code == 200
    response = client.post("/account/password-reset/", {"email": "ALICE@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/account/password-reset/sent/"
    [message] = mailbox.to("alice@example.org")
    assert message["From"] == "accord@node.example"
    assert "new password" in str(message["Subject"])
    assert "60 minutes" in text_of(message)
    link = _link(mailbox, "alice@example.org")

    done = _use(Client(), link)
    assert done.status_code == 302 and done["Location"] == "/account/reset/done/"
    alice = Account.objects.get(pk=world.alice.pk)
    assert alice.check_password(NEW)
    entry = AuditEntry.objects.get(action="account.password")
    assert entry.data == {"username": "alice", "how": "reset"}
    assert Client().login(username="alice", password=NEW)

    # The same link again: refused, the password stays.
    again = Client()
    opened = again.get(link)
    page = again.get(opened["Location"]) if opened.status_code == 302 else opened
    assert not page.context["validlink"]
    assert "This link does not work" in _html(page)
    refused = again.post(link, {"new_password1": "x-other-passphrase", "new_password2": "x-other-passphrase"})
    assert refused.status_code == 200 and not refused.context["validlink"]
    assert Account.objects.get(pk=world.alice.pk).check_password(NEW)


def test_the_request_page_never_tells_whether_an_address_exists(world: World, mailbox: Mailbox) -> None:
    known = Client().post("/account/password-reset/", {"email": "carol@example.org"}, follow=True)
    unknown = Client().post("/account/password-reset/", {"email": "nobody@example.org"}, follow=True)
    disabled = Client().post("/account/password-reset/", {"email": "eve@example.org"}, follow=True)
    assert known.status_code == unknown.status_code == disabled.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == disabled.redirect_chain
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", _html(known)) == strip.sub("", _html(unknown)) == strip.sub("", _html(disabled))
    assert len(mailbox.messages) == 1  # carol only: no account has nobody@, eve is disabled
    assert mailbox.to("carol@example.org")


def test_the_mail_is_in_the_accounts_language(world: World, mailbox: Mailbox) -> None:
    actions.set_preferences(world.carol, language="ru", time_zone="", acting_user=world.carol)
    actions.set_preferences(world.alice, language="zh-hans", time_zone="", acting_user=world.alice)
    Client().post("/account/password-reset/", {"email": "carol@example.org"})
    Client().post("/account/password-reset/", {"email": "alice@example.org"})
    [ru] = mailbox.to("carol@example.org")
    [zh] = mailbox.to("alice@example.org")
    assert "новый пароль" in str(ru["Subject"])
    assert "60 минут" in text_of(ru)
    assert "新密码" in str(zh["Subject"])
    assert "60 分钟" in text_of(zh)


def test_requests_are_throttled_per_account(world: World, mailbox: Mailbox) -> None:
    for _ in range(3):
        assert Client().post("/account/password-reset/", {"email": "carol@example.org"}).status_code == 302
    assert len(mailbox.to("carol@example.org")) == 1
    assert AuditEntry.objects.filter(action="account.password_link").count() == 1


def test_the_request_only_queues_the_mail_which_a_worker_sends(world: World, settings: Any) -> None:
    """The page answers before any mail server is spoken to, so its timing does not tell an address exists."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from tests.notify.support import smtp_server

    with smtp_server() as box:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", box.port
        assert Client().post("/account/password-reset/", {"email": "carol@example.org"}).status_code == 302
        assert Client().post("/account/password-reset/", {"email": "nobody@example.org"}).status_code == 302
        assert not box.messages
        [queued] = DBTaskResult.objects.filter(task_path="accord.members.tasks.send_password_link_task")
        assert queued.args_kwargs["args"][0] == world.carol.pk
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test",
            excluded_queue_names=[],
        ).run()
        [message] = box.to("carol@example.org")
        assert "/account/reset/" in text_of(message)
        assert len(box.messages) == 1


def test_an_expired_link_is_refused(world: World, settings: Any) -> None:
    settings.PASSWORD_RESET_TIMEOUT = 3600
    generator = default_token_generator
    two_hours_ago = generator._num_seconds(generator._now()) - 7200
    token = generator._make_token_with_timestamp(world.alice, two_hours_ago, generator.secret)
    uid = urlsafe_base64_encode(force_bytes(world.alice.pk))
    client = Client()
    response = client.get(f"/account/reset/{uid}/{token}/")
    assert response.status_code == 200
    assert not response.context["validlink"]
    # Within the timeout, the same kind of link works.
    recent = generator._make_token_with_timestamp(world.alice, two_hours_ago + 3700, generator.secret)
    assert client.get(f"/account/reset/{uid}/{recent}/").status_code == 302
    assert Account.objects.get(pk=world.alice.pk).check_password(PASSWORD)


def test_a_weak_new_password_is_refused(world: World, mailbox: Mailbox) -> None:
    Client().post("/account/password-reset/", {"email": "alice@example.org"})
    client = Client()
    response = _use(client, _link(mailbox, "alice@example.org"), password="password")
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    assert Account.objects.get(pk=world.alice.pk).check_password(PASSWORD)


@pytest.mark.parametrize("email", ["", "not an address", "a@" + "b" * 300 + ".org"])
def test_a_bad_address_is_refused_at_the_field(world: World, mailbox: Mailbox, email: str) -> None:
    response = Client().post("/account/password-reset/", {"email": email})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not mailbox.messages
