"""What the pages of the joint work show of an activity: its dict (`work_queries.activity_out`) dressed with the names
a person reads (type, state, organisations in the reader's language when this node knows them, member names), the
links of outputs to library documents the reader may see, and the addresses of an alliance's pages and calendar.
Reads only names (organisations, members) and, through the audience filter, the documents outputs name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.alliances.models import Alliance
from accord.members.models import Account, Member, Organisation
from accord.records.kinds import page_path
from accord.records.models import Record
from accord.records.principal import Principal

TYPE_LABELS = {
    "training": _("Training course"),
    "exchange": _("Exchange (mobility) programme"),
    "research": _("Joint research project"),
    "conference": _("Conference"),
}
STATE_LABELS = {
    "planned": _("Planned"),
    "ongoing": _("Ongoing"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
}
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "zh": "中文"}


def _names(slugs: set[str]) -> dict[str, str]:
    return {o.slug: o.name for o in Organisation.objects.filter(slug__in=slugs)}


def _documents(refs: list[Any], principal: Principal | None) -> dict[str, str]:
    """The page of each document an output names, if the reader may see it here."""
    wanted = [str(ref.get("record")) for ref in refs if isinstance(ref, dict) and ref.get("record")]
    if principal is None or not wanted:
        return {}
    rows = Record.objects.visible_to(principal).filter(uuid__in=wanted).values_list("uuid", "kind")
    return {str(uuid): page_path(kind, uuid) for uuid, kind in rows}


def dress(out: dict[str, Any], principal: Principal | None = None) -> dict[str, Any]:
    """`out` with the names and links a page shows."""
    language = (get_language() or "en")[:2]
    participants = out["participants"]
    slugs = {out["host"]["slug"], *(o["slug"] for o in participants["organisations"])}
    slugs |= {p["organisation"]["slug"] for p in participants["persons"]}
    names = _names(slugs)
    members = {m.code: m.name for m in Member.objects.all()}
    out["type_name"] = str(TYPE_LABELS.get(out["type"], out["type"]))
    out["state_name"] = str(STATE_LABELS.get(out["state"], out["state"]))
    out["host_name"] = names.get(out["host"]["slug"]) or out["host"]["name"] or out["host"]["slug"]
    out["host_member_name"] = members.get(out["host"]["member"], out["host"]["member"])
    out["organisation_names"] = [
        {**o, "name": names.get(o["slug"], o["slug"]), "member_name": members.get(o["member"], o["member"])}
        for o in participants["organisations"]
    ]
    out["person_rows"] = [
        {**p, "organisation_name": names.get(p["organisation"]["slug"], p["organisation"]["slug"])}
        for p in participants["persons"]
    ]
    links = _documents([o.get("document") for o in out["outputs"]], principal)
    out["output_rows"] = [
        {**o, "document_url": links.get(str((o.get("document") or {}).get("record", "")), "")} for o in out["outputs"]
    ]
    out["other_titles"] = [
        {"language": lang, "name": LANGUAGE_NAMES[lang], "text": text}
        for lang, text in sorted(out["title"].items())
        if text != out["title_text"] and lang in LANGUAGE_NAMES
    ]
    given = [lang for lang in (language, "en", "ru", "zh") if out["description"].get(lang)]
    wanted = given[0] if given else language
    out["description_language"] = wanted
    out["description_text"] = out["description"].get(wanted, "")
    out["page_url"] = reverse("alliance-activity", args=[out["id"]])
    return out


def page_context(request: HttpRequest, alliance: Alliance) -> dict[str, Any]:
    """The addresses of an alliance's activities: its list, its calendar (the session's, and the public one), the
    form to add one (for those who may), and the tokens page (a feed token for calendar applications)."""
    from accord.alliances.work_actions import may_act

    user = request.user
    account = user if isinstance(user, Account) else None
    return {
        "list_url": reverse("alliance-activities", args=[alliance.slug]),
        "calendar_url": reverse("alliance-calendar", args=[alliance.slug]),
        "new_url": reverse("alliance-activity-new", args=[alliance.slug]) if may_act(account, alliance.slug) else "",
        "tokens_url": reverse("tokens"),
    }
