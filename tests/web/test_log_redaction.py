"""Secrets out of logs: real requests carrying an API token, a feed key, a password and a webhook secret go
through the app (in this process) and through a real `accord serve` (uvicorn, with its access log on), and all
that was logged is searched for them. None may appear; the redacted lines must be there (so the test sees logs).
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import logging
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from accord.lib.redact import REDACTED, RedactingFilter, redact
from accord.members import actions as member_actions
from accord.notify import actions as notify_actions
from tests.cli_support import ACCORD, new_node
from tests.conftest import World

WRONG_PASSWORD = "Wrong-Password-Zebra-981"


def _secrets_of(token: str) -> list[str]:
    """The token, and its secret part alone (the prefix is not secret and stays)."""
    return [token, token.split(".", 1)[1]]


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every record any logger emits, as a plain handler on the root logger formats it (message and traceback):
    no filter of its own, so what it prints is what the configured filters left in the records."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def test_requests_with_secrets_leave_none_in_the_logs(
    world: World,
    everything_logged: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    _, token = member_actions.create_token(world.carol, name="feeds", scope="feed", acting_user=None)
    _, api_token = member_actions.create_token(world.carol, name="api", scope="read", acting_user=None)
    subscription = notify_actions.create_subscription(channels=[], account=world.carol, acting_user=world.carol)
    feed_key = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    client = Client()

    # The 404s that leaked before: a real token in the path of a feed that does not exist.
    assert client.get(f"/feeds/t/{token}/alerts/00000000-0000-0000-0000-000000000000.cap").status_code == 404
    assert client.get(f"/feeds/t/{token}/nothing-here").status_code == 404
    assert client.get(f"/feeds/s/{feed_key}/nothing-here").status_code == 404
    assert client.get(f"/feeds/t/{token}broken/alerts.atom").status_code in (401, 403, 404)
    # A failed login, with the password in the body and, by mistake, in the query.
    response = client.post(f"/login/?password={WRONG_PASSWORD}", {"username": "carol", "password": WRONG_PASSWORD})
    assert response.status_code == 200
    # API calls with a bearer token: one fine, one refused, one to nowhere, one with the token in the query.
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api_token}"}
    assert client.get("/api/v1/me", **bearer).status_code == 200  # type: ignore[arg-type]
    refused = client.post("/api/v1/records", {}, content_type="application/json", **bearer)  # type: ignore[arg-type]
    assert 400 <= refused.status_code < 500
    assert client.get("/api/v1/no-such-endpoint", **bearer).status_code == 404  # type: ignore[arg-type]
    assert client.get(f"/api/v1/me?access_token={api_token}").status_code == 401
    assert client.get(f"/api/v1/me/{api_token}").status_code == 404

    logged = everything_logged.getvalue() + caplog.text + "".join(capfd.readouterr())
    assert "Not Found: /feeds/t/" in logged and f"/feeds/t/{REDACTED}/" in logged  # the lines are there, clean
    for secret in [*_secrets_of(token), *_secrets_of(api_token), feed_key, WRONG_PASSWORD]:
        assert secret not in logged, f"{secret[:14]}... was logged:\n{logged}"


def test_the_filter_cleans_message_arguments_and_traceback(everything_logged: io.StringIO) -> None:
    secret = "whsec_" + "A1b2C3d4" * 5 + "=="
    token = "accord_0123456789ab.S3cr3t-T0ken_value-abcdefghijklmnop"
    log = logging.getLogger("accord.notify")
    log.warning("webhook %s failed for %s", f"https://hooks.example.org/x?signature=abc123&secret={secret}", token)
    log.warning("sent with webhook-signature: v1,abcdefSIG== to %(url)s", {"url": "https://example.org/?key=K3y"})
    try:
        raise ValueError(f"bad header Authorization: Bearer {token}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /feeds/s/sfeed_abcdefghijkl/x")
    logged = everything_logged.getvalue()
    for leaked in (secret, "S3cr3t-T0ken", "abc123", "abcdefSIG", "K3y", "sfeed_abcdefghijkl"):
        assert leaked not in logged, logged
    assert "accord_0123456789ab." + REDACTED in logged  # the prefix stays: it names the token
    assert "ValueError" in logged and "Traceback" in logged


def test_the_filter_keeps_uvicorns_access_arguments_in_shape() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/feeds/t/accord_aa.bbbbbbbb/alerts.atom?password=x", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", f"/feeds/t/{REDACTED}/alerts.atom?password={REDACTED}", "1.1", 200)
    assert (
        record.getMessage()
        == f'127.0.0.1:5000 - "GET /feeds/t/{REDACTED}/alerts.atom?password={REDACTED} HTTP/1.1" 200'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bearer abcdefgh12345678", f"Bearer {REDACTED}"),
        ("GET /x?token=t0k&page=2", f"GET /x?token={REDACTED}&page=2"),
        ("username=carol&password=p4ss", f"username=carol&password={REDACTED}"),
        ('{"password": "p\\"4ss", "user": "carol"}', f'{{"password": "{REDACTED}", "user": "carol"}}'),
        ("Accord-Signature: keyid=1,sig=abc", f"Accord-Signature: {REDACTED}"),
        ("Cookie: sessionid=abc; csrftoken=def", f"Cookie: {REDACTED}"),
        ("a signature did not verify", "a signature did not verify"),
        ("token 3f2a9c01b7de of carol revoked", "token 3f2a9c01b7de of carol revoked"),
        ("Authorization: Token abcdefghijklmnopqrstuvwxyz012345", f"Authorization: {REDACTED}"),
        ("sent Token abcdefghijklmnopqrstuvwxyz012345", f"sent Token {REDACTED}"),
        ("Not Found: /records/1234/", "Not Found: /records/1234/"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_accord_serve_logs_no_secret(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.extra_env.update({"ACCORD_ACCESS_LOG": "true", "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32"})
        password = "Serve-Test-Passphrase-4471"
        node.run(
            "account", "add", "--username", "kz.analyst", "--member", "KZ", "--role", "focal_point",
            "--password-stdin", stdin=password + "\n",
        )  # fmt: skip
        feed_token = node.run("token", "create", "--username", "kz.analyst", "--scope", "feed").stdout.split()[0]
        api_token = node.run("token", "create", "--username", "kz.analyst", "--scope", "read").stdout.split()[0]
        assert feed_token.startswith("accord_") and api_token.startswith("accord_")
        added = node.run(
            "subscription", "add", "--username", "kz.analyst", "--webhook", "http://127.0.0.1:9/hook", "--kind", "alert"
        )
        webhook_secret = json.loads(added.stdout)["secret"]
        assert webhook_secret.startswith("whsec_")

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = node.env() | {"ACCORD_DATA_DIR": str(node.data_dir)}
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--workers", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for(f"{base}/healthz")
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

            def call(path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
                request = urllib.request.Request(base + path, data=data, headers=headers or {})  # noqa: S310
                try:
                    with opener.open(request, timeout=30) as response:
                        response.read()
                        return int(response.status)
                except urllib.error.HTTPError as error:
                    return int(error.code)

            nowhere = "00000000-0000-0000-0000-000000000000"
            assert call(f"/feeds/t/{feed_token}/alerts/{nowhere}.cap") == 404
            assert call(f"/feeds/t/{feed_token}/alerts.atom") == 200
            assert call(f"/feeds/t/{feed_token}x/alerts.atom") in (401, 403, 404)
            assert call("/api/v1/me", headers={"Authorization": f"Bearer {api_token}"}) == 200
            assert call(f"/api/v1/me?access_token={api_token}") == 401
            assert call(f"/healthz?secret={urllib.parse.quote(webhook_secret)}") in (200, 503)
            # A failed login: the password in the form, and by mistake in the query too.
            assert call("/login/") == 200
            csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
            form = urllib.parse.urlencode(
                {"username": "kz.analyst", "password": "Not-" + password, "csrfmiddlewaretoken": csrf}
            ).encode()
            status = call(f"/login/?password=Not-{password}", data=form, headers={"Referer": base + "/login/"})
            assert status == 200
            # And a login form posted without its CSRF token (Django logs "Forbidden (CSRF ...)").
            jar.clear()
            assert call("/login/", data=urllib.parse.urlencode({"password": password}).encode()) == 403
        finally:
            server.send_signal(signal.SIGINT)
            out, err = server.communicate(timeout=30)
        logged = out.decode() + err.decode()
        assert f'"GET /feeds/t/{REDACTED}/alerts.atom HTTP/1.1" 200' in logged, logged  # the access log is on
        assert f"Not Found: /feeds/t/{REDACTED}/alerts/{nowhere}.cap" in logged, logged
        assert f"access_token={REDACTED}" in logged and f"password={REDACTED}" in logged, logged
        for secret in [*_secrets_of(feed_token), *_secrets_of(api_token), webhook_secret, password]:
            assert secret not in logged, f"{secret[:14]}... was logged:\n{logged}"
        assert urllib.parse.quote(webhook_secret) not in logged


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310  (loopback only)
                return
        except urllib.error.HTTPError:
            return  # it answers (503 without a worker)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within 60 s")
