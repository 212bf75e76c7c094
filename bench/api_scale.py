"""Benchmark: reading a million alerts on PostgreSQL, with 8 concurrent clients, against a bare SQL floor.

    .venv/bin/python bench/api_scale.py [--count 1000000] [--clients 8] [--requests 200] [--web-workers N]
        [--loaders N] [--database NAME] [--database-url URL] [--keep] [--reuse] [--as-loaded]

Loads --count alerts (bench/scale_data.py: seeded, valid CAP, all ten members and the Secretariat, zh/ru/en, ten
years, TLP and audience mix, updates and cancellations) through `ingest_many` with --loaders processes into the
database NAME (default accord_bench_scale) on the server of --database-url (else ACCORD_BENCH_DATABASE_URL, else
`.cache/test-database-url`; the role needs CREATEDB), unless --reuse, which measures what NAME already holds; after a
load, the search index is stored in the order searches read it (`accord records reindex --order-only`, what an
operator does after importing an archive) unless --as-loaded. Then
starts `accord serve --web-workers N` and measures, as a reader of a typical member (a viewer of Kazakhstan's
health ministry: the audience filter is part of every query), the latency of:

* GET /api/v1/alerts: no filter, by member, severity, member and severity, event, a month, a bounding box, and a page
  deep in the results (a cursor about 100,000 alerts down);
* a single alert (GET /api/v1/alerts/{uuid}) and its CAP XML (.cap);
* the CAP Atom feed (the reader's feed token);
* the web alert list (/alerts/, a logged-in session);
* text search (q=) in Chinese, Russian and English.

Each is compared with its floor: the SQL the server runs for the same rows (the same query, audience filter
included), sent with psycopg from the same number of client threads, in the same run. Prints p50/p95/p99, the ratio
of p95 to the floor's p95, the load time and rate, and the machine's busy share while measuring. The database is
dropped at the end unless --keep (or --reuse). Targets (issue #15): p95 <= 50 ms for lists, details and feeds, <=
150 ms for text search.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
ACCORD = str(Path(sys.executable).with_name("accord"))
TARGET_MS = {"list": 50.0, "detail": 50.0, "feed": 50.0, "search": 150.0}


@dataclass
class Scenario:
    name: str
    kind: str  # list, detail, feed, search
    paths: list[str]  # cycled through by the clients
    sql: list[tuple[str, list[Any]]]  # the floor: the same query as bare SQL, cycled the same way
    headers: dict[str, str]


@dataclass
class Result:
    scenario: Scenario
    times: list[float]
    floor: list[float]
    errors: int
    cpu_ms: float = 0.0  # the server's CPU time per request


def _admin_url(given: str | None) -> str:
    url = given or os.environ.get("ACCORD_BENCH_DATABASE_URL")
    if url:
        return url
    saved = ROOT / ".cache" / "test-database-url"
    if saved.exists():
        return saved.read_text().strip()
    raise SystemExit("bench/api_scale.py needs PostgreSQL: --database-url, ACCORD_BENCH_DATABASE_URL or `make test`")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _session_cpu(session: int) -> float:
    """CPU seconds used so far by the live processes of a session (the server's supervisor and its processes)."""
    tick = float(os.sysconf("SC_CLK_TCK"))
    used = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session:
            used += (int(fields[11]) + int(fields[12])) / tick
    return used


def _busy() -> tuple[float, float]:
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


# ---- the reader, and the scenarios with their floors ---------------------------------------------------------


def _reader() -> tuple[Any, str, str, str]:
    """The reader (a viewer of Kazakhstan's health ministry), an API token, a feed token and a web session."""
    from django.conf import settings
    from django.test import Client

    from accord.members import actions as members
    from accord.members.models import Account, Organisation

    org = Organisation.objects.filter(slug="bench-kz-health").first() or members.create_organisation(
        member_code="KZ", slug="bench-kz-health", kind="health_ministry", name_en="KZ MoH", acting_user=None
    )
    account = Account.objects.filter(username="bench-reader").first() or members.create_account(
        username="bench-reader", organisation=org, roles=["viewer"], acting_user=None
    )
    api = members.create_token(account, name="bench", scope="read", acting_user=None)[1]
    feed = members.create_token(account, name="bench-feed", scope="feed", acting_user=None)[1]
    client = Client()
    client.force_login(account)
    return account, api, feed, client.cookies[settings.SESSION_COOKIE_NAME].value


def _sql(qs: Any) -> tuple[str, list[Any]]:
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def _scenarios(account: Any, api: str, feed: str, session: str, rng: random.Random) -> list[Scenario]:
    from datetime import UTC, datetime

    from django.conf import settings
    from django.db.models import Q

    import accord.api  # noqa: F401  (the API first: its modules import each other in that order)
    from accord.alerts import feeds, queries
    from accord.records.principal import Principal

    principal = Principal.of(account)
    bearer = {"Authorization": f"Bearer {api}"}
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"}
    members = ["CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY", "SCO"]

    def listing(name: str, kind: str, filters: list[dict[str, Any]], limit: int = 50) -> Scenario:
        paths, sql = [], []
        for params in filters:
            where = queries.AlertFilter(**{k: v for k, v in params.items() if k != "cursor"})
            rows = queries.alerts_for(principal, where)
            if "cursor" in params:
                sent_at, pk = queries.decode_cursor(params["cursor"])
                rows = rows.filter(Q(listed_at__lt=sent_at) | Q(listed_at=sent_at, pk__lt=pk))
            sql.append(_sql(rows.values(*queries.LIST_COLUMNS)[: limit + 1]))
            query = {k: _param(v) for k, v in params.items()} | {"limit": limit}
            paths.append("/api/v1/alerts?" + urlencode(query))
        return Scenario(name, kind, paths, sql, bearer)

    visible = queries.alerts_for(principal)
    # A page deep down: the cursor of the alert about 100,000 down the reader's list (or half way on a small set).
    total_cap = min(100_000, max(1, visible.count() // 2))
    deep = visible.values("listed_at", "pk")[total_cap - 1 : total_cap]  # type: ignore[misc]  # alerts_for annotates it
    deep_cursors = [queries.encode_cursor(r["listed_at"], r["pk"]) for r in deep]
    sample = list(visible.values_list("uuid", flat=True)[5000:5200]) or list(
        visible.values_list("uuid", flat=True)[:200]
    )
    rng.shuffle(sample)
    months = [datetime(2017 + n % 9, 1 + n % 12, 1, tzinfo=UTC) for n in range(12)]
    scenarios = [
        listing("list, no filter", "list", [{}]),
        listing("list, member", "list", [{"member": m} for m in members]),
        listing("list, severity", "list", [{"severity": s} for s in ("Extreme", "Severe", "Moderate", "Minor")]),
        listing("list, member + severity", "list", [{"member": m, "severity": "Extreme"} for m in members]),
        listing(
            "list, event", "list", [{"event": e} for e in ("Earthquake", "Вспышка холеры", "洪水预警", "Wildfire")]
        ),
        listing(
            "list, one month",
            "list",
            [{"since": m, "until": m.replace(day=28)} for m in months],
        ),
        listing("list, bbox", "list", [{"bbox": b} for b in ((68.0, 40.0, 70.0, 44.0), (73.0, 37.0, 78.0, 42.0))]),
        listing("list, deep page (keyset)", "list", [{"cursor": c} for c in deep_cursors] or [{}]),
        listing("search, zh", "search", [{"q": q} for q in ("霍乱", "洪水", "地震")]),
        listing("search, ru", "search", [{"q": q} for q in ("холера", "наводнение", "землетрясение")]),
        listing("search, en", "search", [{"q": q} for q in ("cholera", "flood", "earthquake")]),
    ]
    one = [_sql(queries.alerts_for(principal).filter(uuid=u).values(*queries.LIST_COLUMNS)[:1]) for u in sample]
    scenarios.append(Scenario("single alert", "detail", [f"/api/v1/alerts/{u}" for u in sample], one, bearer))
    scenarios.append(Scenario("single alert .cap", "detail", [f"/api/v1/alerts/{u}.cap" for u in sample], one, bearer))
    current = feeds._current(queries.alerts_for(principal))
    feed_sql = _sql(current.values(*feeds.FEED_COLUMNS)[: feeds.FEED_SIZE])
    scenarios.append(Scenario("CAP Atom feed", "feed", [f"/feeds/t/{feed}/alerts.atom"], [feed_sql], {}))
    web_sql = _sql(visible.select_related("current_version", "alert_view")[:26])
    scenarios.append(Scenario("web alert list", "list", ["/alerts/"], [web_sql], cookie))
    return scenarios


def _param(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


# ---- measuring ------------------------------------------------------------------------------------------------


def _run_clients(clients: int, requests: int, work: Callable[[int, Any], None], open_: Callable[[], Any]) -> float:
    """Run `requests` calls of work(n, connection) from `clients` threads, each with its own connection."""
    counter = iter(range(requests))
    lock = threading.Lock()

    def client() -> None:
        connection = open_()
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            work(n, connection)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


class _Pool:
    """The floor's database connections, opened once for the whole run (one per client thread)."""

    def __init__(self, database_url: str, size: int) -> None:
        import queue

        import psycopg

        self.free: queue.Queue[Any] = queue.Queue()
        for _ in range(size):
            self.free.put(psycopg.connect(database_url, autocommit=True))

    def take(self) -> Any:
        pool = self

        class Lent:
            def __init__(self) -> None:
                self.connection = pool.free.get()

            def cursor(self) -> Any:
                return self.connection.cursor()

            def close(self) -> None:
                pool.free.put(self.connection)

        return Lent()


def _measure(scenario: Scenario, port: int, pool: _Pool, clients: int, requests: int) -> Result:
    times: list[float] = []
    floor: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def get(n: int, connection: http.client.HTTPConnection) -> None:
        path = scenario.paths[n % len(scenario.paths)]
        started = time.perf_counter()
        connection.request("GET", path, headers=scenario.headers)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        with lock:
            times.append(elapsed)
            if response.status != 200:
                errors[0] += 1
                if errors[0] <= 2:
                    print(f"  {scenario.name}: {path} answered {response.status}", flush=True)

    def sql(n: int, connection: Any) -> None:
        query, params = scenario.sql[n % len(scenario.sql)]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            cursor.fetchall()
        elapsed = time.perf_counter() - started
        with lock:
            floor.append(elapsed)

    warm = min(requests, 2 * clients)
    _run_clients(clients, warm, get, lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    times.clear()
    errors[0] = 0
    _run_clients(clients, requests, get, lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    _run_clients(clients, requests, sql, pool.take)
    return Result(scenario, times, floor, errors[0])


def _wait_for(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/login/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not start")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario")
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loaders", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database", default="accord_bench_scale")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", default=None, help="default: .cache/bench-scale/DATABASE")
    parser.add_argument("--keep", action="store_true", help="keep the database (measure it again with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure what the database holds; load nothing")
    parser.add_argument(
        "--as-loaded",
        action="store_true",
        help="do not store the search index in search order after the load (`accord records reindex --order-only`)",
    )
    args = parser.parse_args(argv)

    import psycopg
    import scale_data

    admin = _admin_url(args.database_url)
    database_url = _with_database(admin, args.database)
    data_dir = Path(args.data_dir or ROOT / ".cache" / "bench-scale" / args.database)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"DATABASE_URL": database_url, "ACCORD_DATA_DIR": str(data_dir), "ACCORD_EMAIL_BACKEND": "console"}
    load_note = ""
    if not args.reuse:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
        subprocess.run([ACCORD, "migrate"], env=os.environ | env, check=True, stdout=subprocess.DEVNULL)
        print(f"loading {args.count} alerts with {args.loaders} loader process(es) ...", flush=True)
        seconds, failures = scale_data.load_database(env, count=args.count, seed=args.seed, loaders=args.loaders)
        load_note = f"loaded {args.count} alerts in {seconds:.0f} s ({args.count / seconds:.0f} alerts/s)"
        (data_dir / "load.json").write_text(json.dumps({"count": args.count, "seconds": seconds}))
        print(load_note + (f"; {failures} loader(s) failed" if failures else ""), flush=True)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE")
        if not args.as_loaded:
            # What an operator does after importing an archive: the search index stored in the order a search reads
            # it (a node that lives through the ten years writes it in that order anyway).
            started = time.monotonic()
            subprocess.run([ACCORD, "records", "reindex", "--order-only"], env=os.environ | env, check=True)
            load_note += f"; search index stored in search order in {time.monotonic() - started:.0f} s"
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    from accord.records.models import Record

    held = Record.objects.filter(kind="alert").count()
    print(f"database {args.database}: {held} alerts held; {load_note}", flush=True)
    account, api, feed, session = _reader()
    scenarios = _scenarios(account, api, feed, session, random.Random(args.seed))  # noqa: S311  (a sample, not a secret)
    from django.db import connections

    connections.close_all()

    port = _free_port()
    log = (data_dir / "serve.log").open("ab")
    server = subprocess.Popen(
        [ACCORD, "serve", "--port", str(port), "--workers", "0", "--web-workers", str(args.web_workers)],
        env=os.environ | env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results: list[Result] = []
    try:
        _wait_for(port)
        pool = _Pool(database_url, args.clients)
        busy0 = _busy()
        for scenario in scenarios:
            cpu = _session_cpu(server.pid)
            result = _measure(scenario, port, pool, args.clients, args.requests)
            # the server's CPU over the warm-up and the measured requests (the floor runs no server code)
            warm = min(args.requests, 2 * args.clients)
            result.cpu_ms = 1000 * (_session_cpu(server.pid) - cpu) / (args.requests + warm)
            results.append(result)
            print(
                f"  {scenario.name}: p50 {1000 * statistics.median(result.times):.1f} ms, "
                f"p95 {1000 * _percentile(result.times, 0.95):.1f} ms "
                f"(floor p95 {1000 * _percentile(result.floor, 0.95):.1f} ms), "
                f"server CPU {result.cpu_ms:.1f} ms a request",
                flush=True,
            )
        busy1 = _busy()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    share = (busy1[0] - busy0[0]) / max(1.0, busy1[1] - busy0[1])
    load = os.getloadavg()
    print()
    print(
        f"{held} alerts; reader: a viewer of KZ's health ministry; {args.clients} clients, {args.requests} requests a "
        f"row; `accord serve --web-workers {args.web_workers}`; machine busy {100 * share:.0f} % while measuring, "
        f"load average {load[0]:.1f} ({os.cpu_count()} cores)"
    )
    print()
    print("| read | p50 | p95 | p99 | floor p95 | p95 / floor | server CPU a request | target p95 | |")
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    for r in results:
        p95 = 1000 * _percentile(r.times, 0.95)
        floor95 = 1000 * _percentile(r.floor, 0.95)
        target = TARGET_MS[r.scenario.kind]
        met = p95 <= target and r.errors == 0
        ok = ok and met
        print(
            f"| {r.scenario.name} | {1000 * statistics.median(r.times):.1f} ms | {p95:.1f} ms | "
            f"{1000 * _percentile(r.times, 0.99):.1f} ms | {floor95:.1f} ms | {p95 / max(floor95, 0.001):.1f} | "
            f"{r.cpu_ms:.1f} ms | "
            f"<= {target:.0f} ms | {'met' if met else '**not met**'}{f', {r.errors} errors' if r.errors else ''} |"
        )
    if not args.keep and not args.reuse:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
