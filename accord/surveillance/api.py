"""/api/v1/surveillance: upload counts, read series and signals, verify or dismiss signals."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ValidationError

from accord.api import Tlp, account_of, errors, links_to, principal_of, require_write
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Forbidden
from accord.surveillance import actions, limits, parsers, queries, reference
from accord.surveillance.models import Signal, Upload

router: Router = Router(tags=["surveillance"])

SIGNAL_ROLES = frozenset({"analyst", "focal_point", "coordinator"})
CONTENT_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    parsers.XLSX_MEDIA_TYPE: "xlsx",
    "application/json": None,  # Accord's {"counts": [...]} or a DHIS2 dataValueSet, told apart by content
}


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class UploadOut(Schema):
    uuid: UUID
    status: str
    format: str
    filename: str
    processed: int
    total: int
    errors: list[RowErrorOut] = Field(description="the first 100 problems, each value in them cut to 200 characters")
    error_count: int = Field(description="how many problems the upload had in all")
    summary: dict[str, int]
    created_at: str
    finished_at: str | None


class SeriesOut(Schema):
    member: str
    disease: str
    region: str
    points: int
    first: date
    last: date


class WeekOut(Schema):
    week: str
    start: date
    observed: int | None
    threshold: float | None
    alarm: bool


class SignalOut(Schema):
    uuid: UUID
    kind: str
    status: str
    member: str
    members: list[str]
    disease: str
    region: str
    regions: list[str]
    period: str
    observed: int
    threshold: float | None
    expected: float | None
    algorithm: str
    control: dict[str, Any]
    series: UUID | None
    components: list[UUID]
    basis: dict[str, Any]
    reason: str
    reviewed_by: str | None
    ihr_draft: dict[str, Any]
    assessment: UUID | None


class UploadParams(Schema):
    audience: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^(?:[Ee][Vv][Ee][Rr][Yy][Oo][Nn][Ee]|[A-Za-z0-9]{2,8}(?:,[A-Za-z0-9]{2,8})*)$",
        description="member codes separated by commas, or 'everyone'; default: yours and SCO",
    )
    tlp: Tlp = "AMBER"
    status: Literal["actual", "exercise", "test"] = "actual"
    filename: str = Field(default="", max_length=200)


class SignalFilters(Schema):
    status: Literal["open", "verified", "dismissed", "cleared"] | None = None
    disease: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class VerifyIn(Schema):
    note: str = Field(default="", max_length=2000)


class DismissIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)


class DiseaseOut(Schema):
    icd10: str
    icd11: str | None
    name_en: str
    name_ru: str
    name_zh: str


class RegionOut(Schema):
    code: str
    member: str
    name_en: str
    name_ru: str
    name_zh: str
    neighbours: list[str]


def upload_out(item: Upload) -> dict[str, Any]:
    return {
        "uuid": item.uuid,
        "status": item.status,
        "format": item.format,
        "filename": item.filename,
        "processed": item.processed,
        "total": item.total,
        "errors": limits.bound_report(item.errors),
        "error_count": limits.error_count(item.errors, item.summary),
        "summary": item.summary,
        "created_at": item.created_at.isoformat(),
        "finished_at": item.finished_at.isoformat() if item.finished_at else None,
    }


def signal_out(signal: Signal) -> dict[str, Any]:
    return {
        "uuid": signal.uuid,
        "kind": signal.kind,
        "status": signal.status,
        "member": signal.member,
        "members": signal.members,
        "disease": signal.disease,
        "region": signal.region,
        "regions": signal.regions,
        "period": signal.period,
        "observed": signal.observed,
        "threshold": signal.threshold,
        "expected": signal.expected,
        "algorithm": signal.algorithm,
        "control": signal.control,
        "series": signal.series.uuid if signal.series is not None else None,
        "components": [c.uuid for c in signal.components.all()],
        "basis": signal.basis,
        "reason": signal.reason,
        "reviewed_by": signal.reviewed_by.username if signal.reviewed_by is not None else None,
        "ihr_draft": signal.ihr_draft,
        "assessment": signal.assessment,
    }


def _audience(text: str | None, member: str | None) -> Audience:
    if not text:
        return Audience(members=sorted({m for m in (member, actions.SECRETARIAT) if m}))
    if text.strip().lower() == "everyone":
        return Audience(everyone=True)
    try:
        return Audience(members=[c.strip().upper() for c in text.split(",") if c.strip()])
    except ValidationError as error:
        raise ActionError(f"audience: {error.errors()[0]['msg']}", field="audience") from None


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            # Any bytes: the file's text, header and rows are checked by the worker, which reports each bad row.
            "text/csv": {"schema": {"description": "UTF-8 text with the columns disease, region, period, count"}},
            parsers.XLSX_MEDIA_TYPE: {"schema": {"description": "a workbook whose first sheet has those columns"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": 'a DHIS2 dataValueSet, or {"counts": [{"disease", "region", "period", "count"}]}',
                }
            },
        },
    }
}


@router.post(
    "/uploads",
    response={202: UploadOut},
    summary="Upload counts (CSV, XLSX, DHIS2 dataValueSet or JSON); checked and stored by the worker",
    description="A file that passes one of the node's upload limits (size, lines, columns, cell length, cells, "
    "JSON depth, and for XLSX the inflated size of each part and in all, the compression ratio and the number "
    "of parts) is refused at once with 413 and a message naming the limit; nothing is stored.",
    openapi_extra={**_UPLOAD_DOC, **links_to(202, "upload_uuid", "accord_surveillance_api_get_upload")},
)
def create_upload(request: HttpRequest, params: Query[UploadParams]) -> Status[dict[str, Any]]:
    require_write(request)
    content_type = (request.content_type or "").lower()
    if content_type not in CONTENT_TYPES:
        raise ActionError(
            f"send text/csv, {parsers.XLSX_MEDIA_TYPE} or application/json, not {content_type or 'nothing'}"
        )
    account = account_of(request)
    member = account.organisation.member.code if account.organisation else None
    created = actions.submit_upload(
        request.body,
        acting_user=account,
        audience=_audience(params.audience, member),
        tlp=params.tlp,
        filename=params.filename,
        fmt=CONTENT_TYPES[content_type],
        status=params.status,
        sent_as_json=content_type == "application/json",
    )
    created.refresh_from_db()
    return Status(202, upload_out(created))


@router.get("/uploads/{uuid:upload_uuid}", response=UploadOut, summary="An upload of yours: progress and errors")
def get_upload(request: HttpRequest, upload_uuid: UUID) -> dict[str, Any]:
    return upload_out(queries.upload_for(principal_of(request), upload_uuid))


@router.get("/series", response=list[SeriesOut], summary="Count series with counts you may see")
def list_series(
    request: HttpRequest,
    member: str | None = None,
    disease: str | None = None,
    region: str | None = None,
) -> list[dict[str, Any]]:
    rows = queries.series_for(
        principal_of(request), queries.SeriesFilter(member=member, disease=disease, region=region)
    )
    return [r.__dict__ for r in rows]


@router.get("/series/weeks", response=list[WeekOut], summary="The weekly counts of one series, with thresholds")
def series_weeks(request: HttpRequest, member: str, disease: str, region: str) -> list[dict[str, Any]]:
    weeks = queries.weeks_for(principal_of(request), member, disease, region)
    return [
        {"week": w.label, "start": w.start, "observed": w.observed, "threshold": w.upperbound, "alarm": w.alarm}
        for w in weeks
    ]


def _watcher(request: HttpRequest) -> None:
    if not (account_of(request).role_names() & SIGNAL_ROLES):
        raise Forbidden("signals are for analysts, focal points and coordinators")


@router.get(
    "/signals", response={200: list[SignalOut], **errors(403)}, summary="Signals you may see, newest week first"
)
def list_signals(request: HttpRequest, filters: Query[SignalFilters]) -> list[dict[str, Any]]:
    _watcher(request)
    rows = queries.signals_for(principal_of(request))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.disease:
        rows = rows.filter(disease=filters.disease)
    rows = rows.select_related("series", "reviewed_by").prefetch_related("components")
    return [signal_out(s) for s in rows.order_by("-week_start", "-created_at")[: filters.limit]]


@router.get("/signals/{uuid:signal_uuid}", response={200: SignalOut, **errors(403)}, summary="One signal")
def get_signal(request: HttpRequest, signal_uuid: UUID) -> dict[str, Any]:
    _watcher(request)
    return signal_out(queries.signal_for(principal_of(request), signal_uuid))


@router.post("/signals/{uuid:signal_uuid}/verify", response=SignalOut, summary="Verify a signal")
def verify_signal(request: HttpRequest, signal_uuid: UUID, payload: VerifyIn) -> dict[str, Any]:
    require_write(request)
    signal = queries.signal_for(principal_of(request), signal_uuid)
    return signal_out(actions.verify_signal(signal, acting_user=account_of(request), note=payload.note))


@router.post("/signals/{uuid:signal_uuid}/dismiss", response=SignalOut, summary="Dismiss a signal, with a reason")
def dismiss_signal(request: HttpRequest, signal_uuid: UUID, payload: DismissIn) -> dict[str, Any]:
    require_write(request)
    signal = queries.signal_for(principal_of(request), signal_uuid)
    return signal_out(actions.dismiss_signal(signal, acting_user=account_of(request), reason=payload.reason))


@router.get("/diseases", response=list[DiseaseOut], summary="The notifiable diseases counts may be shared for")
def list_diseases(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"icd10": d.code, "icd11": d.icd11, "name_en": d.name_en, "name_ru": d.name_ru, "name_zh": d.name_zh}
        for d in reference.diseases().values()
    ]


@router.get("/regions", response=list[RegionOut], summary="The first-level regions counts may be shared for")
def list_regions(request: HttpRequest, member: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "member": r.member,
            "name_en": r.name_en,
            "name_ru": r.name_ru,
            "name_zh": r.name_zh,
            "neighbours": sorted(reference.adjacency().get(r.code, frozenset())),
        }
        for r in reference.regions().values()
        if member is None or r.member == member
    ]
