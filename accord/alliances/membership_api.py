"""/api/v1/alliances and /api/v1/applications: the three alliances, their councils and members, and voluntary
membership (apply, decide, leave). The contract of issue #18: the names are used by checks outside this repository,
keep them."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from accord.alliances import membership_actions as actions
from accord.alliances import membership_queries as queries
from accord.alliances.membership_models import Membership, MembershipEntry
from accord.alliances.models import Alliance
from accord.api import account_of, principal_of, require_write
from accord.records.errors import NotFound
from accord.records.principal import Principal

alliances_router: Router = Router(tags=["alliances"])
applications_router: Router = Router(tags=["alliances"])


class MemberOrganisationOut(Schema):
    slug: str
    member: str
    name: str = Field(description="its name as its application gave it")
    since: datetime | None = Field(default=None, description="member since (the decision that accepted it)")


class MembershipEventOut(Schema):
    event: str = Field(description="applied, accepted, declined or left")
    record: UUID = Field(description="the record of the application, decision or departure")
    node: UUID
    at: datetime = Field(description="when it was signed")
    member: str = Field(description="the member it was issued for (the decider's, for a decision)")
    reason: str = Field(description="the motivation of an application, the reason of a decision or departure")
    rejoin: bool = Field(default=False, description="an application after the organisation had left")
    application: UUID | None = Field(default=None, description="a decision's or departure's application")
    organisation: str = ""
    organisation_member: str = ""


class MembershipOut(Schema):
    alliance: str
    organisation: str = Field(description="the organisation's slug")
    member: str = Field(description="its member")
    name: str
    state: str = Field(description="pending, member, declined or left")
    since: datetime
    reason: str = Field(description="the reason of the decision or departure that put it in this state")
    decided_by: str = Field(description="the member whose decision counted (the Secretariat: SCO)")
    application: UUID = Field(description="its current application (the `id` of POST .../applications)")
    history: list[MembershipEventOut]


class AllianceApplicationOut(MembershipOut):
    id: UUID = Field(description="the application's record")
    node: UUID = Field(description="the node that issued it")
    motivation: str
    application_state: str = Field(description="this application's own state: pending, member, declined, left")


class AllianceOut(Schema):
    slug: str = Field(description="medicine, law or agriculture")
    name: str = Field(description="in the language of the request")
    names: dict[str, str] = Field(description="en, zh, ru")
    charter: str
    charters: dict[str, str] = Field(description="en, zh, ru")
    council: list[str] = Field(description="the slugs of the council's organisations")
    members: list[str] = Field(description="the slugs of the member organisations")
    member_organisations: list[MemberOrganisationOut]
    member_states: list[str] = Field(description="members with at least one member organisation")


class AllianceDetail(AllianceOut):
    memberships: list[MembershipOut] = Field(description="every organisation that applied, in its present state")
    applications: list[AllianceApplicationOut] = Field(
        description="the pending applications: listed only to those who decide them (council, Secretariat)"
    )
    history: list[MembershipEventOut] = Field(
        description="every application, decision and departure that counted, oldest first"
    )
    may_decide: bool = Field(description="whether the caller decides this alliance's applications")


class AllianceApplicationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    motivation: str = Field(default="", max_length=5000, description="why the organisation joins")
    organisation: str | None = Field(default=None, description="the caller's own organisation's slug (the default)")


class AllianceDecisionIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"decision": "accept", "reason": "…"}]})

    decision: str = Field(default="", max_length=20, description="accept or decline")
    reason: str = Field(default="", max_length=2000, description="required")


class AllianceLeaveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


def _event(event: dict[str, Any], membership: Membership | None = None) -> dict[str, Any]:
    out = dict(event)
    if membership is not None:
        out.update(organisation=membership.organisation, organisation_member=membership.member)
    return out


def membership_out(membership: Membership) -> dict[str, Any]:
    return {
        "alliance": membership.alliance,
        "organisation": membership.organisation,
        "member": membership.member,
        "name": membership.name,
        "state": membership.state,
        "since": membership.since,
        "reason": membership.reason,
        "decided_by": membership.decided_by,
        "application": membership.application.uuid,
        "history": [_event(e, membership) for e in membership.history],
    }


def application_out(principal: Principal, record_uuid: UUID | str) -> dict[str, Any]:
    """One application with its organisation's membership of the alliance (404 for one the principal may not see)."""
    record = actions.application_for(principal, record_uuid)
    entry = MembershipEntry.objects.filter(record=record).first()
    if entry is None:
        raise NotFound(actions.NO_SUCH_APPLICATION, field="application")
    membership = Membership.objects.filter(
        alliance=entry.alliance, organisation=entry.organisation, member=entry.member
    ).first()
    own = "pending"
    if membership is None:
        out: dict[str, Any] = {
            "alliance": entry.alliance,
            "organisation": entry.organisation,
            "member": entry.member,
            "name": entry.name,
            "state": "pending",
            "since": entry.at,
            "reason": "",
            "decided_by": "",
            "application": record.uuid,
            "history": [],
        }
    else:
        out = membership_out(membership)
        own = _state_of(record.uuid, membership)
    return {
        **out,
        "id": record.uuid,
        "node": record.origin_node,
        "motivation": entry.motivation,
        "application_state": own,
    }


