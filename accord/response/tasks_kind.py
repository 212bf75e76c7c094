"""The record kinds `task` and `task_update`: work on an incident, and what the people doing it say about it.

A task is a record of the organisation that set it (single writer: only its origin node issues its versions).
Whoever works on it or comments reacts with a `task_update` record of their own: a new status, a comment, or
both. The task's origin node applies a status change made by someone entitled to it (the assignee, or the
organisation that set the task) as a new task version that names the update it applied (`change.update`), so
every node sees the same status; a comment alone changes nothing in the task and is shown beside it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.members.models import Account, Member, Organisation
from accord.records import kinds
from accord.records.errors import ActionError
from accord.records.models import Version
from accord.response.refs import RecordRef, check_texts, hang, pick, signed_time
from accord.response.work_models import TaskUpdateView, TaskView

logger = logging.getLogger("accord.response")

KIND = "task"
UPDATE_KIND = "task_update"
STATUSES = ("open", "in_progress", "done", "cancelled")
FINISHED = frozenset({"done", "cancelled"})
PRIORITIES = ("low", "normal", "high", "urgent")
TASK_ROLES = frozenset({"focal_point", "coordinator"})
UPDATE_ROLES = frozenset({"focal_point", "coordinator", "analyst", "expert", "admin"})
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
Status = Literal["open", "in_progress", "done", "cancelled"]


def parse_time(text: str) -> datetime:
    """An RFC 3339 time of a signed body (`2026-05-01T10:00:00Z`) as an aware datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An aware datetime as the signed bodies state times: UTC, to the second, with Z."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Assignee(BaseModel):
    """Who does the task: a member (its focal points), an organisation, or one person; `member` is the member the
    assignee belongs to (the member itself for a member)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["member", "organisation", "person"]
    id: str = Field(min_length=2, max_length=36)
    member: str = Field(pattern=MEMBER_CODE)


class TaskChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["create", "edit", "status"]
    update: RecordRef | None = None  # the task_update a status change applies
    update_seq: int | None = Field(default=None, ge=1)


class TaskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    title: dict[str, str] = Field(min_length=1, max_length=3)
    description: dict[str, str] = Field(default_factory=dict, max_length=3)
    assignee: Assignee
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due: str | None = Field(default=None, max_length=40)
    status: Status
    change: TaskChange

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 300, required=True)

    @field_validator("description")
    @classmethod
    def _description(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 20_000, required=False)

    @field_validator("due")
    @classmethod
    def _due(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return format_time(parse_time(value))
        except ValueError:
            raise ValueError("not an RFC 3339 time such as 2026-05-01T12:00:00Z") from None


def _refuse(field: str, message: str) -> ActionError:
    return ActionError(f"{field}: {message}", field=field)


def _task_rules(body: dict[str, Any], author: kinds.Author) -> None:
    assignee = body["assignee"]
    if assignee["type"] == "member":
        if assignee["id"] != assignee["member"]:
            raise _refuse("assignee", "a member assignee names the member itself")
        if not Member.objects.filter(code=assignee["id"]).exists():
            raise _refuse("assignee", f"unknown member {assignee['id']}")
        return
    if author.received:
        # Organisations and accounts are those of the task's origin node, which this node need not know.
        return
    if assignee["type"] == "organisation":
        organisation = Organisation.objects.filter(uuid=_uuid(assignee["id"])).select_related("member").first()
        if organisation is None:
            raise _refuse("assignee", f"unknown organisation {assignee['id']}")
        owner = organisation.member.code
    else:
        account = Account.objects.filter(uuid=_uuid(assignee["id"]), is_active=True).first()
        if account is None or account.organisation is None:
            raise _refuse("assignee", f"unknown person {assignee['id']}")
        owner = account.organisation.member.code
    if owner != assignee["member"]:
        raise _refuse("assignee", f"the assignee belongs to {owner}, not {assignee['member']}")


def _uuid(text: str) -> Any:
    import uuid

    try:
        return uuid.UUID(text)
    except ValueError:
        raise _refuse("assignee", f"{text!r} is not a UUID") from None


def _project_task(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        assignee = body["assignee"]
        values = {
            "version": version,
            "incident_node": body["incident"]["node"],
            "incident_record": body["incident"]["record"],
            "title": pick(body["title"])[:300],
            "assignee_type": str(assignee["type"])[:12],
            "assignee": str(assignee["id"])[:36],
            "assignee_member": str(assignee["member"])[:8],
            "priority": str(body.get("priority", "normal"))[:8],
            "status": str(body["status"])[:12] if version.state == "active" else "cancelled",
            "due": parse_time(body["due"]) if body.get("due") else None,
            "traffic": version.status[:10],
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("task %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        TaskView.objects.filter(record_id=version.record_id).delete()
        return
    TaskView.objects.update_or_create(record_id=version.record_id, defaults=values)
    from accord.response import task_escalation

    task_escalation.schedule(version.record_id, values["status"], values["due"], version.status)


TASK = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Task"),
        body_model=TaskBody,
        title=lambda body: pick(body.get("title")),
        search_text=lambda body: "\n".join(
            [*(body.get("title") or {}).values(), *(body.get("description") or {}).values()]
        ),
        publish_roles=TASK_ROLES,
        project=_project_task,
        rules=_task_rules,
        endpoint="POST /api/v1/incidents/{id}/tasks",
    )
)


class TaskUpdateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: RecordRef
    incident: RecordRef
    status: Status | None = None
    comment: str = Field(default="", max_length=5000)

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str) -> str:
        return value.strip()


def _update_rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body.get("status") is None and not body.get("comment"):
        raise _refuse("status", "give a status, a comment, or both")


def _project_update(version: Version) -> None:
    body = version.body
    hang(version, body.get("incident"))
    try:
        values = {
            "version": version,
            "task_node": body["task"]["node"],
            "task_record": body["task"]["record"],
            "status": str(body.get("status") or "")[:12],
            "at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("task update %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        TaskUpdateView.objects.filter(record_id=version.record_id).delete()
        return
    TaskUpdateView.objects.update_or_create(record_id=version.record_id, defaults=values)


TASK_UPDATE = kinds.register(
    kinds.RecordKind(
        name=UPDATE_KIND,
        label=_("Task update"),
        body_model=TaskUpdateBody,
        title=lambda body: str(body.get("status") or "") or str(body.get("comment", ""))[:80],
        search_text=lambda body: str(body.get("comment", "")),
        publish_roles=UPDATE_ROLES,
        project=_project_update,
        rules=_update_rules,
        endpoint="POST /api/v1/tasks/{id}/status",
    )
)
