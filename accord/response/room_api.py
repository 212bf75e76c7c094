"""/api/v1/incidents/{id}/...: consents, the level, links, closing and reopening, the timeline."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.api import account_of, errors, json_integer, principal_of, require_write
from accord.members.site import absolute_url
from accord.records.models import Record, Version
from accord.response import actions, queries, timeline
from accord.response.api import IncidentOut, incident_out, router
from accord.response.refs import signed_time


class ConsentIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"consent": "given", "condition": "teams of KZ only"}]}
    )

    consent: Literal["given", "refused", "withdrawn"]
    condition: str = Field(default="", max_length=2000)


class ConsentOut(Schema):
    id: UUID
    seq: int
    incident: UUID
    member: str
    consent: str
    condition: str
    at: datetime
    incident_level: int = Field(description="the incident's level after this consent (a withdrawal may drop it)")


class ConsentRow(Schema):
    member: str
    consent: str | None = Field(description="given, refused, withdrawn, or null when the member has not said")
    condition: str
    at: datetime | None
    record: UUID | None


class LevelIn(Schema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"level": 2, "reason": "cases in three regions"}]}
    )

    level: Annotated[int, Field(ge=0, le=3), BeforeValidator(json_integer)]
    reason: str = Field(min_length=1, max_length=2000)
    expected_seq: Annotated[int, Field(ge=1, le=2_147_483_647), BeforeValidator(json_integer)] | None = None


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "no new cases for 42 days"}]})

    reason: str = Field(min_length=1, max_length=2000)


class LinkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    record: UUID = Field(description="the record to link: an alert, assessment, incident, note or case counts")
    note: str = Field(default="", max_length=2000)


class LinkOut(Schema):
    id: UUID
    incident: UUID
    record: UUID
    kind: str
    linked_by: str = Field(description="the member whose account linked it")
    note: str
    state: str


class TimelineItem(Schema):
    kind: str
    record: UUID
    seq: int
    origin: str = Field(description="the member the version was issued for")
    node: UUID
    at: datetime
    state: str
    title: str
    details: dict[str, Any]
    via: dict[str, Any] | None = Field(description="for a linked record: the link and the member that linked it")


class TimelineOut(Schema):
    items: list[TimelineItem] = Field(description="one page, in the order asked for (`order`)")
    next: str | None = Field(
        description="the URL of the following page in the same order (also in the Link header); null on the last"
    )
    previous: str | None = Field(
        description="the URL of the page before this one in the same order (also in the Link header); null on the first"
    )
    cursor: str | None = Field(description="the following page's cursor (the `cursor` parameter of `next`)")


class TimelineQuery(Schema):
    limit: int = Field(
        default=timeline.DEFAULT_LIMIT,
        ge=1,
        le=timeline.MAX_LIMIT,
        description=f"items a page, 1-{timeline.MAX_LIMIT} (default {timeline.DEFAULT_LIMIT})",
    )
    order: Literal["asc", "desc"] = Field(
        default="asc", description="asc: oldest first (the default, as before pages); desc: the latest first"
    )
    cursor: str | None = Field(
        default=None,
        max_length=200,
        description="where to start: the `cursor` of an answer, or the cursor inside its `next` or `previous` URL; "
        "opaque, keep the `order` it was given with",
    )


def _incident(request: HttpRequest, record_uuid: UUID) -> Record:
    return queries.incident_for(principal_of(request), record_uuid)


def _fresh(request: HttpRequest, version: Version) -> dict[str, Any]:
    return incident_out(queries.incident_for(principal_of(request), version.record_uuid))


@router.post(
    "/{uuid:record_uuid}/consents",
    response={201: ConsentOut},
    summary="Give, refuse or withdraw your member's consent to the incident's activation",
)
def give_consent(request: HttpRequest, record_uuid: UUID, payload: ConsentIn) -> Status[dict[str, Any]]:
    require_write(request)
    incident = _incident(request, record_uuid)
    version = actions.record_consent(
        incident, consent=payload.consent, condition=payload.condition, acting_user=account_of(request)
    )
    incident.refresh_from_db()
    current = incident.current_version
    assert current is not None
    body = version.body
    return Status(
        201,
        {
            "id": version.record_uuid,
            "seq": version.seq,
            "incident": incident.uuid,
            "member": body["member"],
            "consent": body["consent"],
            "condition": body.get("condition", ""),
            "at": signed_time(version),
            "incident_level": current.body["level"],
        },
    )


@router.get("/{uuid:record_uuid}/consents", response=list[ConsentRow], summary="Each affected member's consent")
def list_consents(request: HttpRequest, record_uuid: UUID) -> list[dict[str, Any]]:
    return queries.consent_board(principal_of(request), _incident(request, record_uuid))


@router.post(
    "/{uuid:record_uuid}/level",
    response={200: IncidentOut},
    summary="Change the incident's level (2 and 3 need the consent of every affected member)",
    description="When an affected member has not given its consent, the answer is 409 with, beside `detail` and "
    "`field` (`level`), `missing_consent`: the affected members whose consent is missing, refused or withdrawn, "
    "and `consents`: each affected member's consent (`given`, `refused`, `withdrawn`, or null when none is "
    "recorded). Nothing is stored.",
)
def change_level(request: HttpRequest, record_uuid: UUID, payload: LevelIn) -> Status[dict[str, Any]] | HttpResponse:
    require_write(request)
    incident = _incident(request, record_uuid)
    try:
        version = actions.change_level(
            incident,
            level=payload.level,
            reason=payload.reason,
            acting_user=account_of(request),
            expected_seq=payload.expected_seq,
        )
    except actions.MissingConsent as refused:
        # Written here: the documented 409 is the API's Error, and these members are the fields it adds.
        answer = {
            "detail": refused.message,
            "field": "level",
            "missing_consent": refused.missing,
            "consents": refused.states,
        }
        return HttpResponse(json.dumps(answer), status=409, content_type="application/json; charset=utf-8")
    return Status(200, _fresh(request, version))


@router.post("/{uuid:record_uuid}/close", response={200: IncidentOut}, summary="Close the incident, with a reason")
def close_incident(request: HttpRequest, record_uuid: UUID, payload: ReasonIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = actions.close_incident(
        _incident(request, record_uuid), reason=payload.reason, acting_user=account_of(request)
    )
    return Status(200, _fresh(request, version))


@router.post(
    "/{uuid:record_uuid}/reopen",
    response={200: IncidentOut},
    summary="Reopen a closed incident (at level 1 if the consents no longer hold)",
)
def reopen_incident(request: HttpRequest, record_uuid: UUID, payload: ReasonIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = actions.reopen_incident(
        _incident(request, record_uuid), reason=payload.reason, acting_user=account_of(request)
    )
    return Status(200, _fresh(request, version))


def link_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    return {
        "id": record.uuid,
        "incident": body["incident"]["record"],
        "record": body["target"]["record"],
        "kind": body["target"]["kind"],
        "linked_by": record.origin_member,
        "note": body.get("note", ""),
        "state": version.state,
    }


@router.post(
    "/{uuid:record_uuid}/links",
    response={201: LinkOut, **errors(404)},
    summary="Link a record you may see to the incident",
)
def link_record(request: HttpRequest, record_uuid: UUID, payload: LinkIn) -> Status[dict[str, Any]]:
    require_write(request)
    incident = _incident(request, record_uuid)
    version = actions.link_record(
        incident, target=str(payload.record), acting_user=account_of(request), note=payload.note
    )
    return Status(201, link_out(Record.objects.select_related("current_version").get(pk=version.record_id)))


@router.get("/{uuid:record_uuid}/links", response=list[LinkOut], summary="The incident's links you may see")
def list_links(request: HttpRequest, record_uuid: UUID) -> list[dict[str, Any]]:
    return [link_out(r) for r in queries.links_for(principal_of(request), _incident(request, record_uuid))]


@router.post(
    "/{uuid:record_uuid}/links/{uuid:link_uuid}/withdraw",
    response={200: LinkOut},
    summary="Unlink: withdraw a link your organisation made",
)
def unlink(request: HttpRequest, record_uuid: UUID, link_uuid: UUID, payload: ReasonIn) -> Status[dict[str, Any]]:
    require_write(request)
    link = queries.link_for(principal_of(request), _incident(request, record_uuid), link_uuid)
    version = actions.unlink(link, reason=payload.reason, acting_user=account_of(request))
    return Status(200, link_out(Record.objects.select_related("current_version").get(pk=version.record_id)))


@router.get(
    "/{uuid:record_uuid}/timeline",
    response=TimelineOut,
    summary="Everything about the incident you may see, in time order, a page at a time",
    description="A page of `limit` items (default 100, at most 500) in signed time order (then record, then seq): "
    "`order=asc` (the default) from the oldest, `order=desc` from the latest. The answer's `next` and `previous` "
    "are the URLs of the neighbouring pages (keyset pagination: a page is the same whatever is added before it); "
    "follow them as they are, or pass the answer's `cursor` as `cursor`. Only items you may see are counted.",
)
def incident_timeline(request: HttpRequest, record_uuid: UUID, filters: Query[TimelineQuery]) -> HttpResponse:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    found = timeline.page(principal, incident, limit=filters.limit, order=filters.order, cursor=filters.cursor)
    links = {"next": found.next, "previous": found.previous}
    urls: dict[str, str | None] = {}
    for rel, cursor in links.items():
        params = request.GET.copy()
        params["cursor"] = cursor or ""
        urls[rel] = absolute_url(f"{request.path}?{params.urlencode()}", request) if cursor else None
    # Written here rather than through the response schema: the items are JSON-ready, and validating a page of
    # them again would cost more than reading them (TimelineOut still documents the answer).
    payload = {"items": found.items, "next": urls["next"], "previous": urls["previous"], "cursor": found.next}
    response = HttpResponse(
        orjson.dumps(payload, option=orjson.OPT_UTC_Z), content_type="application/json; charset=utf-8"
    )
    header = ", ".join(f'<{url}>; rel="{rel[:4]}"' for rel, url in urls.items() if url)  # next, prev
    if header:
        response["Link"] = header
    return response
