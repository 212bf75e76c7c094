"""accord.lib.http against real HTTP(S) servers on the loopback interface.

The wrapper refuses loopback addresses unless they are allowed, so most tests pass an allow list;
the refusal tests check that nothing reached the server and that no socket was even connected.
"""

from __future__ import annotations

import datetime
import json
import pickle
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.lib import http as outbound
from accord.lib.http import (
    BlockedAddress,
    ConnectionFailed,
    OutboundError,
    OutboundTimeout,
    ResponseTooLarge,
    allowed_from_env,
    request,
)

LOOPBACK = "127.0.0.1/32"


# --- a real server ---------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class Server(ThreadingHTTPServer):
    def __init__(self, host: str, family: socket.AddressFamily) -> None:
        self.address_family = family
        super().__init__((host, 0), Handler)
        self.seen: list[Seen] = []
        self.server_names: list[str | None] = []  # TLS SNI values
        self.release = threading.Event()  # set at teardown: slow handlers stop

    def server_bind(self) -> None:  # HTTPServer's own does a reverse DNS lookup, which can be slow
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.port

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str = "/echo", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        try:
            self._route()
        except OSError:  # the client went away, as several tests intend
            self.close_connection = True

    do_POST = do_PUT = do_HEAD = do_GET

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        for name, value in headers or []:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        release = self.server.release
        if path == "/echo":
            extra = [("X-Custom", "Value"), ("X-Multi", "a"), ("X-Multi", "b"), ("Content-Type", "application/json")]
            self._send(int(params.get("status", "200")), json.dumps({"ok": True, "path": self.path}).encode(), extra)
        elif path == "/redirect":
            self._send(302, b"moved", [("Location", self.server.url("/elsewhere"))])
        elif path == "/big":
            self._send(200, b"x" * int(params["n"]))
        elif path == "/stream":  # HTTP/1.0, no Content-Length: the body ends when the connection does
            self.send_response(200)
            self.end_headers()
            chunk = b"y" * 65536
            for _ in range(4096):  # 256 MiB at most
                if release.is_set():
                    break
                self.wfile.write(chunk)
        elif path == "/sleep":
            release.wait(float(params.get("s", "5")))
            self._send(200, b"late")
        elif path == "/trickle":  # headers at once, then one body byte every 50 ms
            self.send_response(200)
            self.send_header("Content-Length", "200")
            self.end_headers()
            for _ in range(200):
                self.wfile.write(b"z")
                self.wfile.flush()
                if release.wait(0.05):
                    break
        elif path == "/liar":  # declares a huge body, then sends nothing
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            self.wfile.flush()
            release.wait(10)
        elif path == "/short":  # promises 100 bytes, sends 10, closes
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"s" * 10)
            self.close_connection = True
        else:
            self._send(404, b"no such path")


@contextmanager
def serving(
    host: str = "127.0.0.1", family: socket.AddressFamily = socket.AF_INET, tls: ssl.SSLContext | None = None
) -> Iterator[Server]:
    server = Server(host, family)
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: server.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no IPv6 loopback")


@pytest.fixture(autouse=True)
def _no_env_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_OUTBOUND_ALLOW", raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


