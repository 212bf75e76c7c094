"""Every change to tasks: set one on an incident, change its status or comment on it, and (on the task's origin
node) apply a status change someone entitled made, wherever they made it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Forbidden
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import hanging
from accord.response.refs import ref_of
from accord.response.tasks_kind import KIND, STATUSES, TASK, UPDATE_KIND, format_time

if TYPE_CHECKING:
    from accord.members.models import Account

logger = logging.getLogger("accord.response")

NO_SUCH_TASK = "no such task"


def _resolve_assignee(kind: str, ident: str) -> dict[str, str]:
    """The signed assignee for what the caller named; 400 naming `assignee` when nobody here has that name."""
    from accord.members.models import Account, Member, Organisation

    if kind == "member":
        if not Member.objects.filter(code=ident).exists():
            raise ActionError(f"assignee: unknown member {ident!r}", field="assignee")
        return {"type": "member", "id": ident, "member": ident}
    try:
        key = uuid.UUID(ident)
    except ValueError:
        raise ActionError(f"assignee: {ident!r} is not the UUID of an {kind}", field="assignee") from None
    if kind == "organisation":
        organisation = Organisation.objects.filter(uuid=key).select_related("member").first()
        if organisation is None:
            raise ActionError(f"assignee: unknown organisation {ident}", field="assignee")
        return {"type": "organisation", "id": str(key), "member": organisation.member.code}
    if kind == "person":
        account = Account.objects.filter(uuid=key, is_active=True).select_related("organisation__member").first()
        if account is None or account.organisation is None:
            raise ActionError(f"assignee: unknown person {ident}", field="assignee")
        return {"type": "person", "id": str(key), "member": account.organisation.member.code}
    raise ActionError(f"assignee: {kind!r} is not one of member, organisation, person", field="assignee")


def create_task(
    *,
    incident: uuid.UUID | str,
    title: dict[str, str],
    assignee_type: str,
    assignee: str,
    acting_user: Account,
    priority: str = "normal",
    due: datetime | None = None,
    description: dict[str, str] | None = None,
) -> Version:
    """Set a task on an incident the caller may see: open, assigned to a member, an organisation or a person."""
    context = hanging.incident(Principal.of(acting_user), incident)
    signed_assignee = _resolve_assignee(assignee_type, assignee)
    hanging.reaching(context.audience, [signed_assignee["member"]], "assignee")
    if due is not None:
        if due.tzinfo is None:
            raise ActionError("due: give the time with its offset or Z", field="due")
        if due <= timezone.now():
            raise ActionError("due: the due time of a new task is in the past", field="due")
    body: dict[str, Any] = {
        "incident": context.ref,
        "title": title,
        "description": description or {},
        "assignee": signed_assignee,
        "priority": priority,
        "due": format_time(due) if due is not None else None,
        "status": "open",
        "change": {"action": "create"},
    }
    return record_actions.publish(
        KIND,
        _named(body, acting_user, context.status),
        audience=context.audience,
        tlp=context.tlp,
        status=context.status,
        acting_user=acting_user,
    )


def _named(body: dict[str, Any], acting_user: Account, status: str) -> dict[str, Any]:
    """The task's rules before any write, so that an error names the field the caller sent."""
    from accord.records.kinds import Author

    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot set tasks")
    try:
        return TASK.check(body, Author(member=organisation.member.code, status=status))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in ("title", "description", "priority", "due", "assignee"):
                error.field = head
        raise


def entitled(task: Version, *, member: str, organisation: uuid.UUID | None, account: uuid.UUID | None) -> bool:
    """Whether whoever issued an update (its member, organisation and account) may change the task's status: the
    organisation that set the task, or the assignee (any account of an assigned member or organisation, or the
    assigned person)."""
    if organisation is not None and task.origin_organisation == organisation:
        return True
    assignee = task.body.get("assignee") or {}
    kind, ident = assignee.get("type"), str(assignee.get("id", ""))
    if kind == "member":
        return member == ident
    if kind == "organisation":
        return organisation is not None and str(organisation) == ident
    if kind == "person":
        return account is not None and str(account) == ident
    return False


