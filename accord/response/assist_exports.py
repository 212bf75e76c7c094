"""Mutual assistance exports: an incident's requests, offers and deployments as CSV with HXL hashtags, and a request
or an offer as an EDXL-RM 1.0 message (docs/response.md, "Exports").

Everything is read through the assistance queries (the record core's audience filter): an export holds only what its
reader may see, exactly as the API's lists do. The files themselves are written by the pure functions of
accord/lib/hxl_csv.py and accord/lib/edxl_rm.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Router

from accord.api import principal_of
from accord.lib import edxl_rm, hxl_csv
from accord.members.models import Member, Organisation
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_actions, assist_catalogue, assist_queries, queries
from accord.response.refs import pick, signed_time

incident_router: Router = Router(tags=["assistance"])
requests_router: Router = Router(tags=["assistance"])
offers_router: Router = Router(tags=["assistance"])

CSV_TYPE = "text/csv; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
_CSV_DOC = {"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}}
_XML_DOC = {"responses": {200: {"content": {"application/xml": {"schema": {"type": "string"}}}}}}


def _names(records: Iterable[Record]) -> dict[str, str]:
    """The English names of the organisations and members that wrote these records (one query each)."""
    versions = [r.current_version for r in records if r.current_version is not None]
    organisations = {v.origin_organisation for v in versions if v.origin_organisation is not None}
    found: dict[str, str] = {
        str(o.uuid): o.name_en for o in Organisation.objects.filter(uuid__in=organisations).only("uuid", "name_en")
    }
    members = {v.origin_member for v in versions}
    found.update({m.code: m.name_en for m in Member.objects.filter(code__in=members).only("code", "name_en")})
    return found


def _organisation(record: Record, names: dict[str, str]) -> str:
    """The writing organisation's name; for one of another node this node does not know, its member's."""
    version = record.current_version
    assert version is not None
    if version.origin_organisation is not None and str(version.origin_organisation) in names:
        return names[str(version.origin_organisation)]
    return names.get(version.origin_member, version.origin_member)


def _resource_name(code: str, detail: str) -> str:
    kind = assist_catalogue.get(code)
    name = kind.name_en if kind is not None else code
    return f"{name}: {detail}" if detail else name


def _ref(value: Any) -> str | None:
    """The record uuid of a reference in a body (`{"node": ..., "record": ...}`), or None."""
    if isinstance(value, dict) and value.get("record"):
        return str(value["record"])
    return None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def request_row(record: Record, names: dict[str, str]) -> hxl_csv.RequestRow:
    out = assist_queries.request_out(record)
    return {
        "id": str(out["id"]),
        "incident": _ref(out["incident"]) or "",
        "member": out["member"],
        "organisation": _organisation(record, names),
        "resource_type": out["resource_type"],
        "resource_name": _resource_name(out["resource_type"], out["detail"]),
        "quantity": out["requested"],
        "unit": out["unit"],
        "needed_by": _text(out["needed_by"]),
        "region": _text(out["region"]),
        "priority": out["priority"],
        "status": out["status"],
        "offered": out["offered"],
        "accepted": out["accepted"],
        "committed": out["committed"],
        "delivered": out["delivered"],
        "gap": out["gap"],
    }


def offer_row(record: Record, names: dict[str, str]) -> hxl_csv.OfferRow:
    out = assist_queries.offer_out(record)
    return {
        "id": str(out["id"]),
        "incident": _ref(out["incident"]) or "",
        "request": _ref(out["request"]),
        "member": out["member"],
        "organisation": _organisation(record, names),
        "resource_type": out["resource_type"],
        "resource_name": _resource_name(out["resource_type"], out["detail"]),
        "quantity": out["quantity"],
        "unit": out["unit"],
        "accepted": out["accepted"],
        "available_from": _text(out["available_from"]),
        "available_until": _text(out["available_until"]),
        "status": offer_status(out),
    }


def offer_status(out: dict[str, Any]) -> str:
    """withdrawn, or by what was accepted of it: open, partly_accepted, accepted."""
    if out["state"] != "active":
        return str(out["state"])
    if out["accepted"] <= 0:
        return "open"
    return "accepted" if out["accepted"] >= out["quantity"] else "partly_accepted"


def offers_on(principal: Principal, incident: Record) -> list[Record]:
    """The offers on an incident the principal may see: those on its visible requests, then the unsolicited ones."""
    seen: set[int] = set()
    found: list[Record] = []
    for request in assist_queries.requests_of(principal, incident):
        for offer in assist_queries.offers_of(principal, request):
            if offer.pk not in seen:
                seen.add(offer.pk)
                found.append(offer)
    for offer in assist_queries.unsolicited_offers(principal, incident):
        if offer.pk not in seen:
            seen.add(offer.pk)
            found.append(offer)
    return found


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@incident_router.get(
    "/{uuid:record_uuid}/requests.csv",
    response={200: str},
    summary="The requests on an incident you may see, with their ledgers, as CSV with HXL hashtags",
    openapi_extra=_CSV_DOC,
)
def requests_csv(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = list(assist_queries.requests_of(principal, incident))
    names = _names(rows)
    content = hxl_csv.requests_csv(request_row(r, names) for r in rows)
    return _attachment(content, CSV_TYPE, f"requests-{incident.uuid}.csv")


@incident_router.get(
    "/{uuid:record_uuid}/offers.csv",
    response={200: str},
    summary="The offers on an incident you may see (solicited and unsolicited) as CSV with HXL hashtags",
    openapi_extra=_CSV_DOC,
)
def offers_csv(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = offers_on(principal, incident)
    names = _names(rows)
    content = hxl_csv.offers_csv(offer_row(r, names) for r in rows)
    return _attachment(content, CSV_TYPE, f"offers-{incident.uuid}.csv")


def deployment_row(record: Record, names: dict[str, str]) -> hxl_csv.DeploymentRow:
    out = assist_queries.deployment_out(record)
    location = out["location"] or {}
    contact = out["contact"] or {}
    return {
        "id": str(out["id"]),
        "incident": _ref(out["incident"]) or "",
        "offer": _ref(out["offer"]) or "",
        "member": str(out["member"]),
        "organisation": _organisation(record, names),
        "resource_type": str(out["resource_type"]),
        "resource_name": _resource_name(str(out["resource_type"]), ""),
        "quantity": int(out["quantity"]),
        "unit": str(out["unit"]),
        "status": str(out["status"]),
        "region": _text(location.get("region")),
        "location": _text(location.get("place")),
        "started": _text(out["departure"]),
        "arrived": _text(out["arrival"]),
        "ended": _text(out["end"]),
        "contact": _text(contact.get("name")),
    }


@incident_router.get(
    "/{uuid:record_uuid}/deployments.csv",
    response={200: str},
    summary="The deployments on an incident you may see (who does what where) as CSV with HXL hashtags",
    openapi_extra=_CSV_DOC,
)
def deployments_csv(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = list(assist_queries.deployments_of(principal, incident))
    names = _names(rows)
    content = hxl_csv.deployments_csv(deployment_row(r, names) for r in rows)
    return _attachment(content, CSV_TYPE, f"deployments-{incident.uuid}.csv")


def _incident_title(principal: Principal, reference: Any) -> tuple[str, str]:
    """The incident's uuid and English title, as the principal may see it (the uuid alone otherwise)."""
    ident = _ref(reference) or ""
    try:
        incident = queries.incident_for(principal, uuid.UUID(ident))
    except (NotFound, ValueError):  # an incident the reader may not see: its id alone
        return ident, ident
    version = incident.current_version
    title = pick(version.body.get("title"), "en") if version is not None else ""
    return ident, title or ident


