from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "accord.federation"
    label = "federation"
    verbose_name = "Federation"

    def ready(self) -> None:
        from accord.federation import kinds, noderecord  # noqa: F401  (register the node_key and node_record kinds)
