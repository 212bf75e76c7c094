"""The 3W page of an incident (who does what where): its deployments of mutual assistance as a table (provider,
resource and quantity in the reader's language, delivered, status, region and place, dates, contact point) and a
map drawn on the server (`assist_svg`), the table being its text alternative.

Reads only, through the assistance queries (`assist_queries.deployments_of`: the audience filter), so a deployment
the reader may not see is not listed, and an incident the reader may not see is a 404. `?status=` keeps the
deployments in one status; an unknown status is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.members.capitals import capital
from accord.records.principal import Principal
from accord.response import assist_queries, assist_svg
from accord.response.assist_board import delivery_point
from accord.response.assist_deploy_forms import STATUS_LABELS, status_label
from accord.response.assist_deploy_kind import STATUSES
from accord.response.assist_forms import region_name, type_name, unit_name
from accord.response.assist_views import _title
from accord.response.views import _account, _names, visible_incident


def _when(value: Any) -> dict[str, str] | None:
    """A date or an RFC 3339 time of the body, shown to the minute with its offset ("2026-05-03 14:00 UTC")."""
    if not value:
        return None
    text = str(value)
    shown = text.replace("T", " ", 1)
    if "T" in text and len(text) >= 16:
        offset = text[19:].lstrip(".0123456789") if len(text) > 19 else ""
        shown = f"{text[:10]} {text[11:16]} {'UTC' if offset in ('Z', '+00:00') else offset}".rstrip()
    return {"iso": text, "shown": shown}


def _row(number: int, out: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    location = out.get("location") or {}
    region = str(location.get("region", ""))
    contact = out.get("contact") or {}
    return {
        **out,
        "number": number,
        "member_name": names.get(str(out["member"]), out["member"]),
        "type_name": type_name(str(out["resource_type"])),
        "unit_name": unit_name(str(out["unit"])),
        "status_label": status_label(str(out["status"])),
        "url": reverse("assist-deployment", args=[out["id"]]),
        "region": region,
        "region_name": region_name(region) if region else "",
        "place": str(location.get("place", "")),
        "contact": {k: str(contact.get(k, "")) for k in ("name", "phone", "email")},
        "where": delivery_point(location.get("point"), region),
        "dates": [
            (label, when)
            for label, when in (
                (_("Departure"), _when(out.get("departure"))),
                (_("Arrival"), _when(out.get("arrival"))),
                (_("End"), _when(out.get("end"))),
            )
            if when is not None
        ],
    }


def _dot(row: dict[str, Any]) -> assist_svg.Dot | None:
    where = row["where"]
    if where is None:
        return None
    home = capital(str(row["member"]))
    values = {
        "number": row["number"],
        "member": row["member"],
        "quantity": row["quantity"],
        "unit": row["unit_name"],
        "type": row["type_name"],
        "status": row["status_label"],
        "region": row["region_name"] or row["region"],
    }
    label = _("%(number)s. %(member)s: %(quantity)s %(unit)s %(type)s, %(status)s, %(region)s") % values
    return assist_svg.Dot(row["number"], where.lat, where.lon, label, home.point if home is not None else None)


@login_required
@require_http_methods(["GET", "HEAD"])
def deployments(request: HttpRequest, record_uuid: str) -> HttpResponse:
    incident = visible_incident(request, record_uuid)
    principal = Principal.of(_account(request))
    status = request.GET.get("status", "").strip()
    error = ""
    if status and status not in STATUSES:
        error = _("status: choose one of the listed statuses")
    names = _names()
    records = [] if error else assist_queries.deployments_of(principal, incident, status=status or None)
    rows = [_row(n, assist_queries.deployment_out(r), names) for n, r in enumerate(records, start=1)]
    dots = [d for d in (_dot(r) for r in rows) if d is not None]
    title = _("Map of the deployments: a numbered dot per deployment, as numbered in the table")
    drawn = assist_svg.deployment_map(dots, title) if dots else ""
    return render(
        request,
        "response/assist_3w.html",
        {
            "record": incident,
            "title": _title(incident),
            "rows": rows,
            "map": mark_safe(drawn),  # noqa: S308 (built by assist_svg, every text escaped)
            "unplaced": [r for r in rows if r["where"] is None],
            "statuses": STATUS_LABELS,
            "status": status,
            "error": error,
        },
        status=400 if error else 200,
    )
