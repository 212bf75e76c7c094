from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "accord.federation"
    label = "federation"
    verbose_name = "Federation"

    def ready(self) -> None:
        from accord.federation import kinds, noderecord  # noqa: F401  (register the node_key and node_record kinds)
        from accord.federation.client import ask_for_checkpoints
        from accord.records.checkpoint import register_peer_source

        # `accord audit verify` asks the peers for this node's checkpoints through federation.
        register_peer_source(ask_for_checkpoints)
