"""Benchmark of the response room on PostgreSQL: the consolidated situation report of an incident with ten members
reporting daily for a year, against a bare query of the same rows in the same run (issue #16's Done-when).

    .venv/bin/python bench/response.py [--days 365] [--requests 200]

Creates a fresh PostgreSQL database on the server of ACCORD_BENCH_DATABASE_URL (else `.cache/test-database-url`,
which `make test` writes; the role needs CREATEDB) and a temporary data folder, migrates it with `accord migrate`,
opens one incident affecting the ten SCO member states and files, through the action functions (signed versions,
audit entries, the kind's rules), one report a day for --days days from each member (every tenth day one of them
corrected, so the corrections are there too). Then, --requests times, for a random day of the year, it asks

* `GET /api/v1/incidents/{id}/sitreps/consolidated?period_end=<day>` through Django's request handler (token
  authentication, the audience filter, the consolidation, JSON), as a member's focal point; and
* the bare query: the same rows (that incident's reports ending in the period and the 31 days before it, the
  ones the consolidation reads) straight from the report table, without audience filter, merging or JSON.

Prints p50/p95/max of both, their ratio, and the machine's load average. Target: p95 <= 100 ms.

The other half, first: an incident of four members whose timeline holds --timeline-items (10,000) items, all
written through the action functions (consents and the level, links to notes, daily reports, meetings, decisions
with positions, tasks moved on by their assignees), then pages of `GET /api/v1/incidents/{id}/timeline` through `accord
serve --web-workers N` from --clients (8) concurrent clients, against the bare query of the same rows from as many
threads (the measuring of bench/api_scale.py), as a focal point of one of the members: a page at a time (keyset
pages of 100 items), the latest page, the oldest page (the default call) and a page half way down, each against the
bare query of the same page's rows. Prints the table for docs/benchmarks.md with the server's CPU a request and the
machine's busy share. `--only` runs one half; `--timeline-items 1000` makes a smaller incident.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))  # api_scale: the timeline's clients and bare-query floor are measured by it
ACCORD = str(Path(sys.executable).with_name("accord"))
MEMBERS = ("CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY")
TARGET_MS = 100.0


def _admin_url() -> str:
    given = os.environ.get("ACCORD_BENCH_DATABASE_URL")
    if given:
        return given
    saved = ROOT / ".cache" / "test-database-url"
    if saved.exists():
        return saved.read_text().strip()
    raise SystemExit(
        "bench/response.py needs PostgreSQL: set ACCORD_BENCH_DATABASE_URL (a role with CREATEDB), or run `make test`"
        " once so that .cache/test-database-url exists"
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _accounts() -> dict[str, Any]:
    """A focal point of each member's ministry of health (made once, used by both halves)."""
    from accord.members import actions as members
    from accord.members.models import Account

    accounts = {}
    for code in MEMBERS:
        found = Account.objects.filter(username=f"bench-{code.lower()}").first()
        if found is None:
            organisation = members.create_organisation(
                member_code=code,
                slug=f"bench-{code.lower()}",
                kind="health_ministry",
                name_en=f"{code} MoH",
                acting_user=None,
            )
            found = members.create_account(
                username=f"bench-{code.lower()}", organisation=organisation, roles=["focal_point"], acting_user=None
            )
        accounts[code] = found
    return accounts


