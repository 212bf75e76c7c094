"""The forms of mutual assistance's pages: what the request, offer and accept forms post, read into the arguments
of the assistance actions (`assist_actions`).

Only what a browser may send wrong is checked here (a number that is not a whole number, a blank required field),
naming the field; every other rule is the kinds' and the actions', whose errors name the field too and are shown
on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accord.members.models import Member
from accord.records.envelope import Audience
from accord.response import assist_catalogue, assist_points
from accord.surveillance import reference

PRIORITIES: dict[str, str | Promise] = {
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
}
STATUSES: dict[str, str | Promise] = {
    "open": gettext_lazy("Open"),
    "partly_covered": gettext_lazy("Partly covered"),
    "covered": gettext_lazy("Covered"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "closed": gettext_lazy("Closed"),
}
GROUPS: dict[str, str | Promise] = {
    "teams": gettext_lazy("Teams"),
    "experts": gettext_lazy("Experts"),
    "laboratory": gettext_lazy("Laboratory"),
    "medicines": gettext_lazy("Vaccines and medicines"),
    "supplies": gettext_lazy("Supplies"),
    "equipment": gettext_lazy("Equipment"),
    "other": gettext_lazy("Other"),
}
SECRETARIAT = "SCO"
# The request form's fields, in their order: where an error is shown and what the summary links to.
REQUEST_FIELDS = (
    "resource_type",
    "detail",
    "quantity",
    "needed_by",
    "region",
    "point",
    "priority",
    "conditions",
    "audience",
)


def language() -> str:
    found = (get_language() or "en")[:2].lower()
    return found if found in ("zh", "ru", "en") else "en"


def type_name(code: str) -> str:
    found = assist_catalogue.get(code)
    return found.names()[language()] if found is not None else code


def unit_name(code: str) -> str:
    found = assist_catalogue.unit(code)
    return found.names()[language()] if found is not None else code


def region_name(code: str) -> str:
    """A first-level region in the reader's language, with its code; an unlisted code as it is."""
    found = reference.regions().get(code)
    return f"{found.name} ({code})" if found is not None else code


def type_groups() -> list[dict[str, Any]]:
    """The resource type select: the catalogue by group, each type named with its unit, in the reader's language."""
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for kind in assist_catalogue.types():
        groups.setdefault(kind.group, []).append((kind.code, type_name(kind.code), unit_name(kind.unit)))
    return [{"label": GROUPS.get(group, group), "types": types} for group, types in groups.items()]


def region_choices(members: list[str]) -> list[tuple[str, str]]:
    """The first-level regions of `members` (the requester's, or for the Secretariat the affected members')."""
    table = reference.regions()
    rows = [r for r in table.values() if r.member in members and not r.whole_member]
    return [(r.code, f"{r.name} ({r.code})") for r in sorted(rows, key=lambda r: r.code)]


def quantity(data: QueryDict, name: str = "quantity") -> tuple[int | None, str]:
    """A posted whole number above zero, or the message that names the field."""
    text = data.get(name, "").strip()
    if not text.isdigit() or int(text) < 1:
        return None, _("Give the quantity as a whole number above zero.")
    return int(text), ""


@dataclass
class RequestForm:
    resource_type: str = ""
    detail: str = ""
    quantity: str = ""
    needed_by: str = ""
    region: str = ""
    point_lat: str = ""
    point_lon: str = ""
    point: dict[str, float] | None = None
    priority: str = "medium"
    conditions: str = ""
    audience_mode: str = "incident"
    audience_members: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[dict[str, str]]:
        named = [(f, self.errors[f]) for f in REQUEST_FIELDS if f in self.errors]
        rest = [(f, m) for f, m in self.errors.items() if f not in REQUEST_FIELDS]
        return [{"anchor": _anchor(f), "message": m} for f, m in named + rest]

    def audience(self, own: str) -> Audience | None:
        """None: the incident's audience; else the named members, with the requester and the Secretariat."""
        if self.audience_mode != "named":
            return None
        return Audience(members=sorted({*self.audience_members, own, SECRETARIAT}))


def _anchor(name: str) -> str:
    if name == "audience":
        return "audience-incident"
    if name == assist_points.FIELD:
        return assist_points.ANCHOR
    return name if name in REQUEST_FIELDS else "resource_type"


def request_from_post(data: QueryDict, members: set[str]) -> RequestForm:
    form = RequestForm(
        resource_type=data.get("resource_type", "").strip()[:40],
        detail=data.get("detail", "").strip()[:500],
        quantity=data.get("quantity", "").strip()[:20],
        needed_by=data.get("needed_by", "").strip()[:40],
        region=data.get("region", "").strip()[:12],
        priority=data.get("priority", "medium"),
        conditions=data.get("conditions", "").strip()[:5000],
        audience_mode=data.get("audience", "incident"),
        audience_members=[m for m in dict.fromkeys(data.getlist("audience_members")) if m in members],
    )
    if assist_catalogue.get(form.resource_type) is None:
        form.errors["resource_type"] = _("Choose a resource type of the catalogue.")
    if quantity(data)[0] is None:
        form.errors["quantity"] = quantity(data)[1]
    if not form.needed_by:
        form.errors["needed_by"] = _("Say by when it is needed.")
    if not form.region:
        form.errors["region"] = _("Choose the region it is delivered to.")
    posted = assist_points.from_post(data)
    form.point_lat, form.point_lon, form.point = posted.lat, posted.lon, posted.point
    if posted.error:
        form.errors["point"] = posted.error
    if form.priority not in PRIORITIES:
        form.errors["priority"] = _("Choose a priority.")
    if form.audience_mode not in ("incident", "named"):
        form.errors["audience"] = _("Choose who may see the request.")
    elif form.audience_mode == "named" and not form.audience_members:
        form.errors["audience"] = _("Choose the members who may see the request.")
    return form


def audience_choices(incident_audience: Audience) -> list[Member]:
    """The members a request may be shown to: those of the incident's audience (any member when it is everyone's)."""
    rows = Member.objects.filter(active=True).exclude(code=SECRETARIAT).order_by("code")
    if not incident_audience.everyone:
        rows = rows.filter(code__in=list(incident_audience.members))
    return list(rows)
