"""Every change to mutual assistance: request, offer (on a request or unsolicited on an incident), accept, withdraw
and close a request (commit and deploy are in `assist_deploy`).

Functions for callers (API, web pages, demo data, importers), each taking the acting account:

* `create_request(incident, acting_user=, resource_type=, quantity=, needed_by=, region=, priority=, ...)`
* `make_offer(request, acting_user=, quantity=, ...)` and `offer_unsolicited(incident, acting_user=, ...)`
* `accept(offer, acting_user=, quantity=, request=None)`: raises `OverAccepted` (409, `open_quantity`) when the
  request (or the offer) has less open than asked
* `withdraw_request(request, acting_user=, reason=)`, `close_request(...)`
* `withdraw_offer(offer, acting_user=, reason=)`: the offering member, on the offer's origin node; what was accepted
  of it and not committed goes back to the requests' gaps (see `assist_ledger`)

Each returns the version it issued. Bad input raises ActionError naming the field (`quantity`, `unit`, `region`,
...), before anything is stored.

**The ledger rule.** Never more accepted than requested. Acceptance is decided on one node, the request's origin
(the requesting member's node): elsewhere `accept` refuses (409). There, in one transaction, it takes the audit
head's lock (the lock every version writer takes first, so the order of locks is the same everywhere), locks the
request's ledger row (`select_for_update`), re-reads the sum accepted and issues the acceptance only if it fits;
the acceptance's projection updates the row in the same transaction. On SQLite every writing transaction begins
IMMEDIATE, so writers are serialised there anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.kinds import Author, RecordKind
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import assist_ledger, hanging
from accord.response.assist_kinds import (
    ACCEPTANCE,
    ACCEPTANCE_KIND,
    OFFER,
    OFFER_KIND,
    PERSON_ROLE,
    REQUEST,
    REQUEST_KIND,
    refuse,
)
from accord.response.assist_models import AssistanceAcceptanceView, AssistanceOfferView, AssistanceRequestView
from accord.response.kinds import incident_roles
from accord.response.refs import ref_of
from accord.response.tasks_kind import format_time

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_REQUEST = "no such request"
NO_SUCH_OFFER = "no such offer"
# Body fields a caller names directly: a schema error on one of them names it, not "body".
FIELDS = (
    "resource_type", "quantity", "unit", "detail", "needed_by", "region", "point", "priority", "conditions",
    "available_from", "available_until", "lead_time_days", "costs_borne_by", "note", "to_member", "reason",
)  # fmt: skip


class OverAccepted(Conflict):
    """An acceptance for more than the request (or the offer) still has open: 409 with `open_quantity`."""

    def __init__(self, message: str, *, open_quantity: int, offer_open_quantity: int) -> None:
        super().__init__(message, field="quantity")
        self.open_quantity = open_quantity
        self.offer_open_quantity = offer_open_quantity
        self.extra = {"open_quantity": open_quantity, "offer_open_quantity": offer_open_quantity}  # in the 409


def member_of(acting_user: Account) -> str:
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    return organisation.member.code


def entitled(acting_user: Account, own: Version | None, *, field: str) -> None:
    """Offers, commitments, deployments and status reports are made by the offering member's focal points (the
    record core checks the role). An account that holds the expert role and none of those acts only for one person,
    themself: on an offer or deployment of one expert (resource type `expert`, quantity 1) that it issued (`own`).
    Such an offer is made only by a roster call's selection (`accord.alliances.mobilise_actions`, through
    `make_offer(person=True)`); here a 403 naming `field` otherwise."""
    organisation = acting_user.organisation
    roles = acting_user.role_names()
    if organisation is None or PERSON_ROLE not in roles or roles & incident_roles(organisation.member):
        return  # a focal point, or no expert at all: the record core's role check decides as for any kind
    mine = (
        own is not None
        and own.body.get("resource_type") == "expert"
        and own.body.get("quantity") == 1
        and str(own.author) == str(acting_user.uuid)
    )
    if not mine:
        raise Forbidden(
            f"{field}: an expert offers, commits and deploys only themself, when selected from a roster call; "
            "everything else is done by the member's focal points",
            field=field,
        )


def decided_here(record: Record, field: str, lead: str, there: str) -> None:
    """Where things are decided: a request's acceptances, withdrawal and closing on its origin node (the requesting
    member's), an offer's withdrawal, commitments and deployments on the offer's (the offering member's), a
    deployment's status reports on the deployment's. Elsewhere a 409 naming `field` (the record acted on), saying
    where: `"{field}: {lead} ({node}); {there}"`. Checked after who may act (a 403 naming the same field)."""
    if record.origin_node != record_actions.here().node_id:
        raise Conflict(f"{field}: {lead} ({record.origin_node}); {there}", field=field)


def checked(kind: RecordKind, body: dict[str, Any], acting_user: Account, status: str) -> dict[str, Any]:
    """The kind's rules before any write, so that an error names the field the caller sent."""
    try:
        return kind.check(body, Author(member=member_of(acting_user), status=status))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in FIELDS:
                error.field = head
        raise


