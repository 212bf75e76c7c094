"""Every change to decisions: propose one, state a member's position, and (on the decision's origin node) record
the outcome the positions give, applying an adopted level change through the incident's level action."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import hanging
from accord.response.decisions_kind import DECISION, KIND, POSITION_KIND, POSITIONS, outcome
from accord.response.refs import ref_of
from accord.response.work_models import PositionView

if TYPE_CHECKING:
    from accord.members.models import Account

logger = logging.getLogger("accord.response")

NO_SUCH_DECISION = "no such decision"


def decision_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    return hanging.visible(principal, KIND, record_uuid, NO_SUCH_DECISION)


def propose(
    *,
    incident: uuid.UUID | str,
    text: dict[str, str],
    participants: list[str],
    acting_user: Account,
    sets_level: int | None = None,
    tasks: list[uuid.UUID] | None = None,
) -> Version:
    """Propose a decision on an incident: open, with no positions yet.

    A decision that sets the level is proposed by the organisation that opened the incident, on the incident's
    origin node: only there can the adopted level be applied (single writer), and it is applied at once."""
    from accord.records.actions import here
    from accord.records.kinds import Author

    principal = Principal.of(acting_user)
    context = hanging.incident(principal, incident)
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot propose decisions")
    if sets_level is not None:
        if isinstance(sets_level, bool) or not isinstance(sets_level, int) or not 0 <= sets_level <= 3:
            raise ActionError("sets_level: a level is 0, 1, 2 or 3", field="sets_level")
        current = context.record.current_version
        assert current is not None
        if context.record.origin_node != here().node_id or current.origin_organisation != organisation.uuid:
            raise Forbidden(
                "sets_level: a decision that sets the level is proposed by the organisation that opened the incident, "
                "on its node, which applies it",
                field="sets_level",
            )
    task_refs = []
    for task_uuid in tasks or []:
        from accord.response.task_actions import task_for

        task = task_for(principal, task_uuid)
        if (task.current_version.body.get("incident") if task.current_version else None) != context.ref:
            raise ActionError(f"tasks: {task_uuid} is a task of another incident", field="tasks")
        task_refs.append(ref_of(task))
    body: dict[str, Any] = {
        "incident": context.ref,
        "text": text,
        "participants": participants,
        "sets_level": sets_level,
        "tasks": task_refs,
        "positions": [],
        "state": "open",
    }
    try:
        body = DECISION.check(body, Author(member=organisation.member.code, status=context.status))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in ("text", "participants", "sets_level", "tasks"):
                error.field = head
        raise
    hanging.reaching(context.audience, participants, "participants")
    return record_actions.publish(
        KIND, body, audience=context.audience, tlp=context.tlp, status=context.status, acting_user=acting_user
    )


def take_position(
    decision_uuid: uuid.UUID | str, *, position: str, acting_user: Account, comment: str = ""
) -> tuple[Version, Version | None]:
    """State the caller's member's position on a decision. On the decision's origin node the outcome is recorded
    at once; elsewhere the origin records it when the position reaches it. Returns the position version and the
    decision version that counted it (None if not counted here)."""
    principal = Principal.of(acting_user)
    decision = decision_for(principal, decision_uuid)
    current = decision.current_version
    assert current is not None
    if position not in POSITIONS:
        raise ActionError(f"position: {position!r} is not one of {', '.join(POSITIONS)}", field="position")
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    member = organisation.member.code
    body = current.body
    if member not in body.get("participants", []):
        raise Forbidden(f"position: {member} does not participate in this decision", field="position")
    if current.state != "active" or body.get("state") != "open":
        raise Conflict(f"the decision is already {body.get('state', 'withdrawn')}")
    existing = (
        Record.objects.filter(
            kind=POSITION_KIND,
            position_view__decision_node=decision.origin_node,
            position_view__decision_record=decision.uuid,
            position_view__member=member,
            position_view__active=True,
        )
        .select_related("current_version")
        .first()
    )
    envelope = current.envelope()
    new_body = {
        "decision": ref_of(decision),
        "incident": body.get("incident"),
        "member": member,
        "position": position,
        "comment": comment.strip(),
    }
    with transaction.atomic():
        if existing is not None and existing.current_version is not None:
            if existing.current_version.origin_organisation != organisation.uuid:
                raise Conflict(f"position: {member}'s position was recorded by another of its organisations")
            version = record_actions.revise(existing, acting_user=acting_user, body=new_body)
        else:
            version = record_actions.publish(
                POSITION_KIND,
                new_body,
                audience=Audience.model_validate(envelope["audience"]),
                tlp=current.tlp,
                status=current.status,
                acting_user=acting_user,
            )
        counted = record_outcome(decision.origin_node, decision.uuid)
    return version, counted


def _counted(decision: Record, body: dict[str, Any], traffic: str) -> list[dict[str, Any]]:
    """The positions the outcome rests on: per participant, the position record already counted (its current
    version), else the first to arrive here; only active positions of the decision's own traffic."""
    rows = (
        PositionView.objects.filter(
            decision_node=decision.origin_node, decision_record=decision.uuid, active=True, version__status=traffic
        )
        .select_related("version")
        .order_by("version_id")
    )
    listed = {p["member"]: p["record"] for p in body.get("positions", [])}
    valid = [row for row in rows if row.member in body["participants"] and row.version.origin_member == row.member]
    chosen: dict[str, PositionView] = {}
    for row in valid:  # the first to arrive here ...
        chosen.setdefault(row.member, row)
    for row in valid:  # ... unless one is counted already: it stays counted (its latest version)
        if listed.get(row.member) == str(row.version.record_uuid):
            chosen[row.member] = row
    return [
        {
            "member": member,
            "position": row.position,
            "node": str(row.version.origin_node),
            "record": str(row.version.record_uuid),
            "seq": row.version.seq,
        }
        for member, row in sorted(chosen.items())
    ]


