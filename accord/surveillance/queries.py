"""The read side of surveillance, always through the record core's audience filter.

* Counts: a point is seen only through its record, so `Record.objects.visible_to()` decides each one.
* Thresholds and signals are derived from a whole series (a detector looks years back), so a person sees them
  only when every record of that series is visible to them: someone who may not see some of the counts never
  learns what was computed from them. A cross-border signal needs that for each of its series.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet

from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.surveillance import detection
from accord.surveillance.models import CountPoint, SeriesView, Signal, Threshold, Upload
from accord.surveillance.reference import week_of


def _visible(principal: Principal) -> QuerySet[Record]:
    return Record.objects.visible_to(principal)


def _hidden_series(principal: Principal) -> QuerySet[SeriesView]:
    """Actual, active series-years of the outer row's series that the principal may not see."""
    return SeriesView.objects.filter(
        disease=OuterRef("disease"), member=OuterRef("member"), region=OuterRef("region"), status="actual", active=True
    ).exclude(record__in=_visible(principal))


def signals_for(principal: Principal) -> QuerySet[Signal]:
    if principal.is_anonymous:
        return Signal.objects.none()
    single = Q(kind=Signal.Kind.SINGLE, series__in=_visible(principal)) & ~Q(Exists(_hidden_series(principal)))
    hidden_component = Signal.objects.filter(joint_signals=OuterRef("pk")).filter(
        Q(series__isnull=True) | ~Q(series__in=_visible(principal)) | Q(Exists(_hidden_series(principal)))
    )
    joint = Q(kind=Signal.Kind.JOINT) & ~Q(Exists(hidden_component))
    return Signal.objects.filter(single | joint)


def signal_for(principal: Principal, signal_uuid: str | uuid.UUID) -> Signal:
    try:
        key = uuid.UUID(str(signal_uuid))
    except ValueError:
        raise NotFound("no such signal") from None
    found = signals_for(principal).filter(uuid=key).first()
    if found is None:
        raise NotFound("no such signal")
    return found


@dataclass(frozen=True)
class SeriesFilter:
    member: str | None = None
    disease: str | None = None
    region: str | None = None
    status: str = "actual"


@dataclass(frozen=True)
class SeriesRow:
    member: str
    disease: str
    region: str
    points: int
    first: date
    last: date


def series_for(principal: Principal, where: SeriesFilter | None = None) -> list[SeriesRow]:
    """The series with at least one visible point, most recently reported first."""
    w = where or SeriesFilter()
    rows = CountPoint.objects.filter(record__in=_visible(principal), status=w.status)
    if w.member:
        rows = rows.filter(member=w.member)
    if w.disease:
        rows = rows.filter(disease=w.disease)
    if w.region:
        rows = rows.filter(region=w.region)
    grouped = (
        rows.values("member", "disease", "region")
        .annotate(points=Count("pk"), first=Min("period_start"), last=Max("period_start"))
        .order_by("-last", "member", "disease", "region")
    )
    return [
        SeriesRow(r["member"], r["disease"], r["region"], r["points"], r["first"], r["last"]) for r in grouped[:500]
    ]


@dataclass
class ChartWeek:
    start: date
    label: str
    observed: int | None
    upperbound: float | None = None
    alarm: bool = False
    computed: bool = False


def weeks_for(principal: Principal, member: str, disease: str, region: str, status: str = "actual") -> list[ChartWeek]:
    """The weekly counts of a series the principal may see (days added up into complete weeks), oldest first,
    with the thresholds when the principal may see the whole series."""
    rows = CountPoint.objects.filter(
        record__in=_visible(principal), member=member, disease=disease, region=region, status=status
    ).values_list("resolution", "period_start", "count", "record_id", "version_id")
    table = detection.weekly(list(rows))
    if not table:
        return []
    thresholds: dict[date, Threshold] = {}
    if status == "actual" and whole_series_visible(principal, member, disease, region):
        thresholds = {t.week_start: t for t in Threshold.objects.filter(member=member, disease=disease, region=region)}
    first, last = min(table), max(table)
    weeks = []
    start = first
    while start <= last:
        count = table.get(start)
        threshold = thresholds.get(start)
        weeks.append(
            ChartWeek(
                start=start,
                label=week_of(start).label,
                observed=count[0] if count else None,
                upperbound=threshold.upperbound if threshold else None,
                alarm=bool(threshold and threshold.alarm),
                computed=threshold is not None,
            )
        )
        start += timedelta(days=7)
    return weeks


def whole_series_visible(principal: Principal, member: str, disease: str, region: str) -> bool:
    return not (
        SeriesView.objects.filter(member=member, disease=disease, region=region, status="actual", active=True)
        .exclude(record__in=_visible(principal))
        .exists()
    )


def series_records(principal: Principal, member: str, disease: str, region: str) -> QuerySet[Record]:
    """The visible records (series-years) of a series, newest year first."""
    return (
        _visible(principal)
        .filter(series_view__member=member, series_view__disease=disease, series_view__region=region)
        .select_related("current_version", "series_view")
        .order_by("-series_view__year", "-current_version_id")
    )


def uploads_for(principal: Principal) -> QuerySet[Upload]:
    """An upload (its file, its errors) is seen by its uploader only."""
    if principal.account is None:
        return Upload.objects.none()
    return Upload.objects.filter(uploader__uuid=principal.account).order_by("-created_at")


def upload_for(principal: Principal, upload_uuid: str | uuid.UUID) -> Upload:
    try:
        key = uuid.UUID(str(upload_uuid))
    except ValueError:
        raise NotFound("no such upload") from None
    found = uploads_for(principal).filter(uuid=key).defer("data").first()  # the file itself is never shown
    if found is None:
        raise NotFound("no such upload")
    return found
