"""/api/v1/roster-calls: mobilisation from the expert roster (the contract of issue #18; the names are used by checks
outside this repository: keep them).

* `POST /api/v1/roster-calls` `{"request": id | null, "incident": id | null, "field", "language", "from", "until"}`
  (and optionally `region`, `message`) -> 201 with `id` and `called` (how many experts were called);
* `GET /api/v1/roster-calls/{id}`: the call, its experts and replies as the caller may see them;
* `POST /api/v1/roster-calls/{id}/replies` `{"available": true, "from", "until", "note"}` by a called expert -> 201;
* `POST /api/v1/roster-calls/{id}/selections` `{"expert": "<profile id>"}` -> 201 with the offer, acceptance,
  commitment and deployment the selection made, and the request with its ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StrictBool

from accord.alliances import mobilise_actions, mobilise_queries
from accord.api import account_of, errors, links_to, principal_of, require_write
from accord.records.models import Record
from accord.response import assist_queries
from accord.response.assist_api import OfferOut, RequestOut, request_view
from accord.response.assist_deploy_api import DeploymentOut

router: Router = Router(tags=["roster calls"])


class CallIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "request": "0b7e8f0e-8a52-4f43-9a0e-6d4f3d1f2a10",
                    "incident": None,
                    "field": "epidemiology",
                    "language": "ru",
                    "from": "2026-06-01",
                    "until": "2026-06-30",
                }
            ]
        },
    )

    request: UUID | None = Field(default=None, description="an assistance request for experts (resource type expert)")
    incident: UUID | None = Field(default=None, description="or an incident (give one of the two)")
    field: str = Field(max_length=60, description="a field of expertise (code of the roster's vocabulary)")
    language: str | None = Field(default=None, max_length=10, description="a language the experts speak (optional)")
    start: str = Field(alias="from", max_length=40, description="the first day of the window (YYYY-MM-DD)")
    until: str = Field(max_length=40, description="the last day (YYYY-MM-DD), not before `from`")
    region: str | None = Field(
        default=None, max_length=12, description="on an incident: where the experts would go (default its first region)"
    )
    message: str = Field(default="", max_length=2000, description="what the experts read with the call")


class ReplyIn(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    available: StrictBool
    start: str | None = Field(default=None, alias="from", max_length=40, description="default: the call's from")
    until: str | None = Field(default=None, max_length=40, description="default: the call's until")
    note: str = Field(default="", max_length=2000)
    expert: UUID | None = Field(default=None, description="for a focal point answering for several managed profiles")


class SelectionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    expert: UUID = Field(description="the profile id of an expert who replied available")


class ReplyOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    node: UUID
    seq: int
    call: UUID
    expert: UUID
    member: str
    available: bool
    start: str | None = Field(alias="from")
    until: str | None
    note: str
    at: datetime


class SelectionOut(Schema):
    id: UUID
    node: UUID
    expert: UUID
    member: str
    reply: dict[str, Any]
    request: UUID
    offer: UUID
    acceptance: UUID
    commitment: UUID
    deployment: UUID
    at: datetime


class CalledExpertOut(Schema):
    id: UUID = Field(description="the expert's profile id")
    member: str
    name: str | None = Field(description="only when you may see the profile")
    organisation: str | None = Field(description="the affiliation's slug, only when you may see the profile")
    you: bool = Field(description="the call names your own profile")
    reply: ReplyOut | None = Field(description="the latest reply you may see")
    selection: SelectionOut | None


class CallOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    id: UUID
    node: UUID
    seq: int
    request: UUID | None
    incident: UUID
    member: str = Field(description="the calling member")
    requester: str = Field(description="the member that selects")
    field: str
    field_name: str
    language: str | None
    language_name: str
    start: str = Field(alias="from")
    until: str
    region: str
    message: str
    called: int = Field(description="how many experts were called")
    experts: list[CalledExpertOut]
    replies: list[ReplyOut]
    selections: list[SelectionOut]
    state: str
    tlp: str
    record_status: str
    updated_at: datetime


class Ref(Schema):
    id: UUID
    node: UUID


class SelectedOut(Schema):
    id: UUID = Field(description="the selection's id")
    call: UUID
    expert: UUID
    request: RequestOut = Field(description="the request, with its ledger")
    offer: OfferOut
    acceptance: Ref
    commitment: Ref
    deployment: DeploymentOut


def _call(request: HttpRequest, record_uuid: UUID | str) -> dict[str, Any]:
    principal = principal_of(request)
    found = mobilise_actions.call_for(principal, record_uuid)
    return mobilise_queries.call_out(Record.objects.select_related("current_version").get(pk=found.pk), principal)


@router.post(
    "",
    response={201: CallOut, **errors(404)},
    by_alias=True,
    summary="Call the roster: the experts who match a request for experts (or an incident)",
    description=(
        "Calls the experts you may see with the field, the language (when given), an availability window covering "
        "the whole of from..until, and deployable; not the experts of the member that selects, nor those whose "
        "member cannot see the request. `called` is how many. When none matches: 409 naming `field`, nothing "
        "stored. Neither or both of `request` and `incident`, or a request not for experts: 400 naming `request`; "
        "an unknown field or language: 400 naming it; `until` before `from`: 400 naming `until`; a request or incident "
        "you may not see (or none with that id): 404."
    ),
    openapi_extra=links_to(201, "record_uuid", "accord_alliances_mobilise_api_get_call", pointer="/id"),
)
def create_call(request: HttpRequest, payload: CallIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = mobilise_actions.call_roster(
        acting_user=account_of(request),
        request=payload.request,
        incident=payload.incident,
        field=payload.field,
        language=payload.language,
        start=payload.start,
        until=payload.until,
        region=payload.region,
        message=payload.message,
    )
    return Status(201, _call(request, version.record_uuid))


@router.get("/{uuid:record_uuid}", response=CallOut, by_alias=True, summary="One roster call, as you may see it")
def get_call(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return _call(request, record_uuid)


@router.post(
    "/{uuid:record_uuid}/replies",
    response={201: ReplyOut},
    by_alias=True,
    summary="Reply to a roster call (a called expert): available or not, with dates",
    description=(
        "Answering again changes the reply (a new version of it, the same `id`). Someone not called: 403 naming "
        "`call`; `until` before `from`: 400 naming `until`; dates that miss the call's window: 400 naming `from`."
    ),
)
def create_reply(request: HttpRequest, record_uuid: UUID, payload: ReplyIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = mobilise_actions.reply(
        record_uuid,
        acting_user=account_of(request),
        available=payload.available,
        start=payload.start,
        until=payload.until,
        note=payload.note,
        expert=payload.expert,
    )
    record = Record.objects.select_related("current_version").get(pk=version.record_id)
    return Status(201, mobilise_queries.reply_out(record))


@router.post(
    "/{uuid:record_uuid}/selections",
    response={201: SelectedOut},
    summary="Select an expert who replied available: an offer, its acceptance, commitment and deployment",
    description=(
        "By a focal point of the member that selects (403 naming `call` for anyone else). The selection becomes an "
        "offer of one expert by the expert's member (issued by the person), accepted by you, committed and deployed "
        "(`mobilising`, the reply's dates), so the request's ledger counts it. An expert who did not reply, replied "
        "unavailable or is selected already: 409 naming `expert`. Not built yet across nodes: a request made on "
        "another node (409 naming `request`), an expert who answered on another node (409 naming `expert`)."
    ),
)
def create_selection(request: HttpRequest, record_uuid: UUID, payload: SelectionIn) -> Status[dict[str, Any]]:
    require_write(request)
    made = mobilise_actions.select(record_uuid, acting_user=account_of(request), expert=payload.expert)
    offer = Record.objects.select_related("current_version", "offer_view").get(pk=made["offer"].record_id)
    deployment = Record.objects.select_related("current_version").get(pk=made["deployment"].record_id)
    return Status(
        201,
        {
            "id": made["selection"].record_uuid,
            "call": record_uuid,
            "expert": payload.expert,
            "request": request_view(request, made["offer"].body["request"]["record"]),
            "offer": assist_queries.offer_out(offer),
            "acceptance": {"id": made["acceptance"].record_uuid, "node": made["acceptance"].origin_node},
            "commitment": {"id": made["commitment"].record_uuid, "node": made["commitment"].origin_node},
            "deployment": assist_queries.deployment_out(deployment),
        },
    )


def add_routers(api: Any) -> None:
    api.add_router("/roster-calls", router)
