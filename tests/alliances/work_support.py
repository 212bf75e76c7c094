"""What the tests of the alliances' joint work share: alice's ministry (CN) on the medicine alliance's council, the
API as one account, and an activity's payload."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from accord.alliances.models import Alliance
from accord.members import actions as member_actions
from accord.members.models import Account
from tests.conftest import World

ACTIVITY_KIND = "alliance_activity"


def on_council(world: World, slug: str = "medicine") -> None:
    """alice's organisation (CN ministry of health) steers the alliance `slug`."""
    Alliance.objects.get(slug=slug).council.add(world.cn_health)


class Api:
    """Calls the API as one account, with a token of `scope`."""

    def __init__(self, account: Account, scope: str = "write") -> None:
        _, self.token = member_actions.create_token(account, name="t", scope=scope, acting_user=None)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, path: str, payload: Any) -> Any:
        return Client().post(path, data=json.dumps(payload), content_type="application/json", headers=self._auth())

    def put(self, path: str, payload: Any) -> Any:
        return Client().put(path, data=json.dumps(payload), content_type="application/json", headers=self._auth())

    def get(self, path: str, **params: Any) -> Any:
        return Client().get(path, params, headers=self._auth())


def activity(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "training",
        "title": {"en": "Field epidemiology course", "ru": "Курс полевой эпидемиологии"},
        "description": {"en": "Two weeks of outbreak investigation practice."},
        "starts": "2026-09-14",
        "ends": "2026-09-25",
        "place": "Almaty",
        "participants": {
            "organisations": [{"slug": "kz-health", "member": "KZ"}],
            "persons": [{"name": "Aliya Serikova", "organisation": {"slug": "kz-health", "member": "KZ"}}],
        },
        "outputs": [{"title": "Course handbook", "url": "https://example.org/handbook.pdf"}],
    }
    payload.update(changes)
    return payload
