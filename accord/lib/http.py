"""The one way Accord makes outbound HTTP requests.

Every call from Accord to another server goes through `request`. It

- accepts only http and https URLs without user information;
- resolves the host once, refuses the request if any resolved address is not globally routable
  (loopback, private, link-local such as 169.254.169.254, multicast, reserved, ...) unless the host
  name or the address is in the allow list, and connects to the address it checked, so a second DNS
  answer can never point the connection somewhere else;
- keeps the whole exchange (DNS, connect, TLS, sending, reading) within `timeout` seconds;
- never follows redirects, never decompresses, and stops reading once the body is over `max_bytes`.

Failures raise an `OutboundError` subclass whose `permanent` flag tells a caller whether retrying can
help. `check_url` asks the same questions of a URL without sending anything, for validating a URL when it is
saved (a webhook, a peer). Standard library only; no Django here (docs/outbound-http.md).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import importlib.metadata
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

__all__ = [
    "BlockedAddress",
    "ConnectionFailed",
    "OutboundError",
    "OutboundTimeout",
    "Response",
    "ResponseTooLarge",
    "URLRefused",
    "allowed_from_env",
    "check_url",
    "request",
]

ALLOW_ENV = "ACCORD_OUTBOUND_ALLOW"
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Headers the wrapper derives from the URL and the body; a caller's value could contradict them.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
_HOST_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token: methods and header names
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00\r\n]")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# One resolved address: family, type, proto, socket address ((host, port) or (host, port, flow, scope)).
_AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, tuple[str, int] | tuple[str, int, int, int]]


# --- results and errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A response as received: any status (3xx included), headers with lower-cased names."""

    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body)


class OutboundError(Exception):
    """The request produced no response. `permanent` is True when retrying the same request cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (type(self), self.message, self.permanent))


def _rebuild_error(cls: type[OutboundError], message: str, permanent: bool) -> OutboundError:
    error = cls.__new__(cls)
    OutboundError.__init__(error, message, permanent=permanent)
    return error


class BlockedAddress(OutboundError):
    """The URL or the address it resolves to is not allowed (permanent)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class ResponseTooLarge(OutboundError):
    """The response body is larger than `max_bytes` (permanent)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class OutboundTimeout(OutboundError):
    """The exchange did not finish within the timeout (temporary)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


class ConnectionFailed(OutboundError):
    """DNS failure, refused or reset connection, TLS failure, connection closed early (temporary)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


class URLRefused(ValueError):
    """`check_url` refuses a URL. `reason` says which rule: `malformed`, `scheme` (not http or https),
    `user_information` (user:password@ in the URL), `address` (a non-public address not in the allow list) or
    `unresolvable` (the host name does not resolve); `message` says it in words, naming the host."""

    REASONS = ("malformed", "scheme", "user_information", "address", "unresolvable")

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


# --- the allow list ---------------------------------------------------------------------------------


def allowed_from_env() -> str:
    """The allow list from ACCORD_OUTBOUND_ALLOW (empty when unset)."""
    return os.environ.get(ALLOW_ENV, "")


@dataclass(frozen=True)
class _Allow:
    names: frozenset[str]
    networks: tuple[_IPNetwork, ...]

    def permits(self, address: _IPAddress) -> bool:
        candidates = [address]
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
        return any(candidate in network for candidate in candidates for network in self.networks)


@functools.lru_cache(maxsize=32)
def _parse_allow(allow: str) -> _Allow:
    names: set[str] = set()
    networks: list[_IPNetwork] = []
    for raw in allow.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
            continue
        except ValueError as exc:
            if "/" in entry or ":" in entry or _looks_numeric(entry):
                raise ValueError(f"outbound allow list: {entry!r} is not an IP address or network: {exc}") from None
        try:
            name = _ascii_host(entry).removesuffix(".")
        except ValueError:
            name = ""
        if not _HOST_NAME.fullmatch(name):
            raise ValueError(
                f"outbound allow list: {entry!r} is not a host name, IP address or network"
                " (write entries like 'intranet.example' or '10.1.0.0/16', separated by commas)"
            )
        names.add(name)
    return _Allow(frozenset(names), tuple(networks))


def _looks_numeric(host: str) -> bool:
    """A host whose last label is a number is an IPv4 address to a resolver, never a name."""
    last = host.removesuffix(".").rsplit(".", 1)[-1].lower()
    return last.isdigit() or last.startswith("0x")


def _ascii_host(host: str) -> str:
    """Lower-case ASCII form of a host name (IDNA for non-ASCII names); ValueError if impossible."""
    host = host.lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"invalid host name {host!r}") from exc
    return host


# --- the address guard ---------------------------------------------------------------------------


def _embedded_ipv4(address: _IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _not_public(address: _IPAddress) -> str | None:
    """Why the address is not a public internet address, or None when it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = _not_public(embedded)
        return None if reason is None else f"{reason} ({address} is {embedded})"
    if isinstance(address, ipaddress.IPv6Address):
        if address.sixtofour is not None and (reason := _not_public(address.sixtofour)) is not None:
            return f"{reason} (6to4 address of {address.sixtofour})"
        if address.is_site_local:
            return "site-local address"
    if address in _METADATA:
        return "link-local address of the cloud metadata service"
    checks = (
        (address.is_unspecified, "unspecified address"),
        (address.is_loopback, "loopback address"),
        (address.is_link_local, "link-local address"),
        (address.is_multicast, "multicast address"),
        (address.is_private, "private address"),
        (address.is_reserved, "reserved address"),
        (not address.is_global, "address that is not globally routable"),
    )
    return next((reason for failed, reason in checks if failed), None)


