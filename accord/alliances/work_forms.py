"""The activity form (create and edit), read from a POST into `work_actions.ActivityInput`, and back from an
activity's dict (`work_queries.activity_out`) for editing. No reads or writes here.

Participants and outputs are lines of text, one an item, their parts separated by `|`:
organisations `slug | MEMBER`, persons `Name | organisation slug | MEMBER`, outputs `Title | https://link`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from accord.alliances.work_actions import ActivityInput
from accord.alliances.work_kinds import STATES, TYPES
from accord.records.envelope import Audience

LANGUAGES = ("en", "ru", "zh")
TLPS = ("CLEAR", "GREEN", "AMBER")
# The form's fields in their order: where an error is shown and what the summary links to.
FORM_FIELDS = (
    "type", "title_en", "title_ru", "title_zh", "description_en", "starts", "ends", "place", "rd", "state",
    "organisations", "persons", "outputs", "audience", "tlp",
)  # fmt: skip
# An action's error field -> the form field it is shown on.
PLACES = {"title": "title_en", "description": "description_en", "participants": "organisations", "fields": "type"}


@dataclass
class ActivityForm:
    type: str = ""
    rd: bool = False
    title: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    starts: str = ""
    ends: str = ""
    place: str = ""
    state: str = "planned"
    organisations: str = ""
    persons: str = ""
    outputs: str = ""
    audience_mode: str = "everyone"
    audience_members: list[str] = field(default_factory=list)
    tlp: str = "GREEN"
    expected_seq: str = ""
    # Kept from the activity when editing (the form has no field for them).
    fields: list[str] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[dict[str, str]]:
        named = [(f, self.errors[f]) for f in FORM_FIELDS if f in self.errors]
        rest = [(f, m) for f, m in self.errors.items() if f not in FORM_FIELDS]
        return [{"anchor": f if f in FORM_FIELDS else "type", "message": m} for f, m in named + rest]

    def place_error(self, error_field: str | None, message: str) -> None:
        """An action's error on the field it names (the others on the first field, listed in the summary)."""
        where = PLACES.get(error_field or "", error_field or "")
        self.errors[where if where in FORM_FIELDS else "general"] = message

    def audience(self) -> Audience:
        if self.audience_mode == "named":
            return Audience(members=sorted(set(self.audience_members)))
        return Audience(everyone=True)

    def given(self) -> ActivityInput:
        return ActivityInput(
            type=self.type,
            title={k: v for k, v in self.title.items() if v},
            description={k: v for k, v in self.description.items() if v},
            starts=self.starts,
            ends=self.ends,
            rd=self.rd,
            fields=list(self.fields),
            place=self.place,
            participants={"organisations": _organisations(self.organisations), "persons": _persons(self.persons)},
            outputs=_outputs(self.outputs, self.documents),
            state=self.state,
        )


def _parts(line: str) -> list[str]:
    return [part.strip() for part in line.split("|")]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _organisations(text: str) -> list[dict[str, str]]:
    found = []
    for line in _lines(text):
        parts = _parts(line)
        found.append({"slug": parts[0], "member": parts[1].upper() if len(parts) > 1 else ""})
    return found


def _persons(text: str) -> list[dict[str, Any]]:
    found = []
    for line in _lines(text):
        parts = [*_parts(line), "", ""]
        found.append({"name": parts[0], "organisation": {"slug": parts[1], "member": parts[2].upper()}})
    return found


def _outputs(text: str, documents: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for line in _lines(text):
        title, _sep, url = line.rpartition("|") if "|" in line else (line, "", "")
        output: dict[str, Any] = {"title": title.strip()}
        if url.strip():
            output["url"] = url.strip()
        if documents.get(output["title"]):
            output["document"] = documents[output["title"]]
        found.append(output)
    return found


def _line_errors(form: ActivityForm) -> None:
    for line in _lines(form.organisations):
        if len(_parts(line)) != 2 or not all(_parts(line)):
            form.errors["organisations"] = _("Write each organisation on a line of its own as: slug | member code.")
    for line in _lines(form.persons):
        if len(_parts(line)) != 3 or not all(_parts(line)):
            form.errors["persons"] = _(
                "Write each person on a line of its own as: name | organisation slug | member code."
            )


def from_post(data: QueryDict, members: set[str], *, creating: bool) -> ActivityForm:
    form = ActivityForm(
        type=data.get("type", "").strip()[:20],
        rd=data.get("rd", "") == "on",
        title={lang: data.get(f"title_{lang}", "").strip()[:300] for lang in LANGUAGES},
        description={lang: data.get(f"description_{lang}", "").strip()[:10_000] for lang in LANGUAGES},
        starts=data.get("starts", "").strip()[:10],
        ends=data.get("ends", "").strip()[:10],
        place=data.get("place", "").strip()[:300],
        state=data.get("state", "planned").strip()[:12],
        organisations=data.get("organisations", "")[:30_000],
        persons=data.get("persons", "")[:60_000],
        outputs=data.get("outputs", "")[:60_000],
        audience_mode=data.get("audience", "everyone"),
        audience_members=[code for code in data.getlist("audience_members") if code in members],
        tlp=data.get("tlp", "GREEN"),
        expected_seq=data.get("expected_seq", "").strip()[:10],
    )
    if form.type not in TYPES:
        form.errors["type"] = _("Choose the kind of activity.")
    if not any(form.title.values()):
        form.errors["title_en"] = _("Give the title in at least one language.")
    if not form.starts:
        form.errors["starts"] = _("Give the first day.")
    if not form.ends:
        form.errors["ends"] = _("Give the last day.")
    if form.state not in STATES or (creating and form.state == "cancelled"):
        form.errors["state"] = _("Choose the state of the activity.")
    if form.audience_mode not in ("everyone", "named"):
        form.errors["audience"] = _("Choose who may see the activity.")
    elif form.audience_mode == "named" and not form.audience_members:
        form.errors["audience"] = _("Choose at least one member.")
    if form.tlp not in TLPS:
        form.errors["tlp"] = _("Choose a TLP label.")
    elif form.audience_mode == "everyone" and form.tlp == "AMBER":
        form.errors["tlp"] = _("An activity for everyone is TLP:CLEAR or TLP:GREEN.")
    _line_errors(form)
    return form


def from_activity(out: dict[str, Any], audience: dict[str, Any]) -> ActivityForm:
    """The form filled with an activity (`work_queries.activity_out`) and its audience, to edit it."""
    participants = out["participants"]
    organisations = "\n".join(f"{o['slug']} | {o['member']}" for o in participants["organisations"])
    persons = "\n".join(
        f"{p['name']} | {p['organisation']['slug']} | {p['organisation']['member']}" for p in participants["persons"]
    )
    outputs = "\n".join(f"{o['title']} | {o['url']}" if o.get("url") else o["title"] for o in out["outputs"])
    return ActivityForm(
        type=out["type"],
        rd=out["rd"],
        title={lang: out["title"].get(lang, "") for lang in LANGUAGES},
        description={lang: out["description"].get(lang, "") for lang in LANGUAGES},
        starts=out["starts"],
        ends=out["ends"],
        place=out["place"],
        state=out["state"],
        organisations=organisations,
        persons=persons,
        outputs=outputs,
        audience_mode="everyone" if audience.get("everyone") else "named",
        audience_members=list(audience.get("members") or []),
        tlp=out["tlp"] if out["tlp"] in TLPS else "AMBER",
        expected_seq=str(out["seq"]),
        fields=list(out["fields"]),
        documents={o["title"]: o["document"] for o in out["outputs"] if o.get("document")},
    )
