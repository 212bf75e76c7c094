"""The record kinds `decision` and `position`: decisions taken the SCO way, by consensus.

A decision is a record of the organisation that proposed it. Each participating member states its position in a
`position` record of its own, issued by a focal point of that member (for the Secretariat, a coordinator or focal
point): support, abstain or object. The decision's origin node gathers the positions (its own and those received
from peers) into a new decision version, which lists every position it counted (`positions`, each by the
position record's identity and seq) and the outcome (`state`). The outcome is a computed field: it follows from
the listed positions alone, so no node can sign an outcome its positions do not give, and every node that stores
the decision sees the same one:

* `adopted` when every participant has a position and none objects (abstaining is not objecting);
* `rejected` as soon as one participant objects;
* `open` otherwise.

An adopted decision that sets the level records what became of it (`effect`): applied, or refused by the consent
rule with the members whose consent is missing.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import ActionError
from accord.records.models import Version
from accord.response.refs import RecordRef, check_texts, hang, pick
from accord.response.work_models import DecisionView, PositionView

logger = logging.getLogger("accord.response")

KIND = "decision"
POSITION_KIND = "position"
STATES = ("open", "adopted", "rejected")
POSITIONS = ("support", "abstain", "object")
PROPOSER_ROLES = frozenset({"focal_point", "coordinator"})
STATE_ROLES = frozenset({"focal_point"})
SECRETARIAT_ROLES = frozenset({"coordinator", "focal_point"})
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"


def position_roles(member: Member) -> frozenset[str]:
    """Who states a member's position: a state's focal points; the Secretariat's coordinators and focal points."""
    return SECRETARIAT_ROLES if member.kind == Member.Kind.SECRETARIAT else STATE_ROLES


def outcome(participants: list[str], positions: dict[str, str]) -> str:
    """The consensus rule: `rejected` if any participant objects; `adopted` if every participant has a position
    and none objects; otherwise `open`. Positions of members that do not participate do not count."""
    counted = {member: position for member, position in positions.items() if member in participants}
    if "object" in counted.values():
        return "rejected"
    if all(member in counted for member in participants):
        return "adopted"
    return "open"


class CountedPosition(BaseModel):
    """A position the outcome rests on: the member, what it said, and the position record's version."""

    model_config = ConfigDict(extra="forbid")

    member: str = Field(pattern=MEMBER_CODE)
    position: Literal["support", "abstain", "object"]
    node: str = Field(max_length=36)
    record: str = Field(max_length=36)
    seq: int = Field(ge=1)


class LevelEffect(BaseModel):
    """What became of an adopted level change: applied (the incident version it made), or refused."""

    model_config = ConfigDict(extra="forbid")

    level: int = Field(ge=0, le=3)
    applied: bool
    missing_consent: list[str] = Field(default_factory=list, max_length=300)
    reason: str = Field(default="", max_length=2000)
    incident_seq: int | None = Field(default=None, ge=1)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    text: dict[str, str] = Field(min_length=1, max_length=3)
    participants: list[str] = Field(min_length=1, max_length=300)
    sets_level: int | None = Field(default=None, ge=0, le=3)
    tasks: list[RecordRef] = Field(default_factory=list, max_length=100)
    positions: list[CountedPosition] = Field(default_factory=list, max_length=300)
    state: Literal["open", "adopted", "rejected"]
    effect: LevelEffect | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 20_000, required=True)

    @field_validator("participants")
    @classmethod
    def _participants(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 8 and code.isascii() and code.isalnum() and code.upper() == code):
                raise ValueError(f"{code!r} is not a member code")
        if len(set(value)) != len(value):
            raise ValueError("lists a member twice")
        return value


def _refuse(field: str, message: str) -> ActionError:
    return ActionError(f"{field}: {message}", field=field)


def _decision_rules(body: dict[str, Any], author: kinds.Author) -> None:
    participants = list(body["participants"])
    known = set(Member.objects.filter(code__in=participants).values_list("code", flat=True))
    unknown = [code for code in participants if code not in known]
    if unknown:
        raise _refuse("participants", f"not members: {', '.join(unknown)}")
    seen: set[str] = set()
    for counted in body.get("positions", []):
        if counted["member"] not in participants:
            raise _refuse("positions", f"{counted['member']} does not participate in this decision")
        if counted["member"] in seen:
            raise _refuse("positions", f"{counted['member']} is counted twice")
        seen.add(counted["member"])
    effect = body.get("effect")
    if effect is not None and (body["state"] != "adopted" or body.get("sets_level") != effect["level"]):
        raise _refuse("effect", "only an adopted decision that sets this level has an effect")


def _computed(body: dict[str, Any]) -> dict[str, Any]:
    positions = {str(p["member"]): str(p["position"]) for p in body.get("positions", [])}
    return {"state": outcome(list(body["participants"]), positions)}


def _project_decision(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        values = {
            "version": version,
            "incident_node": body["incident"]["node"],
            "incident_record": body["incident"]["record"],
            "state": str(body["state"])[:10],
            "sets_level": body.get("sets_level"),
            "participants": ("," + ",".join(str(m) for m in body["participants"]) + ",")[:2000],
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("decision %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        DecisionView.objects.filter(record_id=version.record_id).delete()
        return
    DecisionView.objects.update_or_create(record_id=version.record_id, defaults=values)


DECISION = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Decision"),
        body_model=DecisionBody,
        title=lambda body: pick(body.get("text"))[:200],
        search_text=lambda body: "\n".join((body.get("text") or {}).values()),
        publish_roles=PROPOSER_ROLES,
        project=_project_decision,
        rules=_decision_rules,
        computed=_computed,
        endpoint="POST /api/v1/incidents/{id}/decisions",
    )
)


class PositionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: RecordRef
    incident: RecordRef
    member: str = Field(pattern=MEMBER_CODE)
    position: Literal["support", "abstain", "object"]
    comment: str = Field(default="", max_length=5000)


def _project_position(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        values = {
            "version": version,
            "decision_node": body["decision"]["node"],
            "decision_record": body["decision"]["record"],
            "member": str(body["member"])[:8],
            "position": str(body["position"])[:8],
            "active": version.state == "active",
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("position %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        PositionView.objects.filter(record_id=version.record_id).delete()
        return
    PositionView.objects.update_or_create(record_id=version.record_id, defaults=values)


POSITION = kinds.register(
    kinds.RecordKind(
        name=POSITION_KIND,
        label=_("Position on a decision"),
        body_model=PositionBody,
        title=lambda body: f"{body.get('member', '')}: {body.get('position', '')}",
        search_text=lambda body: str(body.get("comment", "")),
        publish_roles=PROPOSER_ROLES,
        member_roles=position_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=_project_position,
        endpoint="POST /api/v1/decisions/{id}/positions",
    )
)
