"""Request middleware of the web shell: body size limit, security headers (CSP with a per-request nonce,
Permissions-Policy, Referrer-Policy; HSTS comes from Django's SecurityMiddleware) and the idle session timeout."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest, HttpResponse, JsonResponse


def too_large(size: int, limit: int, *, at_least: bool = False) -> str:
    more = " or more" if at_least else ""
    return f"the request body is {size} bytes{more}; this node accepts at most {limit} bytes"


def declared_refusal(length: str) -> tuple[int, str] | None:
    """(status, message) for a request refused by its Content-Length alone, before its body is read; else None.

    Django's requests pass here (the middleware below), and so do the federation requests that `accord serve`
    answers straight from ASGI (accord/federation/asgi.py), which also count the body as it arrives."""
    try:
        size = int(length or "0")
    except ValueError:
        return 400, "Content-Length is not a number"
    limit = settings.ACCORD_MAX_BODY_BYTES
    if size > limit:
        return 413, too_large(size, limit)
    return None


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = declared_refusal(request.META.get("CONTENT_LENGTH") or "")
        if refusal is not None:
            status, message = refusal
            return JsonResponse({"detail": message}, status=status)
        return self.get_response(request)


# What the pages load, all from this node: scripts and styles from /static/ (Leaflet is bundled, the map has no
# tile server), images from /static/ plus the data: URIs Leaflet's and Swagger UI's style sheets use, fetch()
# and EventSource to this node only. No inline script (a template that truly needs one uses {{ csp_nonce }}),
# no style attribute in markup (style sheets only), nothing may frame a page, no plug-ins.
CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'nonce-{nonce}'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)

# Powerful browser features no page of Accord uses: off for this origin and anything it could embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def content_security_policy(nonce: str) -> str:
    return "; ".join(f"{name} {value.format(nonce=nonce)}" for name, value in CSP_DIRECTIVES)


def csp_nonce(request: HttpRequest) -> str:
    """This request's nonce (made on first use), for the rare template that needs an inline script."""
    nonce: str | None = getattr(request, "_accord_csp_nonce", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
        request._accord_csp_nonce = nonce  # type: ignore[attr-defined]
    return nonce


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy, Referrer-Policy, Cross-Origin-Opener-Policy and
    X-Frame-Options on every response (pages, API, feeds, static files, errors). It sits right after Django's
    SecurityMiddleware (which adds HSTS, nosniff), before WhiteNoise, so static files get them too. A response
    that already carries a header keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(request)))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # As frame-ancestors 'none', for browsers without CSP 2, also on the static files WhiteNoise answers
        # before Django's XFrameOptionsMiddleware runs.
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


LAST_SEEN_KEY = "accord_last_seen"
# How stale the recorded last activity may get before a request writes it again: writing the session on every
# request would cost a database write per page; a minute is nothing next to an idle limit of hours.
TOUCH_EVERY_SECONDS = 60


def now() -> float:
    """The clock of the idle timeout (a function, so a test can shift time instead of sleeping)."""
    return time.time()


class IdleSessionTimeoutMiddleware:
    """Log out a session left unused for longer than ACCORD_SESSION_IDLE_HOURS; each request extends it.

    The last activity is kept in the session itself (server-side). SESSION_COOKIE_AGE is the same limit, so the
    cookie and the stored session expire with it too, counted from the last time the activity was written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            idle_limit = settings.ACCORD_SESSION_IDLE_SECONDS
            current = int(now())
            last = request.session.get(LAST_SEEN_KEY)
            if isinstance(last, int) and current - last > idle_limit:
                auth.logout(request)  # flushes the session; the view then sees an anonymous visitor
            elif not isinstance(last, int) or current - last >= TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = current  # saving it renews SESSION_COOKIE_AGE (= the limit)
        return self.get_response(request)
