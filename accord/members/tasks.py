"""Background work of the accounts: the mail with a link to set a password."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task


@task()
def send_password_link_task(account_id: int, base_url: str, invitation: bool, language: str) -> bool:
    """Write and send the mail queued by `actions.send_password_link`. The link is made now, from the account as
    it is now, so it expires PASSWORD_RESET_TIMEOUT after the mail leaves. Returns whether a mail was sent: none
    to an account that has meanwhile been disabled or lost its address."""
    from accord.members.models import Account

    account = Account.objects.filter(pk=account_id, is_active=True).exclude(email="").first()
    if account is None:
        return False
    uid = urlsafe_base64_encode(force_bytes(account.pk))
    token = default_token_generator.make_token(account)
    with translation.override(language):
        link = base_url.rstrip("/") + reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token})
        context = {
            "account": account,
            "link": link,
            "invitation": invitation,
            "minutes": max(1, settings.PASSWORD_RESET_TIMEOUT // 60),
            "node": base_url,
        }
        subject = render_to_string("members/password_link_subject.txt", context)
        body = render_to_string("members/password_link_email.txt", context)
    EmailMessage(subject=" ".join(subject.split()), body=body, to=[account.email]).send()
    return True
