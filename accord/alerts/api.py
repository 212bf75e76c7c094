"""/api/v1/alerts and /api/v1/assessments."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import ConfigDict
from pydantic import ValidationError as PydanticValidationError

from accord.alerts import actions, drafts, queries
from accord.alerts.models import AlertView, view_of
from accord.api import (
    MEMBER_CODE,
    AudienceIn,
    DateTimeParam,
    Tlp,
    account_of,
    errors,
    links_to,
    principal_of,
    require_write,
)
from accord.lib import cap as caplib
from accord.members.site import absolute_url
from accord.records import attachments as attachment_store
from accord.records.envelope import parse_audience
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record, Version
from accord.records.queries import record_for

router: Router = Router(tags=["alerts"])
assessments: Router = Router(tags=["alerts"])

CAP_TYPES = ("application/cap+xml", "application/xml", "text/xml")


class AlertOut(Schema):
    uuid: UUID
    identifier: str
    sender: str
    sent: datetime
    msg_type: str
    status: str
    state: str
    scope: str
    tlp: str
    origin_member: str
    seq: int
    event: str
    headline: str
    categories: list[str]
    severity: str
    urgency: str
    certainty: str
    expires: datetime | None
    expired: bool
    bbox: list[float] | None
    disease: dict[str, str] | None
    cases: int | None
    deaths: int | None
    audience: dict[str, Any]
    cap: dict[str, Any]


class Finding(Schema):
    rule: str
    severity: str
    path: str
    message: str


class PublishedOut(Schema):
    alert: AlertOut
    warnings: list[Finding]


class AlertPage(Schema):
    count: int = Field(description=f"how many alerts match, exactly up to {queries.COUNT_CAP}; see count_exact")
    count_exact: bool = Field(description=f"false when more than {queries.COUNT_CAP} match (count is then the cap)")
    items: list[AlertOut]
    next: str | None = Field(description="the next page's URL (also in the Link header); null on the last page")
    cursor: str | None = Field(description="the next page's cursor (the `cursor` parameter of `next`)")


_EXAMPLE_CAP: dict[str, Any] = {
    "info": [
        {
            "language": "en-US",
            "category": ["Health"],
            "event": "Cholera outbreak",
            "urgency": "Immediate",
            "severity": "Severe",
            "certainty": "Observed",
            "headline": "Cholera in Turkistan region",
            "description": "34 confirmed cases",
            "area": [
                {"areaDesc": "Turkistan region", "polygon": ["43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0"]}
            ],
        }
    ]
}


class AlertIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cap": _EXAMPLE_CAP,
                    "audience": {"members": ["CN", "KZ"]},
                    "tlp": "AMBER",
                    "epidemic": {"disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"}, "cases": 34},
                }
            ]
        }
    )

    cap: dict[str, Any] = Field(
        description="CAP JSON form; identifier, sender, sent, status, msgType and scope are set by Accord"
    )
    audience: AudienceIn
    tlp: Tlp
    status: Literal["actual", "exercise", "test", "draft"] = "actual"
    epidemic: dict[str, Any] | None = None


class UpdateIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cap": _EXAMPLE_CAP}]})

    cap: dict[str, Any]
    audience: AudienceIn | None = None
    tlp: Tlp | None = None
    epidemic: dict[str, Any] | None = None


class CancelIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "sent in error"}]})

    reason: str = Field(min_length=1, max_length=2000)


class AckIn(Schema):
    # The member is the acknowledging account's; a body naming one (or anything else) is refused, not ignored.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "received; teams informed"}]})

    note: str = Field(default="", max_length=2000)


class BoardRow(Schema):
    member: str
    acknowledged_at: datetime | None
    overdue: bool
    escalated: bool
    deadline: datetime | None


class AnswerIn(Schema):
    answer: bool = Field(strict=True)
    evidence: str = ""


class AnswersIn(Schema):
    """The four questions of IHR Annex 2, each answered."""

    serious_impact: AnswerIn
    unusual: AnswerIn
    international_spread: AnswerIn
    travel_trade: AnswerIn


class AssessmentIn(Schema):
    # The outcome is computed from the answers; a body stating it (or anything else) is refused, not ignored.
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=500)
    answers: AnswersIn
    alert: UUID | None = None
    disease: dict[str, str] | None = None


class AssessmentOut(Schema):
    uuid: UUID
    event: str
    outcome: str
    reason: str
    always_notifiable: bool
    answers: dict[str, Any]
    disease: dict[str, str] | None
    alert: UUID | None
    assessed_at: str
    clock: str
    deadline: datetime | None
    notified_at: datetime | None


_NUMBER = r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?"


class AlertFilters(Schema):
    member: str | None = None
    status: Literal["actual", "exercise", "test", "draft"] | None = None
    category: str | None = None
    event: str | None = Field(default=None, max_length=300, description="the CAP event, whole (case ignored)")
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"] | None = None
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"] | None = None
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"] | None = None
    bbox: str | None = Field(
        default=None,
        pattern=r"^" + _NUMBER + r"(?:," + _NUMBER + r"){3}$",
        description="west,south,east,north in degrees (longitudes -180 to 180, latitudes -90 to 90, south <= north)",
    )
    since: DateTimeParam | None = None
    until: DateTimeParam | None = None
    q: str | None = Field(default=None, max_length=200)
    disease: str | None = Field(default=None, max_length=100)
    active: bool | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, max_length=200, description="where the page starts: the `cursor` of the previous page"
    )


def _when(value: datetime | None) -> str | None:
    """A date-time as the API writes it (pydantic's form: RFC 3339, Z for UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_item(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An AlertOut, JSON-ready, from a row of `queries.LIST_COLUMNS` (no model instances: lists are the hot path)."""
    envelope = orjson.loads(row["current_version__canonical"])
    body = envelope["body"]
    expires = row["alert_view__expires_at"]
    west = row["alert_view__bbox_west"]
    return {
        "uuid": str(row["uuid"]),
        "identifier": row["alert_view__identifier"],
        "sender": row["alert_view__sender"],
        "sent": _when(row["alert_view__sent_at"]),
        "msg_type": row["alert_view__msg_type"],
        "status": row["current_version__status"],
        "state": row["current_version__state"],
        "scope": row["alert_view__scope"],
        "tlp": row["current_version__tlp"],
        "origin_member": row["origin_member"],
        "seq": row["current_version__seq"],
        "event": row["alert_view__event"],
        "headline": row["alert_view__headline"],
        "categories": [c for c in row["alert_view__categories"].split(",") if c],
        "severity": row["alert_view__severity"],
        "urgency": row["alert_view__urgency"],
        "certainty": row["alert_view__certainty"],
        "expires": _when(expires),
        "expired": expires is not None and expires < now,
        "bbox": [west, row["alert_view__bbox_south"], row["alert_view__bbox_east"], row["alert_view__bbox_north"]]
        if west is not None
        else None,
        "disease": (body.get("epidemic") or {}).get("disease"),
        "cases": row["alert_view__cases"],
        "deaths": row["alert_view__deaths"],
        "audience": envelope["audience"],
        "cap": body["cap"],
    }


def alert_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    view = view_of(record)
    assert version is not None
    body = version.body
    return {
        "uuid": record.uuid,
        "identifier": view.identifier,
        "sender": view.sender,
        "sent": view.sent_at,
        "msg_type": view.msg_type,
        "status": version.status,
        "state": version.state,
        "scope": view.scope,
        "tlp": version.tlp,
        "origin_member": record.origin_member,
        "seq": version.seq,
        "event": view.event,
        "headline": view.headline,
        "categories": [c for c in view.categories.split(",") if c],
        "severity": view.severity,
        "urgency": view.urgency,
        "certainty": view.certainty,
        "expires": view.expires_at,
        "expired": view.is_expired(),
        "bbox": [view.bbox_west, view.bbox_south, view.bbox_east, view.bbox_north]
        if view.bbox_west is not None
        else None,
        "disease": (body.get("epidemic") or {}).get("disease"),
        "cases": view.cases,
        "deaths": view.deaths,
        "audience": version.envelope()["audience"],
        "cap": body["cap"],
    }


def _published(result: actions.Published) -> dict[str, Any]:
    record = Record.objects.select_related("current_version").get(pk=result.version.record_id)
    return {"alert": alert_out(record), "warnings": result.warnings}


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise ActionError("bbox is west,south,east,north: four numbers", field="bbox") from None
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ActionError(
            "bbox is out of range (longitudes -180..180, latitudes -90..90, south <= north)", field="bbox"
        )
    return west, south, east, north


@router.get(
    "",
    response=AlertPage,
    summary="Alerts you may see, newest first",
    openapi_extra=links_to(
        200,
        "record_uuid",
        "accord_alerts_api_get_alert",
        "accord_alerts_api_alert_cap",
        "accord_alerts_api_acknowledge",
        "accord_alerts_api_board",
        pointer="/items/0/uuid",
    ),
)
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> HttpResponse:
    if "offset" in request.GET:
        # The list pages by keyset (never OFFSET, which grows slower with depth): say so rather than ignore it.
        raise ActionError(
            "this list has no offset: it pages with cursor (follow the next link as it is)", field="offset"
        )
    rows = queries.alerts_for(
        principal_of(request),
        queries.AlertFilter(
            member=filters.member,
            status=filters.status,
            category=filters.category,
            event=filters.event,
            severity=filters.severity,
            urgency=filters.urgency,
            certainty=filters.certainty,
            bbox=_bbox(filters.bbox),
            since=filters.since,
            until=filters.until,
            q=filters.q,
            active=filters.active,
            disease=filters.disease,
        ),
    )
    found = queries.page(rows, filters.limit, filters.cursor)
    now = timezone.now()
    following = None
    if found.cursor is not None:
        params = request.GET.copy()
        params["cursor"] = found.cursor
        following = absolute_url(f"{request.path}?{params.urlencode()}", request)
    # Written here rather than through the response schema: the items are JSON-ready (alert_item), and validating
    # 50 CAP messages again would cost more than reading them.
    response = HttpResponse(
        orjson.dumps(
            {
                "count": found.count,
                "count_exact": found.count_exact,
                "items": [alert_item(row, now) for row in found.rows],
                "next": following,
                "cursor": found.cursor,
            }
        ),
        content_type="application/json; charset=utf-8",
    )
    if following is not None:
        response["Link"] = f'<{following}>; rel="next"'
    return response


def _inline(model: type[Schema]) -> dict[str, Any]:
    """The JSON Schema of a body that ninja does not see (create_alert reads its body itself), with references
    to the document's components (AudienceIn is one, through the records endpoints), so none dangles."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


class CapImportParams(Schema):
    audience: str | None = Field(
        default=None,
        max_length=2000,
        pattern=f"^{MEMBER_CODE}(?:,{MEMBER_CODE})*$",
        description="CAP XML only: member codes separated by commas; replaces the audience the CAP scope gives",
    )
    tlp: Tlp | None = Field(default=None, description="CAP XML only: goes with audience")


_ALERT_LINKS = links_to(
    201,
    "record_uuid",
    "accord_alerts_api_get_alert",
    "accord_alerts_api_alert_cap",
    "accord_alerts_api_alert_geojson",
    "accord_alerts_api_acknowledge",
    "accord_alerts_api_board",
    "accord_alerts_api_cancel_alert",
    "accord_alerts_api_update_alert",
    pointer="/alert/uuid",
)

_CREATE_DOC = {
    **_ALERT_LINKS,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline(AlertIn)},
            "application/cap+xml": {"schema": {"type": "string", "description": "a CAP 1.2 (or 1.1/1.0) alert"}},
            "application/xml": {"schema": {"type": "string"}},
        },
    },
}


@router.post(
    "",
    response={201: PublishedOut},
    summary="Publish an alert from CAP XML (imported as is) or from JSON (composed)",
    openapi_extra=_CREATE_DOC,
)
def create_alert(request: HttpRequest, params: Query[CapImportParams]) -> Status[dict[str, Any]]:
    require_write(request)
    content_type = (request.content_type or "").lower()
    if content_type in CAP_TYPES:
        chosen = parse_audience({"members": params.audience.split(",")}) if params.audience else None
        result = actions.import_alert(request.body, acting_user=account_of(request), audience=chosen, tlp=params.tlp)
        return Status(201, _published(result))
    if content_type != "application/json":
        raise ActionError(f"send application/json or application/cap+xml, not {content_type or 'nothing'}")
    try:
        raw = json.loads(request.body)
    except json.JSONDecodeError as error:
        raise ActionError(
            f"the request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except UnicodeDecodeError:
        raise ActionError("the request body is not UTF-8 text") from None
    try:
        payload = AlertIn.model_validate(raw)
    except PydanticValidationError as error:
        # as for every other body: 422, naming the field (the API's handler for ninja's ValidationError)
        problems = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise ValidationError(problems) from None
    result = actions.publish_alert(
        payload.cap,
        audience=parse_audience(payload.audience.plain()),
        tlp=payload.tlp,
        status=payload.status,
        acting_user=account_of(request),
        epidemic=payload.epidemic,
    )
    return Status(201, _published(result))


@router.get(
    "/{uuid:record_uuid}.cap",
    summary="The alert as CAP 1.2 XML (the original bytes if imported)",
    openapi_extra={
        "responses": {
            200: {
                "description": "the CAP 1.2 document",
                "content": {"application/cap+xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def alert_cap(request: HttpRequest, record_uuid: UUID) -> HttpResponse:
    return cap_response(queries.alert_for(principal_of(request), str(record_uuid)))


def cap_response(record: Record) -> HttpResponse:
    version = record.current_version
    assert version is not None
    for item in version.envelope()["attachments"]:
        if item["media_type"] == "application/cap+xml":
            return HttpResponse(attachment_store.read_bytes(item["sha256"]), content_type="application/cap+xml")
    xml = caplib.to_xml(caplib.from_json(version.body["cap"]))
    return HttpResponse(xml, content_type="application/cap+xml")


@router.get("/{uuid:record_uuid}.geojson", summary="The alert's areas as GeoJSON")
def alert_geojson(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    record = queries.alert_for(principal_of(request), str(record_uuid))
    view = AlertView.objects.get(record=record)
    return {"type": "FeatureCollection", "features": view.areas}


@router.get("/{uuid:record_uuid}", response=AlertOut, summary="One alert")
def get_alert(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return alert_out(queries.alert_for(principal_of(request), str(record_uuid)))


@router.post(
    "/{uuid:record_uuid}/update", response={201: PublishedOut}, summary="Issue a CAP Update", openapi_extra=_ALERT_LINKS
)
def update_alert(request: HttpRequest, record_uuid: UUID, payload: UpdateIn) -> Status[dict[str, Any]]:
    require_write(request)
    record = queries.alert_for(principal_of(request), str(record_uuid))
    result = actions.update_alert(
        record,
        payload.cap,
        acting_user=account_of(request),
        audience=parse_audience(payload.audience.plain()) if payload.audience is not None else None,
        tlp=payload.tlp,
        epidemic=payload.epidemic,
    )
    return Status(201, _published(result))


@router.post("/{uuid:record_uuid}/cancel", response={201: PublishedOut}, summary="Issue a CAP Cancel")
def cancel_alert(request: HttpRequest, record_uuid: UUID, payload: CancelIn) -> Status[dict[str, Any]]:
    require_write(request)
    record = queries.alert_for(principal_of(request), str(record_uuid))
    return Status(201, _published(actions.cancel_alert(record, acting_user=account_of(request), reason=payload.reason)))


@router.post(
    "/{uuid:record_uuid}/publish",
    response={201: PublishedOut},
    summary="Publish a draft alert of yours",
    description="The draft (status draft, seen only by you) is published as a new alert with the audience, TLP and "
    "status it was saved for, and the draft is withdrawn (its reason names the alert). Anyone else's draft is a 404.",
)
def publish_draft(request: HttpRequest, record_uuid: UUID) -> Status[dict[str, Any]]:
    require_write(request)
    record = queries.alert_for(principal_of(request), str(record_uuid))
    return Status(201, _published(drafts.publish_draft(record, acting_user=account_of(request))))


@router.post("/{uuid:record_uuid}/discard", response={204: None}, summary="Discard a draft alert of yours")
def discard_draft(request: HttpRequest, record_uuid: UUID) -> Status[None]:
    require_write(request)
    record = queries.alert_for(principal_of(request), str(record_uuid))
    drafts.discard_draft(record, acting_user=account_of(request))
    return Status(204, None)


@router.post("/{uuid:record_uuid}/acknowledge", response={201: list[BoardRow]}, summary="Acknowledge for your member")
def acknowledge(request: HttpRequest, record_uuid: UUID, payload: AckIn) -> Status[list[dict[str, Any]]]:
    require_write(request)
    record = queries.alert_for(principal_of(request), str(record_uuid))
    actions.acknowledge(record, acting_user=account_of(request), note=payload.note)
    record.refresh_from_db()
    assert record.current_version is not None
    return Status(201, actions.ack_board(record.current_version))


@router.get("/{uuid:record_uuid}/acknowledgements", response=list[BoardRow], summary="Who has acknowledged")
def board(request: HttpRequest, record_uuid: UUID) -> list[dict[str, Any]]:
    record = queries.alert_for(principal_of(request), str(record_uuid))
    assert record.current_version is not None
    return actions.ack_board(record.current_version)


def assessment_out(version: Version) -> dict[str, Any]:
    body = version.body
    state, deadline, notified = actions.notification_clock(version)
    alert = (body.get("alert") or {}).get("record")
    return {
        "uuid": version.record_uuid,
        "event": body["event"],
        "outcome": body["outcome"],
        "reason": body["reason"],
        "always_notifiable": body["always_notifiable"],
        "answers": body["answers"],
        "disease": body.get("disease"),
        "alert": alert,
        "assessed_at": body["assessed_at"],
        "clock": state,
        "deadline": deadline,
        "notified_at": notified,
    }


@assessments.post(
    "",
    response={201: AssessmentOut, **errors(404)},
    summary="Assess an event by IHR Annex 2",
    openapi_extra=links_to(201, "record_uuid", "accord_alerts_api_get_assessment"),
)
def create_assessment(request: HttpRequest, payload: AssessmentIn) -> Status[dict[str, Any]]:
    require_write(request)
    alert = queries.alert_for(principal_of(request), str(payload.alert)) if payload.alert else None
    version = actions.assess(
        event=payload.event,
        answers=payload.answers.model_dump(),
        acting_user=account_of(request),
        alert=alert,
        disease=payload.disease,
    )
    return Status(201, assessment_out(version))


@assessments.get("/{uuid:record_uuid}", response=AssessmentOut, summary="One assessment with its 24-hour clock")
def get_assessment(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    record = record_for(principal_of(request), str(record_uuid))
    if record.kind != "ihr_assessment" or record.current_version is None:
        raise NotFound("no such assessment")
    return assessment_out(record.current_version)


# The batch import registers its route on this router.
from accord.alerts import batch_api  # noqa: E402, F401