# --- the time budget -----------------------------------------------------------------------------


class _Deadline:
    """The time budget of one request: each blocking step may take at most `step` seconds and all
    of them together at most `step` seconds from the start."""

    def __init__(self, timeout: float) -> None:
        self.step = timeout
        self.end = time.monotonic() + timeout

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline reached")
        return min(self.step, left)


class _Socket(socket.socket):
    """A TCP socket whose every read and write is bounded by the request's deadline."""

    deadline: _Deadline | None = None

    def _arm(self) -> None:
        if self.deadline is not None:
            self.settimeout(self.deadline.left())

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: ReadableBuffer, flags: int = 0, /) -> None:
        self._arm()  # since Python 3.5 the timeout of sendall bounds the whole call
        super().sendall(data, flags)


class _TLSSocket(ssl.SSLSocket):
    """The TLS counterpart of _Socket (the handshake is bounded by the timeout set before it)."""

    deadline: _Deadline | None = None

    def _arm(self) -> None:
        if self.deadline is not None:
            self.settimeout(self.deadline.left())

    def recv_into(self, buffer: WriteableBuffer, nbytes: int | None = None, flags: int = 0) -> int:
        self._arm()
        return super().recv_into(buffer, nbytes, flags)

    def send(self, data: ReadableBuffer, flags: int = 0) -> int:
        self._arm()  # SSLSocket.sendall loops over send
        return super().send(data, flags)


def _new_tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """Certificate and host name verification on, system trust store (or `cafile`)."""
    context = ssl.create_default_context(cafile=cafile)
    context.sslsocket_class = _TLSSocket
    return context


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return _new_tls_context()


