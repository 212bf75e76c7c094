from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "accord.federation"
    label = "federation"
    verbose_name = "Federation"

    def ready(self) -> None:
        from accord.federation import kinds  # noqa: F401  (registers the node_key kind)
        from accord.federation.client import ask_for_checkpoints
        from accord.records.checkpoint import register_peer_source

        # `accord audit verify` asks the peers for this node's checkpoints through federation.
        register_peer_source(ask_for_checkpoints)
