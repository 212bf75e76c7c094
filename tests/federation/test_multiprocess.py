"""Three real nodes, each `accord serve` on its own 127.0.0.1 port with its own database, talking real HTTP.

An alert published at one node with an audience of one other arrives there and nowhere else; a node killed
with SIGKILL in the middle of a large sync is restarted and converges with nothing lost or duplicated.
The nodes' databases are PostgreSQL databases (this test runs on the PostgreSQL pass).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.cli_support import ACCORD, Node, new_node

# On the PostgreSQL pass, where concurrent commits can finish out of order (docs/federation.md, Terms).
pytestmark = pytest.mark.postgresql_pass

PUBLISH_NOTES = """
from accord.members import actions as m
from accord.members.models import Account, Organisation
from accord.records import actions
from accord.records.envelope import Audience
org = Organisation.objects.filter(slug="cn-bulk").first() or m.create_organisation(
    member_code="CN", slug="cn-bulk", kind="health_ministry", name_en="CN bulk", acting_user=None)
user = Account.objects.filter(username="bulk").first() or m.create_account(
    username="bulk", organisation=org, roles=["focal_point"], acting_user=None)
for n in range({count}):
    actions.publish("note", {{"title": f"bulk {{n}}", "text": "x" * 2000}}, audience=Audience(members=["KZ"]),
                    tlp="GREEN", acting_user=user)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Server:
    def __init__(self, node: Node, port: int) -> None:
        self.node = node
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> None:
        env = self.node.env() | {"ACCORD_DATA_DIR": str(self.node.data_dir)}
        log = (self.node.data_dir / "serve.log").open("ab")
        # Its own session, so SIGKILL can take the server and its worker together, as a crash would.
        self.process = subprocess.Popen(
            [ACCORD, "serve", "--port", str(self.port)], env=env, stdout=log, stderr=log, start_new_session=True
        )
        if wait:
            _wait(f"node on port {self.port} to answer", self.healthy, timeout=60)

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


def versions(node: Node) -> list[tuple[str, str, int, str]]:
    rows = node.sql("SELECT origin_node, record_uuid, seq, content_hash FROM records_version")
    return [(str(o).replace("-", ""), str(r).replace("-", ""), int(str(s)), str(h)) for o, r, s, h in rows]


@contextmanager
def three_nodes(tmp_path: Path) -> Iterator[dict[str, tuple[Node, Server, dict[str, str]]]]:
    with ExitStack() as stack:
        nodes: dict[str, tuple[Node, Server, dict[str, str]]] = {}
        for member in ("CN", "KZ", "RU"):
            node = stack.enter_context(new_node(tmp_path, member.lower()))
            port = _free_port()
            node.extra_env.update(
                {
                    "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32",
                    "ACCORD_FEDERATION_POLL_SECONDS": "2",
                    "ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS": "10",
                    "ACCORD_FEDERATION_PAGE": "25",
                }
            )
            url = f"http://127.0.0.1:{port}"
            info = json.loads(
                node.run("init", "--name", f"{member.lower()}-node", "--member", member, "--url", url).stdout
            )
            server = Server(node, port)
            stack.callback(server.stop)
            nodes[member] = (node, server, info)
        for member, (node, _, _) in nodes.items():
            for other, (_, _, info) in nodes.items():
                if other != member:
                    node.run(
                        "peer",
                        "add",
                        "--name",
                        f"{other.lower()}-node",
                        "--url",
                        info["url"],
                        "--node-id",
                        info["node_id"],
                        "--public-key",
                        info["public_key"],
                        "--member",
                        other,
                    )
        for _, server, _ in nodes.values():
            server.start()
        yield nodes


def test_an_alert_reaches_its_audience_only_and_a_killed_node_converges(tmp_path: Path) -> None:
    from tests.alerts.support import cap_xml

    with three_nodes(tmp_path) as nodes:
        cn, _, _ = nodes["CN"]
        kz, kz_server, _ = nodes["KZ"]
        ru, _, _ = nodes["RU"]
        alert = tmp_path / "alert.xml"
        alert.write_bytes(cap_xml())
        cn.run("alert", "import", str(alert), "--audience", "KZ", "--tlp", "AMBER")
        published = versions(cn)
        alert_rows = [v for v in published if v[2] == 1]
        assert alert_rows
        _wait("the alert to reach KZ", lambda: set(alert_rows) <= set(versions(kz)), timeout=60)
        # RU must have pulled from CN since then, and still not hold it.
        since = time.time()

        def ru_pulled_cn() -> bool:
            rows = [json.loads(line) for line in ru.run("federation", "status", "--json").stdout.splitlines()]
            cn_row = next(r for r in rows if r["member"] == "CN")
            stamp = cn_row.get("last_success_at")
            return bool(stamp) and _epoch(stamp) > since

        _wait("RU to complete a pull from CN", ru_pulled_cn, timeout=60)
        ru_has = {(o, r) for o, r, _, _ in versions(ru)}
        assert not any((o, r) in ru_has for o, r, _, _ in alert_rows)

        # A large backlog for KZ while it is down; then kill it in the middle of catching up.
        kz_server.kill()
        # `manage` hands its arguments to Django, so --data-dir goes before it.
        published_bulk = subprocess.run(
            [ACCORD, "--data-dir", str(cn.data_dir), "manage", "shell", "-c", PUBLISH_NOTES.format(count=300)],
            env=cn.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert published_bulk.returncode == 0, published_bulk.stderr
        expected = set(versions(cn))
        before = len(versions(kz))
        # Not waiting for its web server to answer: its worker may catch up meanwhile (several server processes
        # start slower than the worker under load), and the kill must come part-way through.
        kz_server.start(wait=False)
        _wait("KZ to be part-way through the sync", lambda: len(versions(kz)) > before + 25, timeout=60)
        assert len(versions(kz)) < before + 300, "the sync finished before it could be interrupted; make it larger"
        kz_server.kill()
        kz_server.start()
        _wait("KZ to converge after the crash", lambda: expected <= set(versions(kz)), timeout=120)
        held = versions(kz)
        assert len(held) == len(set(held)), "a version is stored twice"
        assert not {(o, r) for o, r, _, _ in versions(ru)} & {(o, r) for o, r, _, _ in alert_rows}
        assert kz.run("audit", "verify", check=False).returncode == 0


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
