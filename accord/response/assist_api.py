"""/api/v1/resource-types, /api/v1/incidents/{id}/requests and /offers, /api/v1/requests, /api/v1/offers: mutual
assistance (the contract of issue #17; the names are used by checks outside this repository: keep them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from accord.api import AudienceIn, Tlp, account_of, links_to, principal_of, require_write
from accord.members.site import absolute_url
from accord.records.envelope import parse_audience
from accord.records.models import Record
from accord.response import assist_actions, assist_catalogue, assist_queries, queries

types_router: Router = Router(tags=["assistance"])
incident_router: Router = Router(tags=["assistance"])
requests_router: Router = Router(tags=["assistance"])
offers_router: Router = Router(tags=["assistance"])

Priority = Literal["high", "medium", "low"]


class ResourceTypeOut(Schema):
    code: str
    names: dict[str, str] = Field(description="en, ru, zh")
    unit: str
    unit_names: dict[str, str]
    group: str
    detail: str = Field(description="what a request's `detail` names for this type (antigen, pathogen, field ...)")
    detail_required: bool
    source: str = Field(description="where the type's definition comes from")


class PointIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lat: float
    lon: float


class RequestIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resource_type": "pcr_tests",
                    "quantity": 10000,
                    "needed_by": "2026-05-10",
                    "region": "KZ-75",
                    "priority": "high",
                    "audience": {"members": ["KZ", "CN", "RU", "SCO"]},
                    "tlp": "GREEN",
                }
            ]
        },
    )

    resource_type: str = Field(description="a code of GET /api/v1/resource-types")
    quantity: int = Field(description="in the type's unit; above zero")
    unit: str | None = Field(default=None, description="the type's unit (the default); any other is refused")
    detail: str = Field(default="", max_length=500, description="antigen, pathogen, field; required for `other`")
    needed_by: str = Field(description="a date (2026-05-10) or an RFC 3339 time")
    region: str = Field(description="the delivery location: a first-level region (ISO 3166-2)")
    point: PointIn | None = None
    priority: Priority = "medium"
    conditions: str = Field(default="", max_length=5000, description="e.g. language of the team, self-sufficiency")
    audience: AudienceIn | None = Field(default=None, description="everyone, or named members; default: the incident's")
    tlp: Tlp | None = Field(default=None, description="default: the incident's")


class OfferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(description="in the request's unit; above zero")
    available_from: str | None = Field(default=None, description="a date or an RFC 3339 time")
    available_until: str | None = None
    lead_time_days: int | None = None
    conditions: str = Field(default="", max_length=5000)
    costs_borne_by: str = Field(default="", max_length=200, description="e.g. provider, recipient, shared")
    note: str = Field(default="", max_length=5000)


class UnsolicitedIn(OfferIn):
    resource_type: str
    unit: str | None = None
    detail: str = Field(default="", max_length=500)
    to_member: str | None = Field(default=None, description="the affected member offered to; default the lead")


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")

    quantity: int
    request: UUID | None = Field(default=None, description="for an unsolicited offer: your request it fills")
    note: str = Field(default="", max_length=2000)


class EndIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class OfferOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    request: dict[str, str] | None
    member: str
    to_member: str
    resource_type: str
    unit: str
    detail: str
    quantity: int
    accepted: int
    committed: int
    delivered: int
    available_from: str | None
    available_until: str | None
    lead_time_days: int | None
    conditions: str
    costs_borne_by: str
    note: str
    state: str = Field(description="active, or withdrawn by the offering member")
    reason: str = Field(default="", description="why it was withdrawn")
    tlp: str
    updated_at: datetime


class RequestOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    member: str
    resource_type: str
    resource_names: dict[str, str]
    unit: str
    detail: str
    quantity: int
    needed_by: str
    region: str
    point: dict[str, float] | None
    priority: str
    conditions: str
    state: str
    change: dict[str, Any]
    tlp: str
    record_status: str
    updated_at: datetime
    requested: int
    offered: int
    accepted: int
    committed: int
    delivered: int
    gap: int = Field(description="requested less accepted")
    status: str = Field(description="open / partly_covered / covered / withdrawn / closed")
    offers: list[OfferOut]


class RequestList(Schema):
    count: int = Field(description="how many requests match (on every page)")
    items: list[RequestOut]
    next: str | None = Field(description="the next page's URL (also in the Link header); null on the last page")
    cursor: str | None = Field(description="the next page's cursor (the `cursor` parameter of `next`)")


class PageQuery(Schema):
    """The paging of the assistance lists, as the incidents' and alerts' lists page (keyset, never OFFSET)."""

    limit: int = Field(default=50, ge=1, le=200, description="items a page, 1-200 (default 50)")
    cursor: str | None = Field(
        default=None, max_length=200, description="where the page starts: the cursor in the previous page's next link"
    )


class ListFilter(PageQuery):
    status: Literal["open", "partly_covered", "covered", "withdrawn", "closed"] | None = None


PAGED = (
    "A page of `limit` items (default 50, at most 200). When more follow, the `Link` header has the next page's URL "
    '(`<URL>; rel="next"`): follow it as it is; its `cursor` parameter is opaque (a cursor this list did not give '
    "is a 400 naming `cursor`)."
)


def next_link(request: HttpRequest, response: HttpResponse, found: assist_queries.Page) -> str | None:
    """The next page's URL (None on the last page), also set as the answer's `Link: <URL>; rel="next"`."""
    if found.cursor is None:
        return None
    params = request.GET.copy()
    params["cursor"] = found.cursor
    following = absolute_url(f"{request.path}?{params.urlencode()}", request)
    response["Link"] = f'<{following}>; rel="next"'
    return following


@types_router.get("", response=list[ResourceTypeOut], summary="The resource catalogue of mutual assistance")
def resource_types(request: HttpRequest) -> list[dict[str, Any]]:
    out = []
    for kind in assist_catalogue.types():
        unit = assist_catalogue.unit(kind.unit)
        out.append(
            {
                "code": kind.code,
                "names": kind.names(),
                "unit": kind.unit,
                "unit_names": unit.names() if unit is not None else {},
                "group": kind.group,
                "detail": kind.detail,
                "detail_required": kind.detail_required,
                "source": kind.source,
            }
        )
    return out


def request_view(request: HttpRequest, record_uuid: UUID | str) -> dict[str, Any]:
    """The request `record_uuid` with its ledger and offers, as the caller may see it (404 otherwise)."""
    principal = principal_of(request)
    found = assist_actions.request_for(principal, record_uuid)
    record = Record.objects.select_related("current_version", "request_view").get(pk=found.pk)
    return assist_queries.request_out(record, principal)


def _offer(record_uuid: UUID | str, request: HttpRequest) -> dict[str, Any]:
    found = assist_actions.offer_for(principal_of(request), record_uuid)
    return assist_queries.offer_out(Record.objects.select_related("current_version", "offer_view").get(pk=found.pk))


@incident_router.post(
    "/{uuid:record_uuid}/requests",
    response={201: RequestOut},
    summary="Request assistance on an incident (an affected member or the Secretariat)",
    openapi_extra=links_to(201, "record_uuid", "accord_response_assist_api_get_request", pointer="/id"),
)
def create_request(request: HttpRequest, record_uuid: UUID, payload: RequestIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = assist_actions.create_request(
        record_uuid,
        acting_user=account_of(request),
        resource_type=payload.resource_type,
        quantity=payload.quantity,
        unit=payload.unit,
        detail=payload.detail,
        needed_by=payload.needed_by,
        region=payload.region,
        point=payload.point.model_dump() if payload.point is not None else None,
        priority=payload.priority,
        conditions=payload.conditions,
        audience=parse_audience(payload.audience.plain()) if payload.audience is not None else None,
        tlp=payload.tlp,
    )
    return Status(201, request_view(request, version.record_uuid))


@incident_router.get(
    "/{uuid:record_uuid}/requests",
    response=RequestList,
    summary="The requests on an incident, most urgent first",
    description="A page of `limit` requests (default 50, at most 200); `count` is how many match. When more follow, "
    '`next` is the next page\'s URL (also in the `Link` header, `rel="next"`) and `cursor` its opaque `cursor` '
    "parameter; a cursor this list did not give is a 400 naming `cursor`.",
)
def list_requests(
    request: HttpRequest, response: HttpResponse, record_uuid: UUID, filters: Query[ListFilter]
) -> dict[str, Any]:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = assist_queries.requests_of(principal, incident, status=filters.status)
    found = assist_queries.page(rows, assist_queries.REQUEST_KEYS, filters.limit, filters.cursor)
    return {
        "count": rows.count(),
        "items": [assist_queries.request_out(r, principal) for r in found.rows],
        "next": next_link(request, response, found),
        "cursor": found.cursor,
    }


@incident_router.post(
    "/{uuid:record_uuid}/offers",
    response={201: OfferOut},
    summary="Offer assistance on an incident, unsolicited (for an affected member to accept)",
)
def offer_unsolicited(request: HttpRequest, record_uuid: UUID, payload: UnsolicitedIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = assist_actions.offer_unsolicited(
        record_uuid,
        acting_user=account_of(request),
        resource_type=payload.resource_type,
        unit=payload.unit,
        detail=payload.detail,
        to_member=payload.to_member,
        quantity=payload.quantity,
        available_from=payload.available_from,
        available_until=payload.available_until,
        lead_time_days=payload.lead_time_days,
        conditions=payload.conditions,
        costs_borne_by=payload.costs_borne_by,
        note=payload.note,
    )
    return Status(201, _offer(version.record_uuid, request))


@incident_router.get(
    "/{uuid:record_uuid}/offers",
    response=list[OfferOut],
    summary="Unsolicited offers on an incident, oldest change first",
    description=PAGED,
)
def list_unsolicited(
    request: HttpRequest, response: HttpResponse, record_uuid: UUID, paging: Query[PageQuery]
) -> list[dict[str, Any]]:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = assist_queries.unsolicited_offers(principal, incident)
    found = assist_queries.page(rows, assist_queries.OFFER_KEYS, paging.limit, paging.cursor)
    next_link(request, response, found)
    return [assist_queries.offer_out(r) for r in found.rows]


@requests_router.get("/{uuid:record_uuid}", response=RequestOut, summary="One request, with its ledger and offers")
def get_request(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return request_view(request, record_uuid)


@requests_router.post(
    "/{uuid:record_uuid}/offers",
    response={201: OfferOut},
    summary="Offer (part of) what a request asks for (another member than the requester)",
)
def make_offer(request: HttpRequest, record_uuid: UUID, payload: OfferIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = assist_actions.make_offer(
        record_uuid,
        acting_user=account_of(request),
        quantity=payload.quantity,
        available_from=payload.available_from,
        available_until=payload.available_until,
        lead_time_days=payload.lead_time_days,
        conditions=payload.conditions,
        costs_borne_by=payload.costs_borne_by,
        note=payload.note,
    )
    return Status(201, _offer(version.record_uuid, request))


@requests_router.post("/{uuid:record_uuid}/withdraw", response=RequestOut, summary="Withdraw a request (requester)")
def withdraw_request(request: HttpRequest, record_uuid: UUID, payload: EndIn) -> dict[str, Any]:
    require_write(request)
    assist_actions.withdraw_request(record_uuid, acting_user=account_of(request), reason=payload.reason)
    return request_view(request, record_uuid)


@requests_router.post("/{uuid:record_uuid}/close", response=RequestOut, summary="Close a request (requester)")
def close_request(request: HttpRequest, record_uuid: UUID, payload: EndIn) -> dict[str, Any]:
    require_write(request)
    assist_actions.close_request(record_uuid, acting_user=account_of(request), reason=payload.reason)
    return request_view(request, record_uuid)


@offers_router.get("/{uuid:record_uuid}", response=OfferOut, summary="One offer")
def get_offer(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return _offer(record_uuid, request)


@offers_router.post(
    "/{uuid:record_uuid}/accept",
    response=RequestOut,
    summary="Accept (part of) an offer: the requesting member, on its own node",
    description=(
        "Answers the request with its ledger. When the request (or the offer) has less still open than `quantity`, "
        "answers 409 with `open_quantity` (what the request still needs) and `offer_open_quantity` (what the offer "
        "still has unaccepted), and stores nothing: never more accepted than requested. Anyone but the requesting "
        "member's focal points (or the Secretariat's coordinators for its own request) gets 403 with `field` "
        "`offer`; the requesting member on another node than the request's gets 409 with `field` `offer` saying "
        "where to accept; a withdrawn offer is a 409 with `field` `offer`."
    ),
)
def accept_offer(request: HttpRequest, record_uuid: UUID, payload: AcceptIn) -> dict[str, Any]:
    require_write(request)
    version = assist_actions.accept(
        record_uuid,
        acting_user=account_of(request),
        quantity=payload.quantity,
        request=payload.request,
        note=payload.note,
    )
    return request_view(request, str(version.body["request"]["record"]))


class WithdrawOfferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000, description="why the offer is withdrawn (required)")


@offers_router.post(
    "/{uuid:record_uuid}/withdraw",
    response=OfferOut,
    summary="Withdraw an offer: the offering member, on its own node",
    description=(
        "A withdrawn offer can no longer be accepted, committed or deployed. What was accepted of it and not "
        "committed goes back to the request's gap; what was committed keeps counting."
    ),
)
def withdraw_offer(request: HttpRequest, record_uuid: UUID, payload: WithdrawOfferIn) -> dict[str, Any]:
    require_write(request)
    assist_actions.withdraw_offer(record_uuid, acting_user=account_of(request), reason=payload.reason)
    return _offer(record_uuid, request)


def add_routers(api: Any) -> None:
    api.add_router("/resource-types", types_router)
    api.add_router("/incidents", incident_router)
    api.add_router("/requests", requests_router)
    api.add_router("/offers", offers_router)
    from accord.response import assist_deploy_api

    assist_deploy_api.add_routers(api)
