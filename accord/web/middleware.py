"""Refuse oversized request bodies before any view reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
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
