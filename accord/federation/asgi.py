"""The federation endpoints as `accord serve` answers them: straight from ASGI, not through Django's handler.

A node-to-node request needs none of Django's middleware (sessions, CSRF, locale, messages, static files) and
none of its per-request thread: `route()` sends every /federation/v1/ request to `protocol.serve()` in a small
pool of threads that keep their database connections, and everything else to Django. The body limit
(`ACCORD_MAX_BODY_BYTES`) is the middleware's (`declared_refusal`), and the body is also counted as it arrives.
The Django view (views.py) stays for other servers and for the test client; both call the same `serve()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from accord.federation.protocol import PREFIX, Reply, serve
from accord.web.middleware import declared_refusal, too_large

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# As Django's ASGIHandler types its __call__ (the scope a dict; messages mappings).
App = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("accord.federation")

# Federation requests one server process answers at once; each thread keeps its own database connection.
THREADS = 8

# Its threads start with the first requests (a process that answers none starts none).
_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="federation")


def route(django: App) -> App:
    """The ASGI application: /federation/v1/ here, the rest to `django`."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX):
            await answer(scope, receive, send)
        else:
            await django(scope, receive, send)

    return application


def _answer(method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
    """In a pool thread, as Django brackets a request: connections too old or broken are closed before and after."""
    close_old_connections()
    try:
        return serve(method, target, headers, body)
    except Exception:
        logger.exception("federation: %s %s failed", method, target[:200])
        return Reply(500, {"error": "this node failed to answer the request; its log has the details"})
    finally:
        close_old_connections()


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = bytes(raw_name).decode("latin-1").lower()
        value = bytes(raw_value).decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    refusal = declared_refusal(headers.get("content-length", ""))
    if refusal is not None:
        status, error = refusal
        await _reply(send, Reply(status, {"error": error}))
        return
    limit = int(settings.ACCORD_MAX_BODY_BYTES)
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if len(body) > limit:
            await _reply(send, Reply(413, {"error": too_large(len(body), limit, at_least=True)}))
            return
        if not message.get("more_body", False):
            break
    # The target exactly as sent (the request signature covers it): the raw path, not the decoded one.
    path = scope.get("raw_path") or str(scope["path"]).encode("utf-8")
    query = scope.get("query_string") or b""
    target = bytes(path).decode("latin-1") + ("?" + bytes(query).decode("latin-1") if query else "")
    method = str(scope.get("method", "GET"))
    loop = asyncio.get_running_loop()
    reply = await loop.run_in_executor(_pool, _answer, method, target, headers, bytes(body))
    await _reply(send, reply)


async def _reply(send: Send, reply: Reply) -> None:
    body = reply.body()
    headers = [(b"content-length", str(len(body)).encode("latin-1"))]
    headers += [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.http_headers().items()
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
