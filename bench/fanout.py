"""Benchmark: one alert to 1,000 webhook subscribers, with 1, 2 and 4 workers, on PostgreSQL.

    .venv/bin/python bench/fanout.py [--subscribers 1000] [--workers 1,2,4] [--timeout 120]

Creates a fresh PostgreSQL database on the server of ACCORD_BENCH_DATABASE_URL (else `.cache/test-database-url`,
which `make test` writes; the role needs CREATEDB) and a temporary data folder, migrates it with `accord migrate`,
and makes --subscribers accounts (spread over the members' health ministries), each with a webhook channel and
an alert subscription, through the action functions. The webhooks all point at a receiver in this process: a
ThreadingHTTPServer on 127.0.0.1 (allowed with ACCORD_OUTBOUND_ALLOW=127.0.0.1/32) that verifies every request
with the channel's own secret (`standardwebhooks`) and counts distinct `webhook-id`s.

Then, for each worker count N: start N `accord worker` processes (task worker + notify loop, default settings:
ACCORD_NOTIFY_CONCURRENCY sends in flight per worker, ACCORD_NOTIFY_POLL_SECONDS between idle rounds; the per-host
limit ACCORD_NOTIFY_PER_HOST is raised to the concurrency, as the one receiver stands for 1,000 hosts), wait until
all have a heartbeat, publish one actual alert (audience everyone, TLP:GREEN) and measure, on the one clock of this
machine, from the version's `received_at` (its commit) until the receiver has verified every subscriber's delivery.
Prints time to the first, the median and the last delivery, the rate, duplicates and forged or refused requests,
then stops the workers (SIGTERM) and goes on. The database is dropped at the end. Target (issue #6): <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ACCORD = str(Path(sys.executable).with_name("accord"))
TARGET_SECONDS = 5.0
MEMBERS = ("CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY")


# ---- the receiver ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the receiver saw for the current alert."""

    expected: int = 0
    first: dict[str, float] = field(default_factory=dict)  # webhook-id -> when it was first verified
    duplicates: int = 0
    refused: int = 0  # signature did not verify, or an unknown path
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Receiver:
    def __init__(self) -> None:
        from standardwebhooks import Webhook

        self.webhooks: dict[str, Any] = {}  # path -> Webhook(secret)
        self.tally = Tally()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                hook = receiver.webhooks.get(self.path)
                ok = False
                if hook is not None:
                    try:
                        hook.verify(body, {k.lower(): v for k, v in self.headers.items()})
                        ok = True
                    except Exception:  # noqa: BLE001  (forged, altered or stale: counted, answered 400)
                        ok = False
                tally = receiver.tally
                with tally.lock:
                    if not ok:
                        tally.refused += 1
                    else:
                        key = self.headers.get("webhook-id", "")
                        if key in tally.first:
                            tally.duplicates += 1
                        else:
                            tally.first[key] = now
                            if len(tally.first) >= tally.expected:
                                tally.done.set()
                self.send_response(204 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # the listen backlog: a full one would make senders wait for SYN retries

        self.Webhook = Webhook
        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="receiver", daemon=True)
        self.thread.start()

    def expect(self, count: int) -> Tally:
        self.tally = Tally(expected=count)
        return self.tally

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- the node ---------------------------------------------------------------------------------------------------


def _admin_url() -> str:
    given = os.environ.get("ACCORD_BENCH_DATABASE_URL")
    if given:
        return given
    saved = ROOT / ".cache" / "test-database-url"
    if saved.exists():
        return saved.read_text().strip()
    raise SystemExit(
        "bench/fanout.py needs PostgreSQL: set ACCORD_BENCH_DATABASE_URL (a role with CREATEDB), or run `make test`"
        " once so that .cache/test-database-url exists"
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "ACCORD_DATA_DIR": str(data_dir),
            "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32",
            "ACCORD_EMAIL_BACKEND": "console",
            "ACCORD_PUBLIC_URL": "http://127.0.0.1:8000",
        }
    )
    # The one local receiver stands in for 1,000 subscribers' own hosts: the per-host limit (which keeps one host
    # from taking every send slot of a worker) would otherwise cap each worker at a few sends to it.
    env.setdefault("ACCORD_NOTIFY_PER_HOST", env.get("ACCORD_NOTIFY_CONCURRENCY", "8"))
    return env


