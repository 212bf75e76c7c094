"""The read side of mutual assistance, always through the record core's audience filter.

For callers (API, web pages, exports, the matching board):

* `requests_of(principal, incident)`: the requests on an incident the principal may see (a QuerySet of Record,
  with `request_view`, the ledger row, joined), most urgent first;
* `offers_of(principal, request)`: the offers on a request (and unsolicited offers accepted for it);
* `unsolicited_offers(principal, incident)`: offers on an incident that answer no request;
* `deployments_of(principal, incident)`: the deployments on an incident (the 3W data; `status=` keeps one status),
  `deployments_of_offer`;
* `commitments_of_offer(principal, offer)`: the counted commitments of an offer;
* `request_out(record, principal)`, `offer_out(record)` and `deployment_out(record)`: plain dicts of a record and its
  ledger, the shape of the API (exports take these);
* `page(rows, keys, limit, cursor)`: one page of such a list by keyset (its order's columns, never an OFFSET), with
  the cursor of the next; `REQUEST_KEYS`, `OFFER_KEYS`, `DEPLOYMENT_KEYS` are the orders of the lists above.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.db.models import Case, DateTimeField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from accord.records.errors import ActionError
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_catalogue
from accord.response.assist_kinds import COMMITMENT_KIND, OFFER_KIND, REQUEST_KIND
from accord.response.assist_models import AssistanceAcceptanceView
from accord.response.refs import signed_time

DEPLOYMENT_KIND = "deployment"
_URGENCY = Case(
    When(request_view__priority="high", then=Value(0)),
    When(request_view__priority="medium", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
# A request without a date sorts after every dated one, on PostgreSQL and SQLite alike (they put NULL apart).
_NEEDED = Coalesce("request_view__needed_by", Value(datetime(9999, 12, 31, tzinfo=UTC)), output_field=DateTimeField())


def requests_of(principal: Principal, incident: Record, *, status: str | None = None) -> QuerySet[Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(
            kind=REQUEST_KIND,
            request_view__incident_node=incident.origin_node,
            request_view__incident_record=incident.uuid,
        )
        .select_related("current_version", "request_view")
    )
    if status:
        rows = rows.filter(request_view__status=status)
    return rows.annotate(urgency=_URGENCY, needed=_NEEDED).order_by(*(name for name, _ in REQUEST_KEYS))


# Ties (versions signed in the same second) are broken by the record uuid, the same on every node, not by the local key.
def offers_of(principal: Principal, request: Record) -> QuerySet[Record]:
    accepted = AssistanceAcceptanceView.objects.filter(
        request_node=request.origin_node, request_record=request.uuid, counted=True
    ).values("offer_record")
    return (
        Record.objects.visible_to(principal)
        .filter(kind=OFFER_KIND)
        .filter(
            Q(offer_view__request_node=request.origin_node, offer_view__request_record=request.uuid)
            | Q(offer_view__request_record__isnull=True, uuid__in=accepted)
        )
        .select_related("current_version", "offer_view")
        .order_by("offer_view__updated_at", "uuid")
    )


def unsolicited_offers(principal: Principal, incident: Record) -> QuerySet[Record]:
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=OFFER_KIND,
            offer_view__incident_node=incident.origin_node,
            offer_view__incident_record=incident.uuid,
            offer_view__request_record__isnull=True,
        )
        .select_related("current_version", "offer_view")
        .order_by("offer_view__updated_at", "uuid")
    )


def deployments_of(principal: Principal, incident: Record, *, status: str | None = None) -> QuerySet[Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(
            kind=DEPLOYMENT_KIND,
            deployment_view__incident_node=incident.origin_node,
            deployment_view__incident_record=incident.uuid,
        )
        .select_related("current_version", "deployment_view")
    )
    if status:
        rows = rows.filter(deployment_view__status=status)
    return rows.order_by("deployment_view__updated_at", "uuid")


def commitments_of_offer(principal: Principal, offer: Record) -> QuerySet[Record]:
    """The counted commitments of an offer (by the offering member, on the offer's node), oldest first."""
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=COMMITMENT_KIND,
            commitment_view__offer_node=offer.origin_node,
            commitment_view__offer_record=offer.uuid,
            commitment_view__counted=True,
        )
        .select_related("current_version", "commitment_view")
        .order_by("commitment_view__at", "uuid")
    )