@pytest.fixture
def server6() -> Iterator[Server]:
    with serving("::1", socket.AF_INET6) as running:
        yield running


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket connects to during the test."""
    seen: list[Any] = []
    real = socket.socket.connect

    def record(self: socket.socket, address: Any) -> None:
        seen.append(address)
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", record)
    return seen


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer getaddrinfo for the given names: the n-th lookup of a name gets its n-th answer (the last one
    repeats). Other names resolve for real. Returns the names looked up, in order."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def lookup(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        lookups.append(host)
        sequence = answers[host]
        ips = sequence[min(lookups.count(host), len(sequence)) - 1]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return lookups


def one_line_naming(error: OutboundError, host: str) -> None:
    assert host in error.message, error.message
    assert "\n" not in error.message
    assert str(error) == error.message


# --- the private-address guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "10.0.0.1",
        "169.254.169.254",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",  # noqa: S104
        "2130706433",  # 127.0.0.1 written as one number
        "100.64.0.1",
        "224.0.0.1",
        "[fe80::1]",
    ],
)
def test_non_public_addresses_are_refused_before_connecting(server: Server, connects: list[Any], host: str) -> None:
    with pytest.raises(BlockedAddress) as caught:
        request("GET", server.url(host=host))
    assert caught.value.permanent is True
    one_line_naming(caught.value, host.strip("[]"))
    assert "ACCORD_OUTBOUND_ALLOW" in caught.value.message
    assert connects == []
    assert server.seen == []


def test_metadata_address_is_named_in_the_refusal(connects: list[Any]) -> None:
    with pytest.raises(BlockedAddress, match="metadata"):
        request("GET", "http://169.254.169.254/latest/meta-data/")
    assert connects == []


@needs_ipv6
def test_ipv6_loopback_is_refused_then_allowed(server6: Server, connects: list[Any]) -> None:
    url = server6.url(host="[::1]")
    with pytest.raises(BlockedAddress, match="loopback"):
        request("GET", url)
    assert connects == []
    assert server6.seen == []
    assert request("GET", url, allow="::1/128").status == 200
    assert len(server6.seen) == 1


def test_loopback_allowed_by_network(server: Server) -> None:
    response = request("GET", server.url(), allow=LOOPBACK)
    assert response.status == 200
    assert [seen.path for seen in server.seen] == ["/echo"]


def test_loopback_allowed_by_host_name(server: Server) -> None:
    response = request("GET", server.url(host="localhost"), allow="localhost")
    assert response.status == 200
    assert server.seen[0].headers["host"] == f"localhost:{server.port}"


def test_allow_entries_only_cover_what_they_name(server: Server, connects: list[Any]) -> None:
    with pytest.raises(BlockedAddress):
        request("GET", server.url(), allow="127.0.0.2/32")
    with pytest.raises(BlockedAddress):
        request("GET", server.url(), allow="localhost")  # a name entry does not allow its addresses
    with pytest.raises(BlockedAddress):
        request("GET", server.url(host="localhost"), allow="localhost.example")
    assert connects == []
    assert server.seen == []


def test_allow_list_tolerates_whitespace_and_empty_entries(server: Server) -> None:
    assert request("GET", server.url(), allow="  10.0.0.0/8 ,\t127.0.0.0/8 ,, ").status == 200


@needs_ipv6
def test_ipv4_mapped_address_is_allowed_by_its_ipv4_network(server: Server) -> None:
    assert request("GET", server.url(host="[::ffff:127.0.0.1]"), allow=LOOPBACK).status == 200


def test_one_private_address_among_public_ones_is_enough_to_refuse(
    monkeypatch: pytest.MonkeyPatch, connects: list[Any]
) -> None:
    fake_dns(monkeypatch, {"mixed.test": [["93.184.215.14", "127.0.0.1"]]})
    with pytest.raises(BlockedAddress, match=r"mixed\.test.*127\.0\.0\.1"):
        request("GET", "http://mixed.test/")
    assert connects == []


@pytest.mark.parametrize(
    "address",
    ["2002:7f00:1::1", "64:ff9b::a00:1", "fec0::1", "ff02::1", "::", "192.168.1.1", "172.16.0.1", "198.18.0.1"],
)
def test_other_non_public_answers_are_refused(
    monkeypatch: pytest.MonkeyPatch, connects: list[Any], address: str
) -> None:
    fake_dns(monkeypatch, {"inside.test": [[address]]})
    with pytest.raises(BlockedAddress, match=r"inside\.test"):
        request("GET", "http://inside.test/")
    assert connects == []


@pytest.fixture
def refuse_connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record connects and refuse them, so public addresses are never really contacted."""
    seen: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        seen.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return seen


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14", "64:ff9b::5db8:d70e"])
def test_public_answers_pass_and_the_checked_address_is_the_one_connected(
    monkeypatch: pytest.MonkeyPatch, refuse_connects: list[Any], address: str
) -> None:
    lookups = fake_dns(monkeypatch, {"public.test": [[address], ["127.0.0.1"]]})
    with pytest.raises(ConnectionFailed) as caught:
        request("GET", "http://public.test/")
    assert lookups == ["public.test"]
    assert [connected[0] for connected in refuse_connects] == [address]
    one_line_naming(caught.value, "public.test")


