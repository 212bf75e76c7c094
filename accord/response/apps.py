from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "accord.response"
    label = "response"
    verbose_name = "Response"

    def ready(self) -> None:
        from accord.records.tasks import on_version_committed
        from accord.response import (
            assist_deploy_kind,  # registers deployment
            assist_kinds,  # registers the kinds of mutual assistance
            consents,  # registers consent
            kinds,  # noqa: F401  (registers the incident kind)
            links,  # noqa: F401  (registers incident_link)
            sitrep_deadlines,  # noqa: F401  (the overdue-report escalation's message)
            sitrep_kinds,  # registers sitrep and sitrep_schedule
        )
        from accord.response.sitrep_tasks import incident_changed
        from accord.response.tasks import consent_committed
        from accord.response.work import ready

        on_version_committed(consent_committed, kinds={consents.KIND})
        ready()  # tasks, meetings, decisions
        on_version_committed(incident_changed, kinds={"incident", sitrep_kinds.SCHEDULE_KIND})
        from accord.response import timeline

        # A sitrep's every version is an event (a correction shows as one); a schedule's current version is enough.
        timeline.register(timeline.Source(kind=sitrep_kinds.KIND, every_version=True))
        timeline.register(timeline.Source(kind=sitrep_kinds.SCHEDULE_KIND, every_version=False))
        assistance = (assist_kinds.REQUEST_KIND, assist_kinds.OFFER_KIND, assist_kinds.ACCEPTANCE_KIND)
        for kind in (*assistance, assist_kinds.COMMITMENT_KIND, assist_deploy_kind.KIND):
            timeline.register(timeline.Source(kind=kind, every_version=True))
