from typing import Any

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

        from django.db.models.signals import post_save

        from accord.members.models import NodeKey

        # However a key comes to be registered here (a received announcement, an admin adding or trusting a
        # peer's key), the versions that waited for it are stored once it commits.
        post_save.connect(_key_saved, sender=NodeKey, dispatch_uid="accord.federation.awaiting")


def _key_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        from accord.federation.awaiting import key_registered

        key_registered(instance.node_id, instance.kid)
