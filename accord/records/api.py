"""/api/v1/records: list, read, publish, revise and withdraw records."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.api import (
    MAX_OFFSET,
    AudienceIn,
    Tlp,
    account_of,
    json_integer,
    links_to,
    page_of,
    principal_of,
    require_write,
)
from accord.records import actions, kinds
from accord.records import attachments as attachment_store
from accord.records.envelope import parse_audience
from accord.records.errors import NotFound
from accord.records.models import Record, Version
from accord.records.queries import RecordFilter, record_for, records_for, versions_for

router: Router = Router(tags=["records"])


class SignatureOut(Schema):
    alg: str
    kid: str
    value: str


class VersionOut(Schema):
    seq: int
    kind: str
    status: str
    state: str
    tlp: str
    created_at: str
    content_hash: str
    prev_hash: str | None
    envelope: dict[str, Any]
    signature: SignatureOut


class RecordOut(Schema):
    uuid: UUID
    kind: str
    title: str
    origin_node: UUID
    origin_member: str
    seq: int
    status: str
    state: str
    tlp: str
    created_at: str
    content_hash: str
    audience: dict[str, Any]
    body: dict[str, Any]
    attachments: list[dict[str, Any]]


class RecordPage(Schema):
    count: int
    items: list[RecordOut]
    next_offset: int | None


RecordStatus = Literal["actual", "exercise", "test", "draft"]


class RecordIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "note",
                    "body": {"title": "Flooding on the Ili river", "text": "Water is rising at the border crossing"},
                    "audience": {"members": ["CN", "KZ"]},
                    "tlp": "AMBER",
                }
            ]
        }
    )

    kind: str = Field(max_length=40, description="one of the kinds of GET /api/v1/kinds")
    body: dict[str, Any] = Field(description="as the kind's body_schema (GET /api/v1/kinds) says")
    audience: AudienceIn
    tlp: Tlp
    status: RecordStatus = "actual"


class RevisionIn(Schema):
    expected_seq: Annotated[int, Field(ge=1, le=2_147_483_647), BeforeValidator(json_integer)] | None = None
    body: dict[str, Any] | None = None
    audience: AudienceIn | None = None
    tlp: Tlp | None = None
    status: RecordStatus | None = None


class WithdrawIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "published twice"}]})

    reason: str = Field(min_length=1, max_length=2000)


class ListFilters(Schema):
    kind: str | None = None
    status: RecordStatus | None = None
    state: Literal["active", "withdrawn"] | None = None
    member: str | None = None
    tlp: Tlp | None = None
    q: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


def version_out(version: Version) -> dict[str, Any]:
    return {
        "seq": version.seq,
        "kind": version.kind,
        "status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "created_at": version.created_at,
        "content_hash": version.content_hash,
        "prev_hash": version.prev_hash,
        "envelope": version.envelope(),
        "signature": {"alg": version.sig_alg, "kid": version.sig_kid, "value": version.signature},
    }


def record_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    envelope = version.envelope()
    kind = kinds.get(record.kind)
    return {
        "uuid": record.uuid,
        "kind": record.kind,
        "title": kind.title(envelope["body"]) if kind else record.kind,
        "origin_node": record.origin_node,
        "origin_member": record.origin_member,
        "seq": version.seq,
        "status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "created_at": version.created_at,
        "content_hash": version.content_hash,
        "audience": envelope["audience"],
        "body": envelope["body"],
        "attachments": envelope["attachments"],
    }


@router.get(
    "",
    response=RecordPage,
    summary="Records you may see, newest first",
    openapi_extra=links_to(
        200,
        "record_uuid",
        "accord_records_api_get_record",
        "accord_records_api_list_versions",
        "accord_records_api_revise_record",
        "accord_records_api_withdraw_record",
        pointer="/items/0/uuid",
    ),
)
def list_records(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    rows = records_for(
        principal_of(request),
        RecordFilter(
            kind=filters.kind,
            status=filters.status,
            state=filters.state,
            member=filters.member,
            tlp=filters.tlp,
            q=filters.q,
        ),
    )
    return page_of(rows, filters.limit, filters.offset, record_out)


_RECORD_LINKS = links_to(
    201,
    "record_uuid",
    "accord_records_api_get_record",
    "accord_records_api_list_versions",
    "accord_records_api_revise_record",
    "accord_records_api_withdraw_record",
)


@router.post("", response={201: RecordOut}, summary="Publish a new record", openapi_extra=_RECORD_LINKS)
def create_record(request: HttpRequest, payload: RecordIn) -> Status[dict[str, Any]]:
    require_write(request)
    kinds.require_generic(payload.kind)
    version = actions.publish(
        payload.kind,
        payload.body,
        audience=parse_audience(payload.audience.plain()),
        tlp=payload.tlp,
        status=payload.status,
        acting_user=account_of(request),
    )
    return Status(201, record_out(Record.objects.select_related("current_version").get(pk=version.record_id)))


@router.get("/{record_uuid}", response=RecordOut, summary="One record, at its current version")
def get_record(request: HttpRequest, record_uuid: str) -> dict[str, Any]:
    return record_out(record_for(principal_of(request), record_uuid))


@router.get("/{record_uuid}/versions", response=list[VersionOut], summary="The versions of a record you may see")
def list_versions(request: HttpRequest, record_uuid: str) -> list[dict[str, Any]]:
    principal = principal_of(request)
    record = record_for(principal, record_uuid)
    return [version_out(v) for v in versions_for(principal, record)]


@router.post(
    "/{record_uuid}/versions", response={201: RecordOut}, summary="Issue the next version", openapi_extra=_RECORD_LINKS
)
def revise_record(request: HttpRequest, record_uuid: str, payload: RevisionIn) -> Status[dict[str, Any]]:
    require_write(request)
    record = record_for(principal_of(request), record_uuid)
    kinds.require_generic(record.kind)
    actions.revise(
        record,
        acting_user=account_of(request),
        expected_seq=payload.expected_seq,
        body=payload.body,
        audience=parse_audience(payload.audience.plain()) if payload.audience is not None else None,
        tlp=payload.tlp,
        status=payload.status,
    )
    return Status(201, record_out(Record.objects.select_related("current_version").get(pk=record.pk)))


@router.post("/{record_uuid}/withdraw", response={201: RecordOut}, summary="Withdraw a record")
def withdraw_record(request: HttpRequest, record_uuid: str, payload: WithdrawIn) -> Status[dict[str, Any]]:
    require_write(request)
    record = record_for(principal_of(request), record_uuid)
    kinds.require_generic(record.kind, withdrawing=True)
    actions.withdraw(record, acting_user=account_of(request), reason=payload.reason)
    return Status(201, record_out(Record.objects.select_related("current_version").get(pk=record.pk)))


@router.get(
    "/{record_uuid}/attachments/{name}",
    summary="An original document, byte for byte",
    openapi_extra={
        "responses": {
            200: {
                "description": "the attachment, with the media type it was published with",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_attachment(request: HttpRequest, record_uuid: str, name: str) -> HttpResponse:
    record = record_for(principal_of(request), record_uuid)
    version = record.current_version
    assert version is not None
    for item in version.envelope()["attachments"]:
        if item["name"] == name:
            response = HttpResponse(attachment_store.read_bytes(item["sha256"]), content_type=item["media_type"])
            response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(item["sha256"])).decode("ascii")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    raise NotFound("no such attachment")
