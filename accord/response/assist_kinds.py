"""The record kinds of mutual assistance: `assistance_request`, `assistance_offer`, `assistance_acceptance` and
`assistance_commitment` (the `deployment` kind is in `assist_deploy_kind`).

* A **request** is issued for the member it speaks for (`member`): an affected member of the incident (its focal
  points) or the Secretariat (its coordinators). Its body states the resource type of the catalogue
  (`assist_catalogue`), the quantity in the type's unit, when and where it is needed, its priority and the
  requester's state (`open`, then `withdrawn` or `closed` by a new version). An optional point lies in the territory
  of the region's member (`check_point`; a deployment's location is checked the same way). Whether it is partly
  covered or covered is not stated: the ledger computes it.
* An **offer** is issued for another member than the one it is offered to (`to_member`, the requester): on a
  request (solicited), or on an incident alone (unsolicited, for the affected member to accept).
* An **acceptance** (offer, request, quantity) is issued for the requesting member, by the request's origin node
  only: the ledger counts no other (see `assist_ledger`).
* A **commitment** (offer, request, quantity) is issued for the offering member, by the offer's origin node.

Every rule here is checked on every write path, versions received from peers included; the rules that need what
only one node knows (the sum already accepted) are decided there, by `assist_actions`, and the ledger of every node
counts only what that node issued.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from accord.members import outlines
from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import ActionError
from accord.response import assist_catalogue as catalogue
from accord.response import assist_ledger as ledger
from accord.response.kinds import incident_roles
from accord.response.models import IncidentView
from accord.response.refs import RecordRef
from accord.response.tasks_kind import format_time, parse_time
from accord.surveillance import reference

REQUEST_KIND = "assistance_request"
OFFER_KIND = "assistance_offer"
ACCEPTANCE_KIND = "assistance_acceptance"
COMMITMENT_KIND = "assistance_commitment"
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
MAX_QUANTITY = 1_000_000_000
PRIORITIES = ("high", "medium", "low")


def refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


def when(text: str) -> str:
    """A date (`2026-05-01`) or an RFC 3339 time, normalised (a time in UTC with Z)."""
    text = text.strip()
    if len(text) == 10:
        return date.fromisoformat(text).isoformat()
    return format_time(parse_time(text))


def optional_when(value: str | None) -> str | None:
    """`when` for an optional field, with the message a body's validation shows."""
    if value is None:
        return None
    try:
        return when(value)
    except ValueError:
        raise ValueError("not a date (2026-05-01) or an RFC 3339 time (2026-05-01T12:00:00Z)") from None


class Point(BaseModel):
    """A point in WGS 84 degrees. Signed records hold no floats, so the body keeps each as a decimal string
    ("43.25"); a number or such a string is accepted."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)

    @field_serializer("lat", "lon")
    def _decimal(self, value: float) -> str:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text


class OutsideTerritory(ActionError):
    """A point that does not lie in the territory of the member whose region it is given with (400, on the field
    that holds the point). `member`, `region` and `point` say which, for a page to say it in the reader's language."""

    def __init__(self, name: str, *, field: str, point: tuple[float, float], region: str, member: str) -> None:
        message = f"({point[0]}, {point[1]}) is not in {member}, whose region {region} it is given with"
        super().__init__(f"{name}: {message}", field=field)
        self.point, self.region, self.member = point, region, member


def check_point(point: Any, region: str, *, name: str, field: str) -> None:
    """A body's point (decimal text, or numbers) lies in the outline of the member whose first-level region `region`
    is (`accord.members.outlines`, within about 5 km). No point, a region not listed (refused on its own) or a member
    without an outline: nothing to check."""
    if not isinstance(point, dict):
        return
    found = reference.regions().get(region)
    if found is None:
        return
    lat, lon = float(point["lat"]), float(point["lon"])
    if outlines.contains(found.member, lat, lon) is False:
        raise OutsideTerritory(name, field=field, point=(lat, lon), region=region, member=found.member)


class RequestChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["create", "edit", "withdraw", "close"]
    reason: str = Field(default="", max_length=2000)


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    member: str = Field(pattern=MEMBER_CODE)
    resource_type: str = Field(min_length=1, max_length=40)
    detail: str = Field(default="", max_length=500)
    unit: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    needed_by: str = Field(max_length=40)
    region: str = Field(min_length=2, max_length=12)
    point: Point | None = None
    priority: Literal["high", "medium", "low"]
    conditions: str = Field(default="", max_length=5000)
    status: Literal["open", "withdrawn", "closed"]
    change: RequestChange

    @field_validator("needed_by")
    @classmethod
    def _needed_by(cls, value: str) -> str | None:
        return optional_when(value)


class OfferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    request: RecordRef | None = None  # none: unsolicited
    member: str = Field(pattern=MEMBER_CODE)  # the offering member
    to_member: str = Field(pattern=MEMBER_CODE)  # the member who decides (the requester)
    resource_type: str = Field(min_length=1, max_length=40)
    detail: str = Field(default="", max_length=500)
    unit: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    available_from: str | None = Field(default=None, max_length=40)
    available_until: str | None = Field(default=None, max_length=40)
    lead_time_days: int | None = Field(default=None, ge=0, le=3650)
    conditions: str = Field(default="", max_length=5000)
    costs_borne_by: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=5000)

    @field_validator("available_from", "available_until")
    @classmethod
    def _times(cls, value: str | None) -> str | None:
        return optional_when(value)


class AcceptanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    request: RecordRef
    offer: RecordRef
    member: str = Field(pattern=MEMBER_CODE)  # the requesting member
    offer_member: str = Field(pattern=MEMBER_CODE)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    note: str = Field(default="", max_length=2000)


class CommitmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    request: RecordRef
    offer: RecordRef
    member: str = Field(pattern=MEMBER_CODE)  # the offering member
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    note: str = Field(default="", max_length=2000)


def check_resource(body: dict[str, Any]) -> catalogue.ResourceType:
    """The type is in the catalogue, the unit is the type's, and a type that needs a detail has one."""
    found = catalogue.get(str(body.get("resource_type", "")))
    if found is None:
        raise refuse("resource_type", f"{body.get('resource_type')!r} is not a type of the resource catalogue")
    if body.get("unit") != found.unit:
        raise refuse("unit", f"a {found.code} is counted in {found.unit}, not in {body.get('unit')!r}")
    if found.detail_required and not str(body.get("detail", "")).strip():
        raise refuse("detail", f"a request for {found.code} needs its {found.detail}")
    return found


PERSON_ROLE = "expert"


def offering_roles(member: Member) -> frozenset[str]:
    """Who issues offers, commitments and deployments for `member`: its focal points (`incident_roles`), and a person
    on the alliances' expert roster (role `expert`) for one person, themself. The record core checks the role; the
    actions hold an expert to the offer of themself that a roster call's selection makes (`assist_actions.entitled`:
    resource type `expert`, quantity 1, issued by that account), so experts offer nothing else."""
    return incident_roles(member) | {PERSON_ROLE}


def _is_secretariat(code: str) -> bool:
    return Member.objects.filter(code=code, kind=Member.Kind.SECRETARIAT).exists()


def _affected(incident: dict[str, Any]) -> list[str] | None:
    """The affected members of the incident a body names, when this node holds it."""
    view = IncidentView.objects.filter(record__uuid=incident["record"]).values_list("affected", flat=True).first()
    return None if view is None else [m for m in view.split(",") if m]


