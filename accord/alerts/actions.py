"""Every change to alerts: publish, import, update, cancel, assess, acknowledge.

Each builds a CAP 1.2 message, validates it (XSD and rules: errors refuse, warnings are
returned), and hands it to the record core's actions, which sign, store and audit it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.alerts import mapping
from accord.alerts.models import AcknowledgementView, AlertView
from accord.lib import cap as caplib
from accord.lib import ihr
from accord.members.models import Member
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import Record, Version

if TYPE_CHECKING:
    from accord.members.models import Account


class CapRejected(ActionError):
    """The CAP message breaks rules; `findings` lists every violation."""

    status = 400

    def __init__(self, findings: list[dict[str, str]]) -> None:
        errors = [f for f in findings if f["severity"] == "error"]
        first = errors[0] if errors else {"rule": "?", "path": "", "message": "invalid"}
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['rule']} at {first['path']}: {first['message']}{more}", field="cap")
        self.findings = findings


@dataclass(frozen=True)
class Published:
    version: Version
    warnings: list[dict[str, str]]


def _findings(report: caplib.Report) -> list[dict[str, str]]:
    return [{"rule": f.rule, "severity": f.severity, "path": f.path, "message": f.message} for f in report.errors]


def _check(xml: bytes) -> list[dict[str, str]]:
    report = caplib.validate(xml)
    findings = _findings(report)
    if not report.valid:
        raise CapRejected(findings)
    return [f for f in findings if f["severity"] == "warning"]


def _sender(user: Account) -> str:
    organisation = user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot publish")
    return f"{organisation.slug}@accord.{record_actions.this_node().node_id}"


def _from_json(cap: dict[str, Any]) -> caplib.Alert:
    try:
        return caplib.from_json(cap)
    except caplib.CapError as error:
        # Messages name the place as a JSON path ("$.info[0].category: ..."); give it as the finding's path.
        path, sep, text = error.message.partition(": ")
        where = path if sep and path.startswith("$") else ""
        raise CapRejected(
            [{"rule": error.rule, "severity": "error", "path": where, "message": text if where else error.message}]
        ) from None


def _compose(
    cap: dict[str, Any],
    *,
    user: Account,
    status: str,
    audience: Audience,
    tlp: str,
    msg_type: str,
    references: list[str],
    note: str | None = None,
) -> dict[str, Any]:
    """A complete CAP message from what the author wrote: Accord fills the envelope fields."""
    if not isinstance(cap, dict):
        raise ActionError("cap must be a JSON object (the CAP JSON form)", field="cap")
    if status not in mapping.CAP_STATUS:
        raise ActionError(f"status {status!r} is not one of {', '.join(mapping.CAP_STATUS)}", field="status")
    message: dict[str, Any] = {
        k: v
        for k, v in cap.items()
        if k
        not in {
            "identifier",
            "sender",
            "sent",
            "status",
            "msgType",
            "scope",
            "restriction",
            "addresses",
            "addressesText",
            "references",
            "referencesText",
        }
    }
    scope = mapping.scope_for(audience, tlp)
    tlp_note = scope.pop("note_tlp", None)
    message.update(
        identifier=f"urn:uuid:{uuid.uuid4()}",
        sender=_sender(user),
        sent=mapping.cap_time(),
        status=mapping.CAP_STATUS[status],
        msgType=msg_type,
        **scope,
    )
    if references:
        message["references"] = references
    notes = [n for n in (note, message.get("note"), tlp_note) if n]
    if notes:
        message["note"] = " | ".join(dict.fromkeys(str(n) for n in notes))
    return caplib.to_json(_from_json(message))


def _epidemic(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ActionError("epidemic must be an object with disease, cases and deaths", field="epidemic")
    return raw


def _schedule_ack_check(version: Version) -> None:
    view = AlertView.objects.filter(record_id=version.record_id).first()
    if view is None or view.ack_deadline is None or version.status != "actual":
        return
    from accord.alerts.tasks import check_acknowledgements

    record_id, when = version.record_id, view.ack_deadline
    transaction.on_commit(lambda: check_acknowledgements.using(run_after=when).enqueue(record_id))


def publish_alert(
    cap: dict[str, Any],
    *,
    audience: Audience,
    tlp: str,
    status: str = "actual",
    acting_user: Account,
    epidemic: dict[str, Any] | None = None,
) -> Published:
    """Publish a new alert written in Accord (CAP JSON form; Accord fills identifier, sender, sent, scope)."""
    message = _compose(
        cap, user=acting_user, status=status, audience=audience, tlp=tlp, msg_type="Alert", references=[]
    )
    warnings = _check(caplib.to_xml(_from_json(message)))
    body = {"cap": message, **({"epidemic": _epidemic(epidemic)} if epidemic else {})}
    with transaction.atomic():
        version = record_actions.publish(
            "alert", body, audience=audience, tlp=tlp, status=status, acting_user=acting_user
        )
        _schedule_ack_check(version)
    return Published(version, warnings)


def import_alert(
    data: bytes,
    *,
    acting_user: Account,
    audience: Audience | None = None,
    tlp: str | None = None,
    name: str = "original.xml",
) -> Published:
    """Import a CAP document as a record of this node, keeping its bytes as the original.

    CAP 1.0/1.1 are upgraded to 1.2 for the body; the original stays as it was. Without an
    explicit audience, the CAP scope decides (see `mapping.audience_for`).
    """
    report = caplib.validate(data)
    findings = _findings(report)
    if report.kind not in ("alert", "atom-feed", "rss-feed") or not report.valid:
        raise CapRejected(
            findings or [{"rule": "CAP-ROOT", "severity": "error", "path": "/", "message": "not a CAP alert"}]
        )
    if report.kind != "alert":
        raise ActionError(
            f"the document is not a CAP alert but {report.kind!r}; import feeds entry by entry", field="cap"
        )
    # The validator has read the alert already (upgraded to 1.2); reuse it rather than parse again.
    message = caplib.to_json(report.alerts[0])
    node = record_actions.this_node()
    if audience is None or tlp is None:
        codes = set(Member.objects.values_list("code", flat=True))
        home = acting_user.organisation.member.code if acting_user.organisation else node.member.code
        default_audience, default_tlp = mapping.audience_for(message, codes, home)
        audience = audience or default_audience
        tlp = tlp or default_tlp
    status = mapping.RECORD_STATUS.get(message.get("status", ""), "test")
    files = [record_actions.NewAttachment(name=name, media_type="application/cap+xml", data=data)]
    with transaction.atomic():
        updating = message.get("msgType") in ("Update", "Cancel")
        previous = _thread_of(message, node.node_id) if updating else None
        if previous is not None:
            if message["msgType"] == "Cancel":
                version = record_actions.withdraw(
                    previous,
                    acting_user=acting_user,
                    reason=message.get("note") or "CAP Cancel",
                    body={"cap": message},
                    files=files,
                )
            else:
                version = record_actions.revise(previous, acting_user=acting_user, body={"cap": message}, files=files)
        else:
            version = record_actions.publish(
                "alert",
                {"cap": message},
                audience=audience,
                tlp=tlp,
                status=status,
                acting_user=acting_user,
                files=files,
            )
        _schedule_ack_check(version)
    notes = [{"rule": "CAP-UPGRADE", "severity": "warning", "path": "/alert", "message": n} for n in report.notes]
    return Published(version, [f for f in findings if f["severity"] == "warning"] + notes)


def _thread_of(message: dict[str, Any], node_id: uuid.UUID) -> Record | None:
    """The record (of this node) holding the latest message that this one references, if any."""
    from accord.alerts.models import AlertMessage

    for text in reversed(message.get("references", [])):
        parts = text.split(",")
        if len(parts) != 3:
            continue
        found = (
            AlertMessage.objects.filter(identifier=parts[1], sender=parts[0], record__origin_node=node_id)
            .select_related("record")
            .first()
        )
        if found is not None:
            return found.record
    return None


def _references(record: Record) -> list[str]:
    """sender,identifier,sent of every message of the thread so far (CAP: Update/Cancel reference them all)."""
    found = []
    for version in Version.objects.filter(record=record).order_by("seq"):
        cap = version.body.get("cap", {})
        found.append(f"{cap.get('sender')},{cap.get('identifier')},{cap.get('sent')}")
    return list(dict.fromkeys(found))


def update_alert(
    record: Record,
    cap: dict[str, Any],
    *,
    acting_user: Account,
    audience: Audience | None = None,
    tlp: str | None = None,
    epidemic: dict[str, Any] | None = None,
) -> Published:
    """A CAP Update: a new version whose message references every earlier message of the thread."""
    record = Record.objects.select_related("current_version").get(pk=record.pk)  # never act on a stale copy
    current = record.current_version
    if current is None or record.kind != "alert":
        raise ActionError("not an alert", field="record")
    new_audience = audience or Audience.model_validate(current.envelope()["audience"])
    new_tlp = tlp or current.tlp
    message = _compose(
        cap,
        user=acting_user,
        status=current.status,
        audience=new_audience,
        tlp=new_tlp,
        msg_type="Update",
        references=_references(record),
    )
    warnings = _check(caplib.to_xml(_from_json(message)))
    old_epidemic = current.body.get("epidemic")
    # None keeps the epidemic section; an empty object removes it (the event proved not to be an epidemic).
    if epidemic is None:
        new_epidemic = old_epidemic
    elif not epidemic:
        new_epidemic = None
    else:
        new_epidemic = _epidemic(epidemic)
    body = {"cap": message, **({"epidemic": new_epidemic} if new_epidemic else {})}
    version = record_actions.revise(record, acting_user=acting_user, body=body, audience=audience, tlp=tlp, files=[])
    return Published(version, warnings)


def cancel_alert(record: Record, *, acting_user: Account, reason: str) -> Published:
    """A CAP Cancel: the record's withdrawal, referencing every earlier message."""
    record = Record.objects.select_related("current_version").get(pk=record.pk)  # never act on a stale copy
    current = record.current_version
    if current is None or record.kind != "alert":
        raise ActionError("not an alert", field="record")
    if not reason.strip():
        raise ActionError("say why the alert is cancelled", field="reason")
    previous = current.body["cap"]
    keep = {"info": previous["info"]} if previous.get("info") else {}
    message = _compose(
        keep,
        user=acting_user,
        status=current.status,
        audience=Audience.model_validate(current.envelope()["audience"]),
        tlp=current.tlp,
        msg_type="Cancel",
        references=_references(record),
        note=reason.strip(),
    )
    warnings = _check(caplib.to_xml(_from_json(message)))
    body = {"cap": message, **({"epidemic": current.body["epidemic"]} if current.body.get("epidemic") else {})}
    version = record_actions.withdraw(record, acting_user=acting_user, reason=reason, body=body, files=[])
    return Published(version, warnings)