def test_host_is_resolved_once_and_sent_as_host_header(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    # A second lookup would answer with an unreachable address: the request only works if it never happens.
    lookups = fake_dns(monkeypatch, {"rebind.test": [["127.0.0.1"], ["10.255.255.1"]]})
    response = request("GET", server.url(host="rebind.test"), allow=LOOPBACK, timeout=3)
    assert response.status == 200
    assert lookups == ["rebind.test"]
    assert server.seen[0].headers["host"] == f"rebind.test:{server.port}"


def test_failing_dns_is_a_temporary_connection_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", broken)
    with pytest.raises(ConnectionFailed) as caught:
        request("GET", "https://nowhere.test/x")
    assert caught.value.permanent is False
    one_line_naming(caught.value, "nowhere.test")


# --- URLs and arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("ftp://example.org/file", "ftp"),
        ("file:///etc/passwd", "file"),
        ("gopher://127.0.0.1:70/", "gopher"),
        ("javascript:alert(1)", "javascript"),
    ],
)
def test_only_http_and_https_schemes(connects: list[Any], url: str, scheme: str) -> None:
    with pytest.raises(BlockedAddress) as caught:
        request("GET", url, allow="0.0.0.0/0")
    assert caught.value.permanent is True
    assert repr(scheme) in caught.value.message
    assert "\n" not in caught.value.message
    assert connects == []


def test_user_information_in_the_url_is_refused_without_repeating_it(connects: list[Any]) -> None:
    with pytest.raises(BlockedAddress) as caught:
        request("GET", "https://user:s3cret@example.org/x")
    one_line_naming(caught.value, "example.org")
    assert "s3cret" not in caught.value.message
    assert connects == []


@pytest.mark.parametrize(
    "url", ["http://exa mple.org/", "http://example.org/a\nb", "http://[::1/", "http://example.org:99999/", "http:///x"]
)
def test_malformed_urls_are_permanent_errors(connects: list[Any], url: str) -> None:
    with pytest.raises(OutboundError) as caught:
        request("GET", url)
    assert caught.value.permanent is True
    assert "\n" not in caught.value.message
    assert connects == []


@pytest.mark.parametrize(
    "entry", ["not a host!", "10.0.0.1/8", "10.0.0.0/33", "http://intranet.example", "*.example.org", "999.1.1.1"]
)
def test_malformed_allow_entry_raises_value_error_naming_it(server: Server, entry: str) -> None:
    with pytest.raises(ValueError, match="allow list") as caught:
        request("GET", server.url(), allow=f"{LOOPBACK}, {entry}")
    assert repr(entry) in str(caught.value)
    assert server.seen == []


