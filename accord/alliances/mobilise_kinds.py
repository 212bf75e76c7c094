"""The record kinds of mobilisation: `roster_call`, `roster_reply` and `roster_selection`.

* A **call** (`roster_call`) is issued for the calling member (`member`, `speaks_for`): a focal point of the member
  that will select (`requester`: the member that requested the experts, or on an incident the calling member itself),
  or a coordinator (or focal point) of the Secretariat calling on any member's request. It names the assistance
  request (resource type `expert`) or only the incident, the field of expertise, an optional language, the window
  `from`..`until`, the region the experts would go to, a message, and the experts called: each a reference to their
  profile with their member, and, to say who may answer, the person's account (none for a profile a focal point
  manages) and the organisation that issued the profile. No names: a reader sees an expert's name only where they may
  see the profile itself (`mobilise_queries`).
* A **reply** (`roster_reply`) is issued for the called expert's member (`speaks_for`) by the person's own account
  (or, for a managed profile, by the organisation that manages it): `available` true with the dates the person can
  go (`from`..`until`, overlapping the call's window), or false. A new version of the same record changes the reply.
* A **selection** (`roster_selection`) is issued for the requesting member by its focal points: the call, the expert
  profile, the reply (its version) it rests on, and what the selection made of it in mutual assistance: the request,
  the offer, its acceptance, the commitment and the deployment (see `mobilise_actions`).

The rules here run on every write path, versions received from peers included; those that need another record (the
call a reply answers) are checked wherever that record is held.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.alliances import vocab
from accord.alliances.mobilise_models import project_call, project_reply, project_selection
from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import ActionError
from accord.response.kinds import incident_roles
from accord.response.refs import RecordRef

CALL_KIND = "roster_call"
REPLY_KIND = "roster_reply"
SELECTION_KIND = "roster_selection"
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
UUID_TEXT = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
MAX_CALLED = 200
# Who answers a call: the person's own account, whatever its acting role; a focal point for a managed profile.
REPLY_ROLES = frozenset({"expert", "focal_point", "coordinator"})


def refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


def iso_date(value: Any) -> str:
    """A date as `YYYY-MM-DD`, and nothing else."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Called(BaseModel):
    """One expert called: their profile, their member, and who may answer for them."""

    model_config = ConfigDict(extra="forbid")

    profile: RecordRef
    member: str = Field(pattern=MEMBER_CODE)
    account: str | None = Field(default=None, pattern=UUID_TEXT)  # the person's own account; none: managed
    organisation: str | None = Field(default=None, pattern=UUID_TEXT)  # the organisation that issued the profile


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    incident: RecordRef
    request: RecordRef | None = None  # none: a call on the incident alone
    member: str = Field(pattern=MEMBER_CODE)  # the calling member
    requester: str = Field(pattern=MEMBER_CODE)  # the member that selects (the requester)
    field: str = Field(min_length=1, max_length=40)
    language: str | None = Field(default=None, min_length=2, max_length=3)
    start: str = Field(alias="from")
    until: str
    region: str = Field(min_length=2, max_length=12)
    message: str = Field(default="", max_length=2000)
    called: list[Called] = Field(min_length=1, max_length=MAX_CALLED)

    @field_validator("start", "until")
    @classmethod
    def _date(cls, value: Any) -> str:
        return iso_date(value)

    @field_validator("field")
    @classmethod
    def _field(cls, value: str) -> str:
        if value not in vocab.FIELD_CODES:
            raise ValueError(f"{value!r} is not a field of expertise")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value not in vocab.LANGUAGE_CODES:
            raise ValueError(f"{value!r} is not a language code of the roster")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CallBody:
        if self.until < self.start:
            raise ValueError(f"until ({self.until}) is before from ({self.start})")
        profiles = [str(c.profile.record) for c in self.called]
        if len(set(profiles)) != len(profiles):
            raise ValueError("an expert is called twice")
        return self


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    call: RecordRef
    expert: RecordRef  # the profile answered for
    member: str = Field(pattern=MEMBER_CODE)  # the expert's member
    available: bool
    start: str | None = Field(default=None, alias="from")
    until: str | None = None
    note: str = Field(default="", max_length=2000)

    @field_validator("start", "until")
    @classmethod
    def _date(cls, value: Any) -> str | None:
        return None if value is None else iso_date(value)

    @model_validator(mode="after")
    def _dates(self) -> ReplyBody:
        if self.available and (self.start is None or self.until is None):
            raise ValueError("an available reply gives from and until")
        if not self.available and (self.start is not None or self.until is not None):
            raise ValueError("a reply of not available gives no dates")
        if self.start is not None and self.until is not None and self.until < self.start:
            raise ValueError(f"until ({self.until}) is before from ({self.start})")
        return self


class VersionRef(RecordRef):
    seq: int = Field(ge=1)


class SelectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call: RecordRef
    expert: RecordRef
    expert_member: str = Field(pattern=MEMBER_CODE)
    member: str = Field(pattern=MEMBER_CODE)  # the selecting (requesting) member
    reply: VersionRef
    request: RecordRef
    offer: RecordRef
    acceptance: RecordRef
    commitment: RecordRef
    deployment: RecordRef


def _is_secretariat(code: str) -> bool:
    return Member.objects.filter(code=code, kind=Member.Kind.SECRETARIAT).exists()


def _call_body(ref: dict[str, Any]) -> dict[str, Any] | None:
    """The current body of the call `ref` names, when this node holds it."""
    from accord.records.models import Record

    found = (
        Record.objects.filter(kind=CALL_KIND, origin_node=ref["node"], uuid=ref["record"])
        .select_related("current_version")
        .first()
    )
    if found is None or found.current_version is None:
        return None
    body: dict[str, Any] = found.current_version.body
    return body


def _called(call: dict[str, Any], profile: str) -> dict[str, Any] | None:
    return next((c for c in call.get("called", []) if str(c["profile"]["record"]) == profile), None)


def _call_rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["member"] != body["requester"] and not _is_secretariat(body["member"]):
        raise refuse("member", f"{body['member']} calls the roster only for itself; the Secretariat calls for others")
    if body["requester"] in {c["member"] for c in body["called"]}:
        raise refuse("called", f"an expert of {body['requester']} cannot be offered to {body['requester']} itself")


def _reply_rules(body: dict[str, Any], author: kinds.Author) -> None:
    call = _call_body(body["call"])
    if call is None:
        return
    entry = _called(call, str(body["expert"]["record"]))
    if entry is None:
        raise refuse("expert", "this expert is not called by the call")
    if entry["member"] != body["member"]:
        raise refuse("member", f"the expert called is of {entry['member']}, not of {body['member']}")
    if body["available"] and (body["until"] < call["from"] or body["from"] > call["until"]):
        raise refuse(
            "from", f"{body['from']}..{body['until']} does not meet the call's window {call['from']}..{call['until']}"
        )


def _reply_follows(body: dict[str, Any], previous: dict[str, Any]) -> None:
    for name in ("call", "expert", "member"):
        if previous.get(name) is not None and body.get(name) != previous[name]:
            raise refuse(name, f"a reply's {name} does not change (a new reply is a new record)")


def _selection_rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["member"] == body["expert_member"]:
        raise refuse("expert", "a member does not select its own expert for its own request")
    call = _call_body(body["call"])
    if call is None:
        return
    entry = _called(call, str(body["expert"]["record"]))
    if entry is None:
        raise refuse("expert", "this expert is not called by the call")
    if call["requester"] != body["member"]:
        raise refuse("member", f"the call's experts are selected by {call['requester']}, not by {body['member']}")


def _call_title(body: dict[str, Any]) -> str:
    term = vocab.field_term(str(body.get("field", "")))
    name = term.en if term is not None else str(body.get("field", ""))
    return f"Roster call: {name}, {body.get('from', '')}..{body.get('until', '')}"


CALL = kinds.register(
    kinds.RecordKind(
        name=CALL_KIND,
        label=_("Roster call"),
        body_model=CallBody,
        title=_call_title,
        search_text=lambda body: "\n".join(str(x) for x in (body.get("field"), body.get("message")) if x),
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        rules=_call_rules,
        project=project_call,
        endpoint="POST /api/v1/roster-calls",
        page="roster-call",
    )
)

REPLY = kinds.register(
    kinds.RecordKind(
        name=REPLY_KIND,
        label=_("Reply to a roster call"),
        body_model=ReplyBody,
        title=lambda body: "Reply: available" if body.get("available") else "Reply: not available",
        search_text=lambda body: str(body.get("note", "")),
        publish_roles=REPLY_ROLES,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        rules=_reply_rules,
        follows=_reply_follows,
        project=project_reply,
        endpoint="POST /api/v1/roster-calls/{id}/replies",
    )
)

SELECTION = kinds.register(
    kinds.RecordKind(
        name=SELECTION_KIND,
        label=_("Selection from a roster call"),
        body_model=SelectionBody,
        title=lambda body: "Expert selected",
        search_text=lambda body: "",
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        rules=_selection_rules,
        project=project_selection,
        endpoint="POST /api/v1/roster-calls/{id}/selections",
    )
)


def _wire() -> None:
    """Mobilisation's listeners and panels, registered with the kinds (apps.py imports this module in `ready()`):
    the notices of calls and replies (`mobilise_notices`), and the "call the roster" panels of the assistance pages
    (`accord.response.assist_panels`)."""
    from accord.alliances import mobilise_notices, mobilise_views
    from accord.records.tasks import on_version_committed
    from accord.response import assist_panels

    on_version_committed(mobilise_notices.committed, kinds=set(mobilise_notices.KINDS))
    assist_panels.on_request_page(mobilise_views.request_panel)
    assist_panels.on_board(mobilise_views.board_panel)


_wire()
