"""The read side of alerts, always through the record core's audience filter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accord.records import search
from accord.records.models import Record
from accord.records.principal import Principal
from accord.records.queries import record_for


@dataclass(frozen=True)
class AlertFilter:
    member: str | None = None
    status: str | None = None
    category: str | None = None
    event: str | None = None
    severity: str | None = None
    urgency: str | None = None
    certainty: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    active: bool | None = None
    disease: str | None = None


def alerts_for(principal: Principal, where: AlertFilter | None = None) -> QuerySet[Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind="alert", alert_view__isnull=False)
        .select_related("current_version", "alert_view")
    )
    w = where or AlertFilter()
    if w.member:
        rows = rows.filter(origin_member=w.member)
    if w.status:
        rows = rows.filter(current_version__status=w.status)
    if w.category:
        rows = rows.filter(alert_view__categories__contains=f",{w.category},")
    if w.event:
        rows = rows.filter(alert_view__event__icontains=w.event)
    if w.severity:
        rows = rows.filter(alert_view__severity=w.severity)
    if w.urgency:
        rows = rows.filter(alert_view__urgency=w.urgency)
    if w.certainty:
        rows = rows.filter(alert_view__certainty=w.certainty)
    if w.disease:
        rows = rows.filter(
            Q(alert_view__disease_code__iexact=w.disease) | Q(alert_view__disease_name__icontains=w.disease)
        )
    if w.bbox:
        west, south, east, north = w.bbox
        rows = rows.filter(
            alert_view__bbox_west__lte=east,
            alert_view__bbox_east__gte=west,
            alert_view__bbox_south__lte=north,
            alert_view__bbox_north__gte=south,
        )
    if w.since:
        rows = rows.filter(alert_view__sent_at__gte=w.since)
    if w.until:
        rows = rows.filter(alert_view__sent_at__lte=w.until)
    if w.q:
        rows = rows.filter(search.matching(w.q))
    if w.active is True:
        rows = rows.filter(current_version__state="active").filter(
            Q(alert_view__expires_at__isnull=True) | Q(alert_view__expires_at__gt=timezone.now())
        )
    elif w.active is False:
        rows = rows.filter(Q(current_version__state="withdrawn") | Q(alert_view__expires_at__lte=timezone.now()))
    return rows.order_by("-alert_view__sent_at", "-pk")


def alert_for(principal: Principal, record_uuid: str) -> Record:
    from accord.records.errors import NotFound

    record = record_for(principal, record_uuid)
    if record.kind != "alert":
        raise NotFound("no such alert")
    return record


def public_alerts() -> QuerySet[Record]:
    """What may leave the system: TLP:CLEAR to everyone (the audience filter's anonymous view) and CAP scope Public."""
    return alerts_for(Principal.anonymous()).filter(alert_view__scope="Public")


def drafts_of(principal: Principal) -> QuerySet[Record]:
    """The principal's own live draft alerts, newest first (a draft is seen by its author alone)."""
    if principal.account is None:
        return Record.objects.none()
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind="alert",
            current_version__status="draft",
            current_version__state="active",
            current_version__author=principal.account,
        )
        .select_related("current_version", "alert_view")
        .order_by("-current_version_id")
    )


def draft_for_signal(principal: Principal, signal: str) -> Record | None:
    """The principal's live draft alert written from the surveillance signal `signal` (its uuid), if any."""
    for record in drafts_of(principal):
        assert record.current_version is not None
        if (record.current_version.body.get("draft") or {}).get("signal") == signal:
            return record
    return None
