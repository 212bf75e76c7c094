"""CAP index feeds (Atom and RSS 2.0), as IFRC Alert Hub and Google read them.

`/feeds/alerts.atom|.rss` list only what may leave the system (TLP:CLEAR to everyone, CAP scope
Public). `/feeds/t/<token>/alerts.atom|.rss` list what the token's account may see; the token has
the scope 'feed', is revocable, and can do nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from accord.alerts import queries
from accord.alerts.api import cap_response
from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import ApiToken
from accord.members.site import absolute_url
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 200


def _principal_for_token(token: str) -> Principal:
    try:
        account, api_token = authenticate_token(token)
    except TokenRejected:
        raise Http404("no such feed") from None
    if api_token.scope != ApiToken.Scope.FEED:
        raise Http404("no such feed")
    return Principal.of(account)


# The columns a feed entry shows, read without building model instances.
FEED_COLUMNS = (
    "uuid",
    "alert_view__identifier",
    "alert_view__headline",
    "alert_view__event",
    "alert_view__sent_at",
    "alert_view__first_sent_at",
    "alert_view__severity",
    "alert_view__urgency",
    "alert_view__certainty",
)


def _entries(rows: QuerySet[Record]) -> list[dict[str, Any]]:
    return list(rows.values(*FEED_COLUMNS)[:FEED_SIZE])


def _cap_url(request: HttpRequest, record_uuid: Any, token: str | None) -> str:
    if token:
        path = reverse("feed-token-cap", kwargs={"token": token, "record_uuid": record_uuid})
    else:
        path = reverse("feed-cap", kwargs={"record_uuid": record_uuid})
    return absolute_url(path, request)


_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _cap_urls(request: HttpRequest, token: str | None) -> Callable[[Any], str]:
    """The CAP link of an entry by its record's uuid: the URL worked out once a feed, not once an entry (a feed has
    up to FEED_SIZE entries, and resolving a URL costs more than the rest of an entry)."""
    head, tail = _cap_url(request, _PLACEHOLDER, token).split(_PLACEHOLDER)
    return lambda record_uuid: f"{head}{record_uuid}{tail}"


def _title(row: dict[str, Any]) -> str:
    return str(row["alert_view__headline"] or row["alert_view__event"] or row["alert_view__identifier"])


def _urn(row: dict[str, Any]) -> str:
    return f"urn:accord:alert:{row['uuid']}:{row['alert_view__identifier']}"


def _summary(row: dict[str, Any]) -> str:
    return (
        f"{row['alert_view__event']} "
        f"({row['alert_view__severity']}, {row['alert_view__urgency']}, {row['alert_view__certainty']})"
    )


def _atom(request: HttpRequest, rows: QuerySet[Record], token: str | None, title: str) -> HttpResponse:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]
    etree.SubElement(feed, f"{{{ATOM}}}id").text = absolute_url(request.path, request)
    etree.SubElement(feed, f"{{{ATOM}}}title").text = title
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=absolute_url(request.path, request))
    items = _entries(rows)
    latest = max((r["alert_view__sent_at"] for r in items), default=timezone.now())
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = latest.isoformat()
    cap_url = _cap_urls(request, token)
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    etree.SubElement(author, f"{{{ATOM}}}name").text = "Accord"
    for row in items:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(entry, f"{{{ATOM}}}id").text = _urn(row)
        etree.SubElement(entry, f"{{{ATOM}}}title").text = _title(row)
        etree.SubElement(entry, f"{{{ATOM}}}updated").text = row["alert_view__sent_at"].isoformat()
        etree.SubElement(entry, f"{{{ATOM}}}published").text = row["alert_view__first_sent_at"].isoformat()
        etree.SubElement(entry, f"{{{ATOM}}}summary").text = _summary(row)
        etree.SubElement(
            entry,
            f"{{{ATOM}}}link",
            rel="alternate",
            type="application/cap+xml",
            href=cap_url(row["uuid"]),
        )
    body = etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


def _rss(request: HttpRequest, rows: QuerySet[Record], token: str | None, title: str) -> HttpResponse:
    from email.utils import format_datetime

    rss = etree.Element("rss", version="2.0")
    channel = etree.SubElement(rss, "channel")
    etree.SubElement(channel, "title").text = title
    etree.SubElement(channel, "link").text = absolute_url(request.path, request)
    etree.SubElement(channel, "description").text = "CAP alerts shared through Accord"
    cap_url = _cap_urls(request, token)
    for row in _entries(rows):
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = _title(row)
        etree.SubElement(item, "link").text = cap_url(row["uuid"])
        etree.SubElement(item, "description").text = _summary(row)
        etree.SubElement(item, "pubDate").text = format_datetime(row["alert_view__sent_at"])
        etree.SubElement(item, "guid", isPermaLink="false").text = _urn(row)
    body = etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return HttpResponse(body, content_type="application/rss+xml; charset=utf-8")


def _current(rows: QuerySet[Record]) -> QuerySet[Record]:
    """Feeds list alerts in force: actual, not withdrawn (the Cancel is in the CAP link), not expired."""
    return (
        rows.filter(current_version__status="actual")
        .exclude(current_version__state="withdrawn")
        .exclude(alert_view__expires_at__lt=timezone.now())
    )


def _format(fmt: str) -> None:
    if fmt not in ("atom", "rss"):
        raise Http404("feeds are .atom or .rss")


def public_feed(request: HttpRequest, fmt: str) -> HttpResponse:
    _format(fmt)
    rows = _current(queries.public_alerts())
    render = _atom if fmt == "atom" else _rss
    return render(request, rows, None, "Accord: public alerts")


def token_feed(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    _format(fmt)
    rows = _current(queries.alerts_for(_principal_for_token(token)))
    render = _atom if fmt == "atom" else _rss
    return render(request, rows, token, "Accord: alerts shared with you")


def public_cap(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = queries.public_alerts().filter(uuid=record_uuid).first()
    if record is None:
        raise Http404("no such alert")
    return cap_response(record)


def token_cap(request: HttpRequest, token: str, record_uuid: str) -> HttpResponse:
    try:
        record = queries.alert_for(_principal_for_token(token), str(record_uuid))
    except NotFound:
        raise Http404("no such alert") from None
    return cap_response(record)