def test_allowed_from_env(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    assert allowed_from_env() == ""
    with pytest.raises(BlockedAddress):
        request("GET", server.url())
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "intranet.example, 127.0.0.0/8")
    assert allowed_from_env() == "intranet.example, 127.0.0.0/8"
    assert request("GET", server.url()).status == 200  # allow=None reads the variable
    with pytest.raises(BlockedAddress):
        request("GET", server.url(), allow="")  # an explicit allow list replaces the variable


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding"])
def test_headers_derived_by_the_wrapper_cannot_be_passed(server: Server, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        request("GET", server.url(), headers={name: "x"}, allow=LOOPBACK)
    assert server.seen == []


@pytest.mark.parametrize(
    ("method", "headers"),
    [("GE T", {}), ("GET\r\n", {}), ("GET", {"X-Evil": "a\r\nInjected: yes"}), ("GET", {"Bad Name": "x"})],
)
def test_invalid_method_or_header_raises_value_error(server: Server, method: str, headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        request(method, server.url(), headers=headers, allow=LOOPBACK)
    assert server.seen == []


def test_bad_limits_raise_value_error(server: Server) -> None:
    with pytest.raises(ValueError, match="timeout"):
        request("GET", server.url(), timeout=0, allow=LOOPBACK)
    with pytest.raises(ValueError, match="max_bytes"):
        request("GET", server.url(), max_bytes=-1, allow=LOOPBACK)


# --- requests and responses ----------------------------------------------------------------------


def test_post_body_and_headers_arrive(server: Server) -> None:
    body = b'{"alert": "cholera"}'
    request(
        "POST",
        server.url("/echo?x=1"),
        body=body,
        headers={"Content-Type": "application/json", "X-Accord-Signature": "abc123"},
        allow=LOOPBACK,
    )
    [seen] = server.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/echo?x=1", body)
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-accord-signature"] == "abc123"
    assert seen.headers["content-length"] == str(len(body))
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["accept-encoding"] == "identity"
    assert seen.headers["user-agent"] == f"Accord/{outbound._version()}"
    assert outbound._version() not in ("", "0")  # the installed package's version is found


def test_user_agent_can_be_replaced(server: Server) -> None:
    request("GET", server.url(), headers={"user-agent": "probe/1"}, allow=LOOPBACK)
    assert server.seen[0].headers["user-agent"] == "probe/1"


def test_status_headers_and_body_are_returned(server: Server) -> None:
    response = request("GET", server.url("/echo?status=203"), allow=LOOPBACK)
    assert response.status == 203
    assert response.headers["x-custom"] == "Value"
    assert response.headers["x-multi"] == "a, b"
    assert response.headers["content-type"] == "application/json"
    assert all(name == name.lower() for name in response.headers)
    assert response.json() == {"ok": True, "path": "/echo?status=203"}
    assert response.body == json.dumps({"ok": True, "path": "/echo?status=203"}).encode()
    assert 0 < response.elapsed < 10


def test_error_statuses_are_responses_not_exceptions(server: Server) -> None:
    assert request("GET", server.url("/missing"), allow=LOOPBACK).status == 404
    assert request("GET", server.url("/echo?status=503"), allow=LOOPBACK).status == 503


def test_head_has_an_empty_body(server: Server) -> None:
    response = request("HEAD", server.url(), allow=LOOPBACK)
    assert (response.status, response.body) == (200, b"")
    assert int(response.headers["content-length"]) > 0


def test_redirects_are_not_followed(server: Server) -> None:
    response = request("GET", server.url("/redirect"), allow=LOOPBACK)
    assert response.status == 302
    assert response.headers["location"] == server.url("/elsewhere")
    assert [seen.path for seen in server.seen] == ["/redirect"]


def test_body_up_to_max_bytes_is_accepted(server: Server) -> None:
    assert request("GET", server.url("/big?n=1000"), max_bytes=1000, allow=LOOPBACK).body == b"x" * 1000


def test_declared_body_over_max_bytes(server: Server) -> None:
    with pytest.raises(ResponseTooLarge) as caught:
        request("GET", server.url("/big?n=1001"), max_bytes=1000, allow=LOOPBACK)
    assert caught.value.permanent is True
    one_line_naming(caught.value, "127.0.0.1")


def test_declared_size_over_max_bytes_is_refused_without_reading(server: Server) -> None:
    # The server never sends the body: waiting for it would end in OutboundTimeout.
    with pytest.raises(ResponseTooLarge, match="1000000000000 bytes"):
        request("GET", server.url("/liar"), timeout=5, allow=LOOPBACK)


def test_endless_body_stops_at_max_bytes(server: Server) -> None:
    # A wrapper that kept reading would end in OutboundTimeout instead.
    with pytest.raises(ResponseTooLarge):
        request("GET", server.url("/stream"), max_bytes=200_000, timeout=10, allow=LOOPBACK)


def test_body_shorter_than_declared_is_a_temporary_failure(server: Server) -> None:
    with pytest.raises(ConnectionFailed) as caught:
        request("GET", server.url("/short"), allow=LOOPBACK)
    assert caught.value.permanent is False
    assert "10 of 100" in caught.value.message


# --- timeouts and connection failures ------------------------------------------------------------


def test_slow_server_times_out(server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundTimeout) as caught:
        request("GET", server.url("/sleep?s=5"), timeout=0.5, allow=LOOPBACK)
    assert time.monotonic() - started < 4  # well before the server answers
    assert caught.value.permanent is False
    one_line_naming(caught.value, "127.0.0.1")


def test_trickling_body_hits_the_overall_deadline(server: Server) -> None:
    # Each read gets a byte within 50 ms: only the deadline for the whole response can stop it (200 bytes take 10 s).
    started = time.monotonic()
    with pytest.raises(OutboundTimeout, match="reading the response body"):
        request("GET", server.url("/trickle"), timeout=1, allow=LOOPBACK)
    assert time.monotonic() - started < 5


def test_connection_refused_is_temporary() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again (never listened on) when the block ends
    with pytest.raises(ConnectionFailed) as caught:
        request("GET", f"http://127.0.0.1:{port}/", allow=LOOPBACK)
    assert caught.value.permanent is False
    assert "refused" in caught.value.message
    one_line_naming(caught.value, "127.0.0.1")


# --- HTTPS --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    certs: dict[str, tuple[Path, Path]]  # host name -> (certificate, key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Accord test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs: dict[str, tuple[Path, Path]] = {}
    for host in ("accord.test", "other.test"):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = folder / f"{host}.pem", folder / f"{host}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        certs[host] = (cert_path, key_path)
    return Pki(ca_path, certs)


@pytest.fixture
def tls_server(pki: Pki) -> Callable[[str], Any]:
    def start(certificate_for: str) -> Any:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert, key = pki.certs[certificate_for]
        context.load_cert_chain(cert, key)
        return serving(tls=context)

    return start


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, pki: Pki) -> None:
    monkeypatch.setattr(outbound, "_tls_context", lambda: outbound._new_tls_context(cafile=str(pki.ca)))


@pytest.mark.usefixtures("trust_test_ca")
def test_https_uses_the_host_name_for_sni_and_the_certificate(
    monkeypatch: pytest.MonkeyPatch, tls_server: Callable[[str], Any]
) -> None:
    fake_dns(monkeypatch, {"accord.test": [["127.0.0.1"]]})
    with tls_server("accord.test") as server:
        response = request("POST", server.url(host="accord.test", scheme="https"), body=b"hi", allow="accord.test")
        assert response.status == 200
        assert server.server_names == ["accord.test"]
        assert server.seen[0].body == b"hi"
        assert server.seen[0].headers["host"] == f"accord.test:{server.port}"


@pytest.mark.usefixtures("trust_test_ca")
def test_https_certificate_for_another_name_is_refused(
    monkeypatch: pytest.MonkeyPatch, tls_server: Callable[[str], Any]
) -> None:
    fake_dns(monkeypatch, {"accord.test": [["127.0.0.1"]]})
    with tls_server("other.test") as server:
        with pytest.raises(ConnectionFailed, match="TLS") as caught:
            request("GET", server.url(host="accord.test", scheme="https"), allow="accord.test")
        assert caught.value.permanent is False
        one_line_naming(caught.value, "accord.test")
        assert server.seen == []


def test_https_untrusted_certificate_is_refused(
    monkeypatch: pytest.MonkeyPatch, tls_server: Callable[[str], Any]
) -> None:
    fake_dns(monkeypatch, {"accord.test": [["127.0.0.1"]]})
    with tls_server("accord.test") as server:
        with pytest.raises(ConnectionFailed, match="TLS"):
            request("GET", server.url(host="accord.test", scheme="https"), allow="accord.test")
        assert server.seen == []


# --- the error classes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (BlockedAddress("h: blocked"), True),
        (ResponseTooLarge("h: large"), True),
        (OutboundTimeout("h: slow"), False),
        (ConnectionFailed("h: down"), False),
        (OutboundError("h: odd", permanent=True), True),
        (OutboundError("h: odd"), False),
    ],
)
def test_errors_carry_message_and_permanence_through_pickle(error: OutboundError, permanent: bool) -> None:
    assert isinstance(error, OutboundError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert type(copy) is type(error)
    assert (copy.message, copy.permanent, str(copy)) == (error.message, permanent, error.message)
