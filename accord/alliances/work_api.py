"""/api/v1/alliances/{slug}/activities and /api/v1/activities: the alliances' joint work (issue 18, item 6), and
the alliance's calendar (`/api/v1/alliances/{slug}/calendar.ics`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.alliances import work_actions, work_calendar, work_queries
from accord.alliances.work_actions import ActivityInput
from accord.api import (
    MAX_OFFSET,
    AudienceIn,
    DateParam,
    Tlp,
    account_of,
    json_integer,
    links_to,
    principal_of,
    require_write,
)
from accord.records.envelope import parse_audience
from accord.records.errors import ActionError
from accord.records.models import Version

alliance_router: Router = Router(tags=["alliances"])
activity_router: Router = Router(tags=["alliances"])


class OrganisationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(description="the organisation's slug on its node")
    member: str = Field(description="its member's code (CN, KZ, RU ...)")


class PersonIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="the person's name, as it is to be shown (nothing more is kept of a person)")
    organisation: OrganisationIn


class ParticipantsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organisations: list[OrganisationIn] = Field(default_factory=list)
    persons: list[PersonIn] = Field(default_factory=list)


class DocumentRef(Schema):
    model_config = ConfigDict(extra="forbid")

    node: UUID
    record: UUID


class OutputIn(Schema):
    model_config = ConfigDict(extra="forbid")

    title: str
    url: str | None = Field(default=None, description="an http(s) link, kept as text and never fetched")
    document: DocumentRef | None = Field(default=None, description="a document of the alliance's library")


class ActivityIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "training",
                    "title": {"en": "Field epidemiology course", "ru": "Курс полевой эпидемиологии"},
                    "description": {"en": "Two weeks of outbreak investigation practice."},
                    "starts": "2026-09-14",
                    "ends": "2026-09-25",
                    "place": "Almaty",
                    "participants": {"organisations": [{"slug": "kz-demo-medical", "member": "KZ"}]},
                }
            ]
        },
    )

    type: str = Field(description="training, exchange, research or conference")
    title: dict[str, str] = Field(description="in any of zh, ru, en (at least one)")
    description: dict[str, str] = Field(default_factory=dict, description="in any of zh, ru, en")
    starts: str = Field(description="the first day, YYYY-MM-DD")
    ends: str = Field(description="the last day, YYYY-MM-DD (not before `starts`)")
    rd: bool = Field(default=False, description="a joint research project in vaccine and medicine R&D")
    fields: list[str] = Field(default_factory=list, description="fields of expertise (the roster's codes)")
    host: str | None = Field(default=None, description="the host organisation's slug; default: your organisation")
    place: str = Field(default="", description="where (text)")
    participants: ParticipantsIn | None = None
    outputs: list[OutputIn] = Field(default_factory=list)
    state: str = Field(default="planned", description="planned, ongoing, completed or cancelled; forward only")
    audience: AudienceIn | None = Field(default=None, description="default: everyone")
    tlp: Tlp | None = Field(default=None, description="default: GREEN")

    def given(self) -> ActivityInput:
        return ActivityInput(
            type=self.type,
            title=self.title,
            description=self.description,
            starts=self.starts,
            ends=self.ends,
            rd=self.rd,
            fields=list(self.fields),
            host=self.host,
            place=self.place,
            participants=self.participants.model_dump(mode="json") if self.participants is not None else {},
            outputs=[o.model_dump(mode="json", exclude_none=True) for o in self.outputs],
            state=self.state,
        )


class ActivityUpdate(ActivityIn):
    expected_seq: Annotated[int, Field(ge=1, le=2_147_483_647), BeforeValidator(json_integer)] | None = Field(
        default=None, description="the version you edited; a 409 if the activity has moved on"
    )


class ActivityWithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000, description="why the activity is withdrawn (required)")


class OrganisationOut(Schema):
    slug: str
    member: str


class HostOut(OrganisationOut):
    name: str


class PersonOut(Schema):
    name: str
    organisation: OrganisationOut


class ParticipantsOut(Schema):
    organisations: list[OrganisationOut]
    persons: list[PersonOut]


class OutputOut(Schema):
    title: str
    url: str | None
    document: dict[str, str] | None


class ActivityOut(Schema):
    id: UUID
    node: UUID = Field(description="the node that issued it (and alone changes it)")
    seq: int = Field(description="its version")
    alliance: str
    type: str
    rd: bool
    fields: list[str]
    title: dict[str, str]
    title_text: str = Field(description="the title in the reader's language, else another")
    description: dict[str, str]
    starts: str
    ends: str
    host: HostOut
    place: str
    participants: ParticipantsOut
    outputs: list[OutputOut]
    state: str = Field(description="planned, ongoing, completed or cancelled")
    withdrawn: bool = Field(description="withdrawn by its host (issued in error)")
    reason: str = Field(description="why it was withdrawn")
    tlp: str
    record_status: str
    updated_at: datetime


class ActivityPage(Schema):
    count: int
    items: list[ActivityOut]
    next_offset: int | None


class ActivityFilter(Schema):
    type: str | None = Field(default=None, description="training, exchange, research or conference")
    start: DateParam | None = Field(default=None, alias="from", description="those not ended before this day")
    until: DateParam | None = Field(default=None, description="those not starting after this day")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


def _language(request: HttpRequest) -> str:
    return work_calendar.reader_language(request, None)


def activity_view(request: HttpRequest, record_uuid: UUID | str) -> dict[str, Any]:
    record = work_actions.activity_for(principal_of(request), record_uuid)
    return work_queries.activity_out(record, _language(request))


def _audience(payload: ActivityIn) -> Any:
    return parse_audience(payload.audience.plain()) if payload.audience is not None else None


@alliance_router.get(
    "/{slug}/activities",
    response=ActivityPage,
    summary="The activities of an alliance you may see, earliest first",
    description="Training courses, exchange programmes, joint research projects and conferences, not withdrawn. "
    "`from` and `until` keep those that overlap the days between them; `type` one type. A page of `limit` "
    "(default 50, at most 200) from `offset`; `count` is how many match.",
)
def list_activities(request: HttpRequest, slug: str, filters: Query[ActivityFilter]) -> dict[str, Any]:
    work_actions.alliance_of(slug)
    if filters.type is not None and filters.type not in ("training", "exchange", "research", "conference"):
        raise ActionError(f"type: {filters.type!r} is not training, exchange, research or conference", field="type")
    if filters.start and filters.until and filters.until < filters.start:
        raise ActionError("until: the window ends before it starts (`from`)", field="until")
    rows = work_queries.activities_of(
        principal_of(request), slug, type=filters.type, start=filters.start, until=filters.until
    )
    count = rows.count()
    items = list(rows[filters.offset : filters.offset + filters.limit])
    following = filters.offset + len(items)
    language = _language(request)
    return {
        "count": count,
        "items": [work_queries.activity_out(r, language) for r in items],
        "next_offset": following if following < count else None,
    }


_LINKS = links_to(
    201,
    "record_uuid",
    "accord_alliances_work_api_get_activity",
    "accord_alliances_work_api_update_activity",
    "accord_alliances_work_api_withdraw_activity",
    pointer="/id",
)


@alliance_router.post(
    "/{slug}/activities",
    response={201: ActivityOut},
    summary="Create an activity of an alliance (its council, or the Secretariat's coordinators)",
    description="Hosted by your organisation (or another of your member's, `host`), issued for your member. "
    "Shared with everyone at TLP:GREEN unless `audience` and `tlp` say otherwise.",
    openapi_extra=_LINKS,
)
def create_activity(request: HttpRequest, slug: str, payload: ActivityIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = work_actions.create_activity(
        slug, payload.given(), acting_user=account_of(request), audience=_audience(payload), tlp=payload.tlp
    )
    return Status(201, activity_view(request, version.record_uuid))


@alliance_router.get(
    "/{slug}/calendar.ics",
    response={200: None},
    summary="The alliance's activities as an iCalendar feed (RFC 5545)",
    description="One VEVENT per activity you may see. For calendar applications, which send no token, use "
    "/feeds/t/{token}/alliances/{slug}/calendar.ics with a token of scope `feed`.",
    openapi_extra={"responses": {200: {"description": "the calendar", "content": {"text/calendar": {}}}}},
)
def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    alliance = work_actions.alliance_of(slug)
    language = work_calendar.reader_language(request, account_of(request))
    return work_calendar.respond(request, alliance, principal_of(request), language, public=False)


@activity_router.get("/{uuid:record_uuid}", response=ActivityOut, summary="One activity")
def get_activity(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return activity_view(request, record_uuid)


@activity_router.put(
    "/{uuid:record_uuid}",
    response=ActivityOut,
    summary="Change an activity: a new version stating all of it (its host's organisation, on its node)",
    description="`state` moves forward only (planned, ongoing, completed; cancelled from planned or ongoing): "
    "going back is a 409 naming `state`. `audience` and `tlp` stay as they were unless given.",
)
def update_activity(request: HttpRequest, record_uuid: UUID, payload: ActivityUpdate) -> dict[str, Any]:
    require_write(request)
    work_actions.revise_activity(
        record_uuid,
        payload.given(),
        acting_user=account_of(request),
        expected_seq=payload.expected_seq,
        audience=_audience(payload),
        tlp=payload.tlp,
    )
    return activity_view(request, record_uuid)


@activity_router.post(
    "/{uuid:record_uuid}/cancel",
    response=ActivityOut,
    summary="Cancel an activity (it stays listed, marked cancelled)",
)
def cancel_activity(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    require_write(request)
    work_actions.cancel_activity(record_uuid, acting_user=account_of(request))
    return activity_view(request, record_uuid)


@activity_router.post(
    "/{uuid:record_uuid}/withdraw",
    response=ActivityOut,
    summary="Withdraw an activity recorded in error (it leaves the lists and the calendar)",
)
def withdraw_activity(request: HttpRequest, record_uuid: UUID, payload: ActivityWithdrawIn) -> dict[str, Any]:
    require_write(request)
    version: Version = work_actions.withdraw_activity(
        record_uuid, acting_user=account_of(request), reason=payload.reason
    )
    return activity_view(request, version.record_uuid)


def add_routers(api: Any) -> None:
    api.add_router("/alliances", alliance_router)
    api.add_router("/activities", activity_router)
