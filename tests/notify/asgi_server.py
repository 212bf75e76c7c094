"""A real ASGI server (uvicorn, as `accord serve` runs it) in a thread of the test process, on 127.0.0.1.

pytest-django's `live_server` is a threaded WSGI server, where the live stream answers once and ends; the
stream's real behaviour needs ASGI. Running uvicorn in a thread (not a subprocess) lets it use the test
database, the in-memory SQLite one included (a shared-cache URI, so each thread's connection sees the same
data), while the test writes through the action functions.

Connections opened by the server's threads are closed at the end of each request (CONN_MAX_AGE is set to
0 for the duration), so none is left to block dropping the PostgreSQL test database.

In-memory SQLite shares its cache between connections, with table locks that are not retried: a read in the
server's thread at the moment the test writes fails either side with "database table is locked". The
server's connections to such a database therefore read with `PRAGMA read_uncommitted` (no read locks). Only
the test's in-memory database is affected; a file database (WAL) and PostgreSQL are used as they are.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from django.db import connection
from django.db.backends.signals import connection_created


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class AsgiServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            "accord.asgi:application",
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="accord-test-asgi", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError("the test ASGI server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)


def _no_read_locks(sender: Any, connection: Any, **kwargs: Any) -> None:
    if (
        connection.vendor == "sqlite"
        and connection.is_in_memory_db()
        and threading.current_thread() is not threading.main_thread()
    ):
        connection.connection.execute("PRAGMA read_uncommitted = 1")  # the raw sqlite3 connection


@contextmanager
def asgi_server() -> Iterator[AsgiServer]:
    settings_dict = connection.settings_dict
    saved = settings_dict.get("CONN_MAX_AGE", 0)
    settings_dict["CONN_MAX_AGE"] = 0
    connection_created.connect(_no_read_locks, dispatch_uid="accord-test-asgi-read-locks")
    server = AsgiServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        connection_created.disconnect(dispatch_uid="accord-test-asgi-read-locks")
        settings_dict["CONN_MAX_AGE"] = saved


@dataclass
class Event:
    id: str | None
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SseClient:
    """A minimal Server-Sent Events reader over one HTTP/1.1 connection.

    A thread reads the stream (blocking, no socket time-outs, which would leave the connection unreadable) and
    queues each event; `next_event` waits on the queue. Comments, `retry`, ids and the opening `ready` event
    are recorded as they pass."""

    server: AsgiServer
    path: str = "/api/v1/stream"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0
    comments: list[str] = field(default_factory=list)
    retry: int | None = None
    last_id: str | None = None
    ready_id: str | None = None
    _conn: http.client.HTTPConnection | None = None
    _response: http.client.HTTPResponse | None = None
    _events: queue.Queue[Event | None] = field(default_factory=queue.Queue)
    _reader: threading.Thread | None = None

    def open(self, timeout: float = 10.0) -> SseClient:
        self._conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        self._conn.request("GET", self.path, headers={"Accept": "text/event-stream", **self.headers})
        self._response = self._conn.getresponse()
        self.status = self._response.status
        if self.status == 200:
            assert self._conn.sock is not None
            self._conn.sock.settimeout(None)
            self._reader = threading.Thread(target=self._read, name="sse-client", daemon=True)
            self._reader.start()
        return self

    def body(self) -> str:
        assert self._response is not None and self._reader is None
        return self._response.read().decode()

    @property
    def content_type(self) -> str:
        assert self._response is not None
        return self._response.getheader("Content-Type") or ""

    def _read(self) -> None:
        assert self._response is not None
        name, event_id = "message", None
        data: list[str] = []
        try:
            while True:
                raw = self._response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\n").rstrip("\r")
                if line == "":
                    if event_id is not None:
                        self.last_id = event_id
                    if name == "ready":  # the stream's opening event: its id is the sealed starting point
                        self.ready_id = event_id
                    elif data:
                        self._events.put(Event(event_id, name, "\n".join(data)))
                    name, data, event_id = "message", [], None
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())
                else:
                    key, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if key == "data":
                        data.append(value)
                    elif key == "event":
                        name = value
                    elif key == "id":
                        event_id = value
                    elif key == "retry":
                        self.retry = int(value)
        except Exception:  # noqa: BLE001  (closed by this side: http.client fails in several ways)
            return
        finally:
            self._events.put(None)

    def next_event(self, timeout: float = 10.0) -> Event | None:
        """The next event; None when the stream has ended. TimeoutError if none comes within `timeout` s."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no event within {timeout} s") from None

    def take(self, count: int, timeout: float = 15.0) -> list[Event]:
        """The next `count` events, waiting at most `timeout` seconds in all (AssertionError if fewer come)."""
        found: list[Event] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                event = self.next_event(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                event = None
            if event is None:
                raise AssertionError(f"{len(found)} events of {count} came: {found}")
            found.append(event)
        return found

    def events_until_quiet(self, quiet: float = 1.5) -> list[Event]:
        """Every event until none comes for `quiet` seconds (or the stream ends)."""
        found: list[Event] = []
        while True:
            try:
                event = self.next_event(timeout=quiet)
            except TimeoutError:
                return found
            if event is None:
                self._events.put(None)  # ended: stays ended for the next caller
                return found
            found.append(event)

    def close(self) -> None:
        if self._conn is not None:
            if self._conn.sock is not None:
                with contextlib.suppress(OSError):
                    self._conn.sock.shutdown(socket.SHUT_RDWR)
            self._conn.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