def _setup(count: int, receiver: Receiver) -> Any:
    """The subscribers, through the action functions; returns the publishing account."""
    from accord.members import actions as members
    from accord.members.models import Organisation
    from accord.notify import actions as notify
    from accord.notify.models import Channel

    organisations = {}
    for code in MEMBERS:
        slug = f"bench-{code.lower()}"
        organisations[code] = Organisation.objects.filter(slug=slug).first() or members.create_organisation(
            member_code=code, slug=slug, kind="health_ministry", name_en=f"{code} MoH", acting_user=None
        )
    secretariat = Organisation.objects.filter(slug="bench-secretariat").first() or members.create_organisation(
        member_code="SCO", slug="bench-secretariat", kind="secretariat", name_en="Secretariat", acting_user=None
    )
    publisher = members.create_account(
        username="bench-publisher", organisation=secretariat, roles=["coordinator"], acting_user=None
    )
    started = time.monotonic()
    for n in range(count):
        account = members.create_account(
            username=f"bench-{n:05d}",
            organisation=organisations[MEMBERS[n % len(MEMBERS)]],
            roles=["focal_point"],
            acting_user=None,
        )
        channel = notify.create_channel(
            kind="webhook", target=f"{receiver.base}/hook/{n}", account=account, acting_user=account
        )
        notify.create_subscription(
            channels=[channel], filters=notify.Filters(kinds=["alert"]), account=account, acting_user=account
        )
        if (n + 1) % 200 == 0:
            print(f"  {n + 1} subscribers made ({time.monotonic() - started:.0f} s)", flush=True)
    for channel in Channel.objects.filter(kind="webhook"):
        receiver.webhooks[urlsplit(channel.target).path] = receiver.Webhook(channel.secret)
    return publisher


def _heartbeats() -> int:
    from django.db import close_old_connections

    from accord.records.models import WorkerHeartbeat

    close_old_connections()
    return WorkerHeartbeat.objects.count()


def _publish(publisher: Any, label: str) -> tuple[Any, float]:
    from accord.alerts import actions
    from accord.records.envelope import Audience

    body = {
        "info": [
            {
                "language": "en-US",
                "category": ["Health"],
                "event": "Cholera outbreak",
                "urgency": "Immediate",
                "severity": "Severe",
                "certainty": "Observed",
                "headline": f"Fan-out benchmark {label}",
                "area": [{"areaDesc": "Almaty", "polygon": ["43.0,76.0 43.5,76.0 43.5,77.5 43.0,77.5 43.0,76.0"]}],
            }
        ]
    }
    version = actions.publish_alert(body, audience=Audience(everyone=True), tlp="GREEN", acting_user=publisher).version
    return version, version.received_at.timestamp()


def _delivered_in_database(version: Any) -> dict[str, int]:
    from django.db.models import Count

    from accord.notify.models import Delivery

    rows = Delivery.objects.filter(version=version).values("status").annotate(n=Count("id"))
    return {str(r["status"]): int(r["n"]) for r in rows}


@dataclass
class Result:
    workers: int
    delivered: int
    expected: int
    first: float | None
    median: float | None
    last: float | None
    duplicates: int
    refused: int
    statuses: dict[str, int]
    worker_cpu: float = 0.0  # CPU seconds of the worker processes during the fan-out
    bench_cpu: float = 0.0  # of this process (the receiver, mostly)
    machine_busy: float = 0.0  # share of the machine's CPU time that was busy, all processes

    @property
    def rate(self) -> float | None:
        return self.delivered / self.last if self.last else None