def current_deployments(principal: Principal) -> QuerySet[Record]:
    """The deployments the principal may see that are not over (neither demobilised nor returned), newest first."""
    return (
        Record.objects.visible_to(principal)
        .filter(kind=DEPLOYMENT_KIND, current_version__state="active")
        .exclude(deployment_view__status__in=("demobilised", "returned"))
        .filter(deployment_view__isnull=False)
        .select_related("current_version", "deployment_view")
        .order_by("-deployment_view__updated_at", "uuid")
    )


def deployments_of_offer(principal: Principal, offer: Record) -> QuerySet[Record]:
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=DEPLOYMENT_KIND,
            deployment_view__offer_node=offer.origin_node,
            deployment_view__offer_record=offer.uuid,
        )
        .select_related("current_version", "deployment_view")
        .order_by("deployment_view__updated_at", "uuid")
    )


# ---- pages: keyset pagination over each list's order (as the incidents and alerts lists page) --------------------

KeyType = Literal["int", "time", "uuid"]
# The columns each list is ordered by (ascending), the last one unique: a page starts after the last row's values.
REQUEST_KEYS: tuple[tuple[str, KeyType], ...] = (("urgency", "int"), ("needed", "time"), ("uuid", "uuid"))
OFFER_KEYS: tuple[tuple[str, KeyType], ...] = (("offer_view__updated_at", "time"), ("uuid", "uuid"))
DEPLOYMENT_KEYS: tuple[tuple[str, KeyType], ...] = (("deployment_view__updated_at", "time"), ("uuid", "uuid"))
BAD_CURSOR = "cursor is not a cursor this list gave (use the `next` link as it is)"


@dataclass(frozen=True)
class Page:
    rows: list[Record]
    cursor: str | None  # where the next page starts; None on the last page


def _key_of(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


def _encode(values: list[Any]) -> str:
    plain = [v.astimezone(UTC).isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, uuid.UUID) else v
             for v in values]  # fmt: skip
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decoded(value: Any, kind: KeyType) -> Any:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(value)
        return value
    if kind == "uuid":
        return uuid.UUID(str(value))
    when = datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        raise ValueError(value)
    return when