def _setup(days: int) -> tuple[Any, Any, date]:
    """The incident and a year of daily reports; returns (incident record, a reader account, the last day)."""
    from accord.records.envelope import Audience
    from accord.records.models import Record
    from accord.response import actions as incidents
    from accord.response.sitreps import file_sitrep

    accounts = _accounts()
    version = incidents.open_incident(
        title={"en": "Benchmark incident"},
        hazard="1F03",
        affected_members=list(MEMBERS),
        audience=Audience(members=[*MEMBERS, "SCO"]),
        tlp="GREEN",
        acting_user=accounts["KZ"],
    )
    incident = Record.objects.get(pk=version.record_id)
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    started = time.monotonic()
    cumulative = dict.fromkeys(MEMBERS, 0)
    deaths = dict.fromkeys(MEMBERS, 0)
    rng = random.Random(16)  # noqa: S311  (made-up figures, not secrets)
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        for code in MEMBERS:
            new, died = rng.randint(0, 40), rng.randint(0, 2)
            cumulative[code] += new
            deaths[code] += died
            figures = {
                "new_cases": new,
                "new_deaths": died,
                "cumulative_cases": cumulative[code],
                "cumulative_deaths": deaths[code],
            }
            file_sitrep(incident, acting_user=accounts[code], period_start=day, period_end=day, figures=figures)
            if offset % 10 == MEMBERS.index(code) % 10:  # a correction: the same record's next version
                file_sitrep(incident, acting_user=accounts[code], period_start=day, period_end=day, figures=figures)
        if (offset + 1) % 30 == 0:
            print(f"  {offset + 1} days filed ({time.monotonic() - started:.0f} s)", flush=True)
    return incident, accounts["KZ"], last


def consolidated(incident: Any, reader: Any, last: date, days: int, requests: int) -> dict[str, list[float]]:
    from django.db import connection
    from django.test import Client

    from accord.members import actions as members
    from accord.response.sitrep_periods import MAX_PERIOD_DAYS

    _, token = members.create_token(reader, name="bench", scope="read", acting_user=None)
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)  # noqa: S311  (which days to ask for)
    timings: dict[str, list[float]] = {"api": [], "bare": []}
    bare = (
        "SELECT member, period_start, period_end, new_cases, new_deaths, cumulative_cases, cumulative_deaths, figures,"
        " reported_at FROM response_sitrepview WHERE incident_record = %s AND incident_node = %s AND active"
        " AND period_end BETWEEN %s AND %s ORDER BY member, period_end DESC"
    )
    path = f"/api/v1/incidents/{incident.uuid}/sitreps/consolidated"
    for n in range(requests + 10):
        end = last - timedelta(days=rng.randrange(days))
        began = time.perf_counter()
        response = client.get(path, {"period_end": end.isoformat()}, headers=headers)
        api_ms = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content
        assert response.json()["totals"]["reporting_members"] == len(MEMBERS), response.json()["missing_members"]
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(bare, [incident.uuid, incident.origin_node, end - timedelta(days=MAX_PERIOD_DAYS), end])
            rows = cursor.fetchall()
        bare_ms = (time.perf_counter() - began) * 1000
        assert rows
        if n >= 10:  # the first ten warm the caches
            timings["api"].append(api_ms)
            timings["bare"].append(bare_ms)
    return timings


# ---- the incident timeline ------------------------------------------------------------------------------------

TIMELINE_MEMBERS = ("KZ", "KG", "UZ", "CN")


