from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "accord.records"
    label = "records"
    verbose_name = "Record core"

    def ready(self) -> None:
        # Register the built-in record kinds.
        from accord.records import checkpoint, kinds  # noqa: F401  (checkpoint registers audit_checkpoint)
