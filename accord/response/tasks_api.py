"""/api/v1/incidents/{id}/tasks and /api/v1/tasks: set tasks, list "my tasks", change status, comment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from accord.api import MAX_OFFSET, account_of, links_to, page_of, principal_of, require_write
from accord.records.models import Record
from accord.response import task_actions, work_queries
from accord.response.hanging import TimeText
from accord.response.refs import signed_time
from accord.response.work_models import TaskEscalation

incident_router: Router = Router(tags=["tasks"])
router: Router = Router(tags=["tasks"])

Priority = Literal["low", "normal", "high", "urgent"]
TaskStatus = Literal["open", "in_progress", "done", "cancelled"]


class AssigneeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: Literal["member", "organisation", "person"]
    id: str = Field(min_length=2, max_length=36, description="a member code, or an organisation's or account's UUID")


class TaskIn(Schema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": {"en": "Send 20 000 doses of MMR vaccine to Osh", "ru": "Направить 20 000 доз КПК в Ош"},
                    "assignee": {"type": "member", "id": "KZ"},
                    "priority": "high",
                    "due": "2026-05-03T12:00:00Z",
                }
            ]
        },
    )

    title: dict[str, str] = Field(description="in one or more of zh, ru, en")
    description: dict[str, str] = Field(default_factory=dict, description="in any of zh, ru, en")
    assignee: AssigneeIn
    priority: Priority = "normal"
    due: TimeText | None = Field(default=None, description="RFC 3339 with offset; in the future")


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = Field(default=None, description="the new status (omit for a comment alone)")
    comment: str = Field(default="", max_length=5000)


class UpdateOut(Schema):
    id: UUID
    node: UUID
    member: str
    status: str | None
    comment: str
    at: datetime
    applied: bool = Field(description="whether the task's origin has applied this status change")


class TaskOut(Schema):
    id: UUID
    node: UUID
    seq: int
    incident: dict[str, str]
    title: dict[str, str]
    description: dict[str, str]
    assignee: dict[str, str]
    priority: str
    due: datetime | None
    status: str
    overdue: bool
    escalated: bool
    change: dict[str, Any]
    origin_member: str
    record_status: str
    state: str
    tlp: str
    updated_at: datetime
    updates: list[UpdateOut]


class StatusOut(Schema):
    update: UUID = Field(description="the task_update record made")
    applied: bool = Field(description="applied here at once (the task is this node's); else by its origin on receipt")
    task: TaskOut


class TaskPage(Schema):
    count: int
    items: list[TaskOut]
    next_offset: int | None


class TaskFilters(Schema):
    mine: bool = Field(default=False, description="only what is assigned to me, my organisation or my member")
    status: TaskStatus | None = None
    incident: UUID | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


def _applied_updates(record: Record) -> set[str]:
    """The task_update records the task's versions applied."""
    applied: set[str] = set()
    for version in record.versions.all():
        update = (version.body.get("change") or {}).get("update")
        if update:
            applied.add(str(update.get("record")))
    return applied


def task_out(record: Record, request: HttpRequest, *, with_updates: bool = True) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    view = getattr(record, "task_view", None)
    due = view.due if view is not None else None
    status = str(body.get("status", ""))
    updates: list[dict[str, Any]] = []
    if with_updates:
        applied = _applied_updates(record)
        for update in work_queries.updates_of(principal_of(request), record):
            current = update.current_version
            assert current is not None
            updates.append(
                {
                    "id": update.uuid,
                    "node": update.origin_node,
                    "member": update.origin_member,
                    "status": current.body.get("status"),
                    "comment": current.body.get("comment", ""),
                    "at": signed_time(current),
                    "applied": str(update.uuid) in applied,
                }
            )
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "incident": body.get("incident", {}),
        "title": body.get("title", {}),
        "description": body.get("description", {}),
        "assignee": body.get("assignee", {}),
        "priority": body.get("priority", "normal"),
        "due": due,
        "status": status,
        "overdue": due is not None and due <= timezone.now() and status in ("open", "in_progress"),
        "escalated": due is not None and TaskEscalation.objects.filter(task=record, due=due).exists(),
        "change": body.get("change", {}),
        "origin_member": record.origin_member,
        "record_status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "updated_at": signed_time(version),
        "updates": updates,
    }


def _task(request: HttpRequest, record_uuid: UUID | str) -> Record:
    found = task_actions.task_for(principal_of(request), record_uuid)
    return work_queries.tasks_for(principal_of(request)).filter(pk=found.pk).first() or found


@incident_router.post(
    "/{uuid:record_uuid}/tasks",
    response={201: TaskOut},
    summary="Set a task on an incident",
    openapi_extra=links_to(201, "record_uuid", "accord_response_tasks_api_get_task", pointer="/id"),
)
def create_task(request: HttpRequest, record_uuid: UUID, payload: TaskIn) -> Status[dict[str, Any]]:
    require_write(request)
    version = task_actions.create_task(
        incident=record_uuid,
        title=payload.title,
        description=payload.description,
        assignee_type=payload.assignee.type,
        assignee=payload.assignee.id,
        priority=payload.priority,
        due=payload.due,
        acting_user=account_of(request),
    )
    return Status(201, task_out(_task(request, version.record_uuid), request))


@router.get(
    "", response=TaskPage, summary="Tasks you may see (mine=true: assigned to you, your organisation or member)"
)
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]) -> dict[str, Any]:
    rows = work_queries.tasks_for(
        principal_of(request),
        work_queries.TaskFilter(mine=filters.mine, status=filters.status, incident=filters.incident),
    )
    return page_of(rows, filters.limit, filters.offset, lambda r: task_out(r, request, with_updates=False))


@router.get("/{uuid:record_uuid}", response=TaskOut, summary="One task, with its status changes and comments")
def get_task(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return task_out(_task(request, record_uuid), request)


@router.post(
    "/{uuid:record_uuid}/status",
    response={201: StatusOut},
    summary="Change a task's status and/or comment on it (a task_update record of yours)",
)
def change_status(request: HttpRequest, record_uuid: UUID, payload: StatusIn) -> Status[dict[str, Any]]:
    require_write(request)
    update, applied = task_actions.update_task(
        record_uuid, acting_user=account_of(request), status=payload.status, comment=payload.comment
    )
    return Status(
        201,
        {
            "update": update.record_uuid,
            "applied": applied is not None,
            "task": task_out(_task(request, record_uuid), request),
        },
    )
