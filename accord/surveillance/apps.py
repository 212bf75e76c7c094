from django.apps import AppConfig


class SurveillanceConfig(AppConfig):
    name = "accord.surveillance"
    label = "surveillance"
    verbose_name = "Surveillance"

    def ready(self) -> None:
        from accord.records.tasks import on_version_committed
        from accord.surveillance import kinds  # registers the case_counts kind
        from accord.surveillance.tasks import counts_received

        on_version_committed(counts_received, kinds={kinds.KIND})
