"""How fast and how long the notify worker goes: leases, send time limits, the per-host limit, retry delays."""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings

from accord.notify.models import Channel
from accord.notify.transports import RETRY_AFTER_MAX_SECONDS, TransportError


def lease_seconds() -> int:
    return int(settings.ACCORD_NOTIFY_LEASE_SECONDS)


def per_host() -> int:
    """Webhook sends in flight to one host (name and port) per worker, so that one host cannot take every slot."""
    return max(1, int(settings.ACCORD_NOTIFY_PER_HOST))


def host_of(kind: str, address: str) -> str:
    """What the per-host limit counts: a webhook's host and port ("" for e-mail, which all goes to one relay)."""
    if kind != Channel.Kind.WEBHOOK:
        return ""
    try:
        parts = urlsplit(address)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return address
    return f"{(parts.hostname or '').lower()}:{port}"


def send_timeout() -> float:
    """Each send's time limit: the configured one, and never more than half the lease."""
    return float(min(settings.ACCORD_NOTIFY_TIMEOUT_SECONDS, max(1, lease_seconds() // 2)))


def backoff(attempts: int) -> timedelta:
    """Delay before try `attempts + 1`: base * 2^(attempts-1), capped, with +-10 % jitter."""
    base = settings.ACCORD_NOTIFY_RETRY_SECONDS
    delay = min(base * 2 ** max(0, attempts - 1), settings.ACCORD_NOTIFY_RETRY_MAX_SECONDS)
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311  (jitter, not secrecy)


def retry_delay(attempts: int, error: TransportError) -> timedelta:
    """When to try again after a temporary failure: when the receiver asked (Retry-After on 429 and 503, read by
    the transport: at least 1 s, at most an hour), else the backoff."""
    if error.retry_after is not None:
        return timedelta(seconds=max(1, min(error.retry_after, RETRY_AFTER_MAX_SECONDS)))
    return backoff(attempts)
