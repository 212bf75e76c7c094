"""Benchmark: federation latency and catch-up across real nodes on loopback, against a floor measured in the same run.

    make bench-federation      (or: .venv/bin/python bench/federation.py --nodes 10)

Starts --nodes Accord nodes (default 10), each `accord serve` in its own process group on its own 127.0.0.1 port,
temporary data dir and SQLite database, all peered with each other. Then:

* steady phase: node 0 publishes `note` records (audience everyone, TLP:GREEN) at --rate versions per second for
  --seconds; the latency of a version is the latest `received_at` over the other nodes minus its `received_at` at
  node 0 (one machine, one clock), read from the SQLite files once every node holds every version;
* catch-up phase: the last node is killed (SIGKILL of its process group), node 0 publishes --backlog versions as
  fast as it can, the live nodes absorb them, the killed node is started again; catch-up is the time from its
  restart until it holds them all;
* floor, in the same run after the nodes are stopped: a minimal ThreadingHTTPServer whose POST handler inserts
  rows into a SQLite file (WAL, synchronous=NORMAL, as Accord) and commits once per request: (a) the latency of
  one round trip + one commit at the same steady rate, (b) the time to move --backlog rows in pages of 200.

Prints the figures, the ratios Accord / floor and whether the targets of the federation issue are met (p99 <= 1 s,
catch-up <= 30 s), plus where the CPU went (the machine's busy share, CPU seconds of servers, workers and the
publisher). Every wait is bounded by --timeout; a machine that cannot keep up is reported, not waited for. The
figures depend on the machine; docs/benchmarks.md records them with the ratios.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ACCORD = str(Path(sys.executable).with_name("accord"))
MEMBERS = ("CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY", "SCO")
FLOOR_PAGE = 200
NOTE_TEXT = 400  # characters of note text: a version of about 1.4 KiB, 1.9 KiB in base64 on the wire
P99_TARGET = 1.0
CATCH_UP_TARGET = 30.0

# Runs in node 0's environment (`accord manage shell -c`): publish COUNT notes, paced at RATE per second
# (0: as fast as possible) and stopping at DEADLINE seconds (0: none); prints what it did as one JSON line.
PUBLISHER = """
import json, time
from accord.members import actions as m
from accord.members.models import Account, Organisation
from accord.records import actions
from accord.records.envelope import Audience
code = actions.this_node().member.code
org = Organisation.objects.filter(slug="bench-publisher").first() or m.create_organisation(
    member_code=code, slug="bench-publisher", kind="other", name_en="Benchmark publisher", acting_user=None)
user = Account.objects.filter(username="bench-publisher").first() or m.create_account(
    username="bench-publisher", organisation=org, roles=["focal_point"], acting_user=None)
audience = Audience(everyone=True)
count, rate, deadline, tag = {count}, {rate}, {deadline}, {tag!r}
text = "x" * {text}
records = []
behind = 0.0
start = time.monotonic()
for n in range(count):
    now = time.monotonic()
    if deadline and now - start >= deadline:
        break
    if rate:
        wait = start + n / rate - now
        if wait > 0:
            time.sleep(wait)
        else:
            behind = max(behind, -wait)
    version = actions.publish("note", {{"title": f"{{tag}} {{n}}", "text": text}}, audience=audience, tlp="GREEN",
                              acting_user=user)
    records.append(version.record_uuid.hex)
elapsed = time.monotonic() - start
print("BENCH-RESULT " + json.dumps({{"records": records, "elapsed": elapsed, "behind": behind}}))
"""

# One call per node: trust every other node.
PEERING = """
import json
from accord.federation.actions import add_peer
for peer in json.loads({peers!r}):
    add_peer(name=peer["name"], node_id=peer["node_id"], public_key=peer["public_key"], member=peer["member"],
             url=peer["url"], acting_user=None)
print("BENCH-RESULT " + json.dumps({{"peers": len(json.loads({peers!r}))}}))
"""

# The floor: the least a node must do to take versions over HTTP, one commit per request.
FLOOR_SERVER = r"""
import json, sqlite3, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
path = sys.argv[1]

def connect():
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn

setup = connect()
setup.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
setup.close()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as uvicorn: else the body written after the headers waits for an ACK

    def do_POST(self):
        rows = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        conn = connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO item (body) VALUES (?)", [(row.encode(),) for row in rows])
            conn.execute("COMMIT")
        finally:
            conn.close()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def say(message: str) -> None:
    print(message, flush=True)