def record_outcome(node: uuid.UUID, record_uuid: uuid.UUID) -> Version | None:
    """On the decision's origin node: count the positions that have arrived and, if that changes the decision, issue
    its next version with the positions and the outcome; an adopted level change is applied first and its effect
    recorded. Returns the new decision version, or None when nothing changed (or the decision is not this
    node's)."""
    from accord.records.actions import here

    if node != here().node_id:
        return None
    with transaction.atomic():
        decision = Record.objects.select_for_update().filter(origin_node=node, uuid=record_uuid, kind=KIND).first()
        if decision is None or decision.current_version is None:
            return None
        current = decision.current_version
        body = dict(current.body)
        if current.state != "active" or body.get("state") != "open":
            return None
        positions = _counted(decision, body, current.status)
        if positions == body.get("positions", []):
            return None
        body["positions"] = positions
        body["state"] = outcome(list(body["participants"]), {p["member"]: p["position"] for p in positions})
        if body["state"] == "adopted" and body.get("sets_level") is not None:
            body["effect"] = _apply_level(decision, body)
        return record_actions.revise(decision, acting_user=hanging.steward(decision, DECISION), body=body)


def _apply_level(decision: Record, body: dict[str, Any]) -> dict[str, Any]:
    """Apply an adopted decision's level through the incident's level action (whose consent rule holds); the
    effect to record in the decision: applied (with the incident version), or refused and why."""
    from accord.response import decision_levels as levels

    level = int(body["sets_level"])
    incident = body["incident"]
    record = Record.objects.filter(
        origin_node=uuid.UUID(incident["node"]), uuid=uuid.UUID(incident["record"]), kind="incident"
    ).first()
    if record is None:
        return {"level": level, "applied": False, "reason": "the incident is not stored on this node"}
    try:
        with transaction.atomic():
            version = levels.decided_level(record, level=level, decision=decision, text=body["text"])
    except levels.MissingConsent as refused:
        return {"level": level, "applied": False, "missing_consent": refused.missing, "reason": refused.message}
    except ActionError as error:
        return {"level": level, "applied": False, "reason": error.message[:2000]}
    if version is None:
        return {"level": level, "applied": True, "reason": "the incident was already at this level"}
    return {"level": level, "applied": True, "incident_seq": version.seq}


def position_received(version_id: int) -> None:
    """Listener of committed position versions (run by the worker): the decision's origin node counts them."""
    version = Version.objects.filter(pk=version_id, kind=POSITION_KIND).first()
    if version is None:
        return
    ref = version.body.get("decision") or {}
    try:
        node, key = uuid.UUID(str(ref["node"])), uuid.UUID(str(ref["record"]))
    except (KeyError, TypeError, ValueError):
        return
    try:
        record_outcome(node, key)
    except ActionError as error:  # e.g. nobody of the proposing organisation is left to issue the version
        logger.warning("position %s#%s not counted: %s", version.record_uuid, version.seq, error.message)