def task_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    return hanging.visible(principal, KIND, record_uuid, NO_SUCH_TASK)


def update_task(
    task_uuid: uuid.UUID | str, *, acting_user: Account, status: str | None = None, comment: str = ""
) -> tuple[Version, Version | None]:
    """Change a task's status, comment on it, or both: a `task_update` record by the caller. On the task's origin
    node the status change is applied at once (a new task version); elsewhere the origin applies it when the
    update reaches it. Returns the update and the task version that applied it (None if not applied here)."""
    principal = Principal.of(acting_user)
    task = task_for(principal, task_uuid)
    current = task.current_version
    assert current is not None
    if current.state != "active":
        raise ActionError("the task is withdrawn", field="status")
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    if status is not None:
        if status not in STATUSES:
            raise ActionError(f"status: {status!r} is not one of {', '.join(STATUSES)}", field="status")
        if not entitled(
            current, member=organisation.member.code, organisation=organisation.uuid, account=acting_user.uuid
        ):
            raise Forbidden(
                "status: only the assignee or the organisation that set the task changes its status", field="status"
            )
        if status == "cancelled" and current.origin_organisation != organisation.uuid:
            raise Forbidden("status: only the organisation that set the task cancels it", field="status")
        if status == current.body.get("status") and not comment.strip():
            raise ActionError(f"status: the task is already {status}", field="status")
    elif not comment.strip():
        raise ActionError("status: give a status, a comment, or both", field="status")
    envelope = current.envelope()
    body = {"task": ref_of(task), "incident": current.body.get("incident"), "status": status, "comment": comment}
    with transaction.atomic():
        update = record_actions.publish(
            UPDATE_KIND,
            {k: v for k, v in body.items() if v is not None},
            audience=Audience.model_validate(envelope["audience"]),
            tlp=current.tlp,
            status=current.status,
            acting_user=acting_user,
        )
        applied = apply_update(update) if status is not None else None
    return update, applied


def apply_update(update: Version) -> Version | None:
    """On the task's origin node: apply the status change of `update` (a task_update version, issued here or
    received) if its issuer is entitled and it has not been applied; returns the new task version, else None."""
    from accord.records.actions import here

    body = update.body
    if update.kind != UPDATE_KIND or update.state != "active" or not body.get("status"):
        return None
    try:
        node, key = uuid.UUID(str(body["task"]["node"])), uuid.UUID(str(body["task"]["record"]))
    except (KeyError, TypeError, ValueError):
        return None
    if node != here().node_id:
        return None
    with transaction.atomic():
        task = Record.objects.select_for_update().filter(origin_node=node, uuid=key, kind=KIND).first()
        if task is None or task.current_version is None:
            return None
        current = task.current_version
        change = current.body.get("change") or {}
        done_before = change.get("update") == {"node": str(update.origin_node), "record": str(update.record_uuid)}
        if current.state != "active" or (done_before and change.get("update_seq", 0) >= update.seq):
            return None
        member = update.origin_member
        if not entitled(current, member=member, organisation=update.origin_organisation, account=update.author):
            return None
        if body["status"] == "cancelled" and update.origin_organisation != current.origin_organisation:
            return None
        if current.body.get("status") == body["status"]:
            return None
        new_body = dict(current.body)
        new_body["status"] = body["status"]
        new_body["change"] = {
            "action": "status",
            "update": {"node": str(update.origin_node), "record": str(update.record_uuid)},
            "update_seq": update.seq,
        }
        return record_actions.revise(task, acting_user=hanging.steward(task, TASK), body=new_body)


def update_received(version_id: int) -> None:
    """Listener of committed task_update versions (run by the worker): the task's origin node applies them."""
    version = Version.objects.filter(pk=version_id, kind=UPDATE_KIND).first()
    if version is None:
        return
    try:
        apply_update(version)
    except ActionError as error:  # e.g. nobody of the setting organisation is left to issue the version
        logger.warning("task update %s#%s not applied: %s", version.record_uuid, version.seq, error.message)
