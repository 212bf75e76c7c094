"""The record kind `incident`: one event the members respond to together, and everything about it hangs from it.

The body is the whole incident as its origin now states it (title, hazard, who is affected, the SCO joint-response
level, open or closed) plus `change`: what this version changed and why (opened, edited, level raised or lowered,
closed, reopened, level dropped because a consent was withdrawn). A version at level 2 or 3 lists the consents it
rests on, one of every affected member, so the consent rule is part of the signed record and is checked on every
write path, versions received from peers included.
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
from accord.response import hazards
from accord.response.models import IncidentView
from accord.response.refs import RecordRef, check_texts, pick, signed_time
from accord.surveillance import reference

logger = logging.getLogger("accord.response")

KIND = "incident"
LEVELS = (0, 1, 2, 3)
# Levels that touch sovereignty: reached only with the consent of every affected member.
CONSENT_LEVELS = frozenset({2, 3})
STATE_ROLES = frozenset({"focal_point"})
SECRETARIAT_ROLES = frozenset({"coordinator", "focal_point"})
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"


def incident_roles(member: Member) -> frozenset[str]:
    """Who opens and changes incidents for `member`: a state's focal points; the Secretariat's coordinators (and
    focal points). The one rule the kind, the actions, the API and the pages use."""
    return SECRETARIAT_ROLES if member.kind == Member.Kind.SECRETARIAT else STATE_ROLES


class Hazard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=20)
    icd10: str | None = Field(default=None, max_length=20)
    icd11: str | None = Field(default=None, max_length=20)


class ConsentUsed(BaseModel):
    """A consent a level of 2 or 3 rests on: the member's consent record and the version that gave it."""

    model_config = ConfigDict(extra="forbid")

    member: str = Field(pattern=MEMBER_CODE)
    node: str = Field(max_length=36)
    record: str = Field(max_length=36)
    seq: int = Field(ge=1)


class Change(BaseModel):
    """What a version changed, and why."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["open", "edit", "level", "close", "reopen", "consent_withdrawn", "decision"]
    reason: str = Field(default="", max_length=2000)
    from_level: int | None = Field(default=None, ge=0, le=3)
    cause: RecordRef | None = None  # the record that caused it (a consent withdrawn, a decision adopted)


class IncidentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: dict[str, str] = Field(min_length=1, max_length=3)
    summary: dict[str, str] = Field(default_factory=dict, max_length=3)
    hazard: Hazard
    domains: list[Literal["human", "animal", "plant", "environment"]] = Field(min_length=1, max_length=4)
    affected_members: list[str] = Field(min_length=1, max_length=300)
    regions: list[str] = Field(default_factory=list, max_length=1000)
    lead_member: str = Field(pattern=MEMBER_CODE)
    level: int = Field(ge=0, le=3)
    status: Literal["open", "closed"]
    change: Change
    consents: list[ConsentUsed] = Field(default_factory=list, max_length=300)

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 300, required=True)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 20_000, required=False)

    @field_validator("domains", "regions")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists an entry twice")
        return value

    @field_validator("affected_members")
    @classmethod
    def _members(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 8 and code.isascii() and code.isalnum() and code.upper() == code):
                raise ValueError(f"{code!r} is not a member code")
        if len(set(value)) != len(value):
            raise ValueError("lists a member twice")
        return value


def _refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the body field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    try:
        hazards.check(body["hazard"])
    except hazards.UnknownHazard as error:
        raise _refuse("hazard", str(error)) from None
    affected = list(body["affected_members"])
    known = dict(Member.objects.filter(code__in=[*affected, body["lead_member"]]).values_list("code", "kind"))
    unknown = [code for code in affected if code not in known]
    if unknown:
        raise _refuse("affected_members", f"unknown members: {', '.join(unknown)}")
    lead = body["lead_member"]
    if lead not in affected and known.get(lead) != Member.Kind.SECRETARIAT:
        raise _refuse("lead_member", f"{lead} is neither an affected member nor the Secretariat")
    table = reference.regions()
    for code in body.get("regions", []):
        region = table.get(code)
        if region is None or region.whole_member:
            raise _refuse("regions", f"{code} is not a listed first-level region (ISO 3166-2)")
        if region.member not in affected:
            raise _refuse("regions", f"{code} is a region of {region.member}, which is not affected")
    change = body["change"]
    if body["status"] == "closed" and not change.get("reason", "").strip():
        raise _refuse("reason", "closing an incident needs a reason")
    explained = ("level", "reopen", "consent_withdrawn", "decision")
    if change["action"] in explained and not change.get("reason", "").strip():
        raise _refuse("reason", f"a {change['action'].replace('_', ' ')} needs a reason")
    if body["level"] in CONSENT_LEVELS:
        consented = {c["member"] for c in body.get("consents", [])}
        missing = [code for code in affected if code not in consented]
        if missing:
            raise _refuse(
                "level",
                f"level {body['level']} needs the consent of every affected member; missing: {', '.join(missing)}",
            )


def _title(body: dict[str, Any]) -> str:
    return pick(body.get("title"))


def _search(body: dict[str, Any]) -> str:
    parts = [*(body.get("title") or {}).values(), *(body.get("summary") or {}).values()]
    hazard = body.get("hazard") or {}
    parts += [str(hazard.get(k) or "") for k in ("type", "icd10", "icd11")]
    disease = reference.diseases().get(str(hazard.get("icd10") or ""))
    if disease is not None:
        parts += [disease.name_en, disease.name_ru, disease.name_zh]
    return "\n".join(p for p in parts if p)


def _project(version: Version) -> None:
    """Keep IncidentView in step with the record's current version. Runs for received versions too: a body this
    node cannot read (a newer peer's) projects nothing rather than failing the ingest."""
    body = version.body
    try:
        hazard = dict(body["hazard"])
        values = {
            "version": version,
            "member": version.origin_member[:8],
            "status": str(body["status"])[:8],
            "level": int(body["level"]),
            "hazard": hazards.key(hazard)[:20],
            "hazard_type": str(hazard.get("type", ""))[:20],
            "domains": ("," + ",".join(str(d) for d in body["domains"]) + ",")[:60],
            "affected": ("," + ",".join(str(m) for m in body["affected_members"]) + ",")[:2000],
            "lead": str(body["lead_member"])[:8],
            "title": pick(body["title"])[:300],
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("incident %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        IncidentView.objects.filter(record_id=version.record_id).delete()
        return
    existing = IncidentView.objects.filter(record_id=version.record_id).values_list("opened_at", flat=True).first()
    values["opened_at"] = existing or values["updated_at"]
    IncidentView.objects.update_or_create(record_id=version.record_id, defaults=values)


INCIDENT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Incident"),
        body_model=IncidentBody,
        title=_title,
        search_text=_search,
        publish_roles=STATE_ROLES,
        member_roles=incident_roles,
        project=_project,
        rules=_rules,
        endpoint="POST /api/v1/incidents",
        page="incident",
    )
)