def _timeline_setup(items: int) -> tuple[Any, dict[str, int]]:
    """An incident of four members whose timeline holds about `items` items, all written through the action
    functions as their authors would: the consents and the level raised; links to notes (a tenth); each member's
    daily reports (a tenth); meetings (a twentieth); decisions with both participants' positions (five items each:
    the decision, two positions, two counted outcomes; three twentieths); tasks, each set, then moved to in progress
    by its assignee (three items: the task, the update, the task's version applying it; the rest)."""
    from accord.records import actions as records
    from accord.records.envelope import Audience
    from accord.records.models import Record
    from accord.response import actions as incidents
    from accord.response.decision_actions import propose, take_position
    from accord.response.meetings import schedule
    from accord.response.sitreps import file_sitrep
    from accord.response.task_actions import create_task, update_task

    accounts = _accounts()
    kz = accounts["KZ"]
    audience = Audience(members=[*TIMELINE_MEMBERS, "SCO"])
    opened = incidents.open_incident(
        title={"en": "Benchmark timeline", "ru": "Хронология"},
        hazard="A98.0",
        affected_members=list(TIMELINE_MEMBERS),
        audience=audience,
        tlp="GREEN",
        acting_user=kz,
    )
    incident = Record.objects.get(pk=opened.record_id)
    made: dict[str, int] = {}
    started = time.monotonic()

    def progress(what: str, n: int) -> None:
        made[what] = n
        print(f"  {what}: {n} ({time.monotonic() - started:.0f} s)", flush=True)

    for code in TIMELINE_MEMBERS:
        incidents.record_consent(incident, consent="given", acting_user=accounts[code])
    incident.refresh_from_db()
    incidents.change_level(incident, level=2, reason="cases in four members", acting_user=kz)
    progress("consents", len(TIMELINE_MEMBERS))
    links = items // 10
    for n in range(links):
        member = TIMELINE_MEMBERS[n % len(TIMELINE_MEMBERS)]
        note = records.publish(
            "note",
            {"title": f"Field note {n}", "text": "Ticks collected along the river; samples sent."},
            audience=audience,
            tlp="GREEN",
            acting_user=accounts[member],
        )
        incident.refresh_from_db()
        incidents.link_record(incident, target=str(note.record_uuid), acting_user=accounts[member])
    progress("links (to notes)", links)
    days = items // 10 // len(TIMELINE_MEMBERS)
    last = datetime.now(UTC).date() - timedelta(days=1)
    for offset in range(days):
        day = (last - timedelta(days=days - 1 - offset)).isoformat()
        for code in TIMELINE_MEMBERS:
            figures = {"new_cases": 2, "new_deaths": 0, "cumulative_cases": 2 * (offset + 1), "cumulative_deaths": 0}
            file_sitrep(incident, acting_user=accounts[code], period_start=day, period_end=day, figures=figures)
    progress("situation reports", days * len(TIMELINE_MEMBERS))
    meetings = items // 20
    for n in range(meetings):
        schedule(
            incident=incident.uuid,
            title={"en": f"Coordination call {n}"},
            starts_at=datetime.now(UTC) + timedelta(days=1 + n % 30),
            time_zone="Asia/Almaty",
            participants=list(TIMELINE_MEMBERS),
            acting_user=kz,
        )
    progress("meetings", meetings)
    decisions = items * 3 // 20 // 5
    for n in range(decisions):
        decision = propose(
            incident=incident.uuid, text={"en": f"Decision {n}"}, participants=["KZ", "KG"], acting_user=kz
        )
        take_position(decision.record_uuid, position="support", acting_user=kz)
        take_position(decision.record_uuid, position="abstain", acting_user=accounts["KG"])
    progress("decisions (each with two positions)", decisions)
    tasks = max(0, items - 5 - links - days * len(TIMELINE_MEMBERS) - meetings - 5 * decisions) // 3
    for n in range(tasks):
        member = TIMELINE_MEMBERS[1 + n % (len(TIMELINE_MEMBERS) - 1)]
        task = create_task(
            incident=incident.uuid,
            title={"en": f"Task {n}"},
            assignee_type="member",
            assignee=member,
            acting_user=kz,
        )
        update_task(task.record_uuid, acting_user=accounts[member], status="in_progress", comment="on it")
        if (n + 1) % 500 == 0:
            print(f"    {n + 1} tasks ({time.monotonic() - started:.0f} s)", flush=True)
    progress("tasks (each set and moved on by its assignee)", tasks)
    incident.refresh_from_db()
    return incident, made