def _run(
    workers: int, env: dict[str, str], publisher: Any, receiver: Receiver, *, count: int, timeout: float
) -> Result:
    processes = [
        subprocess.Popen(
            [ACCORD, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 60
        while _heartbeats() < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"the {workers} worker(s) did not start (no heartbeat within 60 s)")
            time.sleep(0.2)
        time.sleep(1.5)  # let every notify loop reach its idle wait, as on a node that has been running
        tally = receiver.expect(count)
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
        own_before = sum(os.times()[:2])
        busy_before = _machine_busy()
        version, published = _publish(publisher, f"{workers} worker(s) {uuid.uuid4().hex[:6]}")
        tally.done.wait(timeout)
        worker_cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
        bench_cpu = sum(os.times()[:2]) - own_before
        busy_after = _machine_busy()
        machine_busy = (busy_after[0] - busy_before[0]) / max(1.0, busy_after[1] - busy_before[1])
        time.sleep(0.5)  # late duplicates, if any, would arrive now
        with tally.lock:
            times = sorted(t - published for t in tally.first.values())
            result = Result(
                workers=workers,
                delivered=len(times),
                expected=count,
                first=times[0] if times else None,
                median=statistics.median(times) if times else None,
                last=times[-1] if len(times) >= count else None,
                duplicates=tally.duplicates,
                refused=tally.refused,
                statuses=_delivered_in_database(version),
                worker_cpu=worker_cpu,
                bench_cpu=bench_cpu,
                machine_busy=machine_busy,
            )
        return result
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        end = time.monotonic() + 20
        while _heartbeats() and time.monotonic() < end:
            time.sleep(0.2)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


def _floor(receiver: Receiver, count: int, concurrency: int) -> float | None:
    """The same number of signed webhooks, sent by a bare thread pool of `concurrency` with http.client (one
    connection per request, as Accord's outbound wrapper), to the same receiver: the HTTP + signing floor."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    port = int(receiver.base.rsplit(":", 1)[1])
    body = json.dumps({"type": "record.published", "data": {"padding": "x" * 2400}}).encode()
    paths = sorted(receiver.webhooks)[:count]
    tally = receiver.expect(len(paths))

    def send(path: str) -> None:
        key = "msg_floor_" + uuid.uuid4().hex
        moment = datetime.now(UTC).replace(microsecond=0)  # the one time both the signature and its header carry
        signature = receiver.webhooks[path].sign(key, moment, body.decode())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": key,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
        }
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers=headers)
            conn.getresponse().read()
        finally:
            conn.close()

    started = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(send, paths))
    tally.done.wait(30)
    with tally.lock:
        if len(tally.first) < len(paths):
            return None
        return max(tally.first.values()) - started


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for one fan-out, in seconds")
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.workers.split(",") if part.strip()]

    import psycopg

    admin = _admin_url()
    db_name = f"accord_bench_fanout_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = _with_database(admin, db_name)
    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-fanout-"))
    env = _env(database_url, data_dir)
    receiver = Receiver()
    results: list[Result] = []
    floor: float | None = None
    try:
        print(f"database {db_name} on {urlsplit(admin).hostname}, data folder {data_dir}", flush=True)
        subprocess.run([ACCORD, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
        import django

        django.setup()
        from django.conf import settings

        print(f"making {args.subscribers} subscribers with webhooks at {receiver.base} ...", flush=True)
        publisher = _setup(args.subscribers, receiver)
        print(
            f"notify loop per worker: {settings.ACCORD_NOTIFY_CONCURRENCY} sends in flight, "
            f"{getattr(settings, 'ACCORD_NOTIFY_PER_HOST', '-')} per host, "
            f"idle poll {settings.ACCORD_NOTIFY_POLL_SECONDS} s (woken at once by PostgreSQL NOTIFY); "
            f"CPUs: {os.cpu_count()}",
            flush=True,
        )
        for workers in counts:
            result = _run(workers, env, publisher, receiver, count=args.subscribers, timeout=args.timeout)
            results.append(result)
            print(
                f"{workers} worker(s): {result.delivered}/{result.expected} verified deliveries; first "
                f"{_seconds(result.first)}, median {_seconds(result.median)}, all {_seconds(result.last)}"
                + (f" ({result.rate:.0f}/s)" if result.rate else "")
                + f"; duplicates {result.duplicates}, refused {result.refused}"
                + f"; database: {json.dumps(result.statuses)}"
                + f"; CPU: workers {result.worker_cpu:.1f} s, receiver {result.bench_cpu:.1f} s,"
                + f" machine busy {100 * result.machine_busy:.0f} %",
                flush=True,
            )
        floor = _floor(receiver, args.subscribers, settings.ACCORD_NOTIFY_CONCURRENCY)
        print(f"floor (bare thread pool of {settings.ACCORD_NOTIFY_CONCURRENCY}, same receiver): {_seconds(floor)}")
    finally:
        receiver.close()
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)

    print()
    print(
        "| workers | delivered | first | median | all delivered | rate | × floor | CPU workers / receiver"
        " | machine busy"
        f" | target <= {TARGET_SECONDS:.0f} s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        met = "met" if r.last is not None and r.last <= TARGET_SECONDS else "**not met**"
        rate = f"{r.rate:.0f}/s" if r.rate else "–"
        ratio = f"{r.last / floor:.1f}" if r.last and floor else "–"
        print(
            f"| {r.workers} | {r.delivered}/{r.expected} | {_seconds(r.first)} | {_seconds(r.median)} | "
            f"{_seconds(r.last)} | {rate} | {ratio} | {r.worker_cpu:.1f} s / {r.bench_cpu:.1f} s "
            f"| {100 * r.machine_busy:.0f} % | {met} |"
        )
    print(f"| floor | {args.subscribers} | | | {_seconds(floor)} | | 1 | | | |")
    ok = all(r.delivered == r.expected and r.duplicates == 0 and r.refused == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
