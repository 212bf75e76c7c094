"""/api/v1/offers/{id}/commit and /deployments, /api/v1/deployments, /api/v1/incidents/{id}/deployments: what the
offering member does with an accepted offer, and the 3W data (who, what, where) of an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from accord.api import account_of, principal_of, require_write
from accord.records.models import Record
from accord.response import assist_deploy, assist_queries, queries
from accord.response.assist_api import PAGED, PageQuery, PointIn, RequestOut, next_link, request_view

incident_router: Router = Router(tags=["assistance"])
offers_router: Router = Router(tags=["assistance"])
router: Router = Router(tags=["assistance"])

DeploymentStatus = Literal["mobilising", "in_transit", "arrived", "operating", "demobilised", "returned"]


class CommitIn(Schema):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(description="at most what was accepted of the offer and not yet committed")
    request: UUID | None = Field(default=None, description="for an unsolicited offer accepted for several requests")
    note: str = Field(default="", max_length=2000)


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str
    phone: str = ""
    email: str = ""


class LocationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(description="a first-level region (ISO 3166-2)")
    point: PointIn | None = None
    place: str = ""


class DeploymentIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "quantity": 6000,
                    "contact": {"name": "Wang Li", "phone": "+86 10 0000 0000"},
                    "location": {"region": "KZ-75", "place": "Almaty central laboratory"},
                    "departure": "2026-05-04",
                }
            ]
        },
    )

    quantity: int = Field(description="at most what was accepted of the offer and not yet deployed")
    contact: ContactIn = Field(description="the contact point")
    location: LocationIn
    departure: str | None = Field(default=None, description="a date or an RFC 3339 time")
    arrival: str | None = None
    end: str | None = None
    status: DeploymentStatus = "mobilising"
    request: UUID | None = None


class DeploymentStatusIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: DeploymentStatus = Field(
        description="mobilising → in_transit → arrived → operating → demobilised → returned"
    )
    delivered: int | None = Field(default=None, description="the quantity delivered so far (never going down)")
    note: str = Field(default="", max_length=2000)
    when: str | None = Field(default=None, description="when it happened (default now)")


class DeploymentOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    request: dict[str, str]
    offer: dict[str, str]
    member: str
    resource_type: str
    resource_names: dict[str, str]
    unit: str
    quantity: int
    delivered: int
    status: str
    contact: dict[str, str]
    location: dict[str, Any]
    departure: str | None
    arrival: str | None
    end: str | None
    change: dict[str, Any]
    state: str
    tlp: str
    updated_at: datetime


_WHERE = (
    " Only the offering member: anyone else gets a 403 naming `offer`. Decided on the offer's own node: on another "
    "node the offering member gets a 409 naming `offer` that says where."
)


def _deployment(request: HttpRequest, record_uuid: UUID | str) -> dict[str, Any]:
    found = assist_deploy.deployment_for(principal_of(request), record_uuid)
    return assist_queries.deployment_out(Record.objects.select_related("current_version").get(pk=found.pk))


@offers_router.post(
    "/{uuid:record_uuid}/commit",
    response=RequestOut,
    summary="Commit (part of) what was accepted of an offer: the offering member, on its own node",
    description="More than was accepted and not yet committed is a 409 naming `quantity`." + _WHERE,
)
def commit(request: HttpRequest, record_uuid: UUID, payload: CommitIn) -> dict[str, Any]:
    require_write(request)
    version = assist_deploy.commit(
        record_uuid,
        acting_user=account_of(request),
        quantity=payload.quantity,
        request=payload.request,
        note=payload.note,
    )
    return request_view(request, str(version.body["request"]["record"]))


@offers_router.post(
    "/{uuid:record_uuid}/deployments",
    response={201: DeploymentOut},
    summary="Deploy (part of) an accepted offer: the offering member, on its own node",
    description="More than was accepted and not yet deployed is a 409 naming `quantity`." + _WHERE,
)
def deploy(request: HttpRequest, record_uuid: UUID, payload: DeploymentIn) -> Status[dict[str, Any]]:
    require_write(request)
    location = payload.location.model_dump()
    if location.get("point") is None:
        location.pop("point", None)
    version = assist_deploy.deploy(
        record_uuid,
        acting_user=account_of(request),
        quantity=payload.quantity,
        contact=payload.contact.model_dump(),
        location=location,
        departure=payload.departure,
        arrival=payload.arrival,
        end=payload.end,
        status=payload.status,
        request=payload.request,
    )
    return Status(201, _deployment(request, version.record_uuid))


@router.get("/{uuid:record_uuid}", response=DeploymentOut, summary="One deployment")
def get_deployment(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return _deployment(request, record_uuid)


@router.post(
    "/{uuid:record_uuid}/status",
    response=DeploymentOut,
    summary="Report a deployment's status and delivered quantity (the providing member; forward only)",
    description="A status going back is a 409 naming `status`, a delivered quantity going down one naming "
    "`delivered`. Only the providing member: anyone else gets a 403 naming `deployment`. Made on the deployment's "
    "own node: on another node the providing member gets a 409 naming `deployment` that says where.",
)
def report_status(request: HttpRequest, record_uuid: UUID, payload: DeploymentStatusIn) -> dict[str, Any]:
    require_write(request)
    assist_deploy.report_status(
        record_uuid,
        acting_user=account_of(request),
        status=payload.status,
        delivered=payload.delivered,
        note=payload.note,
        when=payload.when,
    )
    return _deployment(request, record_uuid)


@incident_router.get(
    "/{uuid:record_uuid}/deployments",
    response=list[DeploymentOut],
    summary="The deployments on an incident: who (member), what (type, quantity), where (region, place)",
    description="Oldest change first. " + PAGED,
)
def list_deployments(
    request: HttpRequest, response: HttpResponse, record_uuid: UUID, paging: Query[PageQuery]
) -> list[dict[str, Any]]:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = assist_queries.deployments_of(principal, incident)
    found = assist_queries.page(rows, assist_queries.DEPLOYMENT_KEYS, paging.limit, paging.cursor)
    next_link(request, response, found)
    return [assist_queries.deployment_out(r) for r in found.rows]


def add_routers(api: Any) -> None:
    api.add_router("/incidents", incident_router)
    api.add_router("/offers", offers_router)
    api.add_router("/deployments", router)
