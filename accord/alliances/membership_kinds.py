"""The record kinds of the alliances' voluntary membership: `alliance_application`, `alliance_decision` and
`alliance_departure`. Their audience is everyone, TLP:GREEN: who belongs to an alliance is public among the members.

* An **application** is issued for the applying organisation's member (`speaks_for`) by an account of that
  organisation (expert, focal point or coordinator). Its body names the alliance, the organisation (slug, member,
  name), a motivation and `previous`: the organisation's application to the same alliance before it (null for the
  first). The applications of an organisation to an alliance are thus a chain of records, and a later one (a rejoin
  after leaving, a new try after a decline) follows the one it names, whatever the clocks of the nodes say.
* A **decision** (`accept` or `decline`, with a reason, required) names the application it decides ({node, record})
  and repeats its alliance and organisation. It is issued by an account of a council organisation of that alliance
  or by a Secretariat coordinator, never by the applying organisation (the actions check the account; the
  projection counts a decision only when its author's member is the Secretariat or the member of a council
  organisation, and never one issued by the applying organisation itself).
* A **departure** (optional reason) is issued by the member organisation itself, no approval: it names the
  application whose membership it ends.

Which of several decisions counts, and when, is the projection's rule (`membership_replay`), the same on every node.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.alliances import membership_replay as replay
from accord.alliances.seed import SLUGS
from accord.records import kinds
from accord.records.errors import ActionError

APPLICATION_KIND = "alliance_application"
DECISION_KIND = "alliance_decision"
DEPARTURE_KIND = "alliance_departure"
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
SLUG = r"^[a-z0-9][a-z0-9-]{1,79}$"
# Who acts for an organisation (not a viewer-only account).
ACTING_ROLES = frozenset({"expert", "focal_point", "coordinator"})
SECRETARIAT = "SCO"


class Ref(BaseModel):
    """Another record, by its identity: the node that issued it and its UUID."""

    model_config = ConfigDict(extra="forbid")

    node: uuid.UUID
    record: uuid.UUID


class Applicant(BaseModel):
    """An organisation, as every node knows it: its slug and member (its row may exist only on its own node)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG)
    member: str = Field(pattern=MEMBER_CODE)
    name: str = Field(default="", max_length=200)


class OrganisationRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG)
    member: str = Field(pattern=MEMBER_CODE)


class ApplicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance: str = Field(max_length=40)
    organisation: Applicant
    motivation: str = Field(default="", max_length=5000)
    previous: Ref | None = None


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application: Ref
    alliance: str = Field(max_length=40)
    organisation: OrganisationRef
    decision: Literal["accept", "decline"]
    reason: str = Field(max_length=2000)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the reason of the decision")
        return value.strip()


class DepartureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application: Ref
    alliance: str = Field(max_length=40)
    organisation: OrganisationRef
    reason: str = Field(default="", max_length=2000)


def refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


def _alliance_rule(body: dict[str, Any], author: kinds.Author) -> None:
    if body["alliance"] not in SLUGS:
        raise refuse("alliance", f"{body['alliance']!r} is not one of the alliances {', '.join(SLUGS)}")


def acting_roles(member: Any) -> frozenset[str]:
    """Who may issue an application or a departure for an organisation of `member`."""
    return ACTING_ROLES


def deciding_roles(member: Any) -> frozenset[str]:
    """Who may issue a decision: for the Secretariat its coordinators, for a member the acting roles of a council
    organisation (which organisation is a council's is checked by the action)."""
    return frozenset({"coordinator"}) if getattr(member, "code", None) == SECRETARIAT else ACTING_ROLES


def _organisation_member(body: dict[str, Any]) -> str | None:
    return str((body.get("organisation") or {}).get("member") or "") or None


def _title(body: dict[str, Any]) -> str:
    organisation = body.get("organisation") or {}
    return f"{organisation.get('slug', '')} ({organisation.get('member', '')}): {body.get('alliance', '')}"


APPLICATION = kinds.register(
    kinds.RecordKind(
        name=APPLICATION_KIND,
        label=_("Application to an alliance"),
        body_model=ApplicationBody,
        title=lambda body: f"{_title(body)} — applied",
        search_text=lambda body: "\n".join(
            str(x) for x in (body.get("alliance"), (body.get("organisation") or {}).get("name"), body.get("motivation"))
        ),
        publish_roles=ACTING_ROLES,
        member_roles=acting_roles,
        speaks_for=_organisation_member,
        rules=_alliance_rule,
        project=replay.project,
        endpoint="POST /api/v1/alliances/{slug}/applications",
        withdraw_endpoint="POST /api/v1/alliances/{slug}/leave",
    )
)

DECISION = kinds.register(
    kinds.RecordKind(
        name=DECISION_KIND,
        label=_("Decision on an application to an alliance"),
        body_model=DecisionBody,
        title=lambda body: f"{_title(body)} — {body.get('decision', '')}",
        search_text=lambda body: "\n".join(str(x) for x in (body.get("alliance"), body.get("reason"))),
        publish_roles=ACTING_ROLES,
        member_roles=deciding_roles,
        rules=_alliance_rule,
        project=replay.project,
        endpoint="POST /api/v1/applications/{id}/decision",
        withdraw_endpoint="POST /api/v1/applications/{id}/decision",  # a decision stands once made
    )
)

DEPARTURE = kinds.register(
    kinds.RecordKind(
        name=DEPARTURE_KIND,
        label=_("Departure from an alliance"),
        body_model=DepartureBody,
        title=lambda body: f"{_title(body)} — left",
        search_text=lambda body: "\n".join(str(x) for x in (body.get("alliance"), body.get("reason"))),
        publish_roles=ACTING_ROLES,
        member_roles=acting_roles,
        speaks_for=_organisation_member,
        rules=_alliance_rule,
        project=replay.project,
        endpoint="POST /api/v1/alliances/{slug}/leave",
        withdraw_endpoint="POST /api/v1/alliances/{slug}/applications",  # to come back, apply again
    )
)
