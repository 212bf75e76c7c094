from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    from accord.alliances.seed import seed_alliances

    seed_alliances()


class AlliancesConfig(AppConfig):
    name = "accord.alliances"
    label = "alliances"
    verbose_name = "University alliances"

    def ready(self) -> None:
        # The three alliances exist as soon as the schema does (reference data, like the members).
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="accord-alliances-seed")
        from accord.alliances import (  # noqa: F401  (each registers its record kinds)
            library_kinds,
            membership_kinds,
            mobilise_kinds,
            roster_kinds,
            work_kinds,
        )
