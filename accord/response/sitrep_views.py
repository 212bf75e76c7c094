"""The situation report pages: the form that files (or corrects) a member's report, the consolidated report of a
period, and the reports section of the incident page.

The form reads what the page posts into the body `accord.response.sitreps.file_sitrep` takes; a number that is
not a count is refused here, naming its field, and every other rule is the sitrep kind's, whose error names the
body field it is about (`figures.cumulative_cases`, `period_end` ...): it is shown on that field and linked from
the error summary.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.functional import Promise
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.members.models import Account
from accord.records.errors import ActionError
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import consolidate, sitrep_exports, sitrep_svg, sitreps
from accord.response.refs import LANGUAGES, pick
from accord.response.sitrep_kinds import FILING_ROLES, MEASURES
from accord.response.sitrep_periods import today_anywhere
from accord.response.views import _account, _names, visible_incident
from accord.surveillance import reference

MEASURE_LABELS: dict[str, str | Promise] = {
    "entry_screening": gettext_lazy("Entry screening"),
    "quarantine": gettext_lazy("Quarantine"),
    "isolation": gettext_lazy("Isolation"),
    "school_closure": gettext_lazy("School closure"),
    "movement_restriction": gettext_lazy("Movement restriction"),
    "vaccination_campaign": gettext_lazy("Vaccination campaign"),
    "risk_communication": gettext_lazy("Risk communication"),
    "other": gettext_lazy("Other measure"),
}
assert tuple(MEASURE_LABELS) == MEASURES
REQUIRED = ("new_cases", "new_deaths", "cumulative_cases", "cumulative_deaths")
OPTIONAL = ("new_hospitalised", "new_tested")
FIGURE_LABELS: dict[str, str | Promise] = {
    "new_cases": gettext_lazy("New cases"),
    "new_deaths": gettext_lazy("New deaths"),
    "cumulative_cases": gettext_lazy("Cumulative cases"),
    "cumulative_deaths": gettext_lazy("Cumulative deaths"),
    "new_hospitalised": gettext_lazy("Newly hospitalised (optional)"),
    "new_tested": gettext_lazy("Newly tested (optional)"),
}
EXTRA_REGION_ROWS = 2


def _language(request: HttpRequest) -> str:
    language = (getattr(request, "LANGUAGE_CODE", "") or "en")[:2].lower()
    return language if language in LANGUAGES else "en"


def may_file(account: Account, incident: Record) -> bool:
    """A focal point or analyst of an affected member state (the sitrep kind's rule)."""
    organisation = account.organisation
    version = incident.current_version
    return (
        organisation is not None
        and version is not None
        and organisation.member.code in consolidate.affected_states(incident)
        and bool(account.role_names() & FILING_ROLES)
        and version.body.get("status") == "open"
    )


def anchor(field: str) -> str:
    """The id of the input a body field is entered in (`figures.by_region.1.new_cases` -> `region-1-new_cases`)."""
    parts = field.split(".")
    if parts[:2] == ["figures", "by_region"] and len(parts) >= 3:
        return f"region-{parts[2]}-{parts[3] if len(parts) > 3 else 'region'}"
    if parts[0] == "figures":
        return f"figures-{parts[1]}" if len(parts) > 1 else "figures-new_cases"
    if parts[0] == "measures":
        return "measures"
    if parts[0] in ("period_start", "period_end", "needs", "outlook", "narrative"):
        return parts[0]
    return "period_start"


def _count(value: str, field: str, errors: dict[str, str], *, required: bool) -> int | None:
    text = value.strip()
    if not text:
        if required:
            errors[field] = _("Give a number (0 if none).")
        return None
    if not text.isdigit():
        errors[field] = _("A count is a whole number, 0 or more.")
        return None
    return int(text)


def _region_rows(incident: Record, member: str, posted: Any | None) -> list[dict[str, Any]]:
    """The region rows of the form: the incident's regions of the member, then a few to choose."""
    version = incident.current_version
    assert version is not None
    table = reference.regions()
    listed = [code for code in version.body.get("regions", []) if code in table and table[code].member == member]
    rows = [{"index": i, "region": code, "fixed": True} for i, code in enumerate(listed)]
    rows += [{"index": len(listed) + i, "region": "", "fixed": False} for i in range(EXTRA_REGION_ROWS)]
    for row in rows:
        key = f"region-{row['index']}"
        if posted is not None:
            row["region"] = posted.get(f"{key}-region", row["region"])
            row["new_cases"] = posted.get(f"{key}-new_cases", "")
            row["new_deaths"] = posted.get(f"{key}-new_deaths", "")
        row["name"] = table[row["region"]].name if row["region"] in table else ""
    return rows


def _read(request: HttpRequest, errors: dict[str, str]) -> dict[str, Any]:
    post = request.POST
    language = _language(request)
    start, end = parse_date(post.get("period_start", "") or ""), parse_date(post.get("period_end", "") or "")
    if start is None:
        errors["period_start"] = _("Give the first day of the period.")
    if end is None:
        errors["period_end"] = _("Give the last day of the period.")
    figures: dict[str, Any] = {}
    for name in REQUIRED + OPTIONAL:
        value = _count(post.get(f"figures-{name}", ""), f"figures.{name}", errors, required=name in REQUIRED)
        if value is not None:
            figures[name] = value
    by_region = []
    index = 0
    while f"region-{index}-region" in post:
        region = post.get(f"region-{index}-region", "")
        cases = _count(
            post.get(f"region-{index}-new_cases", ""), f"figures.by_region.{index}.new_cases", errors, required=False
        )
        deaths = _count(
            post.get(f"region-{index}-new_deaths", ""), f"figures.by_region.{index}.new_deaths", errors, required=False
        )
        if region and (cases is not None or deaths is not None):
            by_region.append({"region": region, "new_cases": cases or 0, "new_deaths": deaths or 0})
        index += 1
    if by_region:
        figures["by_region"] = by_region
    measures: list[Any] = []
    for code in post.getlist("measures"):
        if code == "other":
            note = post.get("measure-other", "").strip()
            measures.append({"type": "other", "note": {language: note} if note else {}})
        elif code in MEASURES:
            measures.append(code)
    texts = {name: post.get(name, "").strip() for name in ("needs", "outlook", "narrative")}
    return {
        "period_start": start.isoformat() if start else "",
        "period_end": end.isoformat() if end else "",
        "figures": figures,
        "measures": measures,
        **{name: ({language: text} if text else {}) for name, text in texts.items()},
    }


def _form_page(
    request: HttpRequest, incident: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    organisation = account.organisation
    member = organisation.member.code if organisation is not None else ""
    posted = request.POST if request.method == "POST" else None
    errors = errors or {}
    today = today_anywhere()
    table = reference.regions()
    version = incident.current_version
    assert version is not None
    return render(
        request,
        "response/sitrep_form.html",
        {
            "record": incident,
            "title": pick(version.body.get("title"), _language(request)),
            "member": member,
            "member_name": _names().get(member, member),
            "errors": {anchor(field): message for field, message in errors.items()},
            "error_list": [{"anchor": anchor(f), "message": m} for f, m in errors.items()],
            "posted": posted,
            "defaults": {"period_start": (today - timedelta(days=1)).isoformat(), "period_end": today.isoformat()},
            "today": today.isoformat(),
            "required": [(name, FIGURE_LABELS[name]) for name in REQUIRED],
            "optional": [(name, FIGURE_LABELS[name]) for name in OPTIONAL],
            "region_rows": _region_rows(incident, member, posted),
            "member_regions": sorted(
                ((r.code, r.name) for r in table.values() if r.member == member and not r.whole_member),
                key=lambda pair: pair[0],
            ),
            "measures": MEASURE_LABELS,
            "chosen_measures": posted.getlist("measures") if posted is not None else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sitrep_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    incident = visible_incident(request, record_uuid)
    account = _account(request)
    if not may_file(account, incident):
        return render(
            request,
            "response/forbidden.html",
            {"message": _("Focal points and analysts of an affected member file its situation reports.")},
            status=403,
        )
    if request.method != "POST":
        return _form_page(request, incident)
    errors: dict[str, str] = {}
    body = _read(request, errors)
    if errors:
        return _form_page(request, incident, errors=errors, status=400)
    try:
        _version, created = sitreps.file_sitrep(incident, acting_user=account, **body)
    except ActionError as error:
        return _form_page(request, incident, errors={error.field or "period_start": error.message}, status=error.status)
    messages.success(
        request,
        _("The situation report is filed.") if created else _("The situation report is corrected (a new version)."),
    )
    return HttpResponseRedirect(reverse("incident", args=[incident.uuid]) + "#sitreps")


# ---- consolidated ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def consolidated(request: HttpRequest, record_uuid: str) -> HttpResponse:
    incident = visible_incident(request, record_uuid)
    principal = Principal.of(_account(request))
    asked = parse_date(request.GET.get("period_end", "") or "")
    today = today_anywhere()
    # By default the period that ended yesterday: today's reports are not due yet.
    period_end = asked if asked is not None and asked <= today else today - timedelta(days=1)
    error = ""
    try:
        result = consolidate.consolidate(principal, incident, period_end)
    except ActionError as refused:
        error = refused.message
        result = consolidate.consolidate(principal, incident, today)
    context = sitrep_exports.context(principal, result)
    names = _names()
    for member in context["members"]:
        member["name"] = names.get(member["member"], member["member"])
    query = f"?period_end={result.period_end.isoformat()}"
    api = f"/api/v1/incidents/{incident.uuid}/sitreps/consolidated"
    context.update(
        {
            "record": incident,
            "error": error,
            "period_end": result.period_end.isoformat(),
            "previous": (result.period_start - timedelta(days=1)).isoformat(),
            "following": (result.period_end + timedelta(days=(result.period_end - result.period_start).days + 1))
            if result.period_end < today
            else None,
            "csv_url": f"{api}.csv{query}",
            "pdf_url": f"{api}.pdf{query}",
            "json_url": f"{api}{query}",
        }
    )
    return render(request, "response/consolidated.html", context)


def sitrep_section(principal: Principal, incident: Record, account: Account) -> dict[str, Any]:
    """The reports section of the incident page: the latest reports and the link to file one."""
    rows = []
    names = _names()
    for record in sitreps.sitreps_for(principal, incident).order_by("-sitrep_view__period_end", "sitrep_view__member")[
        :60
    ]:
        version = record.current_version
        assert version is not None
        body = version.body
        figures = body.get("figures") or {}
        rows.append(
            {
                "record": record,
                "member": body.get("member", ""),
                "member_name": names.get(str(body.get("member", "")), ""),
                "period_start": parse_date(str(body.get("period_start", ""))),
                "period_end": parse_date(str(body.get("period_end", ""))),
                "figures": figures,
                "measures": [
                    MEASURE_LABELS.get(m.get("type", ""), m.get("type", "")) for m in body.get("measures", [])
                ],
                "seq": version.seq,
            }
        )
    curves = []
    for member in sorted({row["member"] for row in rows}):
        points = sorted(
            (row["period_end"], int(row["figures"].get("new_cases", 0)))
            for row in rows
            if row["member"] == member and row["period_end"] is not None
        )
        title = _("New cases reported by %(member)s") % {"member": names.get(member, member)}
        curves.append({"member": member, "svg": mark_safe(sitrep_svg.curve(points, title))})  # noqa: S308
    return {
        "sitreps": rows,
        "sitrep_curves": curves,
        "may_file": may_file(account, incident),
        "consolidated_url": reverse("incident-consolidated", args=[incident.uuid]),
    }
