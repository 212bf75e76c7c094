from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "accord.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from accord.alerts import kinds  # noqa: F401  (registers the alert, assessment and acknowledgement kinds)