def request_message(principal: Principal, record: Record) -> edxl_rm.RequestMessage:
    out = assist_queries.request_out(record)
    version = record.current_version
    assert version is not None
    incident, title = _incident_title(principal, out["incident"])
    point = out["point"]
    message: edxl_rm.RequestMessage = {
        "id": str(out["id"]),
        "sent": signed_time(version),
        "incident": incident,
        "incident_title": title,
        "member": out["member"],
        "organisation": _organisation(record, _names([record])),
        "resource_type": out["resource_type"],
        "resource_name": _resource_name(out["resource_type"], out["detail"]),
        "quantity": out["requested"],
        "unit": out["unit"],
        "needed_by": _text(out["needed_by"]),
        "region": _text(out["region"]),
        "point": (point["lat"], point["lon"]) if isinstance(point, dict) else None,
        "priority": out["priority"],
    }
    if out["conditions"]:
        message["conditions"] = out["conditions"]
    return message


@requests_router.get(
    "/{uuid:record_uuid}.xml",
    response={200: str},
    summary="One request as an EDXL-RM 1.0 RequestResource message",
    openapi_extra=_XML_DOC,
)
def request_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    found = assist_actions.request_for(principal, record_uuid)
    record = Record.objects.select_related("current_version", "request_view").get(pk=found.pk)
    content = edxl_rm.request_resource(request_message(principal, record))
    return _attachment(content, XML_TYPE, f"request-{record.uuid}.xml")


def offer_message(principal: Principal, record: Record) -> edxl_rm.OfferMessage:
    out = assist_queries.offer_out(record)
    version = record.current_version
    assert version is not None
    incident, title = _incident_title(principal, out["incident"])
    message: edxl_rm.OfferMessage = {
        "id": str(out["id"]),
        "sent": signed_time(version),
        "incident": incident,
        "incident_title": title,
        "request": _ref(out["request"]),
        "member": out["member"],
        "organisation": _organisation(record, _names([record])),
        "resource_type": out["resource_type"],
        "resource_name": _resource_name(out["resource_type"], out["detail"]),
        "quantity": out["quantity"],
        "unit": out["unit"],
        "available_from": _text(out["available_from"]),
        "available_until": _text(out["available_until"]),
        "status": offer_status(out),
    }
    if out["conditions"]:
        message["conditions"] = out["conditions"]
    if out["note"]:
        message["note"] = out["note"]
    return message


@offers_router.get(
    "/{uuid:record_uuid}.xml",
    response={200: str},
    summary="One offer as EDXL-RM 1.0: ResponseToRequestResource (on a request) or OfferUnsolicitedResource",
    openapi_extra=_XML_DOC,
)
def offer_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    found = assist_actions.offer_for(principal, record_uuid)
    record = Record.objects.select_related("current_version", "offer_view").get(pk=found.pk)
    content = edxl_rm.offer_resource(offer_message(principal, record))
    return _attachment(content, XML_TYPE, f"offer-{record.uuid}.xml")


def add_routers(api: Any) -> None:
    api.add_router("/incidents", incident_router)
    api.add_router("/requests", requests_router)
    api.add_router("/offers", offers_router)
