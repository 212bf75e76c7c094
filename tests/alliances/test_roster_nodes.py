"""Expert profiles across three real nodes (tests/federation/nodes.py: each `accord serve` with its own database,
peered over HTTP): two experts of CN's node put their profiles through the API, one for the members of their alliance
(CN and KZ, as the `alliances` shorthand expands it) and one for the Secretariat only. KZ's node lists the first and
never holds a version of the second; the Secretariat's node lists the second and holds none of the first. The first
expert then withdraws: KZ's node stops listing the profile (404 by its id) and keeps both versions for the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.federation.nodes import Client, RealNode, real_nodes, wait

pytestmark = [pytest.mark.postgresql_pass, pytest.mark.xdist_group("roster-nodes")]

TIMEOUT = 120.0
PROFILE = {
    "fields": ["epidemiology"],
    "languages": [{"code": "zh", "level": "native"}, {"code": "ru", "level": "B2"}],
    "available": [{"from": "2026-06-01", "until": "2026-08-31"}],
    "deployable": True,
}


def _listed(client: Client) -> list[str]:
    answer = client.get("/api/v1/experts")
    assert answer.status == 200, answer.body
    return [item["id"] for item in answer.body["items"]]


def _held(node: RealNode, record: str) -> int:
    rows = node.node.sql("SELECT count(*) FROM records_version WHERE record_uuid = ?", [record])
    return int(str(rows[0][0]))


def _put(client: Client, audience: dict[str, Any]) -> str:
    answer = client.request("PUT", "/api/v1/experts/me", {**PROFILE, "audience": audience, "tlp": "AMBER"})
    assert answer.status == 201, answer.body
    expert: str = answer.body["id"]
    return expert


def test_a_profile_reaches_the_members_it_names_and_no_other_node(tmp_path: Path) -> None:
    with real_nodes(tmp_path, ("CN", "KZ", "SCO"), web_workers=1) as nodes:
        li, wei = (nodes["CN"].account(name, "expert") for name in ("li", "wei"))
        kz = nodes["KZ"].account("fp-kz", "focal_point")
        sco = nodes["SCO"].account("coordinator", "coordinator")
        for_alliance = _put(li, {"members": ["CN", "KZ"]})
        for_secretariat = _put(wei, {"members": ["SCO"]})

        wait("KZ lists the alliance's profile", lambda: _listed(kz) == [for_alliance], timeout=TIMEOUT)
        wait("SCO lists the Secretariat's profile", lambda: _listed(sco) == [for_secretariat], timeout=TIMEOUT)
        assert kz.get(f"/api/v1/experts/{for_alliance}").body["member"] == "CN"
        assert kz.get(f"/api/v1/experts/{for_secretariat}").status == 404
        assert sco.get(f"/api/v1/experts/{for_alliance}").status == 404
        assert _held(nodes["KZ"], for_secretariat) == 0
        assert _held(nodes["SCO"], for_alliance) == 0

        gone = li.request("DELETE", "/api/v1/experts/me")
        assert gone.status == 200 and gone.body["state"] == "withdrawn", gone.body
        wait("KZ no longer lists it", lambda: _listed(kz) == [], timeout=TIMEOUT)
        assert kz.get(f"/api/v1/experts/{for_alliance}").status == 404
        assert _held(nodes["KZ"], for_alliance) == 2  # kept for the audit
