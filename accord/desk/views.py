"""The desk's pages: my desk (the home page), the map and the search (docs/desk.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.desk import desk_queries, search_queries
from accord.members.models import Account, Member
from accord.records import kinds
from accord.records.principal import Principal

ITEM_KINDS = {
    "acknowledgement": gettext_lazy("Acknowledgement due"),
    "ihr_notification": gettext_lazy("IHR notification clock"),
    "ihr_assessment": gettext_lazy("IHR assessment to make"),
    "signal": gettext_lazy("Signal to verify"),
    "sitrep": gettext_lazy("Situation report overdue"),
    "task": gettext_lazy("Task"),
    "assistance_request": gettext_lazy("Request awaiting an answer"),
    "assistance_offer": gettext_lazy("Offer awaiting acceptance"),
    "roster_call": gettext_lazy("Roster call awaiting your reply"),
    "decision": gettext_lazy("Decision awaiting your position"),
    "delivery": gettext_lazy("Delivery failed"),
}
LAYER_LABELS = {
    "alert": gettext_lazy("Alerts"),
    "incident": gettext_lazy("Incidents"),
    "signal": gettext_lazy("Signals"),
    "deployment": gettext_lazy("Deployments"),
}
SEVERITY_LABELS = {
    "Extreme": gettext_lazy("Extreme"),
    "Severe": gettext_lazy("Severe"),
    "Moderate": gettext_lazy("Moderate"),
    "Minor": gettext_lazy("Minor"),
    "Unknown": gettext_lazy("Unknown"),
}
WINDOWS = {
    "": gettext_lazy("Everything current"),
    "1": gettext_lazy("Last 24 hours"),
    "7": gettext_lazy("Last 7 days"),
    "30": gettext_lazy("Last 30 days"),
}


def _clock(due: datetime | None, now: datetime) -> str:
    """'overdue by 6 h' / 'due in 3 d', for a person: the deadline itself is shown beside it."""
    if due is None:
        return ""
    seconds = abs((due - now).total_seconds())
    if seconds < 3600:
        amount = _("%(count)d min") % {"count": max(1, int(seconds // 60))}
    elif seconds < 2 * 86400:
        amount = _("%(count)d h") % {"count": int(seconds // 3600)}
    else:
        amount = _("%(count)d d") % {"count": int(seconds // 86400)}
    if due < now:
        return _("overdue by %(amount)s") % {"amount": amount}
    return _("due in %(amount)s") % {"amount": amount}


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    account = request.user
    assert isinstance(account, Account)
    items = desk_queries.desk_of(account)
    now = timezone.now()
    groups: list[dict[str, Any]] = []
    for key, label in desk_queries.GROUPS.items():
        rows = [
            {"item": item, "label": ITEM_KINDS.get(item.kind, item.kind), "clock": _clock(item.due, now)}
            for item in items
            if item.group == key
        ]
        if rows:
            late = sum(1 for item in items if item.group == key and item.overdue)
            groups.append({"key": key, "label": label, "rows": rows, "overdue": late})
    return render(
        request,
        "desk/desk.html",
        {"groups": groups, "total": len(items), "overdue": sum(1 for item in items if item.overdue)},
    )


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    members = list(Member.objects.filter(active=True).order_by("code").values_list("code", flat=True))
    return render(
        request,
        "desk/map.html",
        {
            "layers": LAYER_LABELS,
            "severities": SEVERITY_LABELS,
            "members": members,
            "windows": WINDOWS,
        },
    )


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[: search_queries.MAX_QUERY_CHARS]
    kind = request.GET.get("kind") or ""
    member = (request.GET.get("member") or "").strip().upper()
    days = request.GET.get("days") or ""
    context: dict[str, Any] = {
        "site_search_q": q,
        "q": q,
        "kind": kind,
        "member": member,
        "days": days,
        "windows": WINDOWS,
    }
    kind_labels = {name: kinds.require(name).label for name in search_queries.SEARCHED_KINDS if kinds.get(name)}
    context["kind_labels"] = kind_labels
    if q:
        since = None
        if days in ("1", "7", "30"):
            since = datetime.now(UTC) - timedelta(days=int(days))
        where = search_queries.SearchFilter(
            q=q,
            kinds=(kind,) if kind in kind_labels else (),
            member=member if member and len(member) <= 8 and member.isalnum() else None,
            since=since,
        )
        page_number = _page(request.GET.get("page"))
        found = search_queries.search_records(
            Principal.of(request.user), where, limit=20, offset=(page_number - 1) * 20
        )
        context.update(
            {
                "results": [_marked(hit) for hit in found.hits],
                "total": found.total,
                "facets": found.facets,
                "page_number": page_number,
                "has_next": page_number * 20 < found.total,
            }
        )
    return render(request, "desk/search.html", context)


def _page(text: str | None) -> int:
    try:
        return max(1, min(int(text or 1), 500))
    except ValueError:
        return 1


def _marked(hit: search_queries.Hit) -> dict[str, Any]:
    """The snippet cut into (text, marked) pieces, for the template to escape and wrap in <mark>."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end in hit.highlights:
        if start > position:
            pieces.append((hit.snippet[position:start], False))
        pieces.append((hit.snippet[start:end], True))
        position = end
    if position < len(hit.snippet):
        pieces.append((hit.snippet[position:], False))
    out = search_queries.hit_out(hit)
    kind = kinds.get(hit.kind)
    return {**out, "pieces": pieces, "kind_label": kind.label if kind is not None else hit.kind}