def addressed_members(version: Version) -> list[str]:
    """The members an alert version addresses: named ones, those of named organisations and persons,
    or all active state members when it goes to everyone. Never the origin member itself."""
    from accord.members.models import Account, Organisation

    audience = version.envelope()["audience"]
    if audience["everyone"]:
        codes = set(Member.objects.filter(active=True, kind=Member.Kind.STATE).values_list("code", flat=True))
    else:
        codes = set(audience["members"])
        codes |= set(
            Organisation.objects.filter(uuid__in=audience["organisations"]).values_list("member__code", flat=True)
        )
        codes |= set(
            Account.objects.filter(uuid__in=audience["persons"]).values_list("organisation__member__code", flat=True)
        )
    codes.discard(version.origin_member)
    codes.discard(None)  # type: ignore[arg-type]
    return sorted(codes)


def acknowledge(record: Record, *, acting_user: Account, note: str = "") -> Version:
    """The acting account's member acknowledges the alert (CAP Ack), as a record of its own.

    Who may: see `kinds.ack_roles` (a state's focal points; the Secretariat's coordinators and focal points)."""
    from accord.alerts.kinds import ack_roles

    record = Record.objects.select_related("current_version").get(pk=record.pk)  # never act on a stale copy
    current = record.current_version
    if current is None or record.kind != "alert":
        raise ActionError("only alerts are acknowledged", field="record")
    if current.state == "withdrawn":
        raise Conflict("this alert was cancelled; there is nothing to acknowledge")
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    member = organisation.member.code
    roles = ack_roles(organisation.member)
    if not (acting_user.role_names() & roles):
        raise Forbidden(f"acknowledging for {member} needs one of the roles: {', '.join(sorted(roles))}")
    if member not in addressed_members(current):
        raise Forbidden(f"this alert does not address {member}; only addressed members acknowledge it")
    if AcknowledgementView.objects.filter(alert_record=record.uuid, member=member).exists():
        raise Conflict(f"{member} has already acknowledged this alert")
    alert_cap = current.body["cap"]
    envelope = current.envelope()
    ack_cap = {
        "identifier": f"urn:uuid:{uuid.uuid4()}",
        "sender": _sender(acting_user),
        "sent": mapping.cap_time(),
        "status": alert_cap.get("status", "Actual"),
        "msgType": "Ack",
        "scope": alert_cap.get("scope", "Private"),
        **({"restriction": alert_cap["restriction"]} if "restriction" in alert_cap else {}),
        **({"addresses": alert_cap["addresses"]} if "addresses" in alert_cap else {}),
        "references": [f"{alert_cap.get('sender')},{alert_cap.get('identifier')},{alert_cap.get('sent')}"],
        **({"note": note.strip()} if note.strip() else {}),
    }
    _check(caplib.to_xml(_from_json(ack_cap)))
    body = {
        "alert": {
            "node": str(record.origin_node),
            "record": str(record.uuid),
            "seq": current.seq,
            "identifier": alert_cap.get("identifier"),
        },
        "member": member,
        "note": note.strip(),
        "cap": caplib.to_json(_from_json(ack_cap)),
    }
    try:
        with transaction.atomic():
            return record_actions.publish(
                "acknowledgement",
                body,
                audience=Audience.model_validate(envelope["audience"]),
                tlp=current.tlp,
                status=current.status,
                acting_user=acting_user,
            )
    except IntegrityError:
        raise Conflict(f"{member} has already acknowledged this alert") from None


