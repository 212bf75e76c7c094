"""Commitments and deployments: what the offering member does once its offer is accepted.

Functions for callers (API, web pages, demo data), each taking the acting account and returning the version issued:

* `commit(offer, acting_user=, quantity=, request=None, note="")`: the offering member commits (part of) what was
  accepted of its offer; more than accepted and not yet committed is a 409 naming `quantity`;
* `deploy(offer, acting_user=, quantity=, contact=, location=, departure=, arrival=, end=, status="mobilising")`: a
  `deployment` record for (part of) the accepted offer; more than accepted and not yet deployed is a 409 naming
  `quantity`;
* `report_status(deployment, acting_user=, status=, delivered=None, note="")`: a new version of the deployment;
  a status going backwards is a 409 naming `status`, a delivered quantity going down one naming `delivered`.

Both commitment and deployment are decided on the offer's origin node (the offering member's node), like acceptance
on the request's: there the transaction takes the audit head's lock, locks the offer's row (`select_for_update`) and
re-reads the sums, so two at once never exceed what was accepted. Elsewhere: 409.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Sum

from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import hanging
from accord.response.assist_actions import (
    checked,
    decided_here,
    entitled,
    member_of,
    offer_for,
    quantity_of,
    request_for,
)
from accord.response.assist_deploy_kind import DEPLOYMENT, KIND, STATUSES
from accord.response.assist_kinds import COMMITMENT, COMMITMENT_KIND, refuse
from accord.response.assist_models import (
    AssistanceAcceptanceView,
    AssistanceCommitmentView,
    AssistanceOfferView,
    DeploymentView,
)
from accord.response.refs import ref_of
from accord.response.tasks_kind import format_time

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_DEPLOYMENT = "no such deployment"


def deployment_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    return hanging.visible(principal, KIND, record_uuid, NO_SUCH_DEPLOYMENT)


def _own_offer(offer: uuid.UUID | str, acting_user: Account, request: uuid.UUID | str | None) -> tuple[Record, Record]:
    """The offer (active, of the caller's member, issued on this node) and the request it was accepted for."""
    principal = Principal.of(acting_user)
    offer_record = offer_for(principal, offer)
    current = offer_record.current_version
    assert current is not None
    if current.state != "active":
        raise Conflict("offer: the offer is withdrawn", field="offer")
    provider = str(current.body.get("member", ""))
    if member_of(acting_user) != provider:
        raise Forbidden(f"offer: only the offering member ({provider}) commits and deploys it", field="offer")
    entitled(acting_user, current, field="offer")
    decided_here(
        offer_record,
        "offer",
        "commitments and deployments are decided on the offering member's node",
        "commit and deploy there",
    )
    target = current.body.get("request")
    if request is None and target is not None:
        request = str(target["record"])
    if request is None:
        accepted_for = set(
            AssistanceAcceptanceView.objects.filter(offer_record=offer_record.uuid, counted=True).values_list(
                "request_record", flat=True
            )
        )
        if len(accepted_for) != 1:
            raise refuse("request", "name the request this unsolicited offer was accepted for")
        request = accepted_for.pop()
    return offer_record, request_for(principal, request)


def _locked_offer(offer_record: Record) -> AssistanceOfferView:
    audit.lock()  # first, as every version writer does: the same lock order everywhere
    row = AssistanceOfferView.objects.select_for_update().filter(record=offer_record).first()
    if row is None:
        raise Conflict("offer: this node has no ledger of the offer yet", field="offer")
    if not row.active:  # withdrawn since it was read (assist_actions.withdraw_offer takes this lock too)
        raise Conflict("offer: the offer is withdrawn", field="offer")
    return row


def _accepted(offer_record: Record, request_record: Record) -> int:
    rows = AssistanceAcceptanceView.objects.filter(
        offer_record=offer_record.uuid, request_record=request_record.uuid, counted=True
    )
    return int(rows.aggregate(total=Sum("quantity"))["total"] or 0)


def _publish(kind: str, body: dict[str, Any], like: Version, acting_user: Account) -> Version:
    return record_actions.publish(
        kind,
        body,
        audience=Audience.model_validate(like.envelope()["audience"]),
        tlp=like.tlp,
        status=like.status,
        acting_user=acting_user,
    )


def commit(
    offer: uuid.UUID | str,
    *,
    acting_user: Account,
    quantity: int,
    request: uuid.UUID | str | None = None,
    note: str = "",
) -> Version:
    """The offering member commits `quantity` of what the requester accepted of its offer."""
    quantity_of(quantity)
    offer_record, request_record = _own_offer(offer, acting_user, request)
    offered = offer_record.current_version
    assert offered is not None
    body = checked(
        COMMITMENT,
        {
            "incident": offered.body["incident"],
            "request": ref_of(request_record),
            "offer": ref_of(offer_record),
            "member": offered.body["member"],
            "quantity": quantity,
            "note": note,
        },
        acting_user,
        offered.status,
    )
    with transaction.atomic():
        _locked_offer(offer_record)
        committed = AssistanceCommitmentView.objects.filter(
            offer_record=offer_record.uuid, request_record=request_record.uuid, counted=True
        ).aggregate(total=Sum("quantity"))["total"]
        open_quantity = max(_accepted(offer_record, request_record) - int(committed or 0), 0)
        if quantity > open_quantity:
            raise Conflict(
                f"quantity: {quantity} is more than was accepted and not yet committed ({open_quantity})",
                field="quantity",
            )
        return _publish(COMMITMENT_KIND, body, offered, acting_user)


def _time(value: datetime | str | None, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise refuse(field, "give the time with its offset or Z")
    return format_time(value)


def _named(body: dict[str, Any], acting_user: Account, status: str) -> dict[str, Any]:
    try:
        return checked(DEPLOYMENT, body, acting_user, status)
    except ActionError as error:
        head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
        if error.field == "body" and head in ("contact", "location", "departure", "arrival", "end", "status"):
            error.field = head
        raise


def deploy(
    offer: uuid.UUID | str,
    *,
    acting_user: Account,
    quantity: int,
    contact: dict[str, str],
    location: dict[str, Any],
    departure: datetime | str | None = None,
    arrival: datetime | str | None = None,
    end: datetime | str | None = None,
    status: str = "mobilising",
    delivered: int = 0,
    request: uuid.UUID | str | None = None,
) -> Version:
    """A deployment of (part of) an accepted offer, by the offering member, on the offer's node."""
    quantity_of(quantity)
    if status not in STATUSES:
        raise refuse("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    offer_record, request_record = _own_offer(offer, acting_user, request)
    offered = offer_record.current_version
    assert offered is not None
    body: dict[str, Any] = {
        "incident": offered.body["incident"],
        "request": ref_of(request_record),
        "offer": ref_of(offer_record),
        "member": offered.body["member"],
        "resource_type": offered.body["resource_type"],
        "unit": offered.body["unit"],
        "quantity": quantity,
        "delivered": delivered,
        "contact": contact,
        "location": location,
        "departure": _time(departure, "departure"),
        "arrival": _time(arrival, "arrival"),
        "end": _time(end, "end"),
        "status": status,
        "change": {"action": "create"},
    }
    body = _named({k: v for k, v in body.items() if v is not None}, acting_user, offered.status)
    with transaction.atomic():
        _locked_offer(offer_record)
        deployed = DeploymentView.objects.filter(
            offer_record=offer_record.uuid, request_record=request_record.uuid, counted=True
        ).aggregate(total=Sum("quantity"))["total"]
        open_quantity = max(_accepted(offer_record, request_record) - int(deployed or 0), 0)
        if quantity > open_quantity:
            raise Conflict(
                f"quantity: {quantity} is more than was accepted and not yet deployed ({open_quantity})",
                field="quantity",
            )
        return _publish(KIND, body, offered, acting_user)


def report_status(
    deployment: uuid.UUID | str,
    *,
    acting_user: Account,
    status: str,
    delivered: int | None = None,
    note: str = "",
    when: datetime | str | None = None,
) -> Version:
    """A status report of the providing member: the deployment's next version. Arrival and the end (demobilised or
    returned) take `when` (default now) as their date."""
    from django.utils import timezone

    record = deployment_for(Principal.of(acting_user), deployment)
    current = record.current_version
    assert current is not None
    if current.state != "active":
        raise Conflict("the deployment is withdrawn", field="status")
    provider = str(current.body.get("member", ""))
    if member_of(acting_user) != provider:
        raise Forbidden(f"deployment: only the providing member ({provider}) reports its status", field="deployment")
    entitled(acting_user, current, field="deployment")
    decided_here(record, "deployment", "status reports are made on the providing member's node", "report there")
    if status not in STATUSES:
        raise refuse("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    before = str(current.body.get("status"))
    if STATUSES.index(status) < STATUSES.index(before):
        raise Conflict(f"status: the deployment is {before}; it does not go back to {status}", field="status")
    old_delivered = int(current.body.get("delivered") or 0)
    if delivered is not None:
        if isinstance(delivered, bool) or delivered < old_delivered:
            raise Conflict(f"delivered: {delivered} is less than already reported ({old_delivered})", field="delivered")
        if delivered > int(current.body["quantity"]):
            raise refuse(
                "delivered", f"{delivered} is more than the deployment's quantity ({current.body['quantity']})"
            )
    if status == before and (delivered is None or delivered == old_delivered) and not note.strip():
        raise Conflict(f"status: the deployment is already {status}", field="status")
    body = dict(current.body)
    body["status"] = status
    body["delivered"] = old_delivered if delivered is None else delivered
    moment = _time(when, "when") or format_time(timezone.now())
    if status == "in_transit" and not body.get("departure"):
        body["departure"] = moment
    if status == "arrived" and not body.get("arrival"):
        body["arrival"] = moment
    if status in ("demobilised", "returned") and not body.get("end"):
        body["end"] = moment
    body["change"] = {"action": "status", "from_status": before, "note": note.strip()}
    body = _named(body, acting_user, current.status)
    return record_actions.revise(record, acting_user=acting_user, body=body)
