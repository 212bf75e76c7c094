"""The federation endpoints as `accord serve` answers them (federation/asgi.py): the request reaches
protocol.serve() exactly as sent, the body limit holds, and everything else goes to Django.

Requests between real nodes go through this layer in the CLI and multi-process tests; here its own rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from accord.federation import asgi, views
from accord.federation.protocol import Reply

Message = dict[str, Any]


def call(
    app: asgi.App,
    path: str,
    *,
    query: bytes = b"",
    method: str = "GET",
    headers: Sequence[tuple[bytes, bytes]] = (),
    chunks: Sequence[bytes] = (),
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP exchange with an ASGI application; returns (status, headers, body)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode("ascii"),
        "query_string": query,
        "headers": list(headers),
    }
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    incoming = incoming or [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(dict(message))

    async def exchange() -> None:
        await app(scope, receive, send)

    asyncio.run(exchange())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


async def django(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, str], bytes]]:
    """What protocol.serve() was asked (the protocol itself is tested in test_protocol.py)."""
    calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def serve(method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        calls.append((method, target, headers, body))
        return Reply(202, {"ok": True}, headers={"Accord-Time": "1"})

    monkeypatch.setattr(asgi, "serve", serve)
    monkeypatch.setattr(views, "serve", serve)  # the Django view, for the test that compares the two
    return calls


def test_a_federation_request_reaches_the_protocol_exactly_as_sent(served: list[Any]) -> None:
    app = asgi.route(django)
    status, headers, body = call(
        app,
        "/federation/v1/hint",
        method="POST",
        query=b"after=v1.MQ&direct=a,b",
        headers=[(b"Accord-Node", b"n"), (b"content-type", b"application/json"), (b"content-length", b"11")],
        chunks=[b'{"head":', b'"x"}'],
    )
    assert status == 202 and json.loads(body) == {"ok": True}
    assert headers["cache-control"] == "no-store" and headers["accord-time"] == "1"
    assert headers["content-type"] == "application/json"
    method, target, seen, received = served[0]
    assert (method, target, received) == ("POST", "/federation/v1/hint?after=v1.MQ&direct=a,b", b'{"head":"x"}')
    assert seen["accord-node"] == "n"  # names in lower case, as serve() expects


def test_everything_else_goes_to_django(served: list[Any]) -> None:
    app = asgi.route(django)
    assert call(app, "/api/v1/alerts")[0] == 299
    assert call(app, "/federation/other")[0] == 299
    assert not served


def test_a_body_over_the_limit_is_refused_before_the_protocol_sees_it(served: list[Any], settings: Any) -> None:
    settings.ACCORD_MAX_BODY_BYTES = 10
    app = asgi.route(django)
    declared = [(b"content-length", b"11")]
    status, _, body = call(app, "/federation/v1/fetch", method="POST", headers=declared, chunks=[b"x" * 11])
    assert status == 413 and "at most 10 bytes" in json.loads(body)["error"]
    # Without a Content-Length (chunked), counted as it arrives.
    status, _, _ = call(app, "/federation/v1/fetch", method="POST", chunks=[b"x" * 6, b"x" * 6])
    assert status == 413
    status, _, body = call(app, "/federation/v1/fetch", method="POST", headers=[(b"content-length", b"ten")])
    assert status == 400 and "Content-Length" in json.loads(body)["error"]
    assert not served
    assert call(app, "/federation/v1/fetch", method="POST", chunks=[b"x" * 10])[0] == 202


def test_a_failure_inside_is_a_500_with_a_json_error_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Reply:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(asgi, "serve", broken)
    status, _, body = call(asgi.route(django), "/federation/v1/feed")
    assert status == 500 and "error" in json.loads(body)
    assert "disk gone" in caplog.text


@pytest.mark.django_db
def test_both_http_faces_answer_with_the_same_headers(served: list[Any]) -> None:
    from django.test import Client

    _, from_asgi, body = call(asgi.route(django), "/federation/v1/hint", method="POST")
    response = Client().post("/federation/v1/hint", b"", content_type="application/json")
    from_django = {name.lower(): value for name, value in response.headers.items()}
    for name in ("content-type", "cache-control", "x-content-type-options", "accord-time", "content-length"):
        assert from_asgi[name] == from_django[name], name
    assert response.content == body and len(served) == 2
