"""The ledger of mutual assistance: the projections of requests, offers, acceptances, commitments and deployments,
and the sums of each request (`refresh`).

The ledger of a request: **requested** (its quantity), **offered** (its active offers, and unsolicited offers
accepted for it), **accepted** (the counted acceptances), **committed** (the counted commitments), **delivered**
(what its deployments report delivered) and **gap** (requested less accepted). Its **status** is the requester's
`withdrawn` or `closed`, else computed from accepted: `open` (nothing), `partly_covered`, `covered`.

A **withdrawn offer** (a version of the offer with state `withdrawn`, by its origin node) keeps counting only what
was committed of it: for each request, what was accepted of it and not committed is released back to the gap
(`accepted_for`), so the requester may accept another offer for it. Every node computes this from the same records
(the offer's state, the counted acceptances and commitments), whatever order they arrived in.

Counted: an acceptance issued by the request's origin node for the requesting member; a commitment and a deployment
issued by the offer's origin node. A version a peer sends that breaks this is stored (it is signed) but counts for
nothing, so every node that holds the same records shows the same ledger. That the accepted sum never exceeds the
requested quantity is decided on the request's origin node, under the lock of this row (`assist_actions.accept`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, Sum

from accord.records.models import Version
from accord.response.assist_models import (
    AssistanceAcceptanceView,
    AssistanceCommitmentView,
    AssistanceOfferView,
    AssistanceRequestView,
    DeploymentView,
)
from accord.response.refs import hang, parse_ref, signed_time

logger = logging.getLogger("accord.response")


def moment(text: str) -> datetime:
    """A body's date (start of the day, UTC) or RFC 3339 time as an aware datetime."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _ref(value: Any) -> tuple[uuid.UUID, uuid.UUID]:
    found = parse_ref(value)
    if found is None:
        raise ValueError(f"{value!r} is not a record reference")
    return found


def _sum(rows: Any, column: str = "quantity") -> int:
    return int(rows.aggregate(total=Sum(column))["total"] or 0)


def _kept(offer_node: uuid.UUID, offer_record: uuid.UUID, where: dict[str, Any], accepted: int) -> int | None:
    """What still counts of `accepted` (accepted of one offer for one request): None while the offer is active
    (or not held here yet: all of it counts), else only what the offering member committed of it."""
    withdrawn = AssistanceOfferView.objects.filter(node=offer_node, record__uuid=offer_record, active=False).exists()
    if not withdrawn:
        return None
    committed = _sum(
        AssistanceCommitmentView.objects.filter(counted=True, offer_node=offer_node, offer_record=offer_record, **where)
    )
    return min(accepted, committed)


def _accepted(request_node: uuid.UUID, request_record: uuid.UUID, member: str) -> tuple[int, int]:
    """What counts as accepted for a request, and the part of it that comes from withdrawn offers."""
    where = {"request_node": request_node, "request_record": request_record}
    rows = (
        AssistanceAcceptanceView.objects.filter(counted=True, member=member, **where)
        .values("offer_node", "offer_record")
        .annotate(total=Sum("quantity"))
        .order_by()
    )
    total = from_withdrawn = 0
    for row in rows:
        kept = _kept(row["offer_node"], row["offer_record"], where, int(row["total"] or 0))
        total += int(row["total"] or 0) if kept is None else kept
        from_withdrawn += kept or 0
    return total, from_withdrawn


def accepted_for(request_node: uuid.UUID, request_record: uuid.UUID, member: str) -> int:
    """What counts as accepted for a request: its counted acceptances (for the requesting `member`), less what was
    accepted of withdrawn offers and not committed. The ledger's `accepted`, and what `assist_actions.accept`
    decides on."""
    return _accepted(request_node, request_record, member)[0]


def accepted_of_offer(
    offer_node: uuid.UUID, offer_record: uuid.UUID, request_node: uuid.UUID, request_record: uuid.UUID, member: str
) -> tuple[int, int]:
    """What counts as accepted of one offer for one request (its counted acceptances for the requesting `member`;
    once the offer is withdrawn, only what was committed of them), and what was accepted of it in all (the part not
    counted is released back to the request's gap). The request's `accepted` is the sum of the first over its
    offers."""
    where = {"request_node": request_node, "request_record": request_record}
    accepted = _sum(
        AssistanceAcceptanceView.objects.filter(
            counted=True, member=member, offer_node=offer_node, offer_record=offer_record, **where
        )
    )
    kept = _kept(offer_node, offer_record, where, accepted)
    return (accepted if kept is None else kept), accepted


def status_of(state: str, requested: int, accepted: int) -> str:
    if state in ("withdrawn", "closed"):
        return state
    if accepted <= 0:
        return "open"
    return "covered" if accepted >= requested else "partly_covered"


def refresh(request_node: uuid.UUID, request_record: uuid.UUID) -> None:
    """Recompute the ledger row of a request from what this node holds (nothing when it does not hold the
    request yet: its projection calls this again when it arrives)."""
    row = AssistanceRequestView.objects.filter(node=request_node, record__uuid=request_record).first()
    if row is None:
        return
    where = {"request_node": request_node, "request_record": request_record}
    acceptances = AssistanceAcceptanceView.objects.filter(counted=True, member=row.member, **where)
    accepted_offers = set(acceptances.values_list("offer_record", flat=True))
    offers = AssistanceOfferView.objects.filter(active=True).filter(
        Q(**where) | Q(request_record__isnull=True, record__uuid__in=accepted_offers)
    )
    row.accepted, from_withdrawn = _accepted(request_node, request_record, row.member)
    row.offered = _sum(offers) + from_withdrawn  # a withdrawn offer still offers what was committed of it
    row.committed = _sum(AssistanceCommitmentView.objects.filter(counted=True, **where))
    row.delivered = _sum(DeploymentView.objects.filter(counted=True, **where), "delivered")
    row.status = status_of(row.state, row.requested, row.accepted)
    row.save(update_fields=["offered", "accepted", "committed", "delivered", "status"])


