"""Refuse oversized request bodies before any view reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number"}, status=400)
        limit = settings.ACCORD_MAX_BODY_BYTES
        if size > limit:
            return JsonResponse(
                {"detail": f"the request body is {size} bytes; this node accepts at most {limit} bytes"},
                status=413,
            )
        return self.get_response(request)
