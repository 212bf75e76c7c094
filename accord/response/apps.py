from django.apps import AppConfig


class ResponseConfig(AppConfig):
    name = "accord.response"
    label = "response"
    verbose_name = "Response"

    def ready(self) -> None:
        from accord.response import kinds  # noqa: F401  (registers the incident kind)
        from accord.response.work import ready

        ready()  # tasks, meetings, decisions
