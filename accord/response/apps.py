from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "accord.response"
    label = "response"
    verbose_name = "Response"

    def ready(self) -> None:
        from accord.records.tasks import on_version_committed
        from accord.response import (
            kinds,  # noqa: F401  (registers the incident kind)
            sitrep_deadlines,  # noqa: F401  (the overdue-report escalation's message)
            sitrep_kinds,  # registers sitrep and sitrep_schedule
        )
        from accord.response.sitrep_tasks import incident_changed
        from accord.response.work import ready

        ready()  # tasks, meetings, decisions
        on_version_committed(incident_changed, kinds={"incident", sitrep_kinds.SCHEDULE_KIND})
