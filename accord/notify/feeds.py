"""Per-subscription CAP feeds (Atom and RSS 2.0): the versions a subscription matches, newest first.

Two ways in, as for the alert feeds (`accord.alerts.feeds`):

* `/feeds/s/<subscription feed token>/subscription.atom|.rss`: the token opens this one subscription's feed
  and nothing else. Only its SHA-256 is stored (`Subscription.feed_token_digest`); it is shown once when
  made on the subscriptions page and can be replaced or withdrawn there.
* `/feeds/t/<API token>/subscriptions/<uuid>.atom|.rss`: an API token with the scope `feed` of an account that
  manages the subscription (its owner, or an administrator of the owning organisation).

Each entry is one version: alerts link to the CAP XML of exactly that version (`.../<record>/<seq>.cap`, the
original bytes when imported), other kinds to their page. What is listed is what the subscription's owner may
see (the audience filter, on the version and its record, as the owner: `matching.principal_of`) and what its
filters match (`matching.matches`); updates and cancellations of a record whose earlier version matched are
listed too, as the channels send them ("threads stay complete", within the window read). Drafts never.
A feed that cannot be opened (unknown token, revoked, subscription gone, owner disabled) is a plain 404.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from lxml import etree

from accord.lib import cap as caplib
from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import ApiToken
from accord.members.site import absolute_url
from accord.notify import matching
from accord.notify.models import Subscription
from accord.records import attachments as attachment_store
from accord.records import kinds as record_kinds
from accord.records.models import Version
from accord.records.principal import Principal
from accord.records.querysets import audience_q

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 100  # entries in a feed
SCAN = 1000  # newest visible versions read to find them


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- who is asking ------------------------------------------------------------------------------------


def subscription_for_feed_token(token: str) -> Subscription:
    if not token or len(token) > 200:
        raise Http404("no such feed")
    found = (
        Subscription.objects.select_related("account__organisation__member", "organisation__member")
        .filter(feed_token_digest=digest(token))
        .first()
    )
    if found is None or not found.active:
        raise Http404("no such feed")
    return found


def subscription_for_api_token(token: str, subscription_uuid: str) -> Subscription:
    from accord.notify.actions import may_manage

    try:
        account, api_token = authenticate_token(token)
    except TokenRejected:
        raise Http404("no such feed") from None
    if api_token.scope != ApiToken.Scope.FEED:
        raise Http404("no such feed")
    found = (
        Subscription.objects.select_related("account__organisation__member", "organisation__member")
        .filter(uuid=subscription_uuid)
        .first()
    )
    if found is None or not found.active or not may_manage(found, account):
        raise Http404("no such feed")
    return found


def _owner(subscription: Subscription) -> Principal:
    principal = matching.principal_of(subscription)
    if principal is None:  # a disabled owner: the feed is gone, not empty
        raise Http404("no such feed")
    return principal


# ---- what is listed -------------------------------------------------------------------------------------


def visible_versions(principal: Principal) -> QuerySet[Version]:
    """Versions the principal may see, each with its record (whose current version decides), never drafts."""
    return (
        Version.objects.visible_to(principal)
        .filter(audience_q(principal, "record__current_version__"))
        .exclude(status="draft")
    )


def matched_versions(subscription: Subscription, limit: int = FEED_SIZE) -> list[Version]:
    """The newest versions the subscription matches, with the updates of the records it matched (newest first)."""
    rows = visible_versions(_owner(subscription)).select_related("record")
    if subscription.kinds:
        rows = rows.filter(kind__in=list(subscription.kinds))
    else:
        rows = rows.exclude(kind__in=sorted(matching.QUIET_KINDS))
    rows = rows.filter(status__in=list(subscription.statuses or ["actual"]))
    window = list(rows.order_by("-id")[:SCAN])
    first_match: dict[int, int] = {}  # record id -> lowest seq that matched
    matched: set[int] = set()
    for version in window:
        if matching.matches(subscription, matching.facts_of(version)):
            matched.add(version.pk)
            seen = first_match.get(version.record_id)
            first_match[version.record_id] = version.seq if seen is None else min(seen, version.seq)
    listed = [v for v in window if v.pk in matched or (v.record_id in first_match and v.seq > first_match[v.record_id])]
    return listed[:limit]


def version_in_feed(subscription: Subscription, record_uuid: str, seq: int) -> Version:
    """One version the feed lists (or would list), for its CAP link; 404 otherwise."""
    for version in matched_versions(subscription, limit=SCAN):
        if str(version.record_uuid) == str(record_uuid) and version.seq == seq:
            return version
    raise Http404("no such alert in this feed")


# ---- rendering -----------------------------------------------------------------------------------------


class Entry:
    """What one entry says, taken from the signed version."""

    def __init__(self, version: Version) -> None:
        self.version = version
        body = version.body
        cap = body.get("cap") if version.kind == "alert" else None
        self.cap: dict[str, Any] = cap if isinstance(cap, dict) else {}
        facts = matching.facts_of(version)
        self.title = facts.title or version.kind
        info = next((i for i in self.cap.get("info") or [] if isinstance(i, dict)), {})
        self.event = str(info.get("event", ""))
        self.severity = str(info.get("severity", ""))
        self.urgency = str(info.get("urgency", ""))
        self.certainty = str(info.get("certainty", ""))
        self.msg_type = str(self.cap.get("msgType", ""))
        self.identifier = str(self.cap.get("identifier", ""))

    @property
    def is_alert(self) -> bool:
        return bool(self.cap)

    @property
    def guid(self) -> str:
        v = self.version
        return f"urn:accord:version:{v.origin_node}:{v.record_uuid}:{v.seq}"

    @property
    def updated(self) -> datetime:
        sent = parse_datetime(str(self.cap.get("sent", ""))) if self.cap else None
        if sent is None:
            sent = parse_datetime(self.version.created_at.replace("Z", "+00:00"))
        return sent if sent is not None else self.version.received_at

    def summary(self) -> str:
        marks = []
        if self.version.status != "actual":
            marks.append(f"[{self.version.status.upper()}]")
        if self.version.state == "withdrawn":
            marks.append("[CANCELLED]" if self.is_alert else "[WITHDRAWN]")
        if self.is_alert:
            marks.append(f"{self.msg_type}: {self.event} ({self.severity}, {self.urgency}, {self.certainty})")
        else:
            marks.append(f"{self.version.kind} #{self.version.seq}")
        marks.append(f"from {self.version.origin_member}")
        return " ".join(marks)


def _links(request: HttpRequest, entry: Entry, cap_url: str | None) -> tuple[str, str]:
    """(href, media type) of the entry's main link: the CAP XML of an alert version, else the record's page."""
    record_uuid = str(entry.version.record_uuid)
    if entry.is_alert and cap_url is not None:
        return absolute_url(cap_url, request), "application/cap+xml"
    page = record_kinds.page_path(entry.version.kind, record_uuid)
    return absolute_url(page, request), "text/html"


def _cap_path(way: str, token: str, subscription: Subscription, version: Version) -> str:
    if way == "subscription":
        return reverse(
            "notify-feed-cap", kwargs={"token": token, "record_uuid": version.record_uuid, "seq": version.seq}
        )
    return reverse(
        "notify-token-feed-cap",
        kwargs={
            "token": token,
            "subscription_uuid": subscription.uuid,
            "record_uuid": version.record_uuid,
            "seq": version.seq,
        },
    )


def _title(subscription: Subscription) -> str:
    return f"Accord: {subscription.name or 'subscription ' + str(subscription.uuid)[:8]}"


def render(request: HttpRequest, subscription: Subscription, fmt: str, way: str, token: str) -> HttpResponse:
    entries = [Entry(v) for v in matched_versions(subscription)]

    def cap_url(entry: Entry) -> str | None:
        return _cap_path(way, token, subscription, entry.version) if entry.is_alert else None

    if fmt == "atom":
        body = _atom(request, subscription, entries, cap_url)
        content_type = "application/atom+xml; charset=utf-8"
    else:
        body = _rss(request, subscription, entries, cap_url)
        content_type = "application/rss+xml; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"  # the URL holds the token
    response["X-Robots-Tag"] = "noindex"
    return response


def _atom(request: HttpRequest, subscription: Subscription, entries: list[Entry], cap_url: Any) -> bytes:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})  # type: ignore[dict-item]
    etree.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:accord:subscription:{subscription.uuid}"
    etree.SubElement(feed, f"{{{ATOM}}}title").text = _title(subscription)
    etree.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=absolute_url(request.path, request))
    latest = max((e.updated for e in entries), default=subscription.created_at or timezone.now())
    etree.SubElement(feed, f"{{{ATOM}}}updated").text = latest.isoformat()
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    etree.SubElement(author, f"{{{ATOM}}}name").text = "Accord"
    for entry in entries:
        node = etree.SubElement(feed, f"{{{ATOM}}}entry")
        etree.SubElement(node, f"{{{ATOM}}}id").text = entry.guid
        etree.SubElement(node, f"{{{ATOM}}}title").text = entry.title
        etree.SubElement(node, f"{{{ATOM}}}updated").text = entry.updated.isoformat()
        etree.SubElement(node, f"{{{ATOM}}}summary").text = entry.summary()
        etree.SubElement(node, f"{{{ATOM}}}category", term=entry.version.kind)
        href, media = _links(request, entry, cap_url(entry))
        etree.SubElement(node, f"{{{ATOM}}}link", rel="alternate", type=media, href=href)
        if entry.is_alert:
            page = reverse("alert", kwargs={"record_uuid": str(entry.version.record_uuid)})
            etree.SubElement(node, f"{{{ATOM}}}link", rel="related", type="text/html", href=absolute_url(page, request))
    result: bytes = etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return result


def _rss(request: HttpRequest, subscription: Subscription, entries: list[Entry], cap_url: Any) -> bytes:
    rss = etree.Element("rss", version="2.0")
    channel = etree.SubElement(rss, "channel")
    etree.SubElement(channel, "title").text = _title(subscription)
    etree.SubElement(channel, "link").text = absolute_url(request.path, request)
    etree.SubElement(channel, "description").text = "What this Accord subscription matches"
    for entry in entries:
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = entry.title
        href, _media = _links(request, entry, cap_url(entry))
        etree.SubElement(item, "link").text = href
        etree.SubElement(item, "description").text = entry.summary()
        etree.SubElement(item, "category").text = entry.version.kind
        etree.SubElement(item, "pubDate").text = format_datetime(entry.updated)
        etree.SubElement(item, "guid", isPermaLink="false").text = entry.guid
    result: bytes = etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return result


def cap_of(version: Version) -> HttpResponse:
    """The CAP XML of one alert version: the original bytes when it was imported, else written from its JSON."""
    for item in version.envelope()["attachments"]:
        if item["media_type"] == "application/cap+xml":
            data = attachment_store.read_bytes(item["sha256"])
            break
    else:
        data = caplib.to_xml(caplib.from_json(version.body["cap"]))
    response = HttpResponse(data, content_type="application/cap+xml")
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# ---- views -----------------------------------------------------------------------------------------------


def _format(fmt: str) -> None:
    if fmt not in ("atom", "rss"):
        raise Http404("feeds are .atom or .rss")


def subscription_feed(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    _format(fmt)
    return render(request, subscription_for_feed_token(token), fmt, "subscription", token)


def subscription_feed_cap(request: HttpRequest, token: str, record_uuid: str, seq: int) -> HttpResponse:
    version = version_in_feed(subscription_for_feed_token(token), record_uuid, seq)
    if version.kind != "alert":
        raise Http404("no such alert in this feed")
    return cap_of(version)


def token_feed(request: HttpRequest, token: str, subscription_uuid: str, fmt: str) -> HttpResponse:
    _format(fmt)
    return render(request, subscription_for_api_token(token, subscription_uuid), fmt, "api", token)


def token_feed_cap(
    request: HttpRequest, token: str, subscription_uuid: str, record_uuid: str, seq: int
) -> HttpResponse:
    version = version_in_feed(subscription_for_api_token(token, subscription_uuid), record_uuid, seq)
    if version.kind != "alert":
        raise Http404("no such alert in this feed")
    return cap_of(version)
