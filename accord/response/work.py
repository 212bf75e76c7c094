"""Tasks, meetings and decisions: what the response app's start-up and the API need from them, in one place."""

from __future__ import annotations

from typing import Any


def ready() -> None:
    """Register the kinds, the overdue-task escalation and the listeners that let an origin node apply what peers
    send: status changes of its tasks, positions on its decisions."""
    from accord.records.tasks import on_version_committed
    from accord.response import decisions_kind, meetings_kind, task_escalation, tasks_kind  # noqa: F401
    from accord.response.decision_actions import position_received
    from accord.response.task_actions import update_received

    on_version_committed(update_received, kinds={tasks_kind.UPDATE_KIND})
    on_version_committed(position_received, kinds={decisions_kind.POSITION_KIND})
    from accord.response import timeline

    # Every version of these is an event of the incident's timeline (a status change, minutes, an outcome).
    for kind in (tasks_kind.KIND, tasks_kind.UPDATE_KIND, meetings_kind.KIND, decisions_kind.KIND):
        timeline.register(timeline.Source(kind=kind, every_version=True))
    timeline.register(timeline.Source(kind=decisions_kind.POSITION_KIND, every_version=True))


def add_routers(api: Any) -> None:
    from accord.response import decisions_api, tasks_api

    api.add_router("/incidents", tasks_api.incident_router)
    api.add_router("/incidents", decisions_api.incident_router)
    api.add_router("/tasks", tasks_api.router)
    api.add_router("/decisions", decisions_api.router)
    api.add_router("/meetings", decisions_api.meetings_router)
