"""Channels behind one small interface (after healthchecks' transports).

A transport sends one prepared `Outgoing` message and returns normally when it was accepted, or
raises `TransportError` saying whether trying again could help (`permanent`). Transports touch
no database: the worker renders messages before and records the outcome after, so they can run
in a pool of threads with their own time limits.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate

from django.conf import settings

from accord.lib import http


class TransportError(Exception):
    def __init__(self, message: str, *, permanent: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message[:500]
        self.permanent = permanent
        self.status_code = status_code


@dataclass
class Outgoing:
    """One message, ready to send."""

    key: str  # the delivery's idempotency key: webhook-id, and the local part of the e-mail Message-ID
    kind: str  # "email" or "webhook"
    address: str
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # extra e-mail headers (Message-ID, threading)
    payload: bytes = b""  # webhook body (JSON)
    secret: str = ""  # webhook signing secret
    timeout: float = 10.0


@dataclass
class Sent:
    status_code: int | None = None


class Transport:
    def notify(self, message: Outgoing) -> Sent:  # pragma: no cover - interface
        raise NotImplementedError


class Email(Transport):
    """Through Django's e-mail backend (SMTP in production): plain text with an HTML alternative."""

    def notify(self, message: Outgoing) -> Sent:
        from django.core.mail import EmailMultiAlternatives, get_connection

        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            to=[message.address],
            headers={"Date": formatdate(localtime=False), **message.headers},
            connection=get_connection(timeout=message.timeout) if _is_smtp() else get_connection(),
        )
        if message.html:
            mail.attach_alternative(message.html, "text/html")
        try:
            mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            permanent = all(code >= 500 for code in codes)
            raise TransportError(f"recipient refused: {error.recipients}", permanent=permanent) from None
        except smtplib.SMTPResponseException as error:
            text = (
                error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
            )
            raise TransportError(
                f"SMTP {error.smtp_code}: {text}", permanent=error.smtp_code >= 500, status_code=error.smtp_code
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise TransportError(f"SMTP: {error}", permanent=False) from None
        return Sent()


def _is_smtp() -> bool:
    return str(settings.EMAIL_BACKEND).endswith("smtp.EmailBackend")


# The statuses a receiver answers for a request that might succeed later.
_TEMPORARY_4XX = frozenset({408, 425, 429})


class Webhook(Transport):
    """A POST signed per Standard Webhooks, through the one outbound wrapper (address guard, time limit)."""

    max_answer_bytes = 64 * 1024

    def notify(self, message: Outgoing) -> Sent:
        from standardwebhooks.webhooks import Webhook as Signer

        now = datetime.now(UTC)
        signature = Signer(message.secret).sign(message.key, now, message.payload.decode())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message.key,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        try:
            response = http.request(
                "POST",
                message.address,
                body=message.payload,
                headers=headers,
                timeout=message.timeout,
                max_bytes=self.max_answer_bytes,
            )
        except http.ResponseTooLarge:
            # The receiver answered, but with more than any acknowledgement needs: we cannot tell what it said.
            raise TransportError(
                "the receiver's answer is too large to be an acknowledgement", permanent=False
            ) from None
        except http.OutboundError as error:
            raise TransportError(error.message, permanent=error.permanent) from None
        status = response.status
        if 200 <= status < 300:
            return Sent(status)
        if 300 <= status < 400:
            raise TransportError(
                f"HTTP {status}: redirects are not followed; configure the final URL",
                permanent=True,
                status_code=status,
            )
        if status >= 500 or status in _TEMPORARY_4XX:
            raise TransportError(f"HTTP {status}", permanent=False, status_code=status)
        raise TransportError(f"HTTP {status}", permanent=True, status_code=status)


TRANSPORTS: dict[str, Transport] = {"email": Email(), "webhook": Webhook()}


# ---- validation when a channel is saved ---------------------------------------------------------------

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_email(address: str) -> str:
    """The address, trimmed; ValueError saying why it is refused."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    address = address.strip()
    if not address:
        raise ValueError("the e-mail address is empty")
    if len(address) > 254:
        raise ValueError("the e-mail address is longer than 254 characters")
    try:
        validate_email(address)
    except ValidationError:
        raise ValueError(f"{address!r} is not a valid e-mail address") from None
    if not _EMAIL.match(address):
        raise ValueError(f"{address!r} is not a valid e-mail address (use plain ASCII: name@domain.example)")
    return address


def check_webhook_url(url: str, *, allow: str | None = None) -> str:
    """The URL, if Accord may send to it: http(s), no credentials, a host that resolves to public addresses
    (or allowed ones, ACCORD_OUTBOUND_ALLOW). ValueError saying why otherwise.

    Uses the outbound wrapper's own parser, resolver and guard, so saving and sending agree."""
    url = url.strip()
    if not url:
        raise ValueError("the webhook URL is empty")
    if len(url) > 2000:
        raise ValueError("the webhook URL is longer than 2000 characters")
    try:
        rules = http._parse_allow(http.allowed_from_env() if allow is None else allow)
        target = http._parse_url(url)
        answers = http._resolve(target, http._Deadline(5.0))
        http._check(target, answers, rules)
    except TimeoutError:
        raise ValueError(f"{url}: the host name did not resolve within 5 s") from None
    except http.OutboundError as error:
        raise ValueError(error.message) from None
    return url
