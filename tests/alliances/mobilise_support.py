"""What the mobilisation tests share, on top of the roster's people (tests/alliances/roster_support.py):

An incident opened by carol (KZ), affected KZ and KG, shared with KZ, KG, CN, RU and the Secretariat (GREEN), and
carol's request on it for 2 epidemiologists. Expert profiles (through the roster's API):

li      CN expert, epidemiology, ru + en, available June-August, deployable; seen by KZ, CN and the Secretariat
oleg    RU expert, epidemiology, ru, the same window; seen by the Secretariat only (the roster's default)
aida    KZ expert, epidemiology: of the requesting member itself, so never called on KZ's request

ivan    IN focal point: outside every audience here
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from accord.members import actions as member_actions
from accord.members.models import Account
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import actions, assist_actions
from tests.alliances.roster_support import Api, Roster, profile
from tests.conftest import PASSWORD

AUDIENCE = Audience(members=["KZ", "KG", "CN", "RU", "SCO"])
WINDOW = {"from": "2026-06-10", "until": "2026-06-30"}


@dataclass
class Mob:
    roster: Roster
    ivan: Account
    incident: Record
    request: Record
    li_profile: str
    oleg_profile: str
    aida_profile: str

    @property
    def carol(self) -> Account:
        return self.roster.world.carol

    @property
    def sam(self) -> Account:
        return self.roster.world.sam


def put_profile(who: Account, **changes: Any) -> str:
    made = Api(who).put("/api/v1/experts/me", profile(**changes))
    assert made.status_code == 201, made.content
    ident: str = made.json()["id"]
    return ident


def open_incident(carol: Account, **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "title": {"en": "Plague in Mangystau"},
        "hazard": "A20",
        "affected_members": ["KZ", "KG"],
        "regions": ["KZ-47"],
        "audience": AUDIENCE,
        "tlp": "GREEN",
        "acting_user": carol,
    }
    fields.update(changes)
    version = actions.open_incident(**fields)
    return Record.objects.get(pk=version.record_id)


def expert_request(carol: Account, incident: Record, **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "acting_user": carol,
        "resource_type": "expert",
        "detail": "epidemiology",
        "quantity": 2,
        "needed_by": "2026-06-10",
        "region": "KZ-47",
    }
    fields.update(changes)
    version = assist_actions.create_request(incident.uuid, **fields)
    return Record.objects.get(pk=version.record_id)


@pytest.fixture(name="mob")
def mob_fixture(roster: Roster) -> Mob:
    """(Import `mob_fixture` and `roster_fixture` into a test module to use the fixture `mob`.)"""
    world = roster.world
    ivan = member_actions.create_account(
        username="ivan",
        organisation=member_actions.create_organisation(
            member_code="IN", slug="in-health", kind="health_ministry", name_en="in-health", acting_user=None
        ),
        roles=["focal_point"],
        email="ivan@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    incident = open_incident(world.carol)
    return Mob(
        roster=roster,
        ivan=ivan,
        incident=incident,
        request=expert_request(world.carol, incident),
        li_profile=put_profile(roster.li, audience={"members": ["KZ", "CN", "SCO"]}, contact_email="li@uni.example"),
        oleg_profile=put_profile(roster.oleg, languages=[{"code": "ru", "level": "native"}]),
        aida_profile=put_profile(roster.aida, audience={"members": ["KZ", "SCO"]}),
    )


def call(api: Api, **changes: Any) -> Any:
    payload: dict[str, Any] = {"request": None, "incident": None, "field": "epidemiology", "language": None, **WINDOW}
    payload.update(changes)
    return api.post("/api/v1/roster-calls", payload)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body