def quantity_of(value: Any, field: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refuse(field, f"{value!r} is not a whole number above zero")
    return int(value)


def _time(value: datetime | str | None, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise refuse(field, "give the time with its offset or Z")
    return format_time(value)


def request_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """A request the principal may see; 404 otherwise."""
    return hanging.visible(principal, REQUEST_KIND, record_uuid, NO_SUCH_REQUEST)


def offer_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    return hanging.visible(principal, OFFER_KIND, record_uuid, NO_SUCH_OFFER)


def _audience(given: Audience | None, incident: hanging.Incident) -> Audience:
    if given is None:
        return incident.audience
    if not incident.audience.everyone and given.everyone:
        raise refuse("audience", "the incident is not shared with everyone; name the members of the request's audience")
    hanging.reaching(incident.audience, list(given.members), "audience")
    return given


def create_request(
    incident: uuid.UUID | str,
    *,
    acting_user: Account,
    resource_type: str,
    quantity: int,
    needed_by: datetime | str,
    region: str,
    priority: str = "medium",
    unit: str | None = None,
    detail: str = "",
    point: dict[str, float] | None = None,
    conditions: str = "",
    audience: Audience | None = None,
    tlp: str | None = None,
) -> Version:
    """Request assistance on an incident the caller may see and that is open, for the caller's member (an affected
    member, or the Secretariat). `unit` defaults to the type's; `audience` and `tlp` to the incident's."""
    from accord.response import assist_catalogue

    context = hanging.incident(Principal.of(acting_user), incident)
    quantity_of(quantity)
    found = assist_catalogue.get(resource_type)
    if found is None:
        raise refuse("resource_type", f"{resource_type!r} is not a type of the resource catalogue")
    body: dict[str, Any] = {
        "incident": context.ref,
        "member": member_of(acting_user),
        "resource_type": resource_type,
        "detail": detail,
        "unit": unit if unit is not None else found.unit,
        "quantity": quantity,
        "needed_by": _time(needed_by, "needed_by"),
        "region": region,
        "point": point,
        "priority": priority,
        "conditions": conditions,
        "status": "open",
        "change": {"action": "create"},
    }
    body = checked(REQUEST, {k: v for k, v in body.items() if v is not None}, acting_user, context.status)
    return record_actions.publish(
        REQUEST_KIND,
        body,
        audience=_audience(audience, context),
        tlp=tlp or context.tlp,
        status=context.status,
        acting_user=acting_user,
    )


def _end_request(record_uuid: uuid.UUID | str, acting_user: Account, state: str, reason: str) -> Version:
    request = request_for(Principal.of(acting_user), record_uuid)
    current = request.current_version
    assert current is not None
    if current.state != "active" or current.body.get("status") != "open":
        raise Conflict(f"request: the request is already {current.body.get('status')}", field="request")
    verb = "withdraw" if state == "withdrawn" else "close"
    requester = current.body.get("member")
    if requester != member_of(acting_user):
        raise Forbidden(f"request: only the requesting member ({requester}) may {verb} it", field="request")
    decided_here(request, "request", f"a request is {state} on the requesting member's node", f"{verb} it there")
    body = dict(current.body)
    body["status"] = state
    body["change"] = {"action": "withdraw" if state == "withdrawn" else "close", "reason": reason.strip()}
    return record_actions.revise(request, acting_user=acting_user, body=body)


def withdraw_request(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str = "") -> Version:
    """The requester withdraws its request: no more offers or acceptances; what was accepted stays on record."""
    return _end_request(record_uuid, acting_user, "withdrawn", reason)


def close_request(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str = "") -> Version:
    """The requester closes its request (it needs nothing more)."""
    return _end_request(record_uuid, acting_user, "closed", reason)


def withdraw_offer(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str) -> Version:
    """The offering member withdraws its offer (a version with state `withdrawn`, the reason in its envelope), on the
    offer's origin node, under the offer row's lock (the lock commitments and deployments take), so nothing is
    committed or deployed of it afterwards. It can no longer be accepted; what was accepted of it and not committed
    goes back to the requests' gaps."""
    record = offer_for(Principal.of(acting_user), record_uuid)
    current = record.current_version
    assert current is not None
    if current.state != "active":
        raise Conflict("offer: the offer is already withdrawn", field="offer")
    provider = str(current.body.get("member", ""))
    if member_of(acting_user) != provider:
        raise Forbidden(f"offer: only the offering member ({provider}) withdraws it", field="offer")
    entitled(acting_user, current, field="offer")
    decided_here(record, "offer", "an offer is withdrawn on the offering member's node", "withdraw it there")
    if not reason.strip():
        raise refuse("reason", "say why the offer is withdrawn")
    with transaction.atomic():
        audit.lock()  # first, as every version writer does: the same lock order everywhere
        AssistanceOfferView.objects.select_for_update().filter(record=record).first()
        return record_actions.withdraw(record, acting_user=acting_user, reason=reason)


def _offer_body(
    acting_user: Account, quantity: int, extra: dict[str, Any], times: dict[str, datetime | str | None]
) -> dict[str, Any]:
    quantity_of(quantity)
    body = {"member": member_of(acting_user), "quantity": quantity, **extra}
    for name, value in times.items():
        body[name] = _time(value, name)
    return {k: v for k, v in body.items() if v is not None and v != ""}


def make_offer(
    request: uuid.UUID | str,
    *,
    acting_user: Account,
    quantity: int,
    available_from: datetime | str | None = None,
    available_until: datetime | str | None = None,
    lead_time_days: int | None = None,
    conditions: str = "",
    costs_borne_by: str = "",
    note: str = "",
    person: bool = False,
) -> Version:
    """Offer (part of) what an open request asks for, for the caller's member (another than the requester's).
    `person`: an expert offers themself (one expert, on a request for experts), which only a roster call's selection
    does (`accord.alliances.mobilise_actions`); anyone else offers as the member's focal point."""
    record = request_for(Principal.of(acting_user), request)
    current = record.current_version
    assert current is not None
    wanted = current.body
    if not person:
        entitled(acting_user, None, field="member")
    elif wanted.get("resource_type") != "expert" or quantity != 1:
        raise refuse("quantity", "a person offers one expert, themself, on a request for experts")
    if current.state != "active" or wanted.get("status") != "open":
        raise Conflict(
            f"request: the request is {wanted.get('status', 'withdrawn')}; it takes no offers", field="request"
        )
    if wanted.get("member") == member_of(acting_user):
        raise Forbidden("member: a member does not offer assistance on its own request", field="member")
    extra = {
        "incident": wanted["incident"],
        "request": ref_of(record),
        "to_member": wanted["member"],
        "resource_type": wanted["resource_type"],
        "detail": wanted.get("detail", ""),
        "unit": wanted["unit"],
        "lead_time_days": lead_time_days,
        "conditions": conditions,
        "costs_borne_by": costs_borne_by,
        "note": note,
    }
    body = _offer_body(
        acting_user, quantity, extra, {"available_from": available_from, "available_until": available_until}
    )
    body = checked(OFFER, body, acting_user, current.status)
    envelope = current.envelope()
    return record_actions.publish(
        OFFER_KIND,
        body,
        audience=Audience.model_validate(envelope["audience"]),
        tlp=current.tlp,
        status=current.status,
        acting_user=acting_user,
    )


def offer_unsolicited(
    incident: uuid.UUID | str,
    *,
    acting_user: Account,
    resource_type: str,
    quantity: int,
    to_member: str | None = None,
    unit: str | None = None,
    detail: str = "",
    available_from: datetime | str | None = None,
    available_until: datetime | str | None = None,
    lead_time_days: int | None = None,
    conditions: str = "",
    costs_borne_by: str = "",
    note: str = "",
) -> Version:
    """Offer assistance on an incident no request asked for, to an affected member (`to_member`; by default the
    incident's lead member, or else its first affected member other than the caller's)."""
    from accord.response import assist_catalogue

    entitled(acting_user, None, field="member")
    context = hanging.incident(Principal.of(acting_user), incident)
    mine = member_of(acting_user)
    affected = [str(m) for m in context.body.get("affected_members", [])]
    if to_member is None:
        lead = str(context.body.get("lead_member", ""))
        choices = [m for m in [lead, *affected] if m and m != mine]
        to_member = choices[0] if choices else mine
    elif to_member not in affected and to_member != context.body.get("lead_member"):
        raise refuse("to_member", f"{to_member} is not an affected member of the incident")
    found = assist_catalogue.get(resource_type)
    if found is None:
        raise refuse("resource_type", f"{resource_type!r} is not a type of the resource catalogue")
    extra = {
        "incident": context.ref,
        "to_member": to_member,
        "resource_type": resource_type,
        "detail": detail,
        "unit": unit if unit is not None else found.unit,
        "lead_time_days": lead_time_days,
        "conditions": conditions,
        "costs_borne_by": costs_borne_by,
        "note": note,
    }
    body = _offer_body(
        acting_user, quantity, extra, {"available_from": available_from, "available_until": available_until}
    )
    body = checked(OFFER, body, acting_user, context.status)
    return record_actions.publish(
        OFFER_KIND, body, audience=context.audience, tlp=context.tlp, status=context.status, acting_user=acting_user
    )


def _accepted(request: Record, member: str) -> int:
    return assist_ledger.accepted_for(request.origin_node, request.uuid, member)


def _offer_accepted(offer: Record) -> int:
    rows = AssistanceAcceptanceView.objects.filter(offer_node=offer.origin_node, offer_record=offer.uuid, counted=True)
    return sum(rows.values_list("quantity", flat=True))


def accept(
    offer: uuid.UUID | str,
    *,
    acting_user: Account,
    quantity: int,
    request: uuid.UUID | str | None = None,
    note: str = "",
) -> Version:
    """Accept `quantity` of an offer for the request it answers (an unsolicited offer: for the caller's `request`),
    by a focal point of the requesting member, on the request's origin node. Raises OverAccepted (409) when the
    request or the offer has less still open than `quantity`: never more accepted than requested."""
    principal = Principal.of(acting_user)
    offer_record = offer_for(principal, offer)
    offered = offer_record.current_version
    assert offered is not None
    if offered.state != "active":
        raise Conflict("offer: the offer is withdrawn", field="offer")
    target = offered.body.get("request")
    if target is None and request is None:
        raise refuse("request", "an unsolicited offer is accepted for one of your requests: name it")
    if target is not None and request is not None and str(request) != str(target.get("record")):
        raise refuse("request", "this offer answers another request")
    request_record = request_for(principal, request if request is not None else str(target["record"]))  # type: ignore[index]
    wanted = request_record.current_version
    assert wanted is not None
    requester = str(wanted.body.get("member", ""))
    if member_of(acting_user) != requester:
        raise Forbidden(f"offer: only the requesting member ({requester}) accepts offers on its request", field="offer")
    same_type = offered.body.get("resource_type") == wanted.body.get("resource_type")
    if offered.body.get("to_member") != requester or not same_type:
        raise refuse("request", "the offer is not for this member's request of this resource type")
    decided_here(request_record, "offer", "acceptance is decided on the requesting member's node", "accept there")
    quantity_of(quantity)
    body = checked(
        ACCEPTANCE,
        {
            "incident": wanted.body["incident"],
            "request": ref_of(request_record),
            "offer": ref_of(offer_record),
            "member": requester,
            "offer_member": offered.body.get("member", ""),
            "quantity": quantity,
            "note": note,
        },
        acting_user,
        wanted.status,
    )
    envelope = wanted.envelope()
    with transaction.atomic():
        audit.lock()
        ledger = AssistanceRequestView.objects.select_for_update().filter(record=request_record).first()
        current = Record.objects.select_related("current_version").get(pk=request_record.pk).current_version
        assert current is not None
        if ledger is None or current.state != "active" or current.body.get("status") != "open":
            raise Conflict("request: the request is withdrawn or closed; it accepts nothing more", field="request")
        open_quantity = max(int(current.body["quantity"]) - _accepted(request_record, requester), 0)
        offer_open = max(int(offered.body["quantity"]) - _offer_accepted(offer_record), 0)
        if quantity > open_quantity or quantity > offer_open:
            what = "the request still needs" if quantity > open_quantity else "the offer still has"
            raise OverAccepted(
                f"quantity: {quantity} is more than {what} ({min(open_quantity, offer_open)})",
                open_quantity=open_quantity,
                offer_open_quantity=offer_open,
            )
        return record_actions.publish(
            ACCEPTANCE_KIND,
            body,
            audience=Audience.model_validate(envelope["audience"]),
            tlp=wanted.tlp,
            status=wanted.status,
            acting_user=acting_user,
        )
