"""Running a disease's detector over a weekly series built from the projected counts.

A series is one disease in one region of one member. Detection is weekly: daily counts are added up into ISO
weeks, and only complete weeks (all seven days reported) count. A week without a count is missing, not zero,
so the series given to the detector is the unbroken run of weeks that ends with the newest week. Where
several records give the same period (a node's own copy and a peer's), the most recently stored version wins.

The detector runs over the last CHART_WEEKS weeks (for the chart); where a week has too little history for the
algorithm (Farrington needs `b` years before it) the week gets no threshold ("not enough history"), never an
alarm. No database writes here; `accord.surveillance.actions` stores what this computes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from accord.lib import detect
from accord.surveillance import reference
from accord.surveillance.models import CountPoint, DetectorSetting

DEFAULT_ALGORITHM = "farringtonFlexible"
CHART_WEEKS = 52

# The R defaults of farringtonFlexible as surveillance 1.20.3 resolves them (shown to admins; `{}` means the same).
FARRINGTON_FLEXIBLE_DEFAULTS: dict[str, Any] = {
    "b": 5,
    "w": 3,
    "reweight": True,
    "weightsThreshold": 2.58,
    "alpha": 0.05,
    "trend": True,
    "pThresholdTrend": 0.05,
    "limit54": [5, 4],
    "powertrans": "2/3",
    "noPeriods": 1,
    "pastWeeksNotIncluded": 3,
    "thresholdMethod": "delta",
}


@dataclass(frozen=True)
class Setting:
    algorithm: str
    control: dict[str, Any]
    enabled: bool = True
    configured: bool = False


def setting_for(disease: str) -> Setting:
    row = DetectorSetting.objects.filter(disease=disease).first()
    if row is None:
        return Setting(DEFAULT_ALGORITHM, {})
    return Setting(row.algorithm, dict(row.control), row.enabled, configured=True)


@dataclass
class Week:
    start: date
    count: int
    record_id: int


@dataclass
class WeekResult:
    start: date
    observed: int
    record_id: int
    upperbound: float | None = None
    expected: float | None = None
    alarm: bool = False

    @property
    def label(self) -> str:
        return reference.week_of(self.start).label


@dataclass
class SeriesResult:
    disease: str
    member: str
    region: str
    algorithm: str
    control: dict[str, Any]
    weeks: list[Week] = field(default_factory=list)  # the unbroken run of weeks, oldest first
    results: list[WeekResult] = field(default_factory=list)  # the computed (chart) weeks, oldest first
    error: str = ""  # the detector's complaint when no week could be computed


def weekly(points: list[tuple[str, date, int, int, int]]) -> dict[date, tuple[int, int]]:
    """{week start: (count, record id)} from (resolution, period start, count, record id, version id) points."""
    weeks: dict[date, tuple[int, int, int]] = {}  # start -> (count, record, version)
    days: dict[date, tuple[int, int, int]] = {}
    for resolution, start, count, record_id, version_id in points:
        table = weeks if resolution == "week" else days
        known = table.get(start)
        if known is None or version_id > known[2]:
            table[start] = (count, record_id, version_id)
    by_week: dict[date, list[tuple[int, int, int]]] = {}
    for day, value in days.items():
        by_week.setdefault(day - timedelta(days=day.weekday()), []).append(value)
    result = {start: (count, record) for start, (count, record, _version) in weeks.items()}
    for start, values in by_week.items():
        if start in result or len(values) < 7:
            continue  # a weekly count wins over days; an incomplete week is missing
        newest = max(values, key=lambda v: v[2])
        result[start] = (sum(v[0] for v in values), newest[1])
    return result


def series_weeks(disease: str, member: str, region: str) -> list[Week]:
    """The unbroken run of actual weekly counts of a series that ends with its newest week."""
    rows = CountPoint.objects.filter(disease=disease, member=member, region=region, status="actual").values_list(
        "resolution", "period_start", "count", "record_id", "version_id"
    )
    table = weekly(list(rows))
    if not table:
        return []
    newest = max(table)
    run = []
    start = newest
    while start in table:
        count, record_id = table[start]
        run.append(Week(start, count, record_id))
        start -= timedelta(days=7)
    run.reverse()
    return run


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def run_detector(
    algorithm: str, control: Mapping[str, Any], weeks: list[Week], chart_weeks: int = CHART_WEEKS
) -> tuple[list[WeekResult], str]:
    """Thresholds and alarms of the last `chart_weeks` weeks; weeks with too little history get none."""
    if not weeks:
        return [], ""
    n = len(weeks)
    observed = np.array([float(w.count) for w in weeks])
    dates = np.array([np.datetime64(w.start, "D") for w in weeks])
    year, week, _ = weeks[0].start.isocalendar()
    series = detect.Series(observed=observed, freq=52, dates=dates, start=(year, week))
    first = max(1, n - chart_weeks + 1)
    results = [WeekResult(w.start, w.count, w.record_id) for w in weeks[first - 1 :]]

    def attempt(lo: int) -> detect.Result | None:
        try:
            return detect.run(algorithm, series, control, lo, n)
        except detect.DetectError:
            return None
        except (ValueError, ArithmeticError, np.linalg.LinAlgError):
            return None

    found = attempt(first)
    if found is None:
        # Too little history for the earliest weeks: find the earliest week that can be computed.
        lo, hi, best = first + 1, n, None
        while lo <= hi:
            mid = (lo + hi) // 2
            outcome = attempt(mid)
            if outcome is None:
                lo = mid + 1
            else:
                best, hi = outcome, mid - 1
        found = best
    if found is None:
        try:
            detect.run(algorithm, series, control, n, n)
        except (detect.DetectError, ValueError, ArithmeticError, np.linalg.LinAlgError) as error:
            return results, str(error) or type(error).__name__
        return results, "not enough history"
    for i, t in enumerate(found.t):
        item = results[int(t) - first]
        item.upperbound = _finite(float(found.upperbound[i]))
        item.expected = _finite(float(found.expected[i]))
        alarm = float(found.alarm[i])
        item.alarm = bool(math.isfinite(alarm) and alarm > 0 and item.upperbound is not None)
    return results, ""


def analyse(disease: str, member: str, region: str, setting: Setting | None = None) -> SeriesResult:
    chosen = setting or setting_for(disease)
    result = SeriesResult(disease, member, region, chosen.algorithm, chosen.control)
    result.weeks = series_weeks(disease, member, region)
    if chosen.enabled:
        result.results, result.error = run_detector(chosen.algorithm, chosen.control, result.weeks)
    return result


def monitored_since(today: date, weeks: int) -> date:
    """The first day of the oldest monitored week: the current ISO week and the `weeks - 1` before it."""
    return reference.week_of(today).start - timedelta(weeks=weeks - 1)


def check_control(algorithm: str, control: Any) -> str | None:
    """Why an algorithm and control cannot run (None when they can): tried on a synthetic 7-year series."""
    if algorithm not in detect.ALGORITHMS:
        return f"unknown algorithm {algorithm!r}; known: {', '.join(detect.ALGORITHMS)}"
    if not isinstance(control, dict):
        return "the control must be a JSON object of R control names and values"
    rng = np.random.default_rng(2026)
    n = 52 * 7
    start = date(2019, 1, 7)
    weeks = [Week(start + timedelta(weeks=i), int(v), 0) for i, v in enumerate(rng.poisson(20, size=n))]
    _results, error = run_detector(algorithm, control, weeks, chart_weeks=4)
    return error or None
