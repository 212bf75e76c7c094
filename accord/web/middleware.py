"""Request middleware of the web shell: body size limit (and, under /api/, too deeply nested JSON bodies), every
error under /api/ in JSON, security headers (CSP with a per-request nonce, Permissions-Policy, Referrer-Policy;
HSTS comes from Django's SecurityMiddleware) and the idle session timeout."""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.contrib import auth
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"

# How deeply a JSON body under /api/ may nest arrays and objects. Every body the API takes nests a few levels
# (a CAP alert's polygon is at depth 6); a deeper one is refused with 400 here, for every endpoint at once,
# before a parser or a validator could recurse into it (a 100,000-deep array was a RecursionError, a 500).
MAX_JSON_DEPTH = 32

# Endpoints whose body is a file, read by their own parser under limits of their own (a DHIS2 dataValueSet is
# checked for depth, size and values before it is parsed, with a message in the reader's language): left to them.
FILE_BODY_PATHS = frozenset({"/api/v1/surveillance/uploads"})

# A JSON string (skipped whole, brackets in it do not count) or one bracket.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def too_large(size: int, limit: int, *, at_least: bool = False) -> str:
    more = " or more" if at_least else ""
    return f"the request body is {size} bytes{more}; this node accepts at most {limit} bytes"


# Endpoints that take more than ACCORD_MAX_BODY_BYTES, and the setting that says how much.
LARGE_BODY_PATHS = {"/api/v1/alerts/batch": "ACCORD_ALERT_BATCH_MAX_BYTES"}


# Endpoints, by a pattern of their path, that take more than ACCORD_MAX_BODY_BYTES, and how much (a function, so
# that it follows the settings as they are): a part registers its own with `allow_large_bodies` (the library's
# uploads, whose files are checked against their own limit by the view, which names the field at fault).
_LARGE_BODY_PATTERNS: list[tuple[re.Pattern[str], Callable[[], int]]] = []


def allow_large_bodies(pattern: str, limit: Callable[[], int]) -> None:
    """Let request bodies to the paths `pattern` matches (whole) reach their view up to `limit()` bytes."""
    compiled = re.compile(pattern)
    if all(known.pattern != compiled.pattern for known, _ in _LARGE_BODY_PATTERNS):
        _LARGE_BODY_PATTERNS.append((compiled, limit))


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    for pattern, limit_of in _LARGE_BODY_PATTERNS:
        if pattern.fullmatch(path):
            return max(limit_of(), settings.ACCORD_MAX_BODY_BYTES)
    setting = LARGE_BODY_PATHS.get(path)
    limit: int = getattr(settings, setting) if setting else settings.ACCORD_MAX_BODY_BYTES
    return limit


def declared_refusal(length: str, limit: int | None = None) -> tuple[int, str] | None:
    """(status, message) for a request refused by its Content-Length alone, before its body is read; else None.

    Django's requests pass here (the middleware below), and so do the federation requests that `accord serve`
    answers straight from ASGI (accord/federation/asgi.py), which also count the body as it arrives."""
    try:
        size = int(length or "0")
    except ValueError:
        return 400, "Content-Length is not a number"
    if limit is None:
        limit = settings.ACCORD_MAX_BODY_BYTES
    if size > limit:
        return 413, too_large(size, limit)
    return None


def nests_deeper_than(data: bytes, limit: int) -> bool:
    """Whether the JSON text `data` opens more than `limit` arrays or objects inside one another.

    A scan of the bytes, without recursion; brackets inside strings do not count. Text that is not JSON is
    answered by the parser later, so a wrong guess here on such text changes nothing."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def not_an_object(body: bytes) -> str | None:
    """Every JSON body the API takes is an object: why `body` is refused, or None (the parser has its say later).

    Only called once `nests_deeper_than` has passed, so parsing here cannot recurse too deeply."""
    text = body.lstrip()
    if not text or text.startswith(b"{"):
        return None
    try:
        value = json.loads(text)
    except UnicodeDecodeError:
        return "the request body is not UTF-8 text"
    except json.JSONDecodeError as error:
        return f"the request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    return f"the request body is a JSON {_JSON_NAMES.get(type(value), 'value')}; send a JSON object"


_JSON_NAMES: dict[type, str] = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def api_error(status: int, detail: str, **extra: object) -> JsonResponse:
    """An error in the API's one shape (`Error` in the OpenAPI document)."""
    return JsonResponse({"detail": detail, **extra}, status=status)


def _detail_for(request: HttpRequest, response: HttpResponse) -> str:
    status = response.status_code
    if status == 404:
        return f"no such API path: {request.path}"
    if status == 405:
        allowed = response.get("Allow", "")
        return f"method {request.method} is not allowed here; allowed: {allowed}" if allowed else "method not allowed"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def json_error_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Under /api/, an error answered in HTML or plain text (Django's 404, 400 or 500 pages, ninja's 405)
    becomes the same error in JSON, keeping its status and its Allow or Retry-After header."""
    if not request.path.startswith(API_PREFIX) or response.status_code < 400:
        return response
    if is_json(response.get("Content-Type", "")):
        return response
    replaced = api_error(response.status_code, _detail_for(request, response))
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            replaced[header] = response[header]
    return replaced


class BodySizeLimitMiddleware:
    """Oversized bodies (413), JSON bodies nested too deeply under /api/ (400), and JSON errors under /api/.

    It stands near the top of MIDDLEWARE, so what it answers (and what it rewrites) covers the errors raised
    before the API's views run as well as theirs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request.path)
        refusal = declared_refusal(request.META.get("CONTENT_LENGTH") or "", limit)
        if refusal is not None:
            status, message = refusal
            return api_error(status, message)
        if limit > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and request.method == "POST":
            # Django would refuse a body above DATA_UPLOAD_MAX_MEMORY_SIZE: read this one here, within its own limit.
            data = request.read(limit + 1)
            if len(data) > limit:
                return api_error(413, too_large(len(data), limit, at_least=True))
            request._body = data  # what request.body returns from now on
        if (
            request.path.startswith(API_PREFIX)
            and request.path not in FILE_BODY_PATHS
            and is_json(request.META.get("CONTENT_TYPE") or "")
        ):
            try:
                body = request.body
            except RequestDataTooBig:
                limit = settings.ACCORD_MAX_BODY_BYTES
                return api_error(413, f"the request body is larger than this node accepts ({limit} bytes at most)")
            if nests_deeper_than(body, MAX_JSON_DEPTH):
                return api_error(400, f"the request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")
            refusal_text = not_an_object(body)
            if refusal_text is not None:
                return api_error(400, refusal_text, field="body")
        return json_error_response(request, self.get_response(request))


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
    X-Frame-Options on every response (pages, API, feeds, errors). It sits right after Django's
    SecurityMiddleware (which adds HSTS, nosniff). Static files are answered by ServeStatic before either runs:
    they get the same headers from accord.web.static.add_headers. A response that already carries a header
    keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(request)))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # As frame-ancestors 'none', for browsers without CSP 2 (Django's XFrameOptionsMiddleware misses
        # responses that a middleware after it answers).
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
