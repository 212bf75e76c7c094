"""Where people and peers reach this node: its public base URL, and the one way to make an absolute link.

Every link that leaves the node (e-mails, feeds, webhook payloads) is made by `absolute_url(path)`, so a link is
never relative and never points at an address the reader cannot reach. The base is, in order:

1. the setting ACCORD_PUBLIC_URL (the deployment's own word);
2. the URL stored for the node (`accord init --url`, or the federation admin page), read at most every 10 s;
3. for a page answering a request, the address the request came to; otherwise `http://localhost:8000`, which is
   right only on a developer's machine: `accord serve` warns at start-up, and a Django system check warns, when
   ACCORD_ENV=production and no public URL is set.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError

if TYPE_CHECKING:
    from django.http import HttpRequest

DEVELOPMENT_URL = "http://localhost:8000"
_READ_EVERY = 10.0
_stored: dict[str, tuple[float, str]] = {}


def stored_url() -> str:
    """The URL stored for this node ("" when none), read from the database at most every 10 s."""
    from accord.members.models import NodeIdentity

    read_at, url = _stored.get("url", (0.0, ""))
    if time.monotonic() - read_at > _READ_EVERY:
        url = (NodeIdentity.objects.filter(id=1).values_list("url", flat=True).first() or "").rstrip("/")
        _stored["url"] = (time.monotonic(), url)
    return url


def forget() -> None:
    """Read the stored URL afresh next time (after it changed)."""
    _stored.pop("url", None)


def public_url() -> str:
    """This node's public base URL, without a trailing slash; "" when neither the setting nor the node has one."""
    configured: str = settings.ACCORD_PUBLIC_URL
    return configured.rstrip("/") if configured else stored_url()


def source() -> str:
    """Where public_url() comes from: "ACCORD_PUBLIC_URL", "node" or "" (not set)."""
    if settings.ACCORD_PUBLIC_URL:
        return "ACCORD_PUBLIC_URL"
    return "node" if stored_url() else ""


def base_url(request: HttpRequest | None = None) -> str:
    """The base for absolute links: the public URL, else the request's own address, else the development one."""
    found = public_url()
    if found:
        return found
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return DEVELOPMENT_URL


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """The absolute URL of `path` (a path on this node, such as reverse() gives) for links that leave the node."""
    if path.startswith(("http://", "https://")):
        return path
    return base_url(request) + "/" + path.lstrip("/")


def production_warning() -> str | None:
    """The warning to give when this node runs in production with no public URL, else None."""
    if settings.ACCORD_ENV != "production" or settings.ACCORD_PUBLIC_URL:
        return None
    try:
        if stored_url():
            return None
    except DatabaseError:  # no database yet (before `accord migrate`): only the setting can say
        pass
    return (
        "ACCORD_PUBLIC_URL is not set: links in e-mails, feeds and webhook payloads would point at "
        f"{DEVELOPMENT_URL}. Set ACCORD_PUBLIC_URL to this node's public address (e.g. https://accord.example.org), "
        "or give it once with `accord init --url`."
    )


def check_public_url(**kwargs: Any) -> list[checks.CheckMessage]:
    """Django system check (registered by the members app): warns in production when no public URL is set."""
    message = production_warning()
    if message is None:
        return []
    return [
        checks.Warning(
            message,
            hint="Set ACCORD_PUBLIC_URL=https://<this node's public address> in the node's environment.",
            id="accord.W001",
        )
    ]
