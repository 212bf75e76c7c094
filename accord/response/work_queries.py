"""The read side of tasks, decisions and meetings, always through the record core's audience filter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.decisions_kind import KIND as DECISION_KIND
from accord.response.decisions_kind import POSITION_KIND
from accord.response.tasks_kind import KIND as TASK_KIND
from accord.response.tasks_kind import UPDATE_KIND


@dataclass(frozen=True)
class TaskFilter:
    mine: bool = False
    status: str | None = None
    incident: uuid.UUID | None = None


def tasks_for(principal: Principal, where: TaskFilter | None = None) -> QuerySet[Record]:
    """The tasks `principal` may see, soonest due first (those without a due time last). `mine`: those assigned to
    the principal, its organisation or its member."""
    w = where or TaskFilter()
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=TASK_KIND, task_view__isnull=False)
        .select_related("current_version", "task_view")
    )
    if w.mine:
        if principal.account is None:
            return rows.none()
        mine = Q(task_view__assignee_type="person", task_view__assignee=str(principal.account))
        if principal.organisation is not None:
            mine |= Q(task_view__assignee_type="organisation", task_view__assignee=str(principal.organisation))
        if principal.member:
            mine |= Q(task_view__assignee_type="member", task_view__assignee=principal.member)
        rows = rows.filter(mine)
    if w.status:
        rows = rows.filter(task_view__status=w.status)
    if w.incident is not None:
        rows = rows.filter(task_view__incident_record=w.incident)
    return rows.order_by("task_view__due", "-pk")


def updates_of(principal: Principal, task: Record) -> QuerySet[Record]:
    """The status changes and comments on a task that `principal` may see, in the order they were made."""
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=UPDATE_KIND,
            task_update_view__task_node=task.origin_node,
            task_update_view__task_record=task.uuid,
        )
        .select_related("current_version", "task_update_view")
        .order_by("task_update_view__at", "pk")
    )


def positions_of(principal: Principal, decision: Record) -> QuerySet[Record]:
    """The position records on a decision that `principal` may see (counted or not yet counted by its origin)."""
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=POSITION_KIND,
            position_view__decision_node=decision.origin_node,
            position_view__decision_record=decision.uuid,
            position_view__active=True,
        )
        .select_related("current_version", "position_view")
        .order_by("position_view__member", "pk")
    )


def decisions_of(principal: Principal, incident: Record) -> QuerySet[Record]:
    return (
        Record.objects.visible_to(principal)
        .filter(kind=DECISION_KIND, decision_view__incident_record=incident.uuid)
        .select_related("current_version", "decision_view")
        .order_by("pk")
    )
