"""The consolidated situation report as CSV with HXL hashtags, and as a printable PDF (WeasyPrint).

The CSV has a row of column names, a row of HXL hashtags (https://hxlstandard.org), then per affected member one
row for the member as a whole (`#meta+level` is `country`, `#adm1` empty) followed by one row per first-level
region it gave figures for (`adm1`). Sum the `country` rows for the totals (the region rows repeat parts of
them).
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.records.principal import Principal
from accord.response import sitrep_svg
from accord.response.consolidate import Consolidated, as_json, consolidate
from accord.response.models import IncidentView
from accord.response.refs import pick
from accord.surveillance import reference

CURVE_DAYS = 60
STATUS_LABELS = {
    "reported": gettext_lazy("reported"),
    "partial": gettext_lazy("partial (with gaps)"),
    "missing": gettext_lazy("missing"),
}

COLUMNS: list[tuple[str, str]] = [
    ("Period start", "#date+start"),
    ("Period end", "#date+end"),
    ("Member", "#country+code"),
    ("Member name", "#country+name"),
    ("Level", "#meta+level"),
    ("Region", "#adm1+code"),
    ("Region name", "#adm1+name"),
    ("New cases", "#affected+infected+new"),
    ("New deaths", "#affected+killed+new"),
    ("Cumulative cases", "#affected+infected+total"),
    ("Cumulative deaths", "#affected+killed+total"),
    ("Cumulative as of", "#date+as_of"),
    ("Status", "#status"),
    ("Last report", "#date+reported"),
    ("Gaps", "#meta+gaps"),
]


def _member_name(code: str) -> str:
    region = reference.regions().get(code)
    return region.name_en if region is not None else code


def _gaps_text(gaps: list[dict[str, str]]) -> str:
    return "; ".join(g["start"] if g["start"] == g["end"] else f"{g['start']}..{g['end']}" for g in gaps)


def csv_text(result: Consolidated) -> str:
    data = as_json(result)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in COLUMNS])
    writer.writerow([tag for _, tag in COLUMNS])
    start, end = data["period_start"], data["period_end"]
    for member in data["members"]:
        reported = member["last_reported_at"]
        writer.writerow(
            [
                start,
                end,
                member["member"],
                _member_name(member["member"]),
                "country",
                "",
                "",
                member["new_cases"],
                member["new_deaths"],
                "" if member["cumulative_cases"] is None else member["cumulative_cases"],
                "" if member["cumulative_deaths"] is None else member["cumulative_deaths"],
                member["cumulative_as_of"] or "",
                member["status"],
                reported.isoformat() if reported else "",
                _gaps_text(member["gaps"]),
            ]
        )
        for row in member["by_region"]:
            region = reference.regions().get(row["region"])
            writer.writerow(
                [
                    start,
                    end,
                    member["member"],
                    _member_name(member["member"]),
                    "adm1",
                    row["region"],
                    region.name_en if region is not None else "",
                    row["new_cases"],
                    row["new_deaths"],
                    row.get("cumulative_cases", ""),
                    row.get("cumulative_deaths", ""),
                    member["cumulative_as_of"] or "" if "cumulative_cases" in row else "",
                    member["status"],
                    reported.isoformat() if reported else "",
                    "",
                ]
            )
    return out.getvalue()


def _curves(principal: Principal, result: Consolidated) -> dict[str, str]:
    """Per member, the epidemic curve of the CURVE_DAYS days up to the period's end: new cases by report."""
    end = result.period_end
    history = consolidate(principal, result.incident, end, end - timedelta(days=CURVE_DAYS - 1))
    # From the first report of any member (or the incident's opening) in those days: nothing was due before.
    view = IncidentView.objects.filter(record=result.incident).first()
    firsts = [r.period_start for p in history.members for r in p.reports]
    if view is not None:
        firsts.append(view.opened_at.date())
    begin = max(end - timedelta(days=CURVE_DAYS - 1), min(firsts, default=end))
    drawn: dict[str, str] = {}
    for picture in history.members:
        by_end: dict[date, int] = {}
        for report in picture.reports:
            by_end[report.period_end] = report.new_cases
        points: list[tuple[date, int | None]] = []
        day = begin
        covered = {d for r in picture.reports for d in _days(r.period_start, r.period_end)}
        while day <= end:
            if day in by_end:
                points.append((day, by_end[day]))
            elif day not in covered:
                points.append((day, None))
            day += timedelta(days=1)
        title = _("New cases reported by %(member)s") % {"member": picture.member}
        drawn[picture.member] = sitrep_svg.curve(points, title)
    return drawn


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def context(principal: Principal, result: Consolidated) -> dict[str, Any]:
    data = as_json(result)
    version = result.incident.current_version
    assert version is not None
    body = version.body
    curves = _curves(principal, result)
    shades = {m["member"]: int(m["cumulative_cases"] or 0) for m in data["members"]}
    regions = sorted(
        {str(code) for code in body.get("regions", [])}
        | {row["region"] for m in data["members"] for row in m["by_region"]}
    )
    table = reference.regions()
    return {
        "data": data,
        "title": pick(body.get("title")),
        "level": body.get("level", 0),
        "members": [
            {
                **m,
                "status_label": STATUS_LABELS[m["status"]],
                "gaps_text": _gaps_text(m["gaps"]),
                "curve": mark_safe(curves.get(m["member"], "")),  # noqa: S308  (escaped in sitrep_svg)
            }
            for m in data["members"]
        ],
        "map": mark_safe(sitrep_svg.member_map(shades, _("Affected members"))),  # noqa: S308
        "regions": [(code, table[code].name if code in table else code) for code in regions],
        "generated_at": timezone.now(),
        "traffic": version.status,
        "tlp": version.tlp,
    }


PRINT_CSS = Path(__file__).with_name("sitrep_print.css")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint fetches nothing: the page carries everything it shows (the map and the curves are inline SVG)."""
    raise ValueError(f"a printed report fetches nothing ({url[:80]})")


def pdf_bytes(principal: Principal, result: Consolidated) -> bytes:
    from weasyprint import CSS, HTML

    html = render_to_string("response/sitrep_print.html", context(principal, result))
    stylesheet = CSS(string=PRINT_CSS.read_text(encoding="utf-8"), url_fetcher=_no_fetch)
    pdf: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=[stylesheet])
    return pdf
