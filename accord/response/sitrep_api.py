"""/api/v1/incidents/{id}/sitreps: file situation reports, list them, the consolidated report (JSON, CSV with HXL
hashtags, PDF) and the reporting schedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import BeforeValidator, ConfigDict

from accord.api import account_of, errors, page_of, principal_of, require_write
from accord.records.models import Record
from accord.response import consolidate, queries, sitrep_deadlines, sitrep_exports, sitreps
from accord.response.sitrep_kinds import AGE_BAND, Count, IsoDate, Measure, json_integer
from accord.response.sitrep_periods import DEFAULT_DEADLINE_HOURS, MAX_DEADLINE_HOURS, Frequency

router: Router = Router(tags=["situation reports"])

_EXAMPLE: dict[str, Any] = {
    "period_start": "2026-05-04",
    "period_end": "2026-05-10",
    "figures": {
        "new_cases": 42,
        "new_deaths": 1,
        "cumulative_cases": 180,
        "cumulative_deaths": 3,
        "by_region": [{"region": "KZ-61", "new_cases": 30, "new_deaths": 1}, {"region": "KZ-19", "new_cases": 12}],
    },
    "measures": ["isolation", {"type": "vaccination_campaign", "regions": ["KZ-61"]}],
    "narrative": {
        "en": "Cases concentrated in Turkistan region.",
        "ru": "Случаи сосредоточены в Туркестанской области.",
    },
}


# The request's shapes. What they cannot say (cumulative not below new, regions of the member, languages, ...)
# is the kind's rules (accord.response.sitrep_kinds), answered 400 naming the field.


class RegionFiguresIn(Schema):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=2, max_length=12, description="a first-level region (ISO 3166-2) of your member")
    new_cases: Count = 0
    new_deaths: Count = 0
    cumulative_cases: Count | None = None
    cumulative_deaths: Count | None = None
    new_hospitalised: Count | None = None
    new_tested: Count | None = None


class AgeSexIn(Schema):
    model_config = ConfigDict(extra="forbid")

    age: str = Field(default="unknown", pattern=AGE_BAND, description="an age band: 0-4, 65+ or unknown")
    sex: Literal["female", "male", "unknown"] = "unknown"
    new_cases: Count = 0
    new_deaths: Count = 0


class FiguresIn(Schema):
    model_config = ConfigDict(extra="forbid")

    new_cases: Count
    new_deaths: Count
    cumulative_cases: Count
    cumulative_deaths: Count
    new_hospitalised: Count | None = None
    cumulative_hospitalised: Count | None = None
    new_tested: Count | None = None
    cumulative_tested: Count | None = None
    by_region: list[RegionFiguresIn] = Field(default_factory=list, max_length=500)
    by_age_sex: list[AgeSexIn] = Field(default_factory=list, max_length=200)


class MeasureIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Measure
    regions: list[str] = Field(default_factory=list, max_length=500, description="where (default: the member)")
    since: IsoDate | None = None
    note: dict[str, str] = Field(default_factory=dict, description="in any of zh, ru, en; needed for `other`")


class SitrepIn(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    period_start: IsoDate = Field(description="the first day of the period (YYYY-MM-DD)")
    period_end: IsoDate = Field(description="the last day of the period (YYYY-MM-DD), not in the future")
    figures: FiguresIn
    measures: list[Measure | MeasureIn] = Field(
        default_factory=list, max_length=50, description="measures in force: a name, or an object with regions"
    )
    needs: dict[str, str] = Field(default_factory=dict, description="needs, in any of zh, ru, en")
    outlook: dict[str, str] = Field(default_factory=dict, description="the outlook, in any of zh, ru, en")
    narrative: dict[str, str] = Field(default_factory=dict, description="the narrative, in any of zh, ru, en")


class SitrepOut(Schema):
    id: UUID
    node: UUID
    seq: int = Field(description="the version: above 1, the report was corrected")
    corrected: bool
    incident: UUID
    member: str
    period_start: date
    period_end: date
    figures: dict[str, Any]
    measures: list[dict[str, Any]]
    needs: dict[str, str]
    outlook: dict[str, str]
    narrative: dict[str, str]
    record_status: str = Field(description="actual, exercise or test: that of the incident")
    state: str = Field(description="active, or withdrawn")
    tlp: str
    first_reported_at: datetime
    reported_at: datetime = Field(description="the signed time of the current version (of the correction)")


class SitrepList(Schema):
    count: int
    items: list[SitrepOut]
    next_offset: int | None
    schedule: dict[str, Any]


class SitrepFilters(Schema):
    member: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2,8}$")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000_000)


class ConsolidatedQuery(Schema):
    period_end: IsoDate = Field(description="the last day of the period (YYYY-MM-DD)")
    period_start: IsoDate | None = Field(
        default=None, description="the first day (default: the scheduled period ending on period_end)"
    )
    format: Literal["json", "csv", "pdf"] = "json"


class ScheduleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    frequency: Frequency = Field(description="daily, weekly (ISO weeks), or by_level: daily at 2-3, weekly at 0-1")
    deadline_hours: Annotated[int, BeforeValidator(json_integer)] = Field(
        default=DEFAULT_DEADLINE_HOURS,
        ge=0,
        le=MAX_DEADLINE_HOURS,
        description="hours after the end of a period's last day (UTC) when its report is due",
    )


def sitrep_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    view = record.sitrep_view
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "corrected": version.seq > 1,
        "incident": body["incident"]["record"],
        "member": body["member"],
        "period_start": body["period_start"],
        "period_end": body["period_end"],
        "figures": body["figures"],
        "measures": body.get("measures", []),
        "needs": body.get("needs", {}),
        "outlook": body.get("outlook", {}),
        "narrative": body.get("narrative", {}),
        "record_status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "first_reported_at": view.first_reported_at,
        "reported_at": view.reported_at,
    }


@router.post(
    "/{uuid:record_uuid}/sitreps",
    response={200: SitrepOut, 201: SitrepOut},
    summary="File your member's situation report for a period (201), or correct it (200: same id, next seq)",
)
def file_sitrep(request: HttpRequest, record_uuid: UUID, payload: SitrepIn) -> Status[dict[str, Any]]:
    require_write(request)
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    version, created = sitreps.file_sitrep(
        incident,
        acting_user=account_of(request),
        period_start=payload.period_start.isoformat(),
        period_end=payload.period_end.isoformat(),
        figures=payload.figures.model_dump(mode="json", exclude_none=True),
        measures=[m if isinstance(m, str) else m.model_dump(mode="json", exclude_none=True) for m in payload.measures],
        needs=payload.needs,
        outlook=payload.outlook,
        narrative=payload.narrative,
    )
    record = sitreps.sitreps_for(principal, incident).get(pk=version.record_id)
    return Status(201 if created else 200, sitrep_out(record))


@router.get("/{uuid:record_uuid}/sitreps", response=SitrepList, summary="The situation reports of an incident")
def list_sitreps(request: HttpRequest, record_uuid: UUID, filters: Query[SitrepFilters]) -> dict[str, Any]:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    rows = sitreps.sitreps_for(principal, incident)
    if filters.member:
        rows = rows.filter(sitrep_view__member=filters.member)
    found = page_of(rows, filters.limit, filters.offset, sitrep_out)
    found["schedule"] = sitrep_deadlines.status_json(principal, incident)
    return found


def _consolidated(request: HttpRequest, record_uuid: UUID, query: ConsolidatedQuery, form: str) -> HttpResponse:
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    result = consolidate.consolidate(principal, incident, query.period_end, query.period_start)
    name = f"sitrep-{incident.uuid}-{result.period_end.isoformat()}"
    if form == "csv":
        response = HttpResponse(sitrep_exports.csv_text(result), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if form == "pdf":
        response = HttpResponse(sitrep_exports.pdf_bytes(principal, result), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
    from accord.api import api

    return api.create_response(request, consolidate.as_json(result), status=200)


_FORMS = {
    "description": "JSON (below), or with `format=csv` CSV with HXL hashtags, with `format=pdf` a printable PDF",
    "content": {"text/csv": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}},
}


@router.get(
    "/{uuid:record_uuid}/sitreps/consolidated",
    response={200: dict[str, Any]},
    summary="The consolidated situation report for a period: every member's latest figures and the totals",
    openapi_extra={"responses": {200: _FORMS}},
)
def consolidated(request: HttpRequest, record_uuid: UUID, query: Query[ConsolidatedQuery]) -> HttpResponse:
    return _consolidated(request, record_uuid, query, query.format)


class ExportQuery(Schema):
    period_end: IsoDate
    period_start: IsoDate | None = None


@router.get(
    "/{uuid:record_uuid}/sitreps/consolidated.csv",
    response={200: str},
    summary="The consolidated situation report as CSV with HXL hashtags",
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def consolidated_csv(request: HttpRequest, record_uuid: UUID, query: Query[ExportQuery]) -> HttpResponse:
    return _consolidated(request, record_uuid, ConsolidatedQuery(**query.dict(), format="csv"), "csv")


@router.get(
    "/{uuid:record_uuid}/sitreps/consolidated.pdf",
    response={200: str},
    summary="The consolidated situation report as a printable PDF",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {"schema": {"type": "string"}}}}}},
)
def consolidated_pdf(request: HttpRequest, record_uuid: UUID, query: Query[ExportQuery]) -> HttpResponse:
    return _consolidated(request, record_uuid, ConsolidatedQuery(**query.dict(), format="pdf"), "pdf")


@router.get("/{uuid:record_uuid}/sitreps/schedule", response=dict[str, Any], summary="The reporting schedule")
def get_schedule(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    principal = principal_of(request)
    return sitrep_deadlines.status_json(principal, queries.incident_for(principal, record_uuid))


@router.post(
    "/{uuid:record_uuid}/sitreps/schedule",
    response={200: dict[str, Any], **errors(404)},
    summary="Set the reporting schedule (the organisation that opened the incident)",
)
def set_schedule(request: HttpRequest, record_uuid: UUID, payload: ScheduleIn) -> dict[str, Any]:
    require_write(request)
    principal = principal_of(request)
    incident = queries.incident_for(principal, record_uuid)
    sitreps.set_schedule(
        incident, acting_user=account_of(request), frequency=payload.frequency, deadline_hours=payload.deadline_hours
    )
    return sitrep_deadlines.status_json(principal, incident)
