"""The form that opens an incident: what the page posts, checked field by field before the action runs.

The checks here only say early and per field what the action would refuse anyway (the incident kind's rules stay
in `accord.response.kinds`, used by every write path); an error the action raises is shown on the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.members.models import Member
from accord.records.envelope import TLPS, Audience
from accord.response import hazards
from accord.response.refs import LANGUAGES
from accord.surveillance import reference

LANGUAGE_NAMES: dict[str, str | Promise] = {
    "zh": gettext_lazy("Chinese"),
    "ru": gettext_lazy("Russian"),
    "en": gettext_lazy("English"),
}
AUDIENCES: dict[str, str | Promise] = {
    "affected": gettext_lazy("The affected members and the Secretariat"),
    "named": gettext_lazy("The affected members, the Secretariat and the members chosen here"),
    "everyone": gettext_lazy("Everyone (TLP:CLEAR or GREEN only)"),
}
TRAFFIC: dict[str, str | Promise] = {
    "actual": gettext_lazy("Actual"),
    "exercise": gettext_lazy("Exercise"),
    "test": gettext_lazy("Test"),
}
SECRETARIAT = "SCO"
# The first field of each part of the form: where an error of that part is shown and where its summary links to.
ANCHORS = {
    "title": "title-en",
    "summary": "summary-en",
    "hazard": "hazard",
    "domains": "domains",
    "affected_members": "affected_members",
    "regions": "regions",
    "lead_member": "lead_member",
    "audience": "audience",
    "tlp": "tlp",
    "status": "traffic",
}


@dataclass
class IncidentForm:
    title: dict[str, str] = field(default_factory=dict)
    summary: dict[str, str] = field(default_factory=dict)
    hazard: str = ""
    domains: list[str] = field(default_factory=lambda: ["human"])
    affected: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    lead: str = ""
    audience_mode: str = "affected"
    audience_members: list[str] = field(default_factory=list)
    tlp: str = "AMBER"
    status: str = "actual"
    alert: str = ""  # the alert it is opened from, linked once it is open
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[dict[str, str]]:
        """The error summary: each message with the field it links to, in the order of the form."""
        return [
            {"field": name, "anchor": ANCHORS.get(name, "title-en"), "message": self.errors[name]}
            for name in ANCHORS
            if name in self.errors
        ] + [
            {"field": name, "anchor": "title-en", "message": m}
            for name, m in self.errors.items()
            if name not in ANCHORS
        ]

    def audience(self) -> Audience:
        if self.audience_mode == "everyone":
            return Audience(everyone=True)
        members = {*self.affected, SECRETARIAT}
        if self.audience_mode == "named":
            members |= set(self.audience_members)
        return Audience(members=sorted(members))


def _texts(data: QueryDict, prefix: str) -> dict[str, str]:
    return {
        lang: data.get(f"{prefix}-{lang}", "").strip() for lang in LANGUAGES if data.get(f"{prefix}-{lang}", "").strip()
    }


def _codes(values: list[str], allowed: set[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value in allowed and value not in seen:
            seen.append(value)
    return seen


def state_members() -> list[Member]:
    return list(Member.objects.filter(active=True, kind=Member.Kind.STATE).order_by("code"))


def from_post(data: QueryDict) -> IncidentForm:
    """Read and check the posted form; every problem lands in `errors`, under the field it belongs to."""
    members = {m.code for m in Member.objects.filter(active=True)}
    states = {m.code for m in state_members()}
    form = IncidentForm(
        title=_texts(data, "title"),
        summary=_texts(data, "summary"),
        hazard=data.get("hazard", "").strip()[:40],
        domains=_codes(data.getlist("domains"), set(hazards.DOMAINS)),
        affected=_codes(data.getlist("affected_members"), states),
        regions=_codes(data.getlist("regions"), set(reference.regions())),
        lead=data.get("lead_member", "").strip()[:8],
        audience_mode=data.get("audience", "affected"),
        audience_members=_codes(data.getlist("audience_members"), members),
        tlp=data.get("tlp", ""),
        status=data.get("status", "actual"),
        alert=data.get("alert", "").strip()[:40],
    )
    errors = form.errors
    if not form.title:
        errors["title"] = _("Give the title in at least one language.")
    elif any(len(text) > 300 for text in form.title.values()):
        errors["title"] = _("A title is at most 300 characters.")
    if not form.hazard:
        errors["hazard"] = _("Choose the hazard: a disease or a hazard type.")
    else:
        try:
            hazards.resolve(form.hazard)
        except hazards.UnknownHazard:
            errors["hazard"] = _("Choose a disease of the list or a hazard type.")
    if not form.domains:
        errors["domains"] = _("Choose at least one One Health domain.")
    if not form.affected:
        errors["affected_members"] = _("Choose at least one affected member state.")
    table = reference.regions()
    outside = [code for code in form.regions if table[code].whole_member or table[code].member not in form.affected]
    if outside:
        errors["regions"] = _("These regions are not of an affected member: %(regions)s") % {
            "regions": ", ".join(outside)
        }
    if form.lead and form.lead not in form.affected and form.lead != SECRETARIAT:
        errors["lead_member"] = _("The lead member is an affected member or the Secretariat.")
    if form.audience_mode not in AUDIENCES:
        errors["audience"] = _("Choose who may see the incident.")
    if form.tlp not in TLPS:
        errors["tlp"] = _("Choose a TLP.")
    elif form.audience_mode == "everyone" and form.tlp not in ("CLEAR", "GREEN"):
        errors["audience"] = _("An incident for everyone is TLP:CLEAR or TLP:GREEN.")
    elif form.tlp in ("AMBER+STRICT", "RED"):
        errors["tlp"] = _("An incident is shared with whole members: TLP:CLEAR, GREEN or AMBER.")
    if form.status not in TRAFFIC:
        errors["status"] = _("Choose actual, exercise or test.")
    return form


def hazard_choices() -> dict[str, list[tuple[str, str]]]:
    """The hazard select: diseases (by ICD-10 code, named in the reader's language), then the other hazard types."""
    diseases = sorted(((d.code, f"{d.name} ({d.code})") for d in reference.diseases().values()), key=lambda x: x[1])
    types = [(code, str(label)) for code, label in hazards.HAZARD_TYPES.items()]
    return {"diseases": diseases, "types": types}


def region_groups(members: list[Member]) -> list[dict[str, Any]]:
    """The first-level regions of each member state, for the regions select."""
    table = reference.regions()
    groups = []
    for member in members:
        regions = sorted(
            (r for r in table.values() if r.member == member.code and not r.whole_member), key=lambda r: r.code
        )
        if regions:
            groups.append({"member": member, "regions": [(r.code, r.name) for r in regions]})
    return groups