def _timeline_floor(incident: Any, order: str, cursor: str | None, limit: int) -> tuple[str, list[Any]]:
    """The bare query of a page: the same rows of the timeline's query table from the same position, in the same
    order, with the columns an item needs (the version's `canonical` included: the title is in the body); no
    audience filter, no item building, no JSON."""
    from accord.response import timeline

    where = "e.incident_record = %s AND e.incident_node = %s"
    params: list[Any] = [incident.uuid, incident.origin_node]
    descending = order == "desc"
    if cursor:
        at = timeline.decode_cursor(cursor)
        descending = at.side == "before"
        op = "<" if descending else ">"
        where += f" AND (e.at, e.record_uuid, e.seq, e.id) {op} (%s, %s, %s, %s)"
        params += [at.key.at, at.key.record, at.key.seq, at.key.id]
    way = "DESC" if descending else "ASC"
    columns = "e.at, e.record_uuid, e.seq, e.via_id, v.kind, v.origin_member, v.origin_node, v.state, v.canonical"
    # No value is pasted in (the placeholders carry them): only the direction and the page size.
    sort = f"e.at {way}, e.record_uuid {way}, e.seq {way}, e.id {way}"
    sql = f"SELECT {columns} FROM response_timelineentry e JOIN records_version v ON v.id = e.version_id WHERE "  # noqa: S608
    sql += f"{where} ORDER BY {sort} LIMIT {limit}"
    return sql, params