def assess(
    *,
    event: str,
    answers: dict[str, dict[str, Any]],
    acting_user: Account,
    alert: Record | None = None,
    disease: dict[str, str] | None = None,
    audience: Audience | None = None,
    tlp: str = "AMBER",
    status: str = "actual",
) -> Version:
    """Record an IHR Annex 2 assessment; the outcome is computed, never typed in.

    Assessing is the notifying State's duty: only a focal point of the alert's own member assesses it."""
    if alert is not None:
        organisation = acting_user.organisation
        if organisation is None or organisation.member.code != alert.origin_member:
            raise Forbidden("only focal points of the member that sent the alert assess it")
    try:
        decision = ihr.assess(
            {k: bool(v.get("answer")) for k, v in answers.items()},
            system=(disease or {}).get("system"),
            code=(disease or {}).get("code"),
        )
    except (ValueError, AttributeError) as error:
        raise ActionError(str(error), field="answers") from None
    if audience is None:
        if alert is not None and alert.current_version is not None:
            audience = Audience.model_validate(alert.current_version.envelope()["audience"])
            tlp = alert.current_version.tlp
        else:
            organisation = acting_user.organisation
            audience = Audience(organisations=[organisation.uuid] if organisation else [])
            tlp = "AMBER+STRICT"
    body: dict[str, Any] = {
        "event": event,
        "answers": answers,
        "always_notifiable": decision.always_notifiable,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "assessed_at": mapping.cap_time(),
    }
    if disease:
        body["disease"] = disease
    if alert is not None:
        body["alert"] = {"node": str(alert.origin_node), "record": str(alert.uuid), "seq": alert.current_seq}
    with transaction.atomic():
        version = record_actions.publish(
            "ihr_assessment", body, audience=audience, tlp=tlp, status=status, acting_user=acting_user
        )
        if decision.outcome == "notify" and status == "actual":
            from accord.alerts.tasks import check_notification_clock

            due = timezone.now() + ihr.NOTIFY_WITHIN
            record_id = version.record_id
            transaction.on_commit(lambda: check_notification_clock.using(run_after=due).enqueue(record_id))
    return version


