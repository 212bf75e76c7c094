"""Mutual assistance exports: an incident's requests, offers and deployments as CSV with HXL hashtags, and a request,
an offer, an offer's commitment and a deployment's status as EDXL-RM 1.0 messages (docs/response.md, "Exports").

Everything is read through the assistance queries (the record core's audience filter): an export holds only what its
reader may see, exactly as the API's lists do. The files themselves are written by the pure functions of
accord/lib/hxl_csv.py and accord/lib/edxl_rm.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypedDict
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Router

from accord.api import principal_of
from accord.lib import edxl_rm, hxl_csv
from accord.members.models import Member, Organisation
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_actions, assist_catalogue, assist_deploy, assist_queries, queries
from accord.response.refs import pick, signed_time

incident_router: Router = Router(tags=["assistance"])
requests_router: Router = Router(tags=["assistance"])
offers_router: Router = Router(tags=["assistance"])
deployments_router: Router = Router(tags=["assistance"])

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


class _About(TypedDict):
    """What every row and message of a record states: its incident, who (member, organisation) and the resource.

    Spread into a row or a message (`{**_about(...), ...}`): mypy's extra check asks the spread dict to declare the
    target's optional keys too (a row's `sector`, a message's `region_name`), which differ from target to target and
    are left unset (the defaults), hence the `typeddict-item` ignores where it is spread."""

    incident: str
    member: str
    organisation: str
    resource_type: str
    resource_name: str
    quantity: int
    unit: str


def _about(record: Record, out: dict[str, Any], names: dict[str, str], quantity: int, detail: str = "") -> _About:
    """`out` is the record as the API shows it (request_out, offer_out, deployment_out); `record` wrote it."""
    return {
        "incident": _ref(out["incident"]) or "",
        "member": str(out["member"]),
        "organisation": _organisation(record, names),
        "resource_type": str(out["resource_type"]),
        "resource_name": _resource_name(str(out["resource_type"]), detail),
        "quantity": quantity,
        "unit": str(out["unit"]),
    }


def request_row(record: Record, names: dict[str, str]) -> hxl_csv.RequestRow:
    out = assist_queries.request_out(record)
    return {
        **_about(record, out, names, out["requested"], out["detail"]),  # type: ignore[typeddict-item]
        "id": str(out["id"]),
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
        **_about(record, out, names, out["quantity"], out["detail"]),  # type: ignore[typeddict-item]
        "id": str(out["id"]),
        "request": _ref(out["request"]),
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
    return {
        **_about(record, out, names, int(out["quantity"])),  # type: ignore[typeddict-item]
        "id": str(out["id"]),
        "offer": _ref(out["offer"]) or "",
        "status": str(out["status"]),
        "region": _text(location.get("region")),
        "location": _text(location.get("place")),
        "started": _text(out["departure"]),
        "arrived": _text(out["arrival"]),
        "ended": _text(out["end"]),
        "contact": _text((out["contact"] or {}).get("name")),
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


def _incident_title(principal: Principal, ident: str) -> str:
    """The incident's English title, as the principal may see it (its id otherwise)."""
    try:
        incident = queries.incident_for(principal, uuid.UUID(ident))
    except (NotFound, ValueError):  # an incident the reader may not see: its id alone
        return ident
    version = incident.current_version
    title = pick(version.body.get("title"), "en") if version is not None else ""
    return title or ident


class _Head(_About):
    sent: Any
    incident_title: str


def _head(principal: Principal, record: Record, out: dict[str, Any], quantity: int, detail: str = "") -> _Head:
    """The common block of an EDXL-RM message of `record`: when its current version was signed, the incident with
    its title, who sent it and the resource."""
    version = record.current_version
    assert version is not None
    about = _about(record, out, _names([record]), quantity, detail)
    return {**about, "sent": signed_time(version), "incident_title": _incident_title(principal, about["incident"])}


def _point(value: Any) -> tuple[float, float] | None:
    return (value["lat"], value["lon"]) if isinstance(value, dict) else None


def request_message(principal: Principal, record: Record) -> edxl_rm.RequestMessage:
    out = assist_queries.request_out(record)
    message: edxl_rm.RequestMessage = {
        **_head(principal, record, out, out["requested"], out["detail"]),  # type: ignore[typeddict-item]
        "id": str(out["id"]),
        "needed_by": _text(out["needed_by"]),
        "region": _text(out["region"]),
        "point": _point(out["point"]),
        "priority": out["priority"],
        "conditions": out["conditions"],
    }
    return message


XmlView = Callable[..., HttpResponse]


def _xml_route(router: Router, path: str, summary: str) -> Callable[[XmlView], XmlView]:
    """An export's GET route: one XML document, documented as such."""
    decorate: Callable[[XmlView], XmlView] = router.get(
        path, response={200: str}, summary=summary, openapi_extra=_XML_DOC
    )
    return decorate