def timeline(items: int, clients: int, requests: int, web_workers: int, env: dict[str, str]) -> bool:
    """Build the incident, then measure pages of its timeline through `accord serve` with `clients` clients against
    the bare query of the same page from as many threads (bench/api_scale.py's measuring): the latest page, the
    oldest page (the default order), and a page half way down; print the table. True if every target is met."""
    import api_scale
    from django.db import connections

    from accord.members import actions as members
    from accord.records.principal import Principal
    from accord.response import timeline as timelines

    print(f"building an incident timeline of about {items} items ...", flush=True)
    started = time.monotonic()
    incident, made = _timeline_setup(items)
    reader = _accounts()["KG"]
    principal = Principal.of(reader)
    shown = len(timelines.timeline(principal, incident))
    print(f"  {shown} timeline items in {time.monotonic() - started:.0f} s: {made}", flush=True)
    limit = timelines.DEFAULT_LIMIT
    cursor: str | None = None
    depth = 0
    while depth < shown // 2:  # the cursor of the page half way down, latest first
        cursor = timelines.page(principal, incident, limit=limit, order="desc", cursor=cursor).next
        depth += limit
    _, token = members.create_token(reader, name="bench-timeline", scope="read", acting_user=None)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/incidents/{incident.uuid}/timeline"
    scenarios = [
        api_scale.Scenario(
            f"latest page (`?order=desc`, {limit} items)",
            "list",
            [f"{path}?order=desc"],
            [_timeline_floor(incident, "desc", None, limit)],
            headers,
        ),
        api_scale.Scenario(
            f"oldest page (the default call, {limit} items)",
            "list",
            [path],
            [_timeline_floor(incident, "asc", None, limit)],
            headers,
        ),
        api_scale.Scenario(
            f"a page {depth:,} items down (`?order=desc&cursor=`)",
            "list",
            [f"{path}?order=desc&cursor={cursor}"],
            [_timeline_floor(incident, "desc", cursor, limit)],
            headers,
        ),
    ]
    connections.close_all()
    port = api_scale._free_port()
    log = (Path(env["ACCORD_DATA_DIR"]) / "serve.log").open("ab")
    server = subprocess.Popen(
        [ACCORD, "serve", "--port", str(port), "--workers", "0", "--web-workers", str(web_workers)],
        env=os.environ | env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    rows = []
    met = True
    try:
        api_scale._wait_for(port)
        pool = api_scale._Pool(env["DATABASE_URL"], clients)
        load_before, busy_before = os.getloadavg()[0], api_scale._busy()
        for scenario in scenarios:
            cpu = api_scale._session_cpu(server.pid)
            result = api_scale._measure(scenario, port, pool, clients, requests)
            warm = min(requests, 2 * clients)
            result.cpu_ms = 1000 * (api_scale._session_cpu(server.pid) - cpu) / (requests + warm)
            p50, p95 = 1000 * statistics.median(result.times), 1000 * api_scale._percentile(result.times, 0.95)
            p99 = 1000 * api_scale._percentile(result.times, 0.99)
            floor95 = 1000 * api_scale._percentile(result.floor, 0.95)
            ok = p95 <= TARGET_MS and result.errors == 0
            met = met and ok
            rows.append(
                f"| {scenario.name} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {floor95:.1f} ms | "
                f"{p95 / max(floor95, 0.001):.1f} | {result.cpu_ms:.1f} ms | <= {TARGET_MS:.0f} ms: "
                f"{'met' if ok else '**not met**'}{f', {result.errors} errors' if result.errors else ''} |"
            )
        busy_after, load_after = api_scale._busy(), os.getloadavg()[0]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    share = (busy_after[0] - busy_before[0]) / max(1.0, busy_after[1] - busy_before[1])
    print(
        f"incident timeline of {shown:,} items: {clients} clients, {requests} requests a row; `accord serve "
        f"--web-workers {web_workers}`; machine busy {100 * share:.0f} % while measuring, load average "
        f"{load_before:.1f} -> {load_after:.1f} ({os.cpu_count()} cores)"
    )
    print("| page | p50 | p95 | p99 | bare query p95 | p95 / bare | server CPU a request | target p95 |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows), flush=True)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", choices=("consolidated", "timeline"), help="run one half (default: both)")
    parser.add_argument("--timeline-items", type=int, default=10_000)
    parser.add_argument("--timeline-requests", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8, help="the timeline's concurrent clients")
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 1, help="the timeline's server processes")
    args = parser.parse_args(argv)

    import psycopg

    # CREATE and DROP DATABASE from the server's maintenance database (the URL's own may not exist yet).
    admin = _with_database(_admin_url(), "postgres")
    db_name = f"accord_bench_response_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = _with_database(admin, db_name)
    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-response-"))
    env = dict(os.environ, DATABASE_URL=database_url, ACCORD_DATA_DIR=str(data_dir), ACCORD_EMAIL_BACKEND="console")
    try:
        print(f"database {db_name} on {urlsplit(admin).hostname}; CPUs: {os.cpu_count()}", flush=True)
        subprocess.run([ACCORD, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
        import django

        django.setup()
        met = True
        if args.only != "consolidated":
            met = timeline(args.timeline_items, args.clients, args.timeline_requests, args.web_workers, env)
        if args.only == "timeline":
            return 0 if met else 1
        from accord.records.models import Version

        print(f"filing {len(MEMBERS)} members x {args.days} daily reports ...", flush=True)
        started = time.monotonic()
        incident, reader, last = _setup(args.days)
        versions = Version.objects.filter(kind="sitrep").count()
        print(f"  {versions} sitrep versions in {time.monotonic() - started:.0f} s", flush=True)
        load_before = os.getloadavg()[0]
        timings = consolidated(incident, reader, last, args.days, args.requests)
        load_after = os.getloadavg()[0]
        api, bare = timings["api"], timings["bare"]
        p95_api, p95_bare = _percentile(api, 0.95), _percentile(bare, 0.95)
        print(f"consolidated sitrep, {len(api)} requests, machine load {load_before:.1f} -> {load_after:.1f}:")
        for name, values in (("API (handler, audience filter, merge, JSON)", api), ("bare query of the rows", bare)):
            print(
                f"  {name}: p50 {statistics.median(values):.1f} ms, p95 {_percentile(values, 0.95):.1f} ms, "
                f"max {max(values):.1f} ms"
            )
        verdict = "met" if p95_api <= TARGET_MS else "NOT met"
        print(f"  ratio p95 API / bare: {p95_api / p95_bare:.1f}x; target p95 <= {TARGET_MS:.0f} ms: {verdict}")
        return 0 if p95_api <= TARGET_MS and met else 1
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
