from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "accord.response"
    label = "response"
    verbose_name = "Response"

    def ready(self) -> None:
        from accord.records.tasks import on_version_committed
        from accord.response import consents, kinds, links  # noqa: F401  (registers incident, link and consent)
        from accord.response.tasks import consent_committed
        from accord.response.work import ready

        on_version_committed(consent_committed, kinds={consents.KIND})
        ready()  # tasks, meetings, decisions
