"""The roster's demo (`accord demo`): a profile for each demo expert, with varied visibility (all members, the
alliance's members and the Secretariat, the Secretariat only); loaded once."""

from __future__ import annotations

import pytest

from accord.alliances import roster_demo, roster_queries
from accord.alliances.roster_models import ExpertProfile
from accord.members.demo import load_demo
from accord.members.models import Account
from accord.records.principal import Principal


@pytest.mark.django_db
def test_the_demo_lists_every_demo_expert_once_with_varied_visibility() -> None:
    load_demo()
    rows = {row.version.body["name"]: row for row in ExpertProfile.objects.select_related("version")}
    assert len(rows) == len(roster_demo.PROFILES)
    audiences = {name: (row.version.envelope()["audience"], row.version.tlp) for name, row in rows.items()}
    assert audiences["ru.epidemiologist"] == (
        {"everyone": False, "members": ["SCO"], "organisations": [], "persons": []},
        "AMBER",
    )
    assert audiences["cn.medical"][0]["everyone"] is True and audiences["cn.medical"][1] == "GREEN"
    law = audiences["cn.law"][0]["members"]
    assert "SCO" in law and {"CN", "RU", "UZ"} <= set(law)
    assert all("demo" in row.version.body["note"] for row in rows.values())
    assert roster_demo.load(None) == 0  # once

    sam = Principal.of(Account.objects.get(username="sco.coordinator"))
    assert "ru.epidemiologist" in {r.name for r in roster_queries.search(sam)}
    pk = Principal.of(Account.objects.get(username="pk.health"))
    seen = {r.name for r in roster_queries.search(pk)}
    assert "ru.epidemiologist" not in seen and "cn.medical" in seen