def _state_of(record_uuid: UUID, membership: Membership) -> str:
    """The state an application reached, from its organisation's history."""
    state = ""
    for event in membership.history:
        if event["event"] == "applied":
            mine = event["record"] == str(record_uuid)
            if mine:
                state = "pending"
        elif event.get("application") == str(record_uuid):
            state = {"accepted": "member", "declined": "declined", "left": "left"}[event["event"]]
    return state or "superseded"


def alliance_out(alliance: Alliance) -> dict[str, Any]:
    members = list(Membership.objects.filter(alliance=alliance.slug, state="member").order_by("member", "organisation"))
    return {
        "slug": alliance.slug,
        "name": alliance.name,
        "names": {"en": alliance.name_en, "zh": alliance.name_zh, "ru": alliance.name_ru},
        "charter": alliance.charter,
        "charters": {"en": alliance.charter_en, "zh": alliance.charter_zh, "ru": alliance.charter_ru},
        "council": sorted(alliance.council.values_list("slug", flat=True)),
        "members": [m.organisation for m in members],
        "member_organisations": [
            {"slug": m.organisation, "member": m.member, "name": m.name, "since": m.since} for m in members
        ],
        "member_states": sorted({m.member for m in members}),
    }


def alliance_detail(request: HttpRequest, alliance: Alliance) -> dict[str, Any]:
    principal = principal_of(request)
    rows = list(queries.memberships_for(principal, alliance).select_related("application"))
    deciding = queries.may_decide(account_of(request), alliance.slug)
    # Each organisation's chain in its own order (causal, whatever the clocks), merged by time.
    history = list(heapq.merge(*([_event(e, m) for e in m.history] for m in rows), key=lambda e: str(e["at"])))
    pending = [m for m in rows if m.state == "pending"] if deciding else []
    return {
        **alliance_out(alliance),
        "memberships": [membership_out(m) for m in rows],
        "applications": [application_out(principal, m.application.uuid) for m in pending],
        "history": history,
        "may_decide": deciding,
    }


@alliances_router.get("", response=list[AllianceOut], summary="The three alliances, with their council and members")
def list_alliances(request: HttpRequest) -> list[dict[str, Any]]:
    return [alliance_out(a) for a in Alliance.objects.prefetch_related("council").order_by("slug")]


@alliances_router.get(
    "/{slug}",
    response=AllianceDetail,
    summary="One alliance: charter, council, members, the membership history (and pending applications to deciders)",
)
def get_alliance(request: HttpRequest, slug: str) -> dict[str, Any]:
    return alliance_detail(request, actions.alliance_named(slug))


@alliances_router.post(
    "/{slug}/applications",
    response={201: AllianceApplicationOut},
    summary="Apply to join an alliance (an account of the applying organisation)",
    description=(
        "Answers 201 with the application (`id`), pending until the council or a Secretariat coordinator decides. "
        "An organisation that is a member already, or has an application pending, gets 409 naming `alliance`; a "
        "viewer-only account 403; an unknown alliance 404. Nothing is stored on any of them."
    ),
)
def apply(request: HttpRequest, slug: str, payload: AllianceApplicationIn | None = None) -> Status[dict[str, Any]]:
    require_write(request)
    given = payload or AllianceApplicationIn()
    version = actions.apply(
        slug, acting_user=account_of(request), motivation=given.motivation, organisation=given.organisation
    )
    return Status(201, application_out(principal_of(request), version.record_uuid))


@alliances_router.post(
    "/{slug}/leave",
    response=MembershipOut,
    summary="Leave an alliance (an account of the member organisation; no approval)",
    description="An organisation that is not a member gets 409 naming `alliance`; nothing is stored.",
)
def leave(request: HttpRequest, slug: str, payload: AllianceLeaveIn | None = None) -> dict[str, Any]:
    require_write(request)
    given = payload or AllianceLeaveIn()
    version = actions.leave(slug, acting_user=account_of(request), reason=given.reason)
    membership = Membership.objects.select_related("application").get(
        alliance=version.body["alliance"],
        organisation=version.body["organisation"]["slug"],
        member=version.body["organisation"]["member"],
    )
    return membership_out(membership)


@applications_router.get(
    "/{uuid:record_uuid}", response=AllianceApplicationOut, summary="One application to an alliance"
)
def get_application(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return application_out(principal_of(request), record_uuid)


@applications_router.post(
    "/{uuid:record_uuid}/decision",
    response=AllianceApplicationOut,
    summary="Accept or decline an application, with a reason (the alliance's council or a Secretariat coordinator)",
    description=(
        "`decision` is accept or decline and `reason` is required (400 naming it). The applying organisation gets "
        "403, as does anyone but an account of a council organisation or a Secretariat coordinator; an application "
        "decided already is a 409 naming `application`. Nothing is stored on any of them."
    ),
)
def decide(request: HttpRequest, record_uuid: UUID, payload: AllianceDecisionIn) -> dict[str, Any]:
    require_write(request)
    actions.decide(record_uuid, acting_user=account_of(request), decision=payload.decision, reason=payload.reason)
    return application_out(principal_of(request), record_uuid)


def add_routers(api: Any) -> None:
    api.add_router("/alliances", alliances_router)
    api.add_router("/applications", applications_router)
