"""The roster's forms: a profile (one's own, or a managed one with the person's consent) read from a page's POST,
with the visibility choice in plain words, and the search filters.

A form keeps what was typed (to show it again on a refusal) and the errors per field; an action's ActionError is
placed on the field it names (`place`). The visibility choices:

* `secretariat`: only the Secretariat (`{"members": ["SCO"]}`);
* `alliances`: the members of my organisation's alliances (or, when it belongs to none, of the alliances the
  profile lists), and the Secretariat;
* `everyone`: all members (an audience of everyone at TLP:GREEN: every account of every member, never anonymous);
* `kept`: the audience the profile has (set through the API), unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from accord.alliances import membership_queries, vocab

VISIBILITIES = ("secretariat", "alliances", "everyone", "kept")
LABELS = ("AMBER", "GREEN")
EMPTY_WINDOWS = 2
# An action's field -> the form's field it is shown on.
PLACES = {"audience": "visibility", "role": "visibility", "profile": "visibility", "account": "visibility"}


@dataclass
class ProfileForm:
    fields: list[str] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)  # language code -> level
    windows: list[tuple[str, str]] = field(default_factory=list)
    deployable: bool = False
    deploy_within_days: str = ""
    alliances: list[str] = field(default_factory=list)
    note: str = ""
    contact_email: str = ""
    visibility: str = "secretariat"
    tlp: str = "AMBER"
    # managed profiles only
    name: str = ""
    organisation: str = ""
    consent_given_on: str = ""
    consent_method: str = ""
    consent_recorded_by: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def place(self, where: str | None, message: str) -> None:
        spot = PLACES.get(where or "", where or "visibility")
        if spot not in FORM_FIELDS:
            spot = "visibility"
        self.errors.setdefault(spot, message)

    def error_list(self) -> list[dict[str, str]]:
        return [{"anchor": f"{name}-error", "message": message} for name, message in self.errors.items()]

    def window_rows(self) -> list[tuple[int, str, str]]:
        rows = [*self.windows, *([("", "")] * EMPTY_WINDOWS)]
        return [(index, start, until) for index, (start, until) in enumerate(rows)]

    def profile(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "languages": [{"code": code, "level": level} for code, level in self.levels.items()],
            "available": [{"from": start, "until": until} for start, until in self.windows],
            "deployable": self.deployable,
            "deploy_within_days": int(self.deploy_within_days) if self.deploy_within_days else None,
            "alliances": list(self.alliances),
            "note": self.note,
            "contact_email": self.contact_email or None,
        }

    def managed(self) -> dict[str, Any]:
        found = self.profile()
        found["name"] = self.name
        found["organisation"] = self.organisation or None
        consent = {
            "given_on": self.consent_given_on,
            "method": self.consent_method,
            "recorded_by": self.consent_recorded_by,
        }
        found["consent"] = {k: v for k, v in consent.items() if v} or None
        return found

    def audience(self, organisation_slug: str) -> dict[str, Any] | None:
        """The audience the visibility choice stands for (None: keep the profile's)."""
        if self.visibility == "kept":
            return None
        if self.visibility == "everyone":
            return {"everyone": True}
        if self.visibility == "alliances":
            slugs = membership_queries.alliances_of(organisation_slug) or list(self.alliances)
            if not slugs:
                self.errors["visibility"] = _(
                    "Your organisation is a member of no alliance, and the profile names none: choose the alliances "
                    "you work with, or another visibility."
                )
                return None
            return {"alliances": slugs, "members": ["SCO"]}
        return {"members": ["SCO"]}

    def label(self) -> str | None:
        if self.visibility == "kept":
            return None
        return "GREEN" if self.visibility == "everyone" else self.tlp


FORM_FIELDS = frozenset(
    {
        "fields", "languages", "available", "deployable", "deploy_within_days", "alliances", "note", "contact_email",
        "visibility", "tlp", "name", "organisation", "consent",
    }
)  # fmt: skip


def visibility_of(audience: dict[str, Any], tlp: str) -> str:
    """The plain choice a profile's audience stands for, if one does (else `kept`)."""
    members = set(audience.get("members") or [])
    if audience.get("everyone") and tlp == "GREEN":
        return "everyone"
    if members == {"SCO"} and not audience.get("organisations") and not audience.get("persons") and tlp == "AMBER":
        return "secretariat"
    return "kept"


def from_body(body: dict[str, Any], audience: dict[str, Any], tlp: str) -> ProfileForm:
    """A form filled from a profile's current body (to edit it)."""
    consent = body.get("consent") or {}
    choice = visibility_of(audience, tlp)
    return ProfileForm(
        fields=list(body.get("fields", [])),
        levels={item["code"]: item["level"] for item in body.get("languages", [])},
        windows=[(w["from"], w["until"]) for w in body.get("available", [])],
        deployable=bool(body.get("deployable")),
        deploy_within_days=str(body["deploy_within_days"]) if body.get("deploy_within_days") is not None else "",
        alliances=list(body.get("alliances", [])),
        note=str(body.get("note", "")),
        contact_email=str(body.get("contact_email") or ""),
        visibility=choice,
        tlp=tlp if tlp in LABELS else "AMBER",
        name=str(body.get("name", "")),
        organisation=str((body.get("affiliation") or {}).get("organisation", "")),
        consent_given_on=str(consent.get("given_on", "")),
        consent_method=str(consent.get("method", "")),
        consent_recorded_by=str(consent.get("recorded_by", "")),
    )


def _text(post: QueryDict, name: str, limit: int) -> str:
    return str(post.get(name, "")).strip()[:limit]


def from_post(post: QueryDict, *, managed: bool = False) -> ProfileForm:
    form = ProfileForm(
        fields=[code for code in post.getlist("fields") if code in vocab.FIELD_CODES],
        deployable=post.get("deployable") == "on",
        deploy_within_days=_text(post, "deploy_within_days", 10),
        alliances=[slug for slug in post.getlist("alliances") if slug in ("medicine", "law", "agriculture")],
        note=_text(post, "note", 1000),
        contact_email=_text(post, "contact_email", 254),
        visibility=_text(post, "visibility", 20),
        tlp=_text(post, "tlp", 20) or "AMBER",
    )
    for term in vocab.LANGUAGES:
        level = _text(post, f"level-{term.code}", 10)
        if level:
            form.levels[term.code] = level
    index = 0
    while f"from-{index}" in post or f"until-{index}" in post:
        start, until = _text(post, f"from-{index}", 40), _text(post, f"until-{index}", 40)
        if start or until:
            form.windows.append((start, until))
        index += 1
        if index > 40:
            break
    if form.deploy_within_days and not form.deploy_within_days.isdigit():
        form.errors["deploy_within_days"] = _("Give a whole number of days, or leave it empty.")
    if form.visibility not in VISIBILITIES:
        form.errors["visibility"] = _("Choose who may see the profile.")
    if form.tlp not in LABELS:
        form.errors["tlp"] = _("Choose TLP:AMBER or TLP:GREEN.")
    for start, until in form.windows:
        if not (_is_day(start) and _is_day(until)):
            form.errors["available"] = _("Give both days of each window (from and until).")
    if managed:
        form.name = _text(post, "name", 200)
        form.organisation = _text(post, "organisation", 80)
        form.consent_given_on = _text(post, "consent_given_on", 40)
        form.consent_method = _text(post, "consent_method", 200)
        form.consent_recorded_by = _text(post, "consent_recorded_by", 200)
    return form


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


@dataclass
class SearchForm:
    field: str = ""
    language: str = ""
    available_from: str = ""
    available_until: str = ""
    member: str = ""
    alliance: str = ""
    deployable: str = ""  # "", "yes", "no"

    def active(self) -> bool:
        return any(vars(self).values())


def search_from(get: QueryDict) -> SearchForm:
    return SearchForm(
        field=_text(get, "field", 60),
        language=_text(get, "language", 10),
        available_from=_text(get, "available_from", 40),
        available_until=_text(get, "available_until", 40),
        member=_text(get, "member", 8),
        alliance=_text(get, "alliance", 40),
        deployable=_text(get, "deployable", 4),
    )