def notification_clock(
    assessment: Version, now: datetime | None = None
) -> tuple[str, datetime | None, datetime | None]:
    """(state, deadline, notified_at) of the 24-hour clock of an assessment.

    The clock runs from the assessment to the notification, never backwards. The notification is the first message
    (an Alert or an Update, not a Cancel) of the linked Actual alert that came after the assessment: when the
    assessment names the alert it assessed, a message after the one it assessed; when the alert names the
    assessment (epidemic.assessment), a message that does. Either way, one sent at or after the assessment."""
    body = assessment.body
    assessed = mapping.parse_cap_time(body.get("assessed_at")) or assessment.received_at
    notified: datetime | None = None
    alert = body.get("alert") or {}
    views = AlertView.objects.filter(cap_status="Actual")
    view = (
        views.filter(record__uuid=alert["record"]).first()
        if alert.get("record")
        else views.filter(assessment=assessment.record_uuid).first()
    )
    if view is not None:
        sent = []
        messages = Version.objects.filter(record_id=view.record_id).only("canonical", "seq")
        for message in messages.filter(seq__gt=int(alert.get("seq", 1))) if alert.get("record") else messages:
            cap = message.body.get("cap") or {}
            linked = alert.get("record") or (message.body.get("epidemic") or {}).get("assessment") == str(
                assessment.record_uuid
            )
            when = mapping.parse_cap_time(cap.get("sent"))
            if linked and when is not None and cap.get("msgType") in ("Alert", "Update"):
                sent.append(when)
        notified = ihr.notification_of(assessed, sent)
    state, deadline = ihr.clock(body["outcome"], assessed, notified, now or timezone.now())
    return state, deadline, notified


