"""The read side of alerts, always through the record core's audience filter."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accord.records import search
from accord.records.errors import ActionError
from accord.records.models import Record
from accord.records.principal import Principal


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
        rows = rows.filter(alert_view__member=w.member)
    if w.status:
        rows = rows.filter(current_version__status=w.status)
    if w.category:
        rows = rows.filter(alert_view__categories__contains=f",{w.category},")
    if w.event:
        rows = rows.filter(alert_view__event__iexact=w.event.strip())
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
    listed_at = F("alert_view__sent_at")
    if w.q:
        # A search walks the search entries newest first: the entry keeps the same `sent` (its listed_at).
        rows = rows.filter(search.matching(w.q))
        listed_at = F(search.LISTED_AT)
    if w.active is True:
        rows = rows.filter(current_version__state="active").filter(
            Q(alert_view__expires_at__isnull=True) | Q(alert_view__expires_at__gt=timezone.now())
        )
    elif w.active is False:
        rows = rows.filter(Q(current_version__state="withdrawn") | Q(alert_view__expires_at__lte=timezone.now()))
    return rows.annotate(listed_at=listed_at).order_by("-listed_at", "-alert_view__record")


def alert_for(principal: Principal, record_uuid: str) -> Record:
    """One alert the principal may see (its version and view read with it, in one query); else "no such alert"."""
    from accord.records.errors import NotFound

    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound("no such alert") from None
    record = alerts_for(principal).filter(uuid=key).first()
    if record is None:
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


# ---- pages: keyset pagination over (sent, record) ---------------------------------------------------------

# A page says how many alerts match exactly up to this many; beyond, "more than COUNT_CAP" (count_exact false):
# counting a million rows the reader may see costs more than the page itself.
COUNT_CAP = 100
# The columns a list shows, read in one query without building model instances (lists are the hot path).
LIST_COLUMNS = (
    "pk",
    "uuid",
    "origin_member",
    "current_version__status",
    "current_version__state",
    "current_version__tlp",
    "current_version__seq",
    "current_version__canonical",
    "alert_view__identifier",
    "alert_view__sender",
    "alert_view__sent_at",
    "alert_view__first_sent_at",
    "alert_view__msg_type",
    "alert_view__scope",
    "alert_view__event",
    "alert_view__headline",
    "alert_view__categories",
    "alert_view__severity",
    "alert_view__urgency",
    "alert_view__certainty",
    "alert_view__expires_at",
    "alert_view__bbox_west",
    "alert_view__bbox_south",
    "alert_view__bbox_east",
    "alert_view__bbox_north",
    "alert_view__cases",
    "alert_view__deaths",
)


@dataclass(frozen=True)
class Page:
    rows: list[Any]  # dicts of LIST_COLUMNS, or Records (with their version and view) when no columns were asked
    count: int
    count_exact: bool
    cursor: str | None  # where the next page starts; None on the last page


def encode_cursor(sent_at: datetime, pk: int) -> str:
    raw = f"{sent_at.astimezone(UTC).isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, int]:
    """The (sent, record id) a cursor stands for; a clear 400 naming `cursor` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        when, pk = raw.split("|")
        sent_at = datetime.fromisoformat(when)
        if sent_at.tzinfo is None:
            raise ValueError(when)
        return sent_at, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ActionError(
            "cursor is not a cursor this list gave (use the `next` link as it is)", field="cursor"
        ) from None


def page(
    rows: QuerySet[Record], limit: int, cursor: str | None = None, columns: tuple[str, ...] | None = LIST_COLUMNS
) -> Page:
    """One page of `rows` (ordered newest first by alerts_for), starting after `cursor`: never an OFFSET, so a page
    deep in a million alerts costs what the first one costs.

    The keys come first (record and sent, through the audience filter and the filters, in the list's order), up to
    COUNT_CAP + 1 of them on the first page, which also counts it; then the page's columns by those keys alone."""
    after = rows
    if cursor:
        sent_at, pk = decode_cursor(cursor)
        after = rows.filter(Q(listed_at__lt=sent_at) | Q(listed_at=sent_at, pk__lt=pk))
    wanted = limit + 1 if cursor else max(limit, COUNT_CAP) + 1
    keys = list(after.values_list("pk", "listed_at")[:wanted])  # type: ignore[misc]  # alerts_for annotates it
    counted = rows.values("pk")[: COUNT_CAP + 1].count() if cursor else len(keys)
    count, exact = min(counted, COUNT_CAP), counted <= COUNT_CAP
    shown = keys[:limit]
    following = encode_cursor(shown[-1][1], shown[-1][0]) if len(keys) > limit and shown else None
    ids = [pk for pk, _ in shown]
    by_id: dict[int, Any]
    if columns:
        by_id = {row["pk"]: row for row in Record.objects.filter(pk__in=ids).values(*columns)}
    else:
        by_id = {r.pk: r for r in Record.objects.filter(pk__in=ids).select_related("current_version", "alert_view")}
    found = [by_id[pk] for pk in ids if pk in by_id]
    return Page(rows=found, count=count, count_exact=exact, cursor=following)
