"""Security headers on every response, HSTS in production, and the idle session timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accord.web import middleware
from tests.conftest import PASSWORD, World, client_for

PAGES = [
    "/records/",
    "/alerts/",
    "/alerts/new/",
    "/surveillance/",
    "/surveillance/signals/",
    "/notifications/",
    "/login/",
    "/api/v1/me",
    "/api/v1/docs",
    "/api/v1/openapi.json",
    "/feeds/alerts.atom",
    "/healthz",
    "/no-such-page/",
    "/api/v1/no-such-endpoint",
]


def _policy(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(world: World, path: str) -> None:
    response = client_for(world.carol).get(path)
    assert response.status_code in (200, 302, 404, 503), response.status_code
    policy = _policy(response["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
    script = policy["script-src"].split()
    assert script[0] == "'self'" and script[1].startswith("'nonce-") and len(script) == 2
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["style-src"] == "'self'"
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response  # not in development, and not over plain HTTP


def test_the_nonce_is_new_for_each_response_and_the_one_templates_get(world: World) -> None:
    client = client_for(world.carol)
    first, second = client.get("/records/"), client.get("/records/")
    nonces = [_policy(r["Content-Security-Policy"])["script-src"].split()[1] for r in (first, second)]
    assert nonces[0] != nonces[1]
    assert first.context["csp_nonce"] == nonces[0].removeprefix("'nonce-").removesuffix("'")
    assert len(first.context["csp_nonce"]) >= 22


def test_no_template_has_inline_script_style_or_handlers() -> None:
    """The policy refuses them, so they would silently not work: none may come back."""
    import re

    root = Path(__file__).resolve().parents[2] / "accord"
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")|\sstyle=|<style|\son[a-z]+=", re.I
    )
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("templates/**/*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if inline.search(line)
    ]
    assert found == []


def _production_settings(extra: dict[str, str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update({"ACCORD_ENV": "production", "ACCORD_SECRET_KEY": "p" * 40, "DJANGO_SETTINGS_MODULE": "accord.settings"})
    env.update(extra)
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k, None) for k in "
        "('SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'SESSION_COOKIE_AGE', "
        "'SESSION_COOKIE_SECURE')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


def test_production_turns_hsts_on_and_it_is_configurable() -> None:
    default = _production_settings({})
    assert default["SECURE_HSTS_SECONDS"] == 31_536_000
    assert default["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and default["SECURE_HSTS_PRELOAD"] is False
    assert default["SESSION_COOKIE_AGE"] == 12 * 3600 and default["SESSION_COOKIE_SECURE"] is True
    custom = _production_settings(
        {"ACCORD_HSTS_SECONDS": "600", "ACCORD_HSTS_PRELOAD": "yes", "ACCORD_SESSION_IDLE_HOURS": "2"}
    )
    assert custom["SECURE_HSTS_SECONDS"] == 600 and custom["SECURE_HSTS_PRELOAD"] is True
    assert custom["SESSION_COOKIE_AGE"] == 2 * 3600
    refused = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.SECRET_KEY"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "accord.settings", "ACCORD_SESSION_IDLE_HOURS": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "ACCORD_SESSION_IDLE_HOURS=0 is below the minimum 1" in refused.stderr


def test_hsts_is_sent_over_https_when_configured(world: World, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client = client_for(world.carol)
    secure = client.get("/records/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/records/")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    shifted = Clock()
    monkeypatch.setattr(middleware, "now", shifted)
    return shifted


def _logged_in(client: Client) -> bool:
    response = client.get("/records/")
    return response.status_code == 200


def test_an_idle_session_is_logged_out_and_activity_extends_it(world: World, clock: Clock, settings: Any) -> None:
    assert settings.ACCORD_SESSION_IDLE_SECONDS == 12 * 3600  # the default
    client = Client()
    response = client.post("/login/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    assert _logged_in(client)
    assert client.session.get_expiry_age() == 12 * 3600  # the cookie and the stored session live as long

    # Active every 11 hours: still logged in a day and a half later.
    for _ in range(3):
        clock.now += 11 * 3600
        assert _logged_in(client)

    # Then 12 hours and a second without a request: logged out, sent to the login page, session gone.
    session_key = client.session.session_key
    clock.now += 12 * 3600 + 1
    response = client.get("/records/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.session.session_key != session_key
    assert not _logged_in(client)


def test_the_idle_limit_is_configurable(world: World, clock: Clock, settings: Any) -> None:
    settings.ACCORD_SESSION_IDLE_SECONDS = 3600
    client = client_for(world.carol)
    assert _logged_in(client)
    clock.now += 3000
    assert _logged_in(client)
    clock.now += 3601
    assert not _logged_in(client)


def test_the_api_with_a_session_is_logged_out_too(world: World, clock: Clock) -> None:
    client = client_for(world.carol)
    assert client.get("/api/v1/me").status_code == 200
    clock.now += 13 * 3600
    assert client.get("/api/v1/me").status_code == 401
