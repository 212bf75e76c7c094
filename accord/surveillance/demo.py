"""Demo counts for `accord demo`: a few weekly series of a few members, one with an outbreak last week.

The counts go through the real path (an upload, checked and stored by `process_upload`, then detection), so the
series browser, the charts and the signal inbox have something to show after `make run`. Each series runs from
ISO week 1 six years before last week's year to last week: seven series-year records per series, enough history
for farringtonFlexible's default five years. The newest weeks carry the seasonal mean without noise, so the one
outbreak is the only alarm whatever the date.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

import numpy as np
from django.utils import timezone

from accord.records.envelope import Audience
from accord.surveillance import reference

# member, uploader, region, disease, weekly mean, seasonal amplitude, outbreak cases last week, audience, TLP
SERIES: list[tuple[str, str, str, str, float, float, int, Audience, str]] = [
    ("KZ", "kz.health", "KZ-19", "B05", 6.0, 0.5, 34, Audience(everyone=True), "GREEN"),
    ("KZ", "kz.health", "KZ-61", "A00", 2.0, 0.6, 0, Audience(everyone=True), "GREEN"),
    ("KG", "kg.health", "KG-C", "B05", 4.0, 0.5, 0, Audience(members=["KG", "KZ", "UZ", "SCO"]), "GREEN"),
    ("UZ", "uz.health", "UZ-TK", "J11", 40.0, 0.8, 0, Audience(everyone=True), "GREEN"),
    ("RU", "ru.health", "RU-ORE", "A98.5", 3.0, 0.4, 0, Audience(everyone=True), "GREEN"),
]
QUIET_WEEKS = 6  # the newest weeks, at their seasonal mean


def _weeks(today: date) -> list[reference.Period]:
    last = reference.week_of(today - timedelta(days=7))
    first = reference.iso_week(last.year - 6, 1)
    weeks = []
    start = first.start
    while start <= last.start:
        weeks.append(reference.Period(start, "week"))
        start += timedelta(days=7)
    return weeks


def series_rows(index: int, today: date) -> list[tuple[str, str, str, int]]:
    _member, _user, region, disease, mean, amplitude, outbreak, _audience, _tlp = SERIES[index]
    rng = np.random.default_rng(2026 + index)
    weeks = _weeks(today)
    rows = []
    for i, week in enumerate(weeks):
        expected = mean * (1 + amplitude * math.cos(2 * math.pi * (week.start.isocalendar()[1] - 4) / 52))
        quiet = i >= len(weeks) - QUIET_WEEKS
        count = round(expected) if quiet else int(rng.poisson(expected))
        if i == len(weeks) - 1:
            count += outbreak
        rows.append((disease, region, week.label, count))
    return rows


def load_counts(today: date | None = None) -> int:
    """Upload the demo series (once); returns how many records were created."""
    from accord.members.models import Account
    from accord.records.models import Record
    from accord.surveillance import actions

    if Record.objects.filter(kind="case_counts").exists():
        return 0
    today = today or timezone.now().date()
    created = 0
    for index, (_member, username, *_rest) in enumerate(SERIES):
        audience, tlp = SERIES[index][7], SERIES[index][8]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["disease", "region", "period", "count"])
        writer.writerows(series_rows(index, today))
        user = Account.objects.get(username=username)
        upload = actions.submit_upload(
            out.getvalue().encode(), acting_user=user, audience=audience, tlp=tlp, filename="demo-counts.csv"
        )
        done = actions.process_upload(upload.pk, today=today)
        assert done is not None and done.status == "done", done.errors if done else "missing"
        created += int(done.summary.get("published", 0))
    return created