class BenchError(Exception):
    """A step that could not be done (a node did not start, a command failed); ends the run with a message."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bench_result(stdout: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            answer: dict[str, Any] = json.loads(line[len("BENCH-RESULT ") :])
            return answer
    raise BenchError(f"no result in the output: {stdout[-500:]!r}")


@dataclass
class Node:
    index: int
    member: str
    port: int
    data_dir: Path
    poll_seconds: int
    process: subprocess.Popen[bytes] | None = None
    info: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"bench-{self.index}-{self.member.lower()}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        """This node's id as SQLite holds it in records_version.origin_node."""
        return uuid.UUID(self.info["node_id"]).hex

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env.pop("DATABASE_URL", None)
        env.update(
            {
                "ACCORD_DATA_DIR": str(self.data_dir),
                "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32",
                "ACCORD_FEDERATION_POLL_SECONDS": str(self.poll_seconds),
                # Anti-entropy (default every 900 s) is a background repair, not the path measured here;
                # off for the length of a run so that a long run does not measure it at some random moment.
                "ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS": "86400",
            }
        )
        return env

    def command(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [ACCORD, *args],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def start(self) -> None:
        log = (self.data_dir / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [ACCORD, "serve", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: SIGKILL takes the server and its worker, as a crash would
        )
        log.close()

    def healthy(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            return False
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            return bool(answer.status == 200 and json.loads(answer.read())["workers"] == "ok")
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            return False
        finally:
            conn.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def sql(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.data_dir / "accord.sqlite3", timeout=10)
        try:
            return list(conn.execute(statement, list(params)).fetchall())
        finally:
            conn.close()

    def count_from(self, origin: str) -> int:
        return int(self.sql("SELECT COUNT(*) FROM records_version WHERE origin_node = ?", [origin])[0][0])

    def arrivals(self, origin: str) -> dict[str, datetime]:
        """record uuid (hex) -> received_at of the first version of each record of `origin` held here."""
        rows = self.sql("SELECT record_uuid, received_at FROM records_version WHERE origin_node = ?", [origin])
        return {str(r): datetime.fromisoformat(str(t)) for r, t in rows}


def finish(process: subprocess.Popen[str], what: str, timeout: float) -> str:
    """Wait for a command; on timeout kill its group. Returns its standard output."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise BenchError(f"{what} did not finish within {timeout:.0f} s") from None
    except BaseException:  # Ctrl-C: the command runs in its own session, so end it here
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if process.returncode != 0:
        raise BenchError(f"{what} exited {process.returncode}: {stderr.strip()[-1500:]}")
    return stdout


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


# ---- CPU accounting ---------------------------------------------------------------------------------------


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))


def process_cpu(sessions: dict[int, str]) -> dict[str, float]:
    """CPU seconds used so far by the live processes of each node session: 'server' (the session leader,
    uvicorn) and 'worker' (its worker subprocess)."""
    tick = float(os.sysconf("SC_CLK_TCK"))
    used = {"server": 0.0, "worker": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        session = int(fields[3])
        if session in sessions:
            role = "server" if int(entry) == session else "worker"
            used[role] += (int(fields[11]) + int(fields[12])) / tick
    return used


@dataclass
class CpuWindow:
    """Where the CPU went between `start` and `stop`."""

    nodes: list[Node]
    busy: float = 0.0
    busy_seconds: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    load: float = 0.0
    _machine: tuple[float, float] = (0.0, 0.0)
    _procs: dict[str, float] = field(default_factory=dict)
    _own: tuple[float, float] = (0.0, 0.0)

    def sessions(self) -> dict[int, str]:
        return {n.process.pid: n.name for n in self.nodes if n.process is not None and n.process.poll() is None}

    def start(self) -> CpuWindow:
        self._machine = machine_cpu()
        self._procs = process_cpu(self.sessions())
        self._own = own_cpu()
        return self

    def stop(self) -> CpuWindow:
        busy, total = machine_cpu()
        self.busy = (busy - self._machine[0]) / max(1.0, total - self._machine[1])
        self.busy_seconds = (busy - self._machine[0]) / float(os.sysconf("SC_CLK_TCK"))
        now = process_cpu(self.sessions())
        self.seconds = {role: now[role] - self._procs.get(role, 0.0) for role in now}
        own, children = own_cpu()
        self.seconds["bench"] = own - self._own[0]
        self.seconds["publisher"] = children - self._own[1]
        self.load = os.getloadavg()[0]
        return self

    def describe(self, wall: float) -> str:
        cores = os.cpu_count() or 1
        ours = sum(self.seconds.values())
        parts = [f"{role}s {self.seconds.get(role, 0.0):.1f} s" for role in ("server", "worker", "publisher")]
        return (
            f"CPU over {wall:.1f} s: machine {self.busy:.0%} busy ({cores} cores, load average {self.load:.1f}); "
            f"CPU time: {', '.join(parts)}, this script {self.seconds['bench']:.1f} s, "
            f"other processes on the machine {max(0.0, self.busy_seconds - ours):.1f} s"
        )


def own_cpu() -> tuple[float, float]:
    """CPU seconds of this script, and of the commands it waited for (the publisher: its reaped children)."""
    times = os.times()
    return times.user + times.system, times.children_user + times.children_system


# ---- figures -----------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; inf stands for a value never observed (not delivered in time)."""
    if not values:
        return math.inf
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def seconds(value: float) -> str:
    if math.isinf(value):
        return "not reached"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


# ---- the nodes ---------------------------------------------------------------------------------------------


def make_nodes(root: Path, count: int, poll: int, timeout: float) -> list[Node]:
    nodes = [Node(i, MEMBERS[i], free_port(), root / f"node-{i}", poll) for i in range(count)]
    for node in nodes:
        node.data_dir.mkdir(parents=True)
    started = time.monotonic()
    inits = [(n, n.command("init", "--name", n.name, "--member", n.member, "--url", n.url)) for n in nodes]
    for node, process in inits:
        node.info = json.loads(finish(process, f"accord init of {node.name}", timeout).strip().splitlines()[-1])
    peerings = []
    for node in nodes:
        others = [
            {
                "name": o.name,
                "node_id": o.info["node_id"],
                "public_key": o.info["public_key"],
                "member": o.member,
                "url": o.url,
            }
            for o in nodes
            if o is not node
        ]
        peerings.append((node, node.command("manage", "shell", "-c", PEERING.format(peers=json.dumps(others)))))
    for node, process in peerings:
        finish(process, f"peering of {node.name}", timeout)
    say(f"{count} nodes created and peered all-to-all in {time.monotonic() - started:.0f} s")
    return nodes


def start_nodes(nodes: list[Node], timeout: float) -> None:
    started = time.monotonic()
    for node in nodes:
        node.start()
    if not wait_until(lambda: all(n.healthy() for n in nodes), timeout, every=1.0):
        down = [n.name for n in nodes if not n.healthy()]
        raise BenchError(f"nodes not healthy after {timeout:.0f} s: {', '.join(down)} (see serve.log in their dirs)")
    say(f"{len(nodes)} nodes serving (`accord serve`, one worker each) in {time.monotonic() - started:.0f} s")


def publish(node: Node, *, count: int, rate: float, deadline: float, tag: str, timeout: float) -> dict[str, Any]:
    script = PUBLISHER.format(count=count, rate=rate, deadline=deadline, tag=tag, text=NOTE_TEXT)
    return bench_result(finish(node.command("manage", "shell", "-c", script), f"publishing at {node.name}", timeout))


def wait_for_all(
    peers: list[Node], origin: str, expected: int, timeout: float, what: str
) -> tuple[bool, float, dict[str, int]]:
    """Wait until every peer holds `expected` versions of `origin`; (all arrived, seconds waited, counts)."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    last_report = started

    def done() -> bool:
        nonlocal last_report
        check_alive(peers)
        counts.update({p.name: p.count_from(origin) for p in peers})
        if time.monotonic() - last_report >= 15:
            last_report = time.monotonic()
            behind = sum(max(0, expected - c) for c in counts.values())
            say(f"  ... {what}: {time.monotonic() - started:.0f} s, {behind} versions still missing across peers")
        return all(c >= expected for c in counts.values())

    arrived = wait_until(done, timeout)
    return arrived, time.monotonic() - started, counts


def check_alive(nodes: list[Node]) -> bool:
    """Raise if a node that should be running has exited (then every later figure would be meaningless)."""
    for node in nodes:
        if node.process is not None and node.process.poll() is not None:
            raise BenchError(f"{node.name} exited with status {node.process.returncode} (stopped from outside?)")
    return True


def cursor_position(cursor: str) -> int:
    """The arrival position a cursor of these nodes stands for (opaque to peers; docs/federation.md)."""
    if not cursor.startswith("v1."):
        return 0
    raw = cursor[3:]
    return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def unsettled(nodes: list[Node]) -> int:
    """How many feeds among `nodes` (node A, peer B) A has not pulled to their end yet, duplicates included.
    Every version of this benchmark is addressed to everyone: B's feed for A is all B holds that A did not make."""
    heads: dict[str, dict[str, int]] = {}
    for b in nodes:
        heads[b.origin] = {str(o): int(m) for o, m in b.sql(_HEADS)}
    behind = 0
    for a in nodes:
        for peer, cursor in a.sql("SELECT node_id, pull_cursor FROM federation_peer"):
            held = heads.get(str(peer))
            if held is None:
                continue  # a node outside `nodes` (the one that is down)
            head = max((m for o, m in held.items() if o != a.origin), default=0)
            behind += cursor_position(str(cursor)) < head
    return behind


_HEADS = "SELECT origin_node, MAX(id) FROM records_version GROUP BY origin_node"


def settle(nodes: list[Node], timeout: float, what: str) -> float:
    """Wait until every node has pulled every other node's feed to its end; seconds waited, inf if not."""
    started = time.monotonic()
    if wait_until(lambda: check_alive(nodes) and unsettled(nodes) == 0, timeout, every=1.0):
        waited = time.monotonic() - started
        say(f"  {what}: every node had pulled every peer's feed to its end {waited:.1f} s later")
        return waited
    say(f"  {what}: {unsettled(nodes)} feeds still not pulled to their end after {timeout:.0f} s; going on")
    return math.inf


@dataclass
class Steady:
    published: int
    rate: float
    behind: float
    latencies: list[float]
    missing: int
    drained: bool
    settled: float
    cpu: str


def steady_phase(nodes: list[Node], args: argparse.Namespace) -> Steady:
    origin, peers = nodes[0], nodes[1:]
    say(f"steady phase: {args.rate:g} versions/s at {origin.name} for {args.seconds:g} s ...")
    wall = time.monotonic()
    cpu = CpuWindow(nodes).start()
    result = publish(
        origin,
        count=int(args.rate * args.seconds),
        rate=args.rate,
        deadline=args.seconds,
        tag="steady",
        timeout=args.seconds + args.timeout,
    )
    records: list[str] = result["records"]
    rate = len(records) / result["elapsed"] if result["elapsed"] else 0.0
    say(f"  published {len(records)} versions in {result['elapsed']:.1f} s ({rate:.1f}/s)")
    expected = origin.count_from(origin.origin)
    drained, waited, _ = wait_for_all(peers, origin.origin, expected, args.timeout, "delivery")
    cpu.stop()
    if not drained:
        say(f"  NOT every peer held every version {args.timeout:.0f} s after the publishing ended")
    else:
        say(f"  every peer held every version {waited:.1f} s after the publishing ended")
    sent = origin.arrivals(origin.origin)
    held = [p.arrivals(origin.origin) for p in peers]
    latencies: list[float] = []
    missing = 0
    for record in records:
        times = [h.get(record) for h in held]
        if any(t is None for t in times):
            missing += 1
            latencies.append(math.inf)
            continue
        latencies.append(max(t for t in times if t is not None).timestamp() - sent[record].timestamp())
    described = cpu.describe(time.monotonic() - wall)
    say(
        f"  publish -> visible on all {len(peers)} peers: p50 {seconds(percentile(latencies, 50))}, "
        f"p99 {seconds(percentile(latencies, 99))}, max {seconds(max(latencies, default=math.inf))}"
    )
    settled = settle(nodes, args.timeout, "relays")
    return Steady(len(records), rate, float(result["behind"]), latencies, missing, drained, settled, described)


@dataclass
class CatchUp:
    published: int
    publish_seconds: float
    absorbed: float  # seconds after publishing until the live peers held everything; inf if not in time
    settled: float  # seconds after that until they had pulled each other's feeds to the end (the relayed copies)
    restart_to_all: float  # seconds from the restart of the killed node until it held everything; inf if not
    restart_settled: float  # seconds from the restart until it had pulled every peer's feed to the end
    cpu_publish: str
    cpu_catch_up: str


def catch_up_phase(nodes: list[Node], args: argparse.Namespace) -> CatchUp:
    origin, victim = nodes[0], nodes[-1]
    live = nodes[1:-1]
    say(f"catch-up phase: {victim.name} killed; {args.backlog} versions published at {origin.name} ...")
    victim.kill()
    wall = time.monotonic()
    cpu = CpuWindow(nodes).start()
    result = publish(origin, count=args.backlog, rate=0, deadline=0, tag="backlog", timeout=args.timeout * 10)
    records: list[str] = result["records"]
    say(
        f"  published {len(records)} versions in {result['elapsed']:.1f} s "
        f"({len(records) / result['elapsed']:.1f}/s, while {len(live)} live peers pulled)"
    )
    expected = origin.count_from(origin.origin)
    arrived, waited, _ = wait_for_all(live, origin.origin, expected, args.timeout, "live peers")
    cpu.stop()
    absorbed = waited if arrived else math.inf
    if arrived:
        say(f"  the {len(live)} live peers held them all {waited:.1f} s after the publishing ended")
    else:
        say(f"  the live peers did NOT hold them all {args.timeout:.0f} s after the publishing ended; going on")
    cpu_publish = cpu.describe(time.monotonic() - wall)
    settled = settle([origin, *live], args.timeout, "live peers")
    restarted = time.monotonic()
    cpu = CpuWindow(nodes).start()
    victim.start()
    done, waited, counts = wait_for_all([victim], origin.origin, expected, args.timeout, "catch-up")
    cpu.stop()
    if done:
        say(f"  {victim.name} held all {expected} versions of {origin.name} {waited:.1f} s after its restart")
    else:
        say(f"  {victim.name} held {counts[victim.name]} of {expected} versions {args.timeout:.0f} s after its restart")
    cpu_catch_up = cpu.describe(time.monotonic() - restarted)
    restart_settled = settle(nodes, args.timeout, f"{victim.name} back")
    if not math.isinf(restart_settled):
        restart_settled += waited
    return CatchUp(
        len(records),
        float(result["elapsed"]),
        absorbed,
        settled,
        waited if done else math.inf,
        restart_settled,
        cpu_publish,
        cpu_catch_up,
    )


# ---- the floor ---------------------------------------------------------------------------------------------


@dataclass
class Floor:
    latencies: list[float]
    rate: float
    catch_up: float


def post(port: int, rows: list[str]) -> None:
    body = json.dumps(rows).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/items", body=body, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise BenchError(f"the floor server answered {answer.status}")
    finally:
        conn.close()


def floor_phase(root: Path, args: argparse.Namespace, row_size: int) -> Floor:
    say(f"floor: bare HTTP POST + one SQLite commit, rows of {row_size} bytes ...")
    server = subprocess.Popen(
        [sys.executable, "-c", FLOOR_SERVER, str(root / "floor.sqlite3")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        row = "x" * row_size
        latencies: list[float] = []
        count = int(args.rate * args.seconds)
        start = time.monotonic()
        for n in range(count):
            wait = start + n / args.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            post(port, [row])
            latencies.append(time.perf_counter() - sent)
        rate = count / (time.monotonic() - start)
        start = time.perf_counter()
        for first in range(0, args.backlog, FLOOR_PAGE):
            post(port, [row] * min(FLOOR_PAGE, args.backlog - first))
        catch_up = time.perf_counter() - start
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    return Floor(latencies, rate, catch_up)


# ---- report ------------------------------------------------------------------------------------------------


def verdict(value: float, target: float) -> str:
    return "target met" if value <= target else "target NOT met"


def report(args: argparse.Namespace, steady: Steady, catch: CatchUp, floor: Floor) -> None:
    peers = args.nodes - 1
    p50, p99 = percentile(steady.latencies, 50), percentile(steady.latencies, 99)
    f50, f99 = percentile(floor.latencies, 50), percentile(floor.latencies, 99)
    say("")
    say(
        f"nodes {args.nodes} (all-to-all), steady {args.rate:g}/s for {args.seconds:g} s, backlog {args.backlog}, "
        f"{os.cpu_count()} cores"
    )
    say(
        f"steady: {steady.published} versions published at {steady.rate:.1f}/s "
        f"(asked {args.rate:g}/s; the publisher was at most {steady.behind:.2f} s behind its schedule)"
    )
    if steady.rate < 0.95 * args.rate:
        say("  the machine could not publish at the asked rate: the latencies are for the rate achieved")
    if steady.missing:
        say(f"  {steady.missing} versions had not reached every peer {args.timeout:.0f} s after the publishing ended")
    say(
        f"  visible on all {peers} peers: p50 {seconds(p50)}, p99 {seconds(p99)}, "
        f"max {seconds(max(steady.latencies, default=math.inf))}"
    )
    say(f"  relayed copies: every node had pulled every peer's feed to its end {seconds(steady.settled)} after that")
    say(f"  {steady.cpu}")
    say(
        f"catch-up: {catch.published} versions published in {catch.publish_seconds:.1f} s "
        f"({catch.published / catch.publish_seconds:.1f}/s); live peers held them all {seconds(catch.absorbed)} later"
    )
    say(
        f"  relayed copies: the live nodes had pulled each other's feeds to the end {seconds(catch.settled)} after that"
    )
    say(f"  while publishing and absorbing: {catch.cpu_publish}")
    say(
        f"  the killed node held them all {seconds(catch.restart_to_all)} after its restart, and had pulled every "
        f"peer's feed to the end (the relayed copies too) {seconds(catch.restart_settled)} after its restart"
    )
    say(f"  during its catch-up: {catch.cpu_catch_up}")
    say(f"floor: {len(floor.latencies)} POSTs at {floor.rate:.1f}/s; {args.backlog} rows in pages of {FLOOR_PAGE}")
    say("")
    rows = [
        ("figure", "Accord", "floor", "ratio", "target"),
        (f"p50 publish -> all {peers} peers", seconds(p50), seconds(f50), ratio(p50, f50), "-"),
        (
            f"p99 publish -> all {peers} peers",
            seconds(p99),
            seconds(f99),
            ratio(p99, f99),
            f"<= {P99_TARGET:g} s: {verdict(p99, P99_TARGET)}",
        ),
        (
            f"catch-up of {args.backlog} versions",
            seconds(catch.restart_to_all),
            seconds(floor.catch_up),
            ratio(catch.restart_to_all, floor.catch_up),
            f"<= {CATCH_UP_TARGET:g} s: {verdict(catch.restart_to_all, CATCH_UP_TARGET)}",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        say(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def ratio(accord: float, floor: float) -> str:
    if math.isinf(accord):
        return "-"
    if floor <= 0:
        return "-"
    return f"{accord / floor:.1f} x" if accord < 10 * floor else f"{accord / floor:.0f} x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=10, choices=range(2, len(MEMBERS) + 1), metavar="N")
    parser.add_argument("--rate", type=float, default=100.0, help="versions per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the steady phase")
    parser.add_argument("--backlog", type=int, default=10_000, help="versions published while a node is down")
    parser.add_argument("--poll", type=int, default=5, help="ACCORD_FEDERATION_POLL_SECONDS of every node")
    parser.add_argument("--timeout", type=float, default=600.0, help="the longest any one wait lasts, in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' data dirs")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0 or args.backlog <= 0:
        parser.error("--rate, --seconds and --backlog must be positive")
    root = Path(tempfile.mkdtemp(prefix="accord-bench-federation-"))
    nodes: list[Node] = []
    try:
        nodes = make_nodes(root, args.nodes, args.poll, args.timeout)
        start_nodes(nodes, args.timeout)
        steady = steady_phase(nodes, args)
        catch = catch_up_phase(nodes, args)
        size = nodes[0].sql("SELECT AVG(LENGTH(canonical)) FROM records_version WHERE kind = 'note'")[0][0]
        for node in nodes:
            node.stop()
        floor = floor_phase(root, args, math.ceil(float(size or 1024) * 4 / 3))
        report(args, steady, catch, floor)
    except BenchError as error:
        say(f"bench/federation.py: {error}")
        return 1
    finally:
        for node in nodes:
            node.stop()
        if args.keep:
            say(f"data dirs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