def ack_board(version: Version) -> list[dict[str, Any]]:
    """Per addressed member: acknowledged (when), overdue, escalated."""
    from accord.alerts.models import Escalation

    view = AlertView.objects.filter(record_id=version.record_id).first()
    acks = {a.member: a for a in AcknowledgementView.objects.filter(alert_record=version.record_uuid)}
    escalated = set(Escalation.objects.filter(alert_id=version.record_id).values_list("member", flat=True))
    now = timezone.now()
    rows = []
    for code in addressed_members(version):
        ack = acks.get(code)
        overdue = ack is None and view is not None and view.ack_deadline is not None and view.ack_deadline < now
        rows.append(
            {
                "member": code,
                "acknowledged_at": ack.acknowledged_at if ack else None,
                "overdue": overdue,
                "escalated": code in escalated,
                "deadline": view.ack_deadline if view else None,
            }
        )
    return rows


def escalate_overdue(record: Record) -> list[tuple[str, list[str]]]:
    """Mark every addressed member that missed the acknowledgement deadline as escalated.

    Returns (member, e-mail recipients) for each newly escalated member: the member's focal points
    and the Secretariat's coordinators. Each member is escalated once per alert.
    """
    from accord.alerts.models import Escalation
    from accord.members.models import Account
    from accord.records import audit

    current = record.current_version
    if current is None or current.state == "withdrawn" or current.status != "actual":
        return []
    escalated: list[tuple[str, list[str]]] = []
    with transaction.atomic():
        for row in ack_board(current):
            if not row["overdue"] or row["escalated"]:
                continue
            recipients = sorted(
                set(
                    Account.objects.filter(is_active=True)
                    .filter(models_q_focal(row["member"]))
                    .exclude(email="")
                    .values_list("email", flat=True)
                )
            )
            Escalation.objects.create(alert=record, member=row["member"], recipients=len(recipients))
            audit.append(
                "alert.ack.escalate",
                actor=None,
                actor_name="worker",
                object_type="alert",
                object_id=str(record.uuid),
                data={"member": row["member"], "recipients": len(recipients)},
            )
            escalated.append((row["member"], recipients))
    return escalated


def models_q_focal(member: str) -> Any:
    from django.db.models import Q

    return Q(organisation__member__code=member, roles__role="focal_point") | Q(
        organisation__member__kind=Member.Kind.SECRETARIAT, roles__role="coordinator"
    )
