from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "accord.notify"
    label = "notify"
    verbose_name = "Dissemination"

    def ready(self) -> None:
        # The in-transaction hook that writes an outbox row with every version.
        from accord.notify import outbox

        outbox.register()
