from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    from accord.members.actions import ensure_node_identity, seed_members

    seed_members()
    ensure_node_identity()


class MembersConfig(AppConfig):
    name = "accord.members"
    label = "members"
    verbose_name = "Members and accounts"

    def ready(self) -> None:
        # Reference data and this node's identity exist as soon as the schema does.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="accord-members-seed")
        from django.core import checks

        # The lockout receiver (audit entry and the owner's e-mail) listens from the start.
        from accord.members import lockout  # noqa: F401
        from accord.members.site import check_public_url

        # A production node without a public URL would send links to localhost: say so (accord.W001).
        checks.register(check_public_url, "accord")