@_xml_route(requests_router, "/{uuid:record_uuid}.xml", "One request as an EDXL-RM 1.0 RequestResource message")
def request_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    found = assist_actions.request_for(principal, record_uuid)
    record = Record.objects.select_related("current_version", "request_view").get(pk=found.pk)
    content = edxl_rm.request_resource(request_message(principal, record))
    return _attachment(content, XML_TYPE, f"request-{record.uuid}.xml")


def offer_message(principal: Principal, record: Record) -> edxl_rm.OfferMessage:
    out = assist_queries.offer_out(record)
    message: edxl_rm.OfferMessage = {
        **_head(principal, record, out, out["quantity"], out["detail"]),
        "id": str(out["id"]),
        "request": _ref(out["request"]),
        "available_from": _text(out["available_from"]),
        "available_until": _text(out["available_until"]),
        "status": offer_status(out),
        "conditions": out["conditions"],
        "note": out["note"],
    }
    return message


def _offer(principal: Principal, record_uuid: UUID) -> Record:
    found = assist_actions.offer_for(principal, record_uuid)
    return Record.objects.select_related("current_version", "offer_view").get(pk=found.pk)


@_xml_route(
    offers_router,
    "/{uuid:record_uuid}.xml",
    "One offer as EDXL-RM 1.0: ResponseToRequestResource (on a request) or OfferUnsolicitedResource",
)
def offer_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    record = _offer(principal, record_uuid)
    content = edxl_rm.offer_resource(offer_message(principal, record))
    return _attachment(content, XML_TYPE, f"offer-{record.uuid}.xml")


def commit_message(principal: Principal, offer: Record) -> edxl_rm.CommitMessage:
    """The offer's commitment: what the offering member committed of it in all (the counted commitments the reader
    may see), sent when the latest was made, by the organisation that made it; 404 when there is none."""
    rows = list(assist_queries.commitments_of_offer(principal, offer))
    if not rows:
        raise NotFound("no commitment of this offer")
    out = assist_queries.offer_out(offer)
    latest = rows[-1]
    requests = {str(r.commitment_view.request_record) for r in rows}
    message: edxl_rm.CommitMessage = {
        **_head(principal, latest, out, sum(int(r.commitment_view.quantity) for r in rows), out["detail"]),
        "offer": str(offer.uuid),
        "request": _ref(out["request"]) or (requests.pop() if len(requests) == 1 else None),
    }
    return message


@_xml_route(
    offers_router,
    "/{uuid:record_uuid}/commitment.xml",
    "What the offering member committed of an offer, as an EDXL-RM 1.0 CommitResource message",
)
def commitment_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    record = _offer(principal, record_uuid)
    content = edxl_rm.commit_resource(commit_message(principal, record))
    return _attachment(content, XML_TYPE, f"commitment-{record.uuid}.xml")


def deployment_message(principal: Principal, record: Record) -> edxl_rm.DeploymentMessage:
    """A deployment's current status (its latest report). Its end date is the return's departure once demobilised;
    the return itself has no date of its own in the record."""
    out = assist_queries.deployment_out(record)
    location = out["location"] or {}
    status = str(out["status"])
    message: edxl_rm.DeploymentMessage = {
        **_head(principal, record, out, int(out["quantity"])),  # type: ignore[typeddict-item]
        "id": str(out["id"]),
        "offer": _ref(out["offer"]) or "",
        "request": _ref(out["request"]),
        "status": status,
        "region": _text(location.get("region")),
        "point": _point(location.get("point")),
        "location": _text(location.get("place")),
        "contact": _text((out["contact"] or {}).get("name")),
        "departed": _text(out["departure"]),
        "arrived": _text(out["arrival"]),
        "demobilised": _text(out["end"]) if status in ("demobilised", "returned") else None,
        "returned": None,
    }
    return message


@_xml_route(
    deployments_router,
    "/{uuid:record_uuid}.xml",
    "A deployment's current status as an EDXL-RM 1.0 ReportResourceDeploymentStatus message",
)
def deployment_xml(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    principal = principal_of(request)
    found = assist_deploy.deployment_for(principal, record_uuid)
    record = Record.objects.select_related("current_version", "deployment_view").get(pk=found.pk)
    content = edxl_rm.report_deployment_status(deployment_message(principal, record))
    return _attachment(content, XML_TYPE, f"deployment-{record.uuid}.xml")


def add_routers(api: Any) -> None:
    api.add_router("/incidents", incident_router)
    api.add_router("/requests", requests_router)
    api.add_router("/offers", offers_router)
    api.add_router("/deployments", deployments_router)