# --- the connection ------------------------------------------------------------------------------


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses resolved and checked beforehand; it never resolves again.

    `host` is the URL's host name: it is the TLS server name (SNI) and the name the certificate must
    match, while the TCP connection goes to one of `addresses`.
    """

    def __init__(
        self, host: str, port: int, addresses: list[_AddrInfo], deadline: _Deadline, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(host, port, timeout=deadline.step)
        self._addresses = addresses
        self._deadline = deadline
        self._tls = tls

    def connect(self) -> None:
        sys.audit("http.client.connect", self, self.host, self.port)
        sock = self._connect_tcp()
        if self._tls is not None:
            try:
                sock.settimeout(self._deadline.left())
                tls_sock = self._tls.wrap_socket(sock, server_hostname=self.host.removesuffix("."))
            except BaseException:
                sock.close()
                raise
            if isinstance(tls_sock, _TLSSocket):
                tls_sock.deadline = self._deadline
            self.sock = tls_sock
        else:
            self.sock = sock

    def _connect_tcp(self) -> _Socket:
        failure: OSError | None = None
        for family, kind, proto, sockaddr in self._addresses:
            sock = _Socket(family, kind, proto)
            try:
                sock.settimeout(self._deadline.left())
                sock.connect(sockaddr)
            except TimeoutError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            with contextlib.suppress(OSError):  # only latency is at stake
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.deadline = self._deadline
            return sock
        raise failure if failure is not None else ConnectionRefusedError("no address to connect to")


# --- the request ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # lower-case ASCII, IPv6 literals without brackets: used for DNS and as TLS server name
    port: int
    host_header: str
    path: str  # path and query, as sent on the request line

    @property
    def name(self) -> str:
        """The host as the allow list names it (no trailing dot)."""
        return self.host.removesuffix(".")


def _literal(host: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _parse_url(url: str) -> _Target:
    if _URL_FORBIDDEN.search(url):
        raise OutboundError("refused a URL containing spaces or control characters", permanent=True)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundError(f"refused a malformed URL: {_one_line(exc)}", permanent=True) from None
    raw_host = parts.hostname or ""
    shown = raw_host or "(no host)"
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BlockedAddress(f"{shown}: URL scheme {scheme!r} is refused; only http and https are allowed")
    if "@" in parts.netloc:
        raise BlockedAddress(f"{shown}: URLs with user information (user:password@) are refused")
    if not raw_host:
        raise OutboundError("refused a URL without a host", permanent=True)
    try:
        host = _ascii_host(raw_host)
    except ValueError:
        raise OutboundError(f"{raw_host}: refused an invalid host name", permanent=True) from None
    literal = ":" in host
    if literal and _literal(host) is None:
        raise OutboundError(f"{host}: refused an invalid IPv6 address", permanent=True)
    if not literal and not _HOST_NAME.fullmatch(host.removesuffix(".")):
        raise OutboundError(f"{host}: refused an invalid host name", permanent=True)
    if port == 0:
        raise OutboundError(f"{host}: refused port 0", permanent=True)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if not path.isascii():
        raise OutboundError(
            f"{host}: the URL path or query has non-ASCII characters; percent-encode them", permanent=True
        )
    header = f"[{host}]" if literal else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        header = f"{header}:{port}"
    return _Target(scheme, host, port or _DEFAULT_PORTS[scheme], header, path)


def _resolve(target: _Target, deadline: _Deadline) -> list[_AddrInfo]:
    """getaddrinfo in a helper thread, so that a hanging resolver cannot outlast the deadline (an IP literal needs
    no resolver, and no thread)."""
    literal = _literal(target.host)
    if literal is not None:
        if literal.version == 6:
            return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, (str(literal), target.port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, (str(literal), target.port))]
    answers: list[_AddrInfo] = []
    errors: list[Exception] = []

    def work() -> None:
        try:
            for family, kind, proto, _canonical, sockaddr in socket.getaddrinfo(
                target.host, target.port, type=socket.SOCK_STREAM
            ):
                if family in (socket.AF_INET, socket.AF_INET6) and isinstance(sockaddr[0], str):
                    answers.append((family, kind, proto, sockaddr))
        except (OSError, UnicodeError) as exc:
            errors.append(exc)

    worker = threading.Thread(target=work, name=f"accord-dns-{target.host}", daemon=True)
    worker.start()
    worker.join(deadline.left())
    if worker.is_alive():
        raise TimeoutError("DNS resolution")
    if errors:
        raise ConnectionFailed(f"{target.host}: DNS resolution failed: {_one_line(errors[0])}")
    if not answers:
        raise ConnectionFailed(f"{target.host}: DNS resolution returned no address")
    return answers


def _check(target: _Target, answers: list[_AddrInfo], allow: _Allow) -> None:
    """Refuse unless every address is public, the host name is allowed, or the address is in an allowed network."""
    if target.name in allow.names:
        return
    literal = _literal(target.host)
    for answer in answers:
        address = ipaddress.ip_address(answer[3][0])
        reason = _not_public(address)
        if reason is not None and not allow.permits(address):
            via = "" if literal == address else f" (resolved to {address})"
            raise BlockedAddress(
                f"{target.host}: refused to connect to a {reason}{via};"
                f" add the host name or address to {ALLOW_ENV} to permit it"
            )


def _headers(given: Mapping[str, str] | None, target: _Target) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in (given or {}).items():
        if not _TOKEN.fullmatch(name) or _HEADER_VALUE_FORBIDDEN.search(value):
            raise ValueError(f"header {name!r}: invalid name, or a value with CR, LF or NUL")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by accord.lib.http from the URL and the body; do not pass it")
        headers[name] = value
    present = {name.lower() for name in headers}
    if "user-agent" not in present:
        headers["User-Agent"] = f"Accord/{_version()}"
    if "connection" not in present:
        headers["Connection"] = "close"
    headers["Host"] = target.host_header
    return headers


@functools.cache
def _version() -> str:
    try:
        return importlib.metadata.version("accord")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _read_body(response: http.client.HTTPResponse, host: str, max_bytes: int) -> bytes:
    declared = response.length  # from Content-Length; None when chunked or delimited by the end of the connection
    if declared is not None and declared > max_bytes:
        raise ResponseTooLarge(f"{host}: response body of {declared} bytes is over the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read(min(_CHUNK, max_bytes - size + 1))
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(f"{host}: response body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    if declared is not None and size < declared:
        raise ConnectionFailed(f"{host}: connection closed after {size} of {declared} body bytes")
    return b"".join(chunks)


def _response_headers(response: http.client.HTTPResponse) -> dict[str, str]:
    """Header names lower-cased; a repeated header is joined with ', ' (RFC 9110, section 5.3)."""
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def check_url(url: str, *, allow: str | None = None, timeout: float = 5.0) -> str:
    """The URL, unchanged, if `request` would send to it now; raises `URLRefused` saying what is wrong otherwise.

    The same parser, resolver and guard as `request`: http or https only, no user information, a well-formed
    host, and every address the host resolves to (within `timeout` seconds) public or permitted by `allow`
    (default: ACCORD_OUTBOUND_ALLOW). Nothing is connected to. DNS answers can change, so `request` checks again
    on every call; this is for refusing a bad URL when it is saved, with a reason. A malformed allow list raises
    a plain ValueError naming the entry (the configuration is wrong, not the URL).
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout!r}")
    rules = _parse_allow(allowed_from_env() if allow is None else allow)
    if not url:
        raise URLRefused("the URL is empty", "malformed")
    try:
        target = _parse_url(url)
    except BlockedAddress as exc:
        # _parse_url has split the URL by now, and refuses the scheme first, then user information.
        scheme = urlsplit(url).scheme.lower()
        raise URLRefused(exc.message, "scheme" if scheme not in _DEFAULT_PORTS else "user_information") from None
    except OutboundError as exc:
        raise URLRefused(exc.message, "malformed") from None
    try:
        answers = _resolve(target, _Deadline(timeout))
    except TimeoutError:
        raise URLRefused(f"{target.host}: the host name did not resolve within {timeout:g} s", "unresolvable") from None
    except ConnectionFailed as exc:
        raise URLRefused(exc.message, "unresolvable") from None
    try:
        _check(target, answers, rules)
    except BlockedAddress as exc:
        raise URLRefused(exc.message, "address") from None
    return url


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 32 * 1024 * 1024,
    allow: str | None = None,
) -> Response:
    """Send one HTTP request and return the response as received (redirects are not followed).

    `allow` is a comma-separated list of host names and IP addresses or networks that may be reached
    although they are not public (default: ACCORD_OUTBOUND_ALLOW). Raises ValueError for a malformed
    allow list or bad arguments, and an OutboundError subclass when the request produced no response.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout!r}")
    if max_bytes < 0:
        raise ValueError(f"max_bytes must not be negative, not {max_bytes!r}")
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    rules = _parse_allow(allowed_from_env() if allow is None else allow)
    target = _parse_url(url)
    request_headers = _headers(headers, target)
    host = target.host
    started = time.monotonic()
    deadline = _Deadline(timeout)
    connection: _PinnedConnection | None = None
    response: http.client.HTTPResponse | None = None  # owns the socket once received (Connection: close)
    phase = "resolving the host name"
    try:
        answers = _resolve(target, deadline)
        _check(target, answers, rules)
        tls = _tls_context() if target.scheme == "https" else None
        connection = _PinnedConnection(host, target.port, answers, deadline, tls)
        phase = "connecting and sending the request"
        connection.request(method, target.path, body=body, headers=request_headers)
        phase = "waiting for the response"
        response = connection.getresponse()
        phase = "reading the response body"
        content = _read_body(response, host, max_bytes)
        return Response(
            status=response.status,
            headers=_response_headers(response),
            body=content,
            elapsed=time.monotonic() - started,
        )
    except TimeoutError:
        raise OutboundTimeout(f"{host}: timed out after {timeout:g} s while {phase}") from None
    except ssl.SSLError as exc:  # certificate verification failures included
        raise ConnectionFailed(f"{host}: TLS failed: {_one_line(exc)}") from None
    except ConnectionRefusedError:
        raise ConnectionFailed(f"{host}: connection refused on port {target.port}") from None
    except (http.client.RemoteDisconnected, http.client.IncompleteRead) as exc:
        raise ConnectionFailed(f"{host}: connection closed while {phase} ({_one_line(exc)})") from None
    except OSError as exc:
        raise ConnectionFailed(f"{host}: connection failed while {phase}: {_one_line(exc)}") from None
    except http.client.HTTPException as exc:
        raise OutboundError(f"{host}: invalid HTTP response: {_one_line(exc)}") from None
    finally:
        if response is not None:
            response.close()
        if connection is not None:
            connection.close()
