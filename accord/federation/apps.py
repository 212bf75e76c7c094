from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "accord.federation"
    label = "federation"
    verbose_name = "Federation"

    def ready(self) -> None:
        from accord.federation import kinds  # noqa: F401  (registers the node_key kind)
