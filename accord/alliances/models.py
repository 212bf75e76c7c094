"""The alliances (reference data, seeded like the members) and, imported here so Django finds them, the query
tables of each part: membership, roster, mobilisation, joint work and library.

An alliance itself is not a record: the three alliances and their charters are agreed by the members, the same on
every node, and seeded by `accord migrate` (`seed.py`). What changes (applications, decisions, departures,
expert profiles, roster calls, activities, documents) is a record of the record core, signed by its origin and
federated by its audience.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language

from accord.members.models import Localised, Organisation


class Alliance(Localised):
    """One of the three university alliances. `council`: the organisations that steer it (with the Secretariat's
    coordinators, they decide applications)."""

    slug = models.SlugField(max_length=40, unique=True)
    charter_en = models.TextField(blank=True)
    charter_zh = models.TextField(blank=True)
    charter_ru = models.TextField(blank=True)
    council = models.ManyToManyField(Organisation, related_name="councils", blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def charter(self) -> str:
        language = (get_language() or "en").lower()
        if language.startswith("zh") and self.charter_zh:
            return self.charter_zh
        if language.startswith("ru") and self.charter_ru:
            return self.charter_ru
        return self.charter_en


from accord.alliances.library_models import *  # noqa: E402, F403
from accord.alliances.membership_models import *  # noqa: E402, F403
from accord.alliances.mobilise_models import *  # noqa: E402, F403
from accord.alliances.roster_models import *  # noqa: E402, F403
from accord.alliances.work_models import *  # noqa: E402, F403