def _request_rules(body: dict[str, Any], author: kinds.Author) -> None:
    check_resource(body)
    member = body["member"]
    secretariat = _is_secretariat(member)
    affected = _affected(body["incident"])
    if affected is None and not author.received:
        raise refuse("incident", "this node does not hold the incident")
    if affected is not None and not secretariat and member not in affected:
        raise refuse(
            "member", f"{member} is not an affected member of the incident; only they and the Secretariat request"
        )
    region = reference.regions().get(body["region"])
    if region is None:
        raise refuse("region", f"{body['region']} is not a listed first-level region (ISO 3166-2)")
    if not secretariat and region.member != member:
        raise refuse("region", f"{region.code} is a region of {region.member}, not of {member}")
    if secretariat and affected is not None and region.member not in affected:
        raise refuse("region", f"{region.code} is a region of {region.member}, which is not affected")
    check_point(body.get("point"), region.code, name="point", field="point")


def _offer_rules(body: dict[str, Any], author: kinds.Author) -> None:
    check_resource(body)
    if body["member"] == body["to_member"]:
        raise refuse(
            "member", f"{body['member']} cannot offer assistance to itself; an offer comes from another member"
        )
    start, end = body.get("available_from"), body.get("available_until")
    if start and end and ledger.moment(end) < ledger.moment(start):
        raise refuse("available_until", "is before available_from")


def _acceptance_rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["member"] == body["offer_member"]:
        raise refuse("offer", "a member cannot accept its own offer")


def _title(body: dict[str, Any]) -> str:
    found = catalogue.get(str(body.get("resource_type", "")))
    name = found.name_en if found is not None else str(body.get("resource_type", ""))
    return f"{name}: {body.get('quantity', '')} {body.get('unit', '')}".strip()


def _search(body: dict[str, Any]) -> str:
    found = catalogue.get(str(body.get("resource_type", "")))
    parts = [*(found.names().values() if found is not None else ())]
    parts += [str(body.get(k) or "") for k in ("detail", "conditions", "note", "region", "member")]
    return "\n".join(p for p in parts if p)


REQUEST = kinds.register(
    kinds.RecordKind(
        name=REQUEST_KIND,
        label=_("Assistance request"),
        body_model=RequestBody,
        title=_title,
        search_text=_search,
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=ledger.project_request,
        rules=_request_rules,
        endpoint="POST /api/v1/incidents/{id}/requests",
        withdraw_endpoint="POST /api/v1/requests/{id}/withdraw",
    )
)

OFFER = kinds.register(
    kinds.RecordKind(
        name=OFFER_KIND,
        label=_("Assistance offer"),
        body_model=OfferBody,
        title=_title,
        search_text=_search,
        publish_roles=frozenset({"focal_point"}),
        member_roles=offering_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=ledger.project_offer,
        rules=_offer_rules,
        endpoint="POST /api/v1/requests/{id}/offers",
        withdraw_endpoint="POST /api/v1/offers/{id}/withdraw",
    )
)

ACCEPTANCE = kinds.register(
    kinds.RecordKind(
        name=ACCEPTANCE_KIND,
        label=_("Acceptance of an offer"),
        body_model=AcceptanceBody,
        title=lambda body: f"accepted {body.get('quantity', '')}",
        search_text=lambda body: str(body.get("note", "")),
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=ledger.project_acceptance,
        rules=_acceptance_rules,
        endpoint="POST /api/v1/offers/{id}/accept",
        # An acceptance stands once made (the ledger counts it): what is undone is the offer, whose accepted part not
        # committed then goes back to the gap.
        withdraw_endpoint="POST /api/v1/offers/{id}/withdraw",
    )
)

COMMITMENT = kinds.register(
    kinds.RecordKind(
        name=COMMITMENT_KIND,
        label=_("Commitment of an offer"),
        body_model=CommitmentBody,
        title=lambda body: f"committed {body.get('quantity', '')}",
        search_text=lambda body: str(body.get("note", "")),
        publish_roles=frozenset({"focal_point"}),
        member_roles=offering_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=ledger.project_commitment,
        endpoint="POST /api/v1/offers/{id}/commit",
        withdraw_endpoint="POST /api/v1/offers/{id}/withdraw",  # a commitment stands; the offer may be withdrawn
    )
)
