"""`accord.lib.http.check_url`: the outbound guard's questions asked of a URL when it is saved, with nothing sent.

Each refusal is a `URLRefused` (a ValueError) whose `reason` names the rule and whose message names the host and
what is wrong. DNS answers are faked where the test needs a given answer; nothing here connects anywhere.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from accord.lib.http import ALLOW_ENV, URLRefused, check_url
from tests.lib.test_http import fake_dns


@pytest.fixture(autouse=True)
def no_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """check_url never connects: any attempt fails the test."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise AssertionError(f"check_url connected to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    yield attempts
    assert attempts == []


def refused(url: str, **kwargs: Any) -> URLRefused:
    with pytest.raises(URLRefused) as caught:
        check_url(url, **kwargs)
    error = caught.value
    assert isinstance(error, ValueError) and str(error) == error.message and "\n" not in error.message
    assert error.reason in URLRefused.REASONS
    return error


def test_a_public_url_is_returned_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.org": [["93.184.216.34", "2606:2800:220:1::248"]]})
    url = "https://hooks.example.org:8443/accord?key=1"
    assert check_url(url) == url
    assert check_url("http://93.184.216.34/x") == "http://93.184.216.34/x"


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("ftp://example.org/hook", "ftp"), ("file:///etc/passwd", "file"), ("gopher://example.org/", "gopher")],
)
def test_a_scheme_other_than_http_or_https_is_named(url: str, scheme: str) -> None:
    error = refused(url)
    assert error.reason == "scheme"
    assert f"URL scheme {scheme!r} is refused; only http and https are allowed" in error.message


def test_user_information_is_refused_without_repeating_it() -> None:
    error = refused("https://alice:s3cret@example.org/hook")
    assert error.reason == "user_information"
    assert "user information" in error.message and "s3cret" not in error.message and "alice" not in error.message


@pytest.mark.parametrize(
    ("url", "what"),
    [
        ("", "the URL is empty"),
        ("https://", "without a host"),
        ("https://exa mple.org/", "spaces or control characters"),
        ("https://example.org/\r\nX-Injected: 1", "spaces or control characters"),
        ("https://example.org:99999/", "malformed URL"),
        ("http://bad_host-.example/", "invalid host name"),
    ],
)
def test_a_malformed_url_says_so(url: str, what: str) -> None:
    error = refused(url)
    assert error.reason == "malformed" and what in error.message


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.1.2.3/hook", "private address"),
        ("http://127.0.0.1:9/hook", "loopback address"),
        ("http://[::1]/hook", "loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local address of the cloud metadata service"),
        ("http://2130706433/", "loopback address"),  # 127.0.0.1 written as a number
    ],
)
def test_a_non_public_address_is_named_with_the_way_to_allow_it(url: str, kind: str) -> None:
    error = refused(url)
    assert error.reason == "address"
    assert f"refused to connect to a {kind}" in error.message and ALLOW_ENV in error.message


def test_a_name_resolving_to_a_private_address_says_what_it_resolved_to(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"intranet.example": [["93.184.216.34", "10.0.0.5"]]})
    error = refused("https://intranet.example/hook")
    assert error.reason == "address"
    assert error.message.startswith("intranet.example: refused to connect to a private address (resolved to 10.0.0.5)")


def test_the_allow_list_permits_what_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"intranet.example": [["10.0.0.5"]]})
    assert check_url("http://127.0.0.1:8080/hook", allow="127.0.0.1/32") == "http://127.0.0.1:8080/hook"
    assert check_url("https://intranet.example/hook", allow="intranet.example") == "https://intranet.example/hook"
    assert check_url("https://intranet.example/hook", allow="10.0.0.0/8") == "https://intranet.example/hook"
    assert refused("http://10.1.2.3/hook", allow="127.0.0.1/32").reason == "address"
    # ACCORD_OUTBOUND_ALLOW is the default list; a list given replaces it.
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32, intranet.example")
    assert check_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook"
    assert check_url("https://intranet.example/hook") == "https://intranet.example/hook"
    assert refused("http://127.0.0.1:8080/hook", allow="").reason == "address"


def test_a_malformed_allow_list_is_a_configuration_error_not_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "10.0.0.1/8")
    with pytest.raises(ValueError) as caught:
        check_url("https://example.org/hook")
    assert "'10.0.0.1/8'" in str(caught.value) and not isinstance(caught.value, URLRefused)


def test_a_host_that_does_not_resolve_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", broken)
    error = refused("https://nowhere.test/hook")
    assert error.reason == "unresolvable"
    assert error.message.startswith("nowhere.test: DNS resolution failed")


def test_a_resolver_that_hangs_is_unresolvable_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang(*_args: Any, **_kwargs: Any) -> Any:
        release.wait()
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    try:
        error = refused("https://slow.test/hook", timeout=0.05)
    finally:
        release.set()
    assert error.reason == "unresolvable"
    assert error.message == "slow.test: the host name did not resolve within 0.05 s"
