"""Fixtures of the alliances' tests: universities of three members with their accounts, beside `world`.

li      expert, cn-demo-uni (CN university)           applies to the medicine alliance
lin     viewer, cn-demo-uni                            may not act for it
aida    expert, kz-demo-uni (KZ university)           on the medicine alliance's council
ivan    expert, ru-demo-uni (RU university)           on the medicine alliance's council
sam     coordinator of the Secretariat (world)        decides for any alliance
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accord.alliances.models import Alliance
from accord.members import actions as member_actions
from accord.members.models import Account, Organisation
from tests.conftest import PASSWORD, World


@dataclass
class Campus:
    world: World
    li: Account
    lin: Account
    aida: Account
    ivan: Account
    cn_uni: Organisation
    kz_uni: Organisation
    ru_uni: Organisation


def _org(member: str, slug: str, kind: str = "university") -> Organisation:
    return member_actions.create_organisation(
        member_code=member, slug=slug, kind=kind, name_en=f"{slug} (demo)", acting_user=None
    )


def _account(username: str, organisation: Organisation, role: str) -> Account:
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=[role],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture
def campus(world: World) -> Campus:
    cn_uni, kz_uni, ru_uni = (
        _org("CN", "cn-demo-uni"),
        _org("KZ", "kz-demo-uni"),
        _org("RU", "ru-demo-uni", "institute"),
    )
    medicine = Alliance.objects.get(slug="medicine")
    medicine.council.add(kz_uni, ru_uni)
    return Campus(
        world=world,
        li=_account("li", cn_uni, "expert"),
        lin=_account("lin", cn_uni, "viewer"),
        aida=_account("aida", kz_uni, "expert"),
        ivan=_account("ivan", ru_uni, "expert"),
        cn_uni=cn_uni,
        kz_uni=kz_uni,
        ru_uni=ru_uni,
    )


class Api:
    """Calls the API as one account, with a write token."""

    def __init__(self, account: Account) -> None:
        _, self.token = member_actions.create_token(account, name="t", scope="write", acting_user=None)
        self.account = account

    def post(self, path: str, payload: Any = None) -> Any:
        data = "" if payload is None else json.dumps(payload)
        return Client().post(path, data=data, content_type="application/json", headers=self._auth())

    def get(self, path: str, **params: Any) -> Any:
        return Client().get(path, params, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
