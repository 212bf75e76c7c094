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

The other half of the Done-when benchmark, an incident timeline of 10,000 items, belongs with the timeline
(`GET /api/v1/incidents/{id}/timeline`): add it below as `timeline(...)`, with its own bare query.
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


def _setup(days: int) -> tuple[Any, Any, date]:
    """The incident and a year of daily reports; returns (incident record, a reader account, the last day)."""
    from accord.members import actions as members
    from accord.records.envelope import Audience
    from accord.records.models import Record
    from accord.response import actions as incidents
    from accord.response.sitreps import file_sitrep

    accounts = {}
    for code in MEMBERS:
        organisation = members.create_organisation(
            member_code=code,
            slug=f"bench-{code.lower()}",
            kind="health_ministry",
            name_en=f"{code} MoH",
            acting_user=None,
        )
        accounts[code] = members.create_account(
            username=f"bench-{code.lower()}", organisation=organisation, roles=["focal_point"], acting_user=None
        )
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=200)
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
        return 0 if p95_api <= TARGET_MS else 1
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
