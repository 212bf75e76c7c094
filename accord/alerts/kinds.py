"""The record kinds of the alerts subsystem: alert, ihr_assessment and acknowledgement."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field

from accord.alerts import mapping
from accord.alerts.models import AcknowledgementView, AlertMessage, AlertView, AssessmentView
from accord.lib import ihr
from accord.members.models import Account, Member
from accord.records import kinds
from accord.records.envelope import Audience
from accord.records.errors import Forbidden
from accord.records.models import Record, Version


class Disease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["ICD-10", "ICD-11"]
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9.]+$")
    name: str = Field(min_length=1, max_length=200)


class Epidemic(BaseModel):
    """What makes an alert an epidemic notification: the disease and the counts."""

    model_config = ConfigDict(extra="forbid")

    disease: Disease
    cases: int = Field(default=0, ge=0, le=10**9)
    deaths: int = Field(default=0, ge=0, le=10**9)
    assessment: str | None = Field(default=None, description="record uuid of the IHR Annex 2 assessment")


class DraftInfo(BaseModel):
    """What a draft alert (status draft, seen only by its author) keeps for its publication: who it is meant for,
    and where it came from (a verified surveillance signal: the reviewer's note and the signal's regions)."""

    model_config = ConfigDict(extra="forbid")

    audience: Audience
    tlp: Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
    status: Literal["actual", "exercise", "test"] = "actual"
    note: str = Field(default="", max_length=2000)
    signal: str | None = Field(default=None, max_length=36)
    regions: list[str] = Field(default_factory=list, max_length=50)


class AlertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cap: dict[str, Any]
    epidemic: Epidemic | None = None
    draft: DraftInfo | None = None


class RecordRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: str
    record: str
    seq: int = Field(default=1, ge=1)
    identifier: str | None = None


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: bool
    evidence: str = Field(default="", max_length=5000)


class AssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=500)
    alert: RecordRef | None = None
    disease: Disease | None = None
    answers: dict[Literal["serious_impact", "unusual", "international_spread", "travel_trade"], Answer]
    always_notifiable: bool
    outcome: Literal["notify", "do_not_notify"]
    reason: str = Field(max_length=500)
    assessed_at: str = Field(max_length=40)


class AcknowledgementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert: RecordRef
    member: str = Field(min_length=2, max_length=8)
    note: str = Field(default="", max_length=2000)
    cap: dict[str, Any]


def ack_hours(severity: str) -> int:
    table: dict[str, int] = settings.ACCORD_ACK_HOURS
    return table.get(severity, table["Unknown"])


def _sent(version: Version, cap: dict[str, Any]) -> datetime:
    """The time an alert is listed by: its CAP `sent`, or when it was received if that cannot be read."""
    return mapping.parse_cap_time(cap.get("sent")) or version.received_at


def _alert_values(version: Version, first_sent_before: datetime | None, body: dict[str, Any]) -> dict[str, Any]:
    """The AlertView columns for a version of an alert (`first_sent_before`: the thread's first sent time so far;
    `body`: the version's body, read once by the caller)."""
    cap = body["cap"]
    info = mapping.first_info(cap)
    features, bbox = mapping.areas_of(cap)
    sent = _sent(version, cap)
    first_sent = first_sent_before or sent
    expires = [mapping.parse_cap_time(i.get("expires")) for i in cap.get("info", [])]
    known_expiry = [e for e in expires if e is not None]
    epidemic = body.get("epidemic") or {}
    disease = epidemic.get("disease") or {}
    severity = mapping.worst_severity(cap)
    return {
        "version": version,
        "member": version.origin_member,
        "identifier": cap.get("identifier", ""),
        "sender": cap.get("sender", ""),
        "sent_at": sent,
        "first_sent_at": first_sent,
        "msg_type": cap.get("msgType", ""),
        "cap_status": cap.get("status", ""),
        "scope": cap.get("scope", ""),
        "event": str(info.get("event", ""))[:300],
        "headline": str(info.get("headline", ""))[:500],
        "categories": "," + ",".join(sorted({c for i in cap.get("info", []) for c in i.get("category", [])})) + ",",
        "severity": severity,
        "urgency": info.get("urgency", ""),
        "certainty": info.get("certainty", ""),
        "languages": ",".join(i.get("language", "en-US") for i in cap.get("info", [])),
        "expires_at": max(known_expiry) if known_expiry else None,
        "bbox_west": bbox[0] if bbox else None,
        "bbox_south": bbox[1] if bbox else None,
        "bbox_east": bbox[2] if bbox else None,
        "bbox_north": bbox[3] if bbox else None,
        "areas": features,
        "disease_system": disease.get("system", ""),
        "disease_code": disease.get("code", ""),
        "disease_name": disease.get("name", ""),
        "cases": epidemic.get("cases") if epidemic else None,
        "deaths": epidemic.get("deaths") if epidemic else None,
        "assessment": epidemic.get("assessment") if epidemic else None,
        "ack_deadline": first_sent + timedelta(hours=ack_hours(severity)),
    }


def _message_row(version: Version, body: dict[str, Any]) -> AlertMessage:
    cap = body["cap"]
    return AlertMessage(
        record_id=version.record_id,
        seq=version.seq,
        sender=str(cap.get("sender", ""))[:300],
        identifier=str(cap.get("identifier", ""))[:300],
        sent=str(cap.get("sent", ""))[:40],
    )


def _project_alert(version: Version) -> None:
    existing = AlertView.objects.filter(record=version.record).first()
    body = version.body
    values = _alert_values(version, existing.first_sent_at if existing else None, body)
    message = _message_row(version, body)
    AlertMessage.objects.get_or_create(
        record=version.record,
        seq=version.seq,
        defaults={"sender": message.sender, "identifier": message.identifier, "sent": message.sent},
    )
    if existing is None:
        AlertView.objects.create(record=version.record, **values)
    else:
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save()


def _project_alerts(versions: list[Version]) -> None:
    """_project_alert for a batch, in order, with bulk inserts for the new views and messages."""
    from accord.records import rows

    record_ids = {v.record_id for v in versions}
    views = {view.record_id: view for view in AlertView.objects.filter(record_id__in=record_ids)}
    held = set(AlertMessage.objects.filter(record_id__in=record_ids).values_list("record_id", "seq"))
    created: dict[int, AlertView] = {}
    changed: dict[int, AlertView] = {}
    messages = []
    for version in versions:
        body = version.body
        if (version.record_id, version.seq) not in held:
            messages.append(_message_row(version, body))
            held.add((version.record_id, version.seq))
        view = views.get(version.record_id) or created.get(version.record_id)
        values = _alert_values(version, view.first_sent_at if view else None, body)
        if view is None:
            created[version.record_id] = AlertView(record_id=version.record_id, **values)
            continue
        for name, value in values.items():
            setattr(view, name, value)
        if version.record_id in views:
            changed[version.record_id] = view
    rows.insert(messages)
    rows.insert(list(created.values()))
    for view in changed.values():
        view.save()


def _project_assessment(version: Version) -> None:
    body = version.body
    alert = body.get("alert") or {}
    assessed = mapping.parse_cap_time(body.get("assessed_at")) or version.received_at
    AssessmentView.objects.update_or_create(
        record=version.record,
        defaults={"alert_record": alert.get("record"), "outcome": body["outcome"], "assessed_at": assessed},
    )


def _project_ack(version: Version) -> None:
    body = version.body
    earlier = AcknowledgementView.objects.filter(
        alert_node=body["alert"]["node"], alert_record=body["alert"]["record"], member=body["member"]
    ).exclude(record=version.record)
    if earlier.exists():
        return  # the member acknowledged this alert already, from another node of its own: the first one stands
    AcknowledgementView.objects.update_or_create(
        record=version.record,
        defaults={
            "alert_node": body["alert"]["node"],
            "alert_record": body["alert"]["record"],
            "member": body["member"],
            "acknowledged_at": version.received_at,
        },
    )


def _alert_title(body: dict[str, Any]) -> str:
    info = mapping.first_info(body.get("cap", {}))
    return str(info.get("headline") or info.get("event") or body.get("cap", {}).get("identifier", ""))


def _alert_search(body: dict[str, Any]) -> str:
    cap = body.get("cap", {})
    parts = [str(cap.get("identifier", "")), str(cap.get("sender", ""))]
    for info in cap.get("info", []):
        for key in ("event", "headline", "description", "instruction", "senderName"):
            parts.append(str(info.get(key, "")))
        parts += [str(a.get("areaDesc", "")) for a in info.get("area", [])]
    disease = (body.get("epidemic") or {}).get("disease") or {}
    parts += [str(disease.get("code", "")), str(disease.get("name", ""))]
    return "\n".join(p for p in parts if p)


# CAP messages just read from XML and validated (XSD and every rule) by the bulk import, by (sender, identifier,
# sent): `check_cap` trusts a message equal to one of them instead of writing it out and validating it again.
_VOUCHED: ContextVar[dict[tuple[str, str, str], dict[str, Any]] | None] = ContextVar("vouched_cap", default=None)


def _cap_key(cap: dict[str, Any]) -> tuple[str, str, str]:
    return (str(cap.get("sender", "")), str(cap.get("identifier", "")), str(cap.get("sent", "")))


@contextmanager
def vouched(messages: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Within the block, `check_cap` takes these messages (JSON forms of alerts that `caplib.validate` just found
    valid) as valid CAP without validating them a second time. Only a message equal to a vouched one, value for
    value, is trusted: any other still goes through the whole validation."""
    table = {_cap_key(message): message for message in messages}
    token = _VOUCHED.set(table)
    try:
        yield
    finally:
        _VOUCHED.reset(token)


def _valid_cap(cap: dict[str, Any]) -> None:
    from accord.lib import cap as caplib

    table = _VOUCHED.get()
    if table is not None and table.get(_cap_key(cap)) == cap:
        return
    try:
        alert = caplib.from_json(cap)
    except caplib.CapError as error:
        raise ValueError(f"cap: {error.rule}: {error.message}") from None
    report = caplib.validate(caplib.to_xml(alert))
    errors = [f for f in report.errors if f.severity == "error"]
    if errors:
        first = errors[0]
        raise ValueError(f"cap: {first.rule} at {first.path}: {first.message}")


def check_cap(cap: dict[str, Any], *, msg_types: tuple[str, ...], status: str) -> None:
    """A CAP message in a body must be valid CAP 1.2 (XSD and rules), of the message types the kind carries,
    and of the record's own status (an exercise record carries an Exercise message)."""
    _valid_cap(cap)
    msg_type = str(cap.get("msgType", ""))
    if msg_type not in msg_types:
        raise ValueError(f"cap.msgType is {msg_type!r}; this kind carries {' or '.join(msg_types)}")
    if mapping.RECORD_STATUS.get(str(cap.get("status", ""))) != status:
        raise ValueError(f"cap.status {cap.get('status')!r} does not match the record status {status!r}")


def _alert_rules(body: dict[str, Any], author: kinds.Author) -> None:
    check_cap(body["cap"], msg_types=("Alert", "Update", "Cancel"), status=author.status)
    if body.get("draft") is not None and author.status != "draft":
        raise ValueError("draft: only a draft alert (status draft) carries a draft section")
    _check_notification_time(body)


def _check_notification_time(body: dict[str, Any]) -> None:
    """An alert that notifies an IHR assessment (epidemic.assessment) is sent after it: the 24-hour clock runs from
    the assessment to the notification. Checked where the assessment is known (here, or received before)."""
    reference = (body.get("epidemic") or {}).get("assessment")
    if not reference:
        return
    try:
        record = uuid.UUID(str(reference))
    except ValueError:
        raise ValueError(f"epidemic.assessment {reference!r} is not a record UUID") from None
    assessed = AssessmentView.objects.filter(record__uuid=record).values_list("assessed_at", flat=True).first()
    sent = mapping.parse_cap_time(body["cap"].get("sent"))
    if assessed is None or sent is None:
        return
    try:
        ihr.check_order(assessed, sent)
    except ValueError as error:
        raise ValueError(f"cap.sent: {error} (epidemic.assessment {record})") from None


def _ack_rules(body: dict[str, Any], author: kinds.Author) -> None:
    check_cap(body["cap"], msg_types=("Ack",), status=author.status)


def _assessment_rules(body: dict[str, Any], author: kinds.Author) -> None:
    """Assessing an alert is the notifying State's duty: only its own member assesses it (where it is known)."""
    alert = body.get("alert")
    if alert is None:
        return
    try:
        origin = Record.objects.filter(uuid=alert["record"], kind="alert").values_list("origin_member", flat=True)
        member = origin.first()
    except (ValueError, TypeError):
        raise ValueError("alert.record is not a UUID") from None
    if member is not None and member != author.member:
        raise Forbidden(
            f"body.alert is an alert of {member}; only the member that sent an alert assesses it", field="body"
        )


def _assessment_computed(body: dict[str, Any]) -> dict[str, Any]:
    disease = body.get("disease") or {}
    decision = ihr.assess(
        {key: bool(answer["answer"]) for key, answer in body["answers"].items()},
        system=disease.get("system"),
        code=disease.get("code"),
    )
    return {"outcome": decision.outcome, "always_notifiable": decision.always_notifiable}


PUBLISHERS = frozenset({"focal_point", "coordinator"})

STATE_ACK_ROLES = frozenset({"focal_point"})
SECRETARIAT_ACK_ROLES = frozenset({"focal_point", "coordinator"})


def ack_roles(member: Member) -> frozenset[str]:
    """Who acknowledges an alert for `member`: whoever is addressed must be able to. A state acknowledges through
    its focal points; the Secretariat, which has coordinators rather than focal points, through either.

    The one rule for acknowledging: the acknowledgement kind, the action, the web page and the API all use it."""
    return SECRETARIAT_ACK_ROLES if member.kind == Member.Kind.SECRETARIAT else STATE_ACK_ROLES


def may_acknowledge_for(account: Account) -> bool:
    """Whether `account` holds a role that acknowledges for its own member (see ack_roles)."""
    organisation = account.organisation
    return organisation is not None and bool(account.role_names() & ack_roles(organisation.member))


ALERT = kinds.register(
    kinds.RecordKind(
        name="alert",
        label=_("Alert"),
        body_model=AlertBody,
        title=_alert_title,
        search_text=_alert_search,
        publish_roles=PUBLISHERS,
        project=_project_alert,
        project_many=_project_alerts,
        rules=_alert_rules,
        endpoint="POST /api/v1/alerts",
        withdraw_endpoint="POST /api/v1/alerts/{uuid}/cancel",
        page="alert",
        listed_at=lambda version: _sent(version, version.body["cap"]),
    )
)

ASSESSMENT = kinds.register(
    kinds.RecordKind(
        name="ihr_assessment",
        label=_("IHR Annex 2 assessment"),
        body_model=AssessmentBody,
        title=lambda body: str(body.get("event", "")),
        search_text=lambda body: str(body.get("event", "")),
        publish_roles=frozenset({"focal_point"}),
        project=_project_assessment,
        rules=_assessment_rules,
        computed=_assessment_computed,
        endpoint="POST /api/v1/assessments",
    )
)

ACKNOWLEDGEMENT = kinds.register(
    kinds.RecordKind(
        name="acknowledgement",
        label=_("Acknowledgement"),
        body_model=AcknowledgementBody,
        title=lambda body: f"{body.get('member', '')}: {body.get('note', '')}".strip(": "),
        search_text=lambda body: str(body.get("note", "")),
        publish_roles=STATE_ACK_ROLES,
        member_roles=ack_roles,
        project=_project_ack,
        rules=_ack_rules,
        speaks_for=lambda body: str(body["member"]),
        endpoint="POST /api/v1/alerts/{uuid}/acknowledge",
    )
)
