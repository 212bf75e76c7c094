"""Real nodes for multi-process tests: each `accord serve` on its own 127.0.0.1 port with its own database
(tests/cli_support.py), peered with every other over HTTP, and an API client speaking to one of them.

Used by tests/federation/test_multiprocess.py and tests/response/test_multiprocess.py.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.cli_support import ACCORD, Node, new_node

T = TypeVar("T")

# Fast polling, so that a test waits seconds, not minutes, for a sync.
FAST_SYNC = {
    "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32",
    "ACCORD_FEDERATION_POLL_SECONDS": "2",
    "ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS": "10",
    "ACCORD_FEDERATION_PAGE": "25",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Server:
    def __init__(self, node: Node, port: int, web_workers: int | None = None) -> None:
        self.node = node
        self.port = port
        self.web_workers = web_workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_ready: bool = True) -> None:
        env = self.node.env() | {"ACCORD_DATA_DIR": str(self.node.data_dir)}
        log = (self.node.data_dir / "serve.log").open("ab")
        # Its own session, so SIGKILL can take the server and its worker together, as a crash would.
        command = [ACCORD, "serve", "--port", str(self.port)]
        if self.web_workers is not None:
            command += ["--web-workers", str(self.web_workers)]
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        if wait_ready:
            wait(f"node on port {self.port} to answer", self.healthy, timeout=60)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200 and json.loads(answer.read())["workers"] == "ok")
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class RealNode:
    member: str
    node: Node
    server: Server
    info: dict[str, str]  # what `accord init` printed: node_id, url, public_key...

    def versions(self) -> list[tuple[str, str, int, str]]:
        return versions(self.node)

    def account(self, username: str, *roles: str) -> Client:
        """An account of this node's member (its one organisation) with `roles`, and a client holding its token."""
        self.node.run("account", "add", "--username", username, "--member", self.member, "--role", ",".join(roles))
        token = self.node.run("token", "create", "--username", username).stdout.strip()
        return Client(self.server.port, token)

    def pulled_since(self, other: str, since: float) -> bool:
        """Whether this node has completed a pull from `other`'s node after `since` (epoch seconds)."""
        rows = [json.loads(line) for line in self.node.run("federation", "status", "--json").stdout.splitlines()]
        row = next(r for r in rows if r["member"] == other)
        stamp = row.get("last_success_at")
        return bool(stamp) and epoch(stamp) > since


@dataclass
class Answer:
    status: int
    body: Any


class Client:
    """The JSON API of one node, as one account (a bearer token)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token

    def request(self, method: str, path: str, payload: object = None) -> Answer:
        data = None if payload is None else json.dumps(payload).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                method,
                path,
                body=data,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            return Answer(answer.status, json.loads(answer.read() or b"null"))
        finally:
            connection.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, payload: object) -> Answer:
        return self.request("POST", path, payload)


def versions(node: Node) -> list[tuple[str, str, int, str]]:
    rows = node.sql("SELECT origin_node, record_uuid, seq, content_hash FROM records_version")
    return [(str(o).replace("-", ""), str(r).replace("-", ""), int(str(s)), str(h)) for o, r, s, h in rows]


def epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _fresh_identity(node: Node) -> None:
    """A copy of a migrated node, made a new node: the copied identity and key go (`accord init` makes its own),
    as tests/federation/sim.py does; the audit log's chain stays whole."""
    import shutil

    shutil.rmtree(node.data_dir / "keys", ignore_errors=True)
    node.sql("DELETE FROM members_nodekey")
    node.sql("DELETE FROM members_nodeidentity")


@contextmanager
def real_nodes(
    tmp_path: Path, members: Sequence[str], *, web_workers: int | None = None
) -> Iterator[dict[str, RealNode]]:
    """One running node per member, each a peer of every other; stopped (and their databases dropped) on exit.
    `web_workers`: each node's server processes (default: `accord serve`'s).

    The database is migrated once and copied for each node (a migration is most of a node's set-up time)."""
    with ExitStack() as stack:
        template = stack.enter_context(new_node(tmp_path, "migrated"))
        template.run("migrate")
        copies = {
            member: stack.enter_context(new_node(tmp_path, member.lower(), template=template)) for member in members
        }
        nodes: dict[str, RealNode] = {}
        for member, node in copies.items():
            _fresh_identity(node)
            node.extra_env.update(FAST_SYNC)
            nodes[member] = RealNode(member, node, Server(node, free_port(), web_workers), {})
        stack.callback(lambda: each(lambda real: real.server.stop(), nodes.values()))

        def init(real: RealNode) -> None:
            name, url = f"{real.member.lower()}-node", real.server.url
            real.info = json.loads(real.node.run("init", "--name", name, "--member", real.member, "--url", url).stdout)

        def add_peers(real: RealNode) -> None:
            for peer in nodes.values():
                if peer is not real:
                    real.node.run(
                        "peer",
                        "add",
                        "--name",
                        f"{peer.member.lower()}-node",
                        "--url",
                        peer.info["url"],
                        "--node-id",
                        peer.info["node_id"],
                        "--public-key",
                        peer.info["public_key"],
                        "--member",
                        peer.member,
                    )

        def start(real: RealNode) -> None:
            real.server.start()

        # Node by node the steps are processes that mostly wait (start-up, the database): run the nodes' side by side.
        for step in (init, add_peers, start):
            each(step, nodes.values())
        yield nodes


def each(step: Callable[[T], object], items: Iterable[T]) -> list[Any]:
    """`step` of every item, side by side in threads; the results in the items' order (the first error raised)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(step, items))
