"""Channels behind one small interface (after healthchecks' transports).

A transport sends one prepared `Outgoing` message and returns normally when it was accepted, or
raises `TransportError` saying whether trying again could help (`permanent`). Transports touch
no database: the worker renders messages before and records the outcome after, so they can run
in a pool of threads with their own time limits.
"""

from __future__ import annotations

import math
import re
import smtplib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime

from django.conf import settings

from accord.lib import http


class TransportError(Exception):
    """A send that failed. `permanent`: trying again cannot help. `channel_fault`: a permanent failure that is the
    address's own (a webhook that answers 410, a mailbox the relay refuses), counted towards disabling the channel;
    not, say, a relay that refuses this node's sender. `retry_after`: seconds the receiver asked to wait."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        retry_after: int | None = None,
        channel_fault: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message[:500]
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after
        self.channel_fault = permanent if channel_fault is None else channel_fault and permanent


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
            # The relay refused the address itself (RCPT TO): a 5xx counts against the channel.
            codes = [code for code, _ in error.recipients.values()]
            permanent = all(code >= 500 for code in codes)
            answers = "; ".join(f"{code} {_text(answer)}" for code, answer in error.recipients.values())
            raise TransportError(
                f"recipient refused: SMTP {answers}",
                permanent=permanent,
                status_code=codes[0] if codes else None,
                channel_fault=True,
            ) from None
        except smtplib.SMTPResponseException as error:
            # Anything else the relay refuses (sender, authentication, content) is not the address's fault.
            raise TransportError(
                f"SMTP {error.smtp_code}: {_text(error.smtp_error)}",
                permanent=error.smtp_code >= 500,
                status_code=error.smtp_code,
                channel_fault=False,
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            raise TransportError(f"SMTP: {error}", permanent=False) from None
        return Sent()


def _is_smtp() -> bool:
    return str(settings.EMAIL_BACKEND).endswith("smtp.EmailBackend")


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


# The statuses a receiver answers for a request that might succeed later.
_TEMPORARY_4XX = frozenset({408, 425, 429})
# The statuses whose Retry-After header says when to try again (RFC 9110 section 10.2.3), and its bound.
_RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER_MAX_SECONDS = 3600
_DIGITS = re.compile(r"[0-9]{1,12}")


def parse_retry_after(value: str, now: datetime | None = None) -> int | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP date, at most an hour; None if unreadable."""
    value = value.strip()
    if _DIGITS.fullmatch(value):
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0, math.ceil((when - (now or datetime.now(UTC))).total_seconds()))
    return min(seconds, RETRY_AFTER_MAX_SECONDS)


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
            wait = (
                parse_retry_after(response.headers.get("retry-after", "")) if status in _RETRY_AFTER_STATUSES else None
            )
            raise TransportError(
                f"HTTP {status}" + (f" (Retry-After: {wait} s)" if wait is not None else ""),
                permanent=False,
                status_code=status,
                retry_after=wait,
            )
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
