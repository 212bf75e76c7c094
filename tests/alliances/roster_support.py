"""The people of the roster tests, on top of the shared world (tests/conftest.py), and an API caller.

li      expert,      CN university (cn-uni)
aida    expert,      KZ university (kz-uni)
oleg    expert,      RU university (ru-uni)
nurlan  focal point, KZ university (kz-uni): manages profiles of people without an account
and from the world: alice (CN focal point, not an expert), carol (KZ focal point), dave (KZ viewer), sam (SCO
coordinator).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accord.members import actions as member_actions
from accord.members.models import Account, Organisation
from tests.conftest import PASSWORD, World


@dataclass
class Roster:
    world: World
    li: Account
    aida: Account
    oleg: Account
    nurlan: Account


def organisation(slug: str, member: str, kind: str = "university") -> Organisation:
    found = Organisation.objects.filter(slug=slug).first()
    return found or member_actions.create_organisation(
        member_code=member, slug=slug, kind=kind, name_en=f"{slug} (test)", acting_user=None
    )


def account(username: str, slug: str, member: str, *roles: str) -> Account:
    return member_actions.create_account(
        username=username,
        organisation=organisation(slug, member),
        roles=list(roles),
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture(name="roster")
def roster_fixture(world: World) -> Roster:
    """(Import `roster_fixture` into a test module to use the fixture `roster`.)"""
    return Roster(
        world=world,
        li=account("li", "cn-uni", "CN", "expert"),
        aida=account("aida", "kz-uni", "KZ", "expert"),
        oleg=account("oleg", "ru-uni", "RU", "expert"),
        nurlan=account("nurlan", "kz-uni", "KZ", "focal_point"),
    )


class Api:
    """Calls the API as one account, with a write token."""

    def __init__(self, who: Account) -> None:
        _, self.token = member_actions.create_token(who, name="t", scope="write", acting_user=None)
        self.account = who

    def _send(self, method: str, path: str, payload: Any = None) -> Any:
        call = getattr(Client(), method)
        if payload is None:
            return call(path, headers=self._auth())
        return call(path, data=json.dumps(payload), content_type="application/json", headers=self._auth())

    def put(self, path: str, payload: Any) -> Any:
        return self._send("put", path, payload)

    def post(self, path: str, payload: Any) -> Any:
        return self._send("post", path, payload)

    def delete(self, path: str) -> Any:
        return self._send("delete", path)

    def get(self, path: str, **params: Any) -> Any:
        return Client().get(path, params, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def profile(**changes: Any) -> dict[str, Any]:
    """A profile to put, with what a test changes."""
    found: dict[str, Any] = {
        "fields": ["epidemiology", "virology"],
        "languages": [{"code": "ru", "level": "C1"}, {"code": "en", "level": "B2"}],
        "available": [{"from": "2026-06-01", "until": "2026-08-31"}],
        "deployable": True,
        "deploy_within_days": 7,
    }
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def consent(**changes: Any) -> dict[str, Any]:
    return {"given_on": "2026-04-20", "method": "signed form", **changes}


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def join(who: Account, alliance: str, sam: Account) -> None:
    """`who`'s organisation joins the alliance (applies; the Secretariat's coordinator `sam` accepts)."""
    from accord.alliances import membership_actions

    applied = membership_actions.apply(alliance, acting_user=who)
    membership_actions.decide(applied.record_uuid, acting_user=sam, decision="accept", reason="welcome")
