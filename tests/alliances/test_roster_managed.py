"""Profiles a focal point manages for people without an account (with their recorded consent), and the read
helpers the mobilisation builds on (`roster_queries`)."""

from __future__ import annotations

import pytest

from accord.alliances import roster_actions, roster_queries
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from tests.alliances.roster_support import Api, Roster, consent, ids, profile, roster_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def managed(**changes: object) -> dict[str, object]:
    return profile(**{"name": "Aigerim Seitkali", "consent": consent(), **changes})


def test_a_focal_point_lists_updates_and_withdraws_a_managed_profile(roster: Roster) -> None:
    nurlan = Api(roster.nurlan)
    made = nurlan.post("/api/v1/experts", managed(audience={"members": ["KZ", "SCO"]}))
    assert made.status_code == 201, made.content
    body = made.json()
    expert = body["id"]
    assert body["managed"] is True and body["account"] is None and body["name"] == "Aigerim Seitkali"
    assert body["consent"] == {"given_on": "2026-04-20", "method": "signed form", "recorded_by": "nurlan"}
    assert body["affiliation"]["organisation"] == "kz-uni" and body["member"] == "KZ"
    assert ids(Api(roster.world.carol).get("/api/v1/experts")) == [expert]  # KZ
    assert Api(roster.world.alice).get(f"/api/v1/experts/{expert}").status_code == 404  # CN

    # for another organisation of the same member
    other = nurlan.post("/api/v1/experts", managed(name="Berik", organisation="kz-health"))
    assert other.status_code == 201, other.content
    assert other.json()["organisation"] == "kz-health" and other.json()["audience"]["members"] == ["SCO"]

    changed = nurlan.put(f"/api/v1/experts/{expert}", managed(fields=["food_safety"], deployable=False))
    assert changed.status_code == 200, changed.content
    assert changed.json()["fields"] == ["food_safety"] and changed.json()["seq"] == 2
    assert changed.json()["audience"]["members"] == ["KZ", "SCO"]  # kept
    kept_consent = nurlan.put(f"/api/v1/experts/{expert}", profile(fields=["logistics"]))
    assert kept_consent.status_code == 200 and kept_consent.json()["consent"]["method"] == "signed form"

    gone = nurlan.delete(f"/api/v1/experts/{expert}")
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert ids(Api(roster.world.carol).get("/api/v1/experts")) == []
    assert nurlan.get(f"/api/v1/experts/{expert}").status_code == 404


def test_managed_profiles_refuse_what_is_missing_or_not_theirs(roster: Roster) -> None:
    nurlan = Api(roster.nurlan)
    cases = [
        (nurlan, managed(consent=None), 400, "consent"),
        (nurlan, managed(name=None), 400, "name"),
        (nurlan, managed(consent=consent(given_on="yesterday")), 400, "consent"),
        (nurlan, managed(consent=consent(method="")), 400, "consent"),
        (nurlan, managed(organisation="cn-uni"), 403, "organisation"),
        (nurlan, managed(organisation="nowhere"), 400, "organisation"),
        (nurlan, managed(organisation="kz\x00uni"), 400, "organisation"),
        (nurlan, managed(fields=["astrology"]), 400, "fields"),
        (Api(roster.world.dave), managed(), 403, "role"),  # a viewer
        (Api(roster.aida), managed(), 403, "role"),  # an expert is not a focal point
    ]
    for caller, payload, status, field in cases:
        refused = caller.post("/api/v1/experts", payload)
        assert refused.status_code == status, (payload, refused.content)
        assert refused.json()["field"] == field, refused.json()
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_nobody_else_changes_a_profile(roster: Roster) -> None:
    nurlan, aida = Api(roster.nurlan), Api(roster.aida)
    listed = nurlan.post("/api/v1/experts", managed(audience={"members": ["KZ", "CN"]})).json()["id"]
    own = aida.put("/api/v1/experts/me", profile(audience={"members": ["KZ", "CN"]})).json()["id"]
    alice = Api(roster.world.alice)  # CN focal point: sees both, manages neither
    assert alice.put(f"/api/v1/experts/{listed}", managed()).status_code == 403
    assert alice.delete(f"/api/v1/experts/{listed}").status_code == 403
    assert nurlan.put(f"/api/v1/experts/{own}", profile()).json()["field"] == "profile"  # the person's own
    assert nurlan.delete(f"/api/v1/experts/{own}").status_code == 403
    assert Api(roster.oleg).delete(f"/api/v1/experts/{own}").status_code == 404  # RU does not see it
    # the person changes their own through its id too, but not its name or consent
    assert aida.put(f"/api/v1/experts/{own}", profile(fields=["one_health"])).json()["fields"] == ["one_health"]
    assert aida.put(f"/api/v1/experts/{own}", profile(name="Someone else")).json()["field"] == "name"
    assert aida.delete(f"/api/v1/experts/{own}").json()["state"] == "withdrawn"
    assert Record.objects.get(uuid=listed).current_version.state == "active"  # type: ignore[union-attr]


def test_the_read_helpers_for_mobilisation(roster: Roster) -> None:
    li, _ = roster_actions.put_own(
        roster.li,
        profile=profile(fields=["virology"], available=[{"from": "2026-09-01", "until": "2026-09-30"}]),
        audience={"members": ["SCO"]},
        tlp="AMBER",
    )
    aida, _ = roster_actions.put_own(
        roster.aida, profile=profile(fields=["virology"], contact_email="aida@example.org"), audience={"everyone": True}
    )
    sam, carol = Principal.of(roster.world.sam), Principal.of(roster.world.carol)
    found = roster_queries.matching(sam, field="virology", available_from="2026-09-05", available_until="2026-09-20")
    assert [row.record.uuid for row in found] == [li.record_uuid]
    both = roster_queries.matching(sam, field="virology", language="ru")
    assert {row.record.uuid for row in both} == {li.record_uuid, aida.record_uuid}
    assert [row.record.uuid for row in roster_queries.matching(carol, field="virology")] == [aida.record_uuid]
    assert list(roster_queries.matching(sam, field="virology", member="KZ", deployable=False)) == []

    row = roster_queries.profile_for(carol, aida.record_uuid)
    assert (row.account, row.organisation, row.member, row.contact_email) == (
        roster.aida.uuid,
        "kz-uni",
        "KZ",
        "aida@example.org",
    )
    with pytest.raises(NotFound):
        roster_queries.profile_for(carol, li.record_uuid)
    with pytest.raises(NotFound):
        roster_queries.profile_for(carol, "not-a-uuid")
    own = roster_queries.own_profile(roster.li)
    assert own is not None and own.record.uuid == li.record_uuid
    assert roster_queries.own_profile(roster.oleg) is None
    roster_actions.withdraw_own(roster.li)
    assert roster_queries.own_profile(roster.li) is None
    assert [row.record.uuid for row in roster_queries.matching(sam, field="virology")] == [aida.record_uuid]
