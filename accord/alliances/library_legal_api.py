"""/api/v1/legal-register: the law alliance's comparative register of the members' legal instruments for
emergencies (list and filter, add, read, revise, withdraw)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.alliances import library_actions, library_queries
from accord.alliances.library_queries import InstrumentFilter
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
from accord.records.envelope import parse_audience

router: Router = Router(tags=["legal register"])

Status_ = Literal["in_force", "amended", "repealed", "draft"]
Topic = Literal[
    "ihr_implementing_law", "sanitary_epidemiological_law", "quarantine", "cross_border_data_sharing", "other"
]


class InstrumentIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "member": "CN",
                    "title": "中华人民共和国国境卫生检疫法",
                    "title_translations": {
                        "en": "Frontier Health and Quarantine Law of the People's Republic of China"
                    },
                    "original_language": "zh",
                    "adopted": "2024-06-28",
                    "status": "in_force",
                    "citation": "Demo citation 2024/1",
                    "link": "https://example.org/demo-law",
                    "summary": {"en": "Quarantine at border ports (a demo entry)."},
                    "topics": ["quarantine", "ihr_implementing_law"],
                }
            ]
        },
    )

    member: str = Field(description="the member whose instrument it is (ISO 3166 alpha-2)")
    title: str = Field(max_length=1000, description="in the original language")
    title_translations: dict[str, str] = Field(default_factory=dict, description="zh, ru, en")
    original_language: str = Field(max_length=8, description="a language code: zh, ru, en, kk, ...")
    adopted: str | None = Field(default=None, description="the date it was adopted (required unless a draft)")
    status: Status_
    citation: str = Field(max_length=500)
    link: str = Field(default="", max_length=2000, description="an http(s) URL, never fetched by the node")
    summary: dict[str, str] = Field(default_factory=dict, description="zh, ru, en")
    topics: list[Topic] = Field(min_length=1, max_length=5)
    audience: AudienceIn | None = Field(default=None, description="default: everyone")
    tlp: Tlp | None = Field(default=None, description="default: GREEN")

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"audience", "tlp"}, exclude_none=True)


class InstrumentUpdate(InstrumentIn):
    expected_seq: Annotated[int, Field(ge=1, le=2_147_483_647), BeforeValidator(json_integer)] | None = Field(
        default=None, description="the version you changed (409 if another came since)"
    )

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"audience", "tlp", "expected_seq"}, exclude_none=True)


class InstrumentOut(Schema):
    id: UUID
    node: UUID
    seq: int
    member: str
    title: str
    title_translations: dict[str, str]
    original_language: str
    adopted: str | None
    status: str
    citation: str
    link: str
    summary: dict[str, str]
    topics: list[str]
    state: str = Field(description="active, or withdrawn")
    reason: str
    tlp: str
    audience: dict[str, Any]
    record_status: str
    updated_at: datetime


class InstrumentPage(Schema):
    count: int
    items: list[InstrumentOut]
    next_offset: int | None


class LegalRegisterQuery(Schema):
    member: str | None = Field(default=None, max_length=8)
    topic: Topic | None = None
    status: Status_ | None = None
    q: str | None = Field(default=None, max_length=200, description="words of titles, summaries and citations")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class InstrumentWithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


LINKS = links_to(
    201,
    "record_uuid",
    "accord_alliances_library_legal_api_get_instrument",
    "accord_alliances_library_legal_api_update_instrument",
    pointer="/id",
)


def _out(request: HttpRequest, record_uuid: UUID | str) -> dict[str, Any]:
    return library_queries.instrument_out(library_queries.instrument_for(principal_of(request), record_uuid))


@router.get("", response=InstrumentPage, summary="The legal register: entries you may see, by member")
def list_instruments(request: HttpRequest, filters: Query[LegalRegisterQuery]) -> dict[str, Any]:
    where = InstrumentFilter(member=filters.member, topic=filters.topic, status=filters.status, q=filters.q)
    rows = library_queries.instruments_for(principal_of(request), where)
    return page_of(rows, filters.limit, filters.offset, library_queries.instrument_out)


@router.post(
    "",
    response={201: InstrumentOut},
    summary="Add an entry to the legal register",
    description=(
        "By the member's focal points, accounts of a law alliance member organisation of that member, or the "
        "Secretariat's coordinators (403 naming `member` otherwise)."
    ),
    openapi_extra=LINKS,
)
def add_instrument(request: HttpRequest, payload: InstrumentIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = library_actions.add_instrument(
        payload.body(),
        acting_user=account_of(request),
        audience=parse_audience(payload.audience.plain()) if payload.audience is not None else None,
        tlp=payload.tlp,
    )
    return Status(201, _out(request, version.record_uuid))


@router.get("/{uuid:record_uuid}", response=InstrumentOut, summary="One entry of the legal register")
def get_instrument(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return _out(request, record_uuid)


@router.put(
    "/{uuid:record_uuid}",
    response=InstrumentOut,
    summary="Revise an entry (its organisation, on its origin node; it keeps its member)",
)
def update_instrument(request: HttpRequest, record_uuid: UUID, payload: InstrumentUpdate) -> dict[str, Any]:
    require_write(request)
    library_actions.revise_instrument(
        record_uuid,
        payload.body(),
        acting_user=account_of(request),
        expected_seq=payload.expected_seq,
        audience=parse_audience(payload.audience.plain()) if payload.audience is not None else None,
        tlp=payload.tlp,
    )
    return _out(request, record_uuid)


@router.post("/{uuid:record_uuid}/withdraw", response=InstrumentOut, summary="Withdraw an entry")
def withdraw_instrument(request: HttpRequest, record_uuid: UUID, payload: InstrumentWithdrawIn) -> dict[str, Any]:
    require_write(request)
    library_actions.withdraw_instrument(record_uuid, acting_user=account_of(request), reason=payload.reason)
    return _out(request, record_uuid)


def add_routers(api: Any) -> None:
    api.add_router("/legal-register", router)
