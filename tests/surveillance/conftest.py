"""Fixtures of the surveillance tests: the world of tests/conftest.py, plus people in Kyrgyzstan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from accord.members import actions as member_actions
from accord.members.models import Account
from accord.records.envelope import Audience
from accord.surveillance import actions
from accord.surveillance.models import Upload
from tests.conftest import PASSWORD, World

KZ_SCO = Audience(members=["KZ", "SCO"])


@dataclass
class People:
    world: World
    kyle: Account  # focal point, KG ministry of health
    kira: Account  # analyst, KZ ministry of health
    sid: Account  # analyst, SCO Secretariat
    admin: Account  # administrator of this node (SCO)


@pytest.fixture
def people(world: World) -> People:
    kg_health = member_actions.create_organisation(
        member_code="KG", slug="kg-health", kind="health_ministry", name_en="KG health", acting_user=None
    )

    def account(name: str, organisation: Any, role: str) -> Account:
        return member_actions.create_account(
            username=name,
            organisation=organisation,
            roles=[role],
            email=f"{name}@example.org",
            password=PASSWORD,
            acting_user=None,
        )

    return People(
        world=world,
        kyle=account("kyle", kg_health, "focal_point"),
        kira=account("kira", world.kz_health, "analyst"),
        sid=account("sid", world.secretariat, "analyst"),
        admin=account("root", world.secretariat, "admin"),
    )


Uploader = Callable[..., Upload]


@pytest.fixture
def upload(people: People) -> Uploader:
    """Submit and process an upload as the worker would; returns the finished Upload."""

    def run(
        data: bytes,
        user: Account | None = None,
        *,
        audience: Audience = KZ_SCO,
        tlp: str = "AMBER",
        filename: str = "counts.csv",
        **kwargs: Any,
    ) -> Upload:
        submitted = actions.submit_upload(
            data, acting_user=user or people.world.carol, audience=audience, tlp=tlp, filename=filename, **kwargs
        )
        done = actions.process_upload(submitted.pk)
        assert done is not None
        done.refresh_from_db()
        return done

    return run
