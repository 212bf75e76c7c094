"""Benchmark of the operations desk with the demo data (issue #19): time to first byte of my desk, the map and their
APIs, against the node's health check through the same handler in the same run, and the weight of each page.

    .venv/bin/python bench/desk.py [--requests 200]

Loads `accord demo` into a temporary data folder (SQLite, the embedded default), then, --requests times each and
interleaved, asks through Django's request handler (sessions, CSRF, security headers, the audience filter, the
templates) as the demo focal point of Kyrgyzstan (whose desk holds acknowledgements, a task and an offer):

* `GET /` (my desk), `GET /map/`, `GET /search/?q=cholera`, `GET /api/v1/desk`, `GET /api/v1/map.geojson`;
* the peer: `GET /healthz` (a database query and JSON, the same middleware), the floor of any request here.

The handler returns the whole body at once, so its time is the time to the first byte less the network. Prints
p50/p95 of each and its ratio to the peer's p50, and each page's weight: its HTML and the style sheets and scripts
it loads from this node, gzip-compressed (Leaflet, the map library, counted apart), and whether anything is loaded
from another host. Targets: p95 <= 100 ms; every page under 150 KB besides the map library.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCORD = str(Path(sys.executable).with_name("accord"))
PAGES = ("/", "/map/", "/search/?q=cholera", "/api/v1/desk", "/api/v1/map.geojson")
PEER = "/healthz"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="accord-bench-desk-")
    os.environ["ACCORD_DATA_DIR"] = data
    os.environ.pop("DATABASE_URL", None)
    subprocess.run([ACCORD, "demo"], check=True, stdout=subprocess.DEVNULL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    from django.test import Client

    from accord.members.models import Account
    from accord.web.static import ensure_collected

    ensure_collected()
    from django.utils import timezone

    from accord.records.models import WorkerHeartbeat

    # The health check answers 200 when a worker beat recently: this run has none, so it says one did.
    WorkerHeartbeat.objects.update_or_create(worker="bench", defaults={"seen_at": timezone.now() + timedelta(days=1)})
    client = Client()
    client.force_login(Account.objects.get(username="kg.health"))
    timings: dict[str, list[float]] = {path: [] for path in (*PAGES, PEER)}
    bodies: dict[str, bytes] = {}
    for _warm in range(5):
        for path in timings:
            client.get(path)
    for _round in range(args.requests):
        for path, taken in timings.items():
            start = time.perf_counter()
            response = client.get(path)
            taken.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            bodies[path] = response.content
    peer = statistics.median(timings[PEER])
    print(f"load average: {os.getloadavg()[0]:.2f}; {args.requests} requests each, interleaved\n")
    print("| request | p50 ms | p95 ms | p50 / health check |")
    print("|---|---|---|---|")
    for path in (*PAGES, PEER):
        p50 = statistics.median(timings[path])
        print(f"| `GET {path}` | {p50:.1f} | {_percentile(timings[path], 0.95):.1f} | {p50 / peer:.1f} |")
    print("\n| page | HTML gzip KB | CSS+JS gzip KB (own) | total KB | map library gzip KB | other hosts |")
    print("|---|---|---|---|---|---|")
    from django.contrib.staticfiles import finders

    for path in ("/", "/map/", "/search/?q=cholera"):
        html = bodies[path]
        own = 0
        library = 0
        foreign = 0
        for url in re.findall(rb'(?:href|src)="([^"]+\.(?:css|js))"', html):
            text = url.decode()
            if text.startswith(("http:", "https:", "//")):
                foreign += 1
                continue
            name = re.sub(r"\.[0-9a-f]{12}(\.(?:css|js))$", r"\1", text.removeprefix("/static/"))
            found = finders.find(name)
            assert found, name
            size = len(gzip.compress(Path(str(found)).read_bytes()))
            if "vendor/leaflet" in name:
                library += size
            else:
                own += size
        page = len(gzip.compress(html))
        sizes = f"{page / 1024:.1f} | {own / 1024:.1f} | {(page + own) / 1024:.1f} | {library / 1024:.1f}"
        print(f"| `{path}` | {sizes} | {foreign} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