def decode_cursor(text: str, keys: tuple[tuple[str, KeyType], ...]) -> list[Any]:
    """The values of the last row a cursor stands for; a clear 400 naming `cursor` for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(text)
        return [_decoded(value, kind) for value, (_, kind) in zip(values, keys, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ActionError(BAD_CURSOR, field="cursor") from None


def page(rows: QuerySet[Record], keys: tuple[tuple[str, KeyType], ...], limit: int, cursor: str | None) -> Page:
    """One page of `rows` (ordered by `keys`, ascending) after `cursor`: never an OFFSET, and a page is the same
    whatever is added before it."""
    if cursor:
        after = decode_cursor(cursor, keys)
        names = [name for name, _ in keys]
        later = Q()
        for index, name in enumerate(names):
            later |= Q(**{f"{name}__gt": after[index]}, **dict(zip(names[:index], after[:index], strict=True)))
        rows = rows.filter(later)
    found = list(rows[: limit + 1])
    shown = found[:limit]
    following = None
    if len(found) > limit and shown:
        following = _encode([_key_of(shown[-1], name) for name, _ in keys])
    return Page(rows=shown, cursor=following)


def _names(code: str) -> dict[str, str]:
    found = assist_catalogue.get(code)
    return found.names() if found is not None else {}


def offer_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    view = getattr(record, "offer_view", None)
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "request": body.get("request"),
        "member": body.get("member", ""),
        "to_member": body.get("to_member", ""),
        "resource_type": body.get("resource_type", ""),
        "unit": body.get("unit", ""),
        "detail": body.get("detail", ""),
        "quantity": int(body.get("quantity", 0)),
        "accepted": view.accepted if view is not None else 0,
        "committed": view.committed if view is not None else 0,
        "delivered": view.delivered if view is not None else 0,
        "available_from": body.get("available_from"),
        "available_until": body.get("available_until"),
        "lead_time_days": body.get("lead_time_days"),
        "conditions": body.get("conditions", ""),
        "costs_borne_by": body.get("costs_borne_by", ""),
        "note": body.get("note", ""),
        "state": version.state,
        "reason": (version.envelope().get("reason") or "") if version.state != "active" else "",
        "tlp": version.tlp,
        "updated_at": signed_time(version),
    }


def ledger_of(record: Record) -> dict[str, Any]:
    """The ledger of a request as this node holds it."""
    version = record.current_version
    assert version is not None
    view = getattr(record, "request_view", None)
    requested = int(version.body.get("quantity", 0))
    if view is None:
        return {"requested": requested, "offered": 0, "accepted": 0, "committed": 0, "delivered": 0, "gap": requested}
    return {
        "requested": view.requested,
        "offered": view.offered,
        "accepted": view.accepted,
        "committed": view.committed,
        "delivered": view.delivered,
        "gap": view.gap,
        "status": view.status,
    }


def request_out(record: Record, principal: Principal | None = None) -> dict[str, Any]:
    """A request with its ledger; with its offers when `principal` is given (those it may see)."""
    version = record.current_version
    assert version is not None
    body = version.body
    ledger = ledger_of(record)
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "member": body.get("member", ""),
        "resource_type": body.get("resource_type", ""),
        "resource_names": _names(str(body.get("resource_type", ""))),
        "unit": body.get("unit", ""),
        "detail": body.get("detail", ""),
        "quantity": int(body.get("quantity", 0)),
        "needed_by": body.get("needed_by", ""),
        "region": body.get("region", ""),
        "point": point_out(body.get("point")),
        "priority": body.get("priority", ""),
        "conditions": body.get("conditions", ""),
        "state": version.state,
        "change": body.get("change", {}),
        "tlp": version.tlp,
        "record_status": version.status,
        "updated_at": signed_time(version),
        **ledger,
        "status": ledger.get("status") or str(body.get("status", "open")),
        "offers": [offer_out(o) for o in offers_of(principal, record)] if principal is not None else [],
    }


def _location(value: Any) -> dict[str, Any]:
    location = dict(value) if isinstance(value, dict) else {}
    if "point" in location:
        location["point"] = point_out(location["point"])
    return location


def point_out(value: Any) -> dict[str, float] | None:
    """A body's point (its coordinates as decimal text, or numbers in an older version) as numbers."""
    if not isinstance(value, dict):
        return None
    try:
        return {"lat": float(value["lat"]), "lon": float(value["lon"])}
    except (KeyError, TypeError, ValueError):
        return None


def deployment_out(record: Record) -> dict[str, Any]:
    """A deployment: who (member), what (type, quantity, delivered), where (location), when, its status."""
    version = record.current_version
    assert version is not None
    body = version.body
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "request": body.get("request", {}),
        "offer": body.get("offer", {}),
        "member": body.get("member", ""),
        "resource_type": body.get("resource_type", ""),
        "resource_names": _names(str(body.get("resource_type", ""))),
        "unit": body.get("unit", ""),
        "quantity": int(body.get("quantity", 0)),
        "delivered": int(body.get("delivered", 0)),
        "status": body.get("status", ""),
        "contact": body.get("contact", {}),
        "location": _location(body.get("location")),
        "departure": body.get("departure"),
        "arrival": body.get("arrival"),
        "end": body.get("end"),
        "change": body.get("change", {}),
        "state": version.state,
        "tlp": version.tlp,
        "updated_at": signed_time(version),
    }
