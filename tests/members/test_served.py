"""The lockout and the two-factor steps as `accord serve` (uvicorn, ASGI) answers them over real HTTP: the
middleware of django-axes takes another path there than under the test client."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli_support import ACCORD, Node, new_node
from tests.members.support import totp

PASSWORD = "a-long-enough-password"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Cookies and CSRF like a browser; redirects are returned, not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = None
        if form is not None:
            token = next(c.value for c in self.jar if c.name == "csrftoken")
            data = urllib.parse.urlencode(form | {"csrfmiddlewaretoken": str(token)}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def log_in(self, username: str, password: str) -> tuple[int, str, str]:
        self.request("/login/")
        return self.request("/login/", {"username": username, "password": password, "next": "/alerts/"})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(node: Node) -> Iterator[str]:
    port = _free_port()
    env = node.env() | {"ACCORD_DATA_DIR": str(node.data_dir)}
    server = subprocess.Popen(
        [ACCORD, "serve", "--port", str(port), "--workers", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/login/", timeout=5) as response:  # noqa: S310  (loopback)
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        else:
            raise AssertionError("accord serve did not answer")
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.sqlite_pass
def test_lockout_and_two_factor_under_accord_serve(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.extra_env.update(
            {
                "ACCORD_LOGIN_FAILURE_LIMIT": "3",
                "ACCORD_LOGIN_COOLOFF_MINUTES": "20",
                "ACCORD_2FA_REQUIRED_ROLES": "focal_point",
            }
        )
        for name, role in (("aigerim", "focal_point"), ("dana", "viewer")):
            node.run(
                "account", "add", "--username", name, "--member", "KZ", "--role", role, "--password-stdin",
                stdin=PASSWORD + "\n",
            )  # fmt: skip
        with served(node) as base:
            web = Browser(base)
            for _ in range(2):
                assert web.log_in("dana", "wrong-password")[0] == 200
            status, _, page = web.log_in("dana", "wrong-password")
            assert status == 429 and "Try again in 20 minutes, after" in page
            assert 'value="dana"' in page
            status, _, page = web.log_in("dana", PASSWORD)
            assert status == 429 and "Try again in 20 minutes, after" in page
            node.run("account", "unlock", "--username", "dana")
            assert web.log_in("dana", PASSWORD)[:2] == (302, "/alerts/")

            # A focal point must set up 2FA first; then log-in needs the code.
            first = Browser(base)
            status, where, _ = first.log_in("aigerim", PASSWORD)
            assert status == 302 and where.startswith("/account/two-factor/")
            assert first.request("/records/")[1].startswith("/account/two-factor/")
            setup = first.request(where)[2]
            match = re.search(r'data-secret="([A-Z2-7]+)"', setup)
            assert match
            secret = match.group(1)
            status, where, _ = first.request("/account/two-factor/", {"action": "confirm", "code": totp(secret)})
            assert status == 302
            assert first.request("/records/")[0] == 200
            second = Browser(base)
            status, where, _ = second.log_in("aigerim", PASSWORD)
            assert status == 302 and where.startswith("/login/code/")
            assert second.request("/api/v1/me")[0] == 401
            status, where, _ = second.request("/login/code/", {"code": totp(secret, ahead=1), "next": "/alerts/"})
            assert (status, where) == (302, "/alerts/")
            assert '"username": "aigerim"' in second.request("/api/v1/me")[2].replace('":"', '": "')
        node.run("account", "reset-2fa", "--username", "aigerim")
        audit = node.run("audit", "verify", "--json")
        assert audit.returncode == 0
        actions = [row[0] for row in node.sql("SELECT action FROM records_auditentry ORDER BY seq")]
        for expected in ("account.lockout", "account.unlock", "account.2fa.enable", "account.2fa.reset"):
            assert expected in actions
