"""The people of the response tests, on top of the shared world (tests/conftest.py):

kira    focal point, KG ministry of health
kim     viewer,      KG ministry of health
umid    focal point, UZ ministry of health
ivan    focal point, IN ministry of health (outside the incidents' audiences)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accord.members import actions as member_actions
from accord.members.models import Account
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import actions
from tests.conftest import PASSWORD, World


@dataclass
class People:
    world: World
    kira: Account
    kim: Account
    umid: Account
    ivan: Account


def _account(username: str, member: str, role: str) -> Account:
    slug = f"{member.lower()}-health"
    from accord.members.models import Organisation

    organisation = Organisation.objects.filter(slug=slug).first() or member_actions.create_organisation(
        member_code=member, slug=slug, kind="health_ministry", name_en=slug, acting_user=None
    )
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=[role],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture
def people(world: World) -> People:
    return People(
        world=world,
        kira=_account("kira", "KG", "focal_point"),
        kim=_account("kim", "KG", "viewer"),
        umid=_account("umid", "UZ", "focal_point"),
        ivan=_account("ivan", "IN", "focal_point"),
    )


class Api:
    """Calls the API as one account, with a write token."""

    def __init__(self, account: Account) -> None:
        _, self.token = member_actions.create_token(account, name="t", scope="write", acting_user=None)
        self.account = account

    def post(self, path: str, payload: Any) -> Any:
        return Client().post(path, data=json.dumps(payload), content_type="application/json", headers=self._auth())

    def get(self, path: str, **params: Any) -> Any:
        return Client().get(path, params, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def incident(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": {"en": "Measles across the Fergana valley", "ru": "Корь в Ферганской долине"},
        "hazard": "1F03",
        "affected_members": ["KZ", "KG"],
        "regions": ["KZ-61", "KG-O"],
        "audience": {"members": ["KZ", "KG", "CN", "SCO"]},
        "tlp": "GREEN",
    }
    payload.update(changes)
    return payload


def text_of(response: Any) -> str:
    """A page's text."""
    text: str = response.content.decode()
    return text


def measles(people: People, **changes: Any) -> Record:
    """carol's (KZ) incident of the page tests: measles in KZ and KG, shared with them and the Secretariat, GREEN."""
    fields: dict[str, Any] = {
        "title": {"en": "Measles in the Fergana valley"},
        "hazard": "B05",
        "affected_members": ["KZ", "KG"],
        "audience": Audience(members=["KZ", "KG", "SCO"]),
        "tlp": "GREEN",
        "acting_user": people.world.carol,
    }
    fields.update(changes)
    version = actions.open_incident(**fields)
    return Record.objects.get(pk=version.record_id)
