"""Refuse oversized (and, under /api/, too deeply nested) request bodies before any view reads them, and answer
every error under /api/ in JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"

# How deeply a JSON body under /api/ may nest arrays and objects. Every body the API takes nests a few levels
# (a CAP alert's polygon is at depth 6); a deeper one is refused with 400 here, for every endpoint at once,
# before a parser or a validator could recurse into it (a 100,000-deep array was a RecursionError, a 500).
MAX_JSON_DEPTH = 32

# A JSON string (skipped whole, brackets in it do not count) or one bracket.
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


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
        refusal = declared_refusal(request.META.get("CONTENT_LENGTH") or "")
        if refusal is not None:
            status, message = refusal
            return api_error(status, message)
        if request.path.startswith(API_PREFIX) and is_json(request.META.get("CONTENT_TYPE") or ""):
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