def refresh_offer(offer_node: uuid.UUID, offer_record: uuid.UUID) -> None:
    row = AssistanceOfferView.objects.filter(node=offer_node, record__uuid=offer_record).first()
    if row is None:
        return
    where = {"offer_node": offer_node, "offer_record": offer_record}
    acceptances = AssistanceAcceptanceView.objects.filter(counted=True, member=row.to_member, **where)
    if row.active:
        row.accepted = _sum(acceptances)
    else:  # withdrawn: per request, only what was committed of what was accepted
        by_request = acceptances.values("request_node", "request_record").annotate(total=Sum("quantity")).order_by()
        row.accepted = sum(
            _kept(
                offer_node,
                offer_record,
                {"request_node": r["request_node"], "request_record": r["request_record"]},
                int(r["total"] or 0),
            )
            or 0
            for r in by_request
        )
    row.committed = _sum(AssistanceCommitmentView.objects.filter(counted=True, **where))
    row.delivered = _sum(DeploymentView.objects.filter(counted=True, **where), "delivered")
    row.save(update_fields=["accepted", "committed", "delivered"])


def project_request(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        incident_node, incident_record = _ref(body["incident"])
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "incident_node": incident_node,
            "incident_record": incident_record,
            "member": str(body["member"])[:8],
            "resource_type": str(body["resource_type"])[:40],
            "unit": str(body["unit"])[:20],
            "region": str(body["region"])[:12],
            "priority": str(body["priority"])[:8],
            "needed_by": moment(str(body["needed_by"])),
            "state": str(body["status"])[:10] if version.state == "active" else "withdrawn",
            "requested": int(body["quantity"]),
            "status": "open",
            "traffic": version.status[:10],
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("request %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        AssistanceRequestView.objects.filter(record_id=version.record_id).delete()
        return
    AssistanceRequestView.objects.update_or_create(record_id=version.record_id, defaults=values)
    refresh(version.origin_node, version.record_uuid)


def project_offer(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        incident_node, incident_record = _ref(body["incident"])
        request = _ref(body["request"]) if body.get("request") is not None else None
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "incident_node": incident_node,
            "incident_record": incident_record,
            "request_node": request[0] if request else None,
            "request_record": request[1] if request else None,
            "member": str(body["member"])[:8],
            "to_member": str(body["to_member"])[:8],
            "resource_type": str(body["resource_type"])[:40],
            "quantity": int(body["quantity"]),
            "available_from": moment(body["available_from"]) if body.get("available_from") else None,
            "active": version.state == "active",
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("offer %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        AssistanceOfferView.objects.filter(record_id=version.record_id).delete()
        return
    AssistanceOfferView.objects.update_or_create(record_id=version.record_id, defaults=values)
    refresh_offer(version.origin_node, version.record_uuid)
    if request is not None:
        refresh(*request)
    for node, record in AssistanceAcceptanceView.objects.filter(offer_record=version.record_uuid).values_list(
        "request_node", "request_record"
    ):
        refresh(node, record)


def _project_share(version: Version, model: Any, deciding: str) -> None:
    """An acceptance or a commitment: counted when issued by the origin node of its request (`deciding` =
    "request") or of its offer ("offer"), and active."""
    body = version.body
    hang(version, body.get("incident"))
    try:
        request_node, request_record = _ref(body["request"])
        offer_node, offer_record = _ref(body["offer"])
        decider = request_node if deciding == "request" else offer_node
        values: dict[str, Any] = {
            "version": version,
            "request_node": request_node,
            "request_record": request_record,
            "offer_node": offer_node,
            "offer_record": offer_record,
            "member": str(body["member"])[:8],
            "quantity": int(body["quantity"]),
            "counted": version.state == "active" and version.origin_node == decider,
            "at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("%s %s#%s projects nothing: %s", version.kind, version.record_uuid, version.seq, error)
        model.objects.filter(record_id=version.record_id).delete()
        return
    model.objects.update_or_create(record_id=version.record_id, defaults=values)
    refresh_offer(offer_node, offer_record)
    refresh(request_node, request_record)


def project_acceptance(version: Version) -> None:
    _project_share(version, AssistanceAcceptanceView, "request")


def project_commitment(version: Version) -> None:
    _project_share(version, AssistanceCommitmentView, "offer")


def project_deployment(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        incident_node, incident_record = _ref(body["incident"])
        request_node, request_record = _ref(body["request"])
        offer_node, offer_record = _ref(body["offer"])
        values: dict[str, Any] = {
            "version": version,
            "incident_node": incident_node,
            "incident_record": incident_record,
            "request_node": request_node,
            "request_record": request_record,
            "offer_node": offer_node,
            "offer_record": offer_record,
            "member": str(body["member"])[:8],
            "resource_type": str(body["resource_type"])[:40],
            "quantity": int(body["quantity"]),
            "delivered": int(body.get("delivered") or 0),
            "status": str(body["status"])[:12],
            "region": str((body.get("location") or {}).get("region") or "")[:12],
            "counted": version.state == "active" and version.origin_node == offer_node,
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        logger.warning("deployment %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        DeploymentView.objects.filter(record_id=version.record_id).delete()
        return
    DeploymentView.objects.update_or_create(record_id=version.record_id, defaults=values)
    refresh_offer(offer_node, offer_record)
    refresh(request_node, request_record)
