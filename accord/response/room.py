"""What the incident page shows of the work on an incident: tasks, meetings, decisions with positions.

Reads only, through the response queries (the audience filter); each row is shaped for the templates.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy

from accord.members.models import Account, Member, Organisation
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import work_queries
from accord.response.decisions_kind import POSITIONS
from accord.response.meetings_kind import KIND as MEETING_KIND
from accord.response.refs import pick
from accord.response.task_actions import entitled
from accord.response.tasks_kind import PRIORITIES, STATUSES

TASK_STATUSES: dict[str, str | Promise] = {
    "open": gettext_lazy("Open"),
    "in_progress": gettext_lazy("In progress"),
    "done": gettext_lazy("Done"),
    "cancelled": gettext_lazy("Cancelled"),
}
TASK_PRIORITIES: dict[str, str | Promise] = {
    "low": gettext_lazy("Low"),
    "normal": gettext_lazy("Normal"),
    "high": gettext_lazy("High"),
    "urgent": gettext_lazy("Urgent"),
}
POSITION_LABELS: dict[str, str | Promise] = {
    "support": gettext_lazy("Support"),
    "abstain": gettext_lazy("Abstain"),
    "object": gettext_lazy("Object"),
}
DECISION_STATES: dict[str, str | Promise] = {
    "open": gettext_lazy("Open for positions"),
    "adopted": gettext_lazy("Adopted"),
    "rejected": gettext_lazy("Rejected"),
}
# The time zones of the members' capitals, for scheduling meetings (any IANA zone is accepted by the action).
TIME_ZONES = (
    "UTC",
    "Asia/Almaty",
    "Asia/Bishkek",
    "Asia/Tashkent",
    "Asia/Dushanbe",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Asia/Karachi",
    "Asia/Tehran",
    "Europe/Moscow",
    "Europe/Minsk",
)
assert set(TASK_STATUSES) == set(STATUSES) and set(TASK_PRIORITIES) == set(PRIORITIES)
assert set(POSITION_LABELS) == set(POSITIONS)


def _when(text: Any) -> datetime | None:
    return parse_datetime(str(text)) if text else None


def assignee_label(assignee: dict[str, Any], names: dict[str, str]) -> str:
    """Who a task is assigned to, in words: a member's name, an organisation's, or a person's username."""
    kind, ident = assignee.get("type"), str(assignee.get("id", ""))
    if kind == "member":
        return names.get(ident, ident)
    try:
        key = uuid.UUID(ident)
    except ValueError:
        return ident
    if kind == "organisation":
        organisation = Organisation.objects.filter(uuid=key).first()
        return organisation.name if organisation is not None else ident
    account = Account.objects.filter(uuid=key).first()
    return account.username if account is not None else ident


def task_rows(principal: Principal, rows: list[Record], names: dict[str, str]) -> list[dict[str, Any]]:
    language = get_language()
    found = []
    for record in rows:
        version = record.current_version
        assert version is not None
        body = version.body
        status = str(body.get("status", ""))
        may_update = principal.member is not None and entitled(
            version, member=principal.member, organisation=principal.organisation, account=principal.account
        )
        found.append(
            {
                "record": record,
                "version": version,
                "title": pick(body.get("title"), language),
                "assignee": assignee_label(dict(body.get("assignee") or {}), names),
                "priority": body.get("priority", ""),
                "priority_label": TASK_PRIORITIES.get(str(body.get("priority")), body.get("priority")),
                "due": _when(body.get("due")),
                "status": status,
                "status_label": TASK_STATUSES.get(status, status),
                "may_update": may_update and status not in ("done", "cancelled"),
                "may_cancel": principal.organisation is not None
                and version.origin_organisation == principal.organisation,
                "incident": body.get("incident") or {},
            }
        )
    return found


def tasks_of(principal: Principal, incident: Record, names: dict[str, str]) -> list[dict[str, Any]]:
    rows = list(work_queries.tasks_for(principal, work_queries.TaskFilter(incident=incident.uuid)))
    return task_rows(principal, rows, names)


def decisions_of(principal: Principal, incident: Record, names: dict[str, str]) -> list[dict[str, Any]]:
    language = get_language()
    found = []
    for record in work_queries.decisions_of(principal, incident):
        version = record.current_version
        assert version is not None
        body = version.body
        participants = list(body.get("participants", []))
        stated = {
            row.position_view.member: row.position_view.position
            for row in work_queries.positions_of(principal, record)
            if getattr(row, "position_view", None) is not None
        }
        counted = {p["member"]: p["position"] for p in body.get("positions", [])}
        board = []
        for member in participants:
            position = counted.get(member) or stated.get(member)
            board.append(
                {
                    "member": member,
                    "name": names.get(member, member),
                    "position": position,
                    "label": POSITION_LABELS.get(position, "") if position else "",
                }
            )
        state = str(body.get("state", "open"))
        effect = body.get("effect") or {}
        found.append(
            {
                "record": record,
                "version": version,
                "text": pick(body.get("text"), language),
                "texts": body.get("text") or {},
                "participants": participants,
                "sets_level": body.get("sets_level"),
                "state": state,
                "state_label": DECISION_STATES.get(state, state),
                "board": board,
                "effect": effect,
                "my_position": stated.get(principal.member or "") if principal.member else None,
                "may_position": state == "open" and principal.member in participants,
            }
        )
    return found


def meetings_of(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    language = get_language()
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=MEETING_KIND, incident_item__incident_record=incident.uuid, incident_item__active=True)
        .select_related("current_version")
        .order_by("pk")
    )
    found = []
    for record in rows:
        version = record.current_version
        assert version is not None
        body = version.body
        starts = _when(body.get("starts_at"))
        try:
            local = starts.astimezone(ZoneInfo(str(body.get("time_zone")))) if starts is not None else None
        except (KeyError, ValueError):
            local = starts
        found.append(
            {
                "record": record,
                "title": pick(body.get("title"), language),
                "starts_at": starts,
                "local": local,
                "time_zone": body.get("time_zone", ""),
                "duration": body.get("duration_minutes", 60),
                "participants": body.get("participants", []),
                "agenda": pick(body.get("agenda"), language),
                "minutes": pick(body.get("minutes"), language),
                "location": body.get("location", ""),
            }
        )
    found.sort(key=lambda m: m["starts_at"] or datetime.max.replace(tzinfo=ZoneInfo("UTC")))
    return found


def assignee_choices(affected: list[str]) -> list[dict[str, Any]]:
    """Whom a task may go to from the page: an affected member or the Secretariat, or one of their organisations."""
    codes = [*affected, "SCO"]
    members = Member.objects.filter(code__in=codes).order_by("code")
    organisations = Organisation.objects.filter(member__code__in=codes).select_related("member").order_by("slug")
    return [
        {
            "member": m,
            "organisations": [o for o in organisations if o.member_id == m.pk],
        }
        for m in members
    ]
