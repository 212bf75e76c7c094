"""HTTP face of the federation protocol: one view hands every /federation/v1/ request to protocol.serve()."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accord.federation.protocol import serve


@csrf_exempt
def endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    target = request.get_full_path()
    headers = {name.lower(): value for name, value in request.headers.items()}
    reply = serve(request.method or "GET", target, headers, request.body)
    response = HttpResponse(reply.body(), status=reply.status)
    for name, value in reply.http_headers().items():
        response[name] = value
    return response
