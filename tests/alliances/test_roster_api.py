"""The expert roster through the API: one's own profile, its visibility (the audience filter in lists, counts and
by id), the search filters, withdrawal, and the generic record reads that never show a profile."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.alliances.roster_models import ExpertField, ExpertProfile, ExpertWindow
from accord.records.models import Record, Version
from tests.alliances.roster_support import Api, Roster, consent, ids, join, profile, roster_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_person_puts_reads_and_revises_their_own_profile(roster: Roster) -> None:
    li = Api(roster.li)
    made = li.put("/api/v1/experts/me", profile(note="Field epidemiologist", contact_email="li@example.org"))
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["fields"] == ["epidemiology", "virology"] and body["deployable"] is True
    assert body["languages"] == [{"code": "ru", "level": "C1"}, {"code": "en", "level": "B2"}]
    assert body["available"] == [{"from": "2026-06-01", "until": "2026-08-31"}]
    assert body["affiliation"] == {"organisation": "cn-uni", "member": "CN", "name": "cn-uni (test)"}
    assert (body["organisation"], body["member"], body["account"]) == ("cn-uni", "CN", str(roster.li.uuid))
    # Without an audience: the Secretariat only, TLP:AMBER.
    assert body["audience"]["members"] == ["SCO"] and body["tlp"] == "AMBER" and body["managed"] is False
    assert li.get("/api/v1/experts/me").json()["id"] == body["id"]

    again = li.put("/api/v1/experts/me", profile(fields=["one_health"], deployable=False))
    assert again.status_code == 200, again.content
    assert again.json()["id"] == body["id"] and again.json()["seq"] == 2
    assert again.json()["fields"] == ["one_health"] and again.json()["note"] == ""
    assert again.json()["audience"]["members"] == ["SCO"]  # a revision keeps the audience it had
    assert list(ExpertField.objects.values_list("code", flat=True)) == ["one_health"]
    assert Record.objects.filter(kind="expert_profile").count() == 1


def test_a_profile_visible_to_the_secretariat_only_is_never_found_by_a_member(roster: Roster) -> None:
    aida = Api(roster.aida)
    made = aida.put("/api/v1/experts/me", profile(audience={"members": ["SCO"]}, tlp="AMBER"))
    assert made.status_code == 201, made.content
    expert = made.json()["id"]
    sam, alice, li = Api(roster.world.sam), Api(roster.world.alice), Api(roster.li)

    assert ids(sam.get("/api/v1/experts")) == [expert]
    assert sam.get(f"/api/v1/experts/{expert}").status_code == 200
    for other in (alice, li, Api(roster.oleg)):
        listed = other.get("/api/v1/experts", field="epidemiology")
        assert listed.json()["count"] == 0 and listed.json()["items"] == []
        assert other.get("/api/v1/experts").json()["count"] == 0
        assert other.get("/api/v1/experts", member="KZ").json()["count"] == 0
        hidden = other.get(f"/api/v1/experts/{expert}")
        assert hidden.status_code == 404 and hidden.json()["detail"] == "no such expert"
        # the generic record reads do not show it either
        assert other.get(f"/api/v1/records/{expert}").status_code == 404
        assert other.get("/api/v1/records", kind="expert_profile").json()["count"] == 0


def test_visibility_to_named_members_and_to_all_members(roster: Roster) -> None:
    li, oleg = Api(roster.li), Api(roster.oleg)
    cn_kz = li.put("/api/v1/experts/me", profile(audience={"members": ["CN", "KZ", "SCO"]}, tlp="AMBER")).json()["id"]
    everyone = oleg.put("/api/v1/experts/me", profile(audience={"everyone": True}, tlp="GREEN"))
    assert everyone.status_code == 201, everyone.content
    assert set(ids(Api(roster.world.carol).get("/api/v1/experts"))) == {cn_kz, everyone.json()["id"]}
    assert ids(Api(roster.world.bob).get("/api/v1/experts", member="CN")) == [cn_kz]
    assert ids(Api(roster.aida).get("/api/v1/experts", member="RU")) == [everyone.json()["id"]]
    assert ids(oleg.get("/api/v1/experts")) == [everyone.json()["id"]]  # RU is not in li's audience
    # a profile is never public
    public = Api(roster.aida).put("/api/v1/experts/me", profile(audience={"everyone": True}, tlp="CLEAR"))
    assert public.status_code == 400 and public.json()["field"] == "tlp"
    assert Client().get("/api/v1/experts").status_code == 401  # and nobody without an account


def test_the_search_filters(roster: Roster) -> None:
    everyone = {"everyone": True}
    li = (
        Api(roster.li)
        .put(
            "/api/v1/experts/me",
            profile(
                fields=["epidemiology"],
                languages=[{"code": "zh", "level": "native"}, {"code": "ru", "level": "B1"}],
                available=[
                    {"from": "2026-06-01", "until": "2026-06-30"},
                    {"from": "2026-09-01", "until": "2026-09-30"},
                ],
                alliances=["medicine"],
                audience=everyone,
            ),
        )
        .json()["id"]
    )
    aida = (
        Api(roster.aida)
        .put(
            "/api/v1/experts/me",
            profile(
                fields=["epidemiology", "veterinary_epidemiology"],
                languages=[{"code": "kk", "level": "native"}, {"code": "ru", "level": "C2"}],
                available=[{"from": "2026-06-15", "until": "2026-07-15"}],
                deployable=False,
                alliances=["agriculture", "medicine"],
                audience=everyone,
            ),
        )
        .json()["id"]
    )
    sam = Api(roster.world.sam)
    assert set(ids(sam.get("/api/v1/experts", field="epidemiology"))) == {li, aida}
    assert ids(sam.get("/api/v1/experts", field="veterinary_epidemiology")) == [aida]
    assert ids(sam.get("/api/v1/experts", language="zh")) == [li]
    assert set(ids(sam.get("/api/v1/experts", language="ru"))) == {li, aida}
    assert set(ids(sam.get("/api/v1/experts", available_on="2026-06-20"))) == {li, aida}
    assert ids(sam.get("/api/v1/experts", available_on="2026-09-10")) == [li]
    assert ids(sam.get("/api/v1/experts", available_on="2026-08-10")) == []
    # a window must cover the whole period
    assert ids(sam.get("/api/v1/experts", available_from="2026-06-10", available_until="2026-06-25")) == [li]
    assert ids(sam.get("/api/v1/experts", available_from="2026-06-20", available_until="2026-07-10")) == [aida]
    assert ids(sam.get("/api/v1/experts", available_from="2026-06-20", available_until="2026-09-10")) == []
    assert ids(sam.get("/api/v1/experts", member="KZ")) == [aida]
    assert ids(sam.get("/api/v1/experts", alliance="agriculture")) == [aida]
    assert ids(sam.get("/api/v1/experts", deployable="true")) == [li]
    assert ids(sam.get("/api/v1/experts", deployable="false")) == [aida]
    assert ids(sam.get("/api/v1/experts", field="epidemiology", language="kk", member="KZ")) == [aida]
    paged = sam.get("/api/v1/experts", limit=1).json()
    assert paged["count"] == 2 and len(paged["items"]) == 1 and paged["next_offset"] == 1
    item = paged["items"][0]
    assert {"id", "fields", "languages", "affiliation", "organisation", "member"} <= set(item)
    # bad filters name themselves
    for params, field in (
        ({"field": "astrology"}, "field"),
        ({"language": "xx"}, "language"),
        ({"available_on": "2026-13-01"}, "available_on"),
        ({"available_from": "2026-07-01", "available_until": "2026-06-01"}, "available_until"),
        ({"member": "kz\x00"}, "member"),
        ({"alliance": "chess\x00"}, "alliance"),
    ):
        refused = sam.get("/api/v1/experts", **params)
        assert refused.status_code == 400, (params, refused.content)
        assert refused.json()["field"] == field


def test_withdrawal_removes_the_profile_from_every_read_at_once(roster: Roster) -> None:
    aida = Api(roster.aida)
    expert = aida.put("/api/v1/experts/me", profile(audience={"everyone": True}, tlp="GREEN")).json()["id"]
    sam = Api(roster.world.sam)
    assert ids(sam.get("/api/v1/experts")) == [expert]

    gone = aida.delete("/api/v1/experts/me")
    assert gone.status_code == 200, gone.content
    assert gone.json() == {"id": expert, "state": "withdrawn"}
    assert sam.get("/api/v1/experts").json()["count"] == 0
    assert sam.get(f"/api/v1/experts/{expert}").status_code == 404
    assert aida.get(f"/api/v1/experts/{expert}").status_code == 404
    assert aida.get("/api/v1/experts/me").status_code == 404
    assert aida.delete("/api/v1/experts/me").status_code == 404  # nothing left to withdraw
    assert not ExpertProfile.objects.exists() and not ExpertWindow.objects.exists()
    # the versions stay for the audit, but no generic read shows them
    assert list(Version.objects.filter(record__uuid=expert).values_list("seq", "state")) == [
        (1, "active"),
        (2, "withdrawn"),
    ]
    for who in (aida, sam):
        pointer = who.get(f"/api/v1/records/{expert}")
        assert pointer.status_code == 404 and "/api/v1/experts/" in pointer.json()["detail"]
        assert who.get(f"/api/v1/records/{expert}/versions").status_code == 404
        assert who.get("/api/v1/records").json()["count"] == 0

    # and the person can come back: a new record
    back = aida.put("/api/v1/experts/me", profile())
    assert back.status_code == 201, back.content
    assert back.json()["id"] != expert and ids(sam.get("/api/v1/experts")) == [back.json()["id"]]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"fields": ["astrology"]}, "fields", "astrology"),
        ({"fields": []}, "fields", "at least 1"),
        ({"fields": ["virology", "virology"]}, "fields", "twice"),
        ({"languages": [{"code": "xx", "level": "B1"}]}, "languages", "xx"),
        ({"languages": [{"code": "ru", "level": "B3"}]}, "languages", "B3"),
        ({"available": [{"from": "2026-06-30", "until": "2026-06-01"}]}, "available", "before it starts"),
        ({"available": [{"from": "30/06/2026", "until": "2026-07-01"}]}, "available", "not a date"),
        ({"deploy_within_days": -1}, "deploy_within_days", "greater than or equal"),
        ({"alliances": ["chess"]}, "alliances", "chess"),
        ({"contact_email": "not an address"}, "contact_email", "pattern"),
        ({"audience": {"members": ["ZZ"]}}, "audience", "ZZ"),
        ({"audience": {"alliances": ["law\x00"]}}, "audience", "not an alliance"),
        ({"note": "a\x00b"}, "note", "NUL"),
        ({"audience": {"everyone": True}, "tlp": "AMBER"}, "audience", "named audience"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    roster: Roster, changes: dict[str, object], field: str, words: str
) -> None:
    refused = Api(roster.li).put("/api/v1/experts/me", profile(**changes))
    assert refused.status_code == 400, refused.content
    assert refused.json()["field"] == field and words in refused.json()["detail"], refused.json()
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_only_an_expert_puts_their_own_profile(roster: Roster) -> None:
    refused = Api(roster.world.alice).put("/api/v1/experts/me", profile())
    assert refused.status_code == 403 and refused.json()["field"] == "role"
    read_only = Api(roster.li)
    from accord.members import actions as member_actions

    _, read_only.token = member_actions.create_token(roster.li, name="r", scope="read", acting_user=None)
    assert read_only.put("/api/v1/experts/me", profile()).status_code == 403
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_the_generic_record_endpoint_does_not_write_profiles(roster: Roster) -> None:
    body = {
        "name": "li",
        "account": str(roster.li.uuid),
        "affiliation": {"organisation": "cn-uni", "member": "CN", "name": "x"},
        "fields": ["virology"],
        "deployable": True,
    }
    refused = Api(roster.li).post(
        "/api/v1/records", {"kind": "expert_profile", "body": body, "audience": {"members": ["SCO"]}, "tlp": "AMBER"}
    )
    assert refused.status_code == 400 and "/api/v1/experts" in refused.json()["detail"]
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_the_record_pages_do_not_show_a_profile(roster: Roster) -> None:
    from tests.conftest import client_for

    expert = Api(roster.aida).put("/api/v1/experts/me", profile(note="Secret note")).json()["id"]
    sam = client_for(roster.world.sam)
    assert sam.get(f"/records/{expert}/").status_code == 404
    listed = sam.get("/records/")
    assert listed.status_code == 200 and expert not in listed.content.decode()


def test_the_alliances_shorthand_names_the_members_of_the_alliance(roster: Roster) -> None:
    sam = roster.world.sam
    join(roster.li, "medicine", sam)  # cn-uni
    join(roster.aida, "medicine", sam)  # kz-uni
    oleg = Api(roster.oleg)
    nothing = oleg.put("/api/v1/experts/me", profile(audience={"alliances": ["law"]}))
    assert nothing.status_code == 400 and nothing.json()["field"] == "audience"  # no members yet
    unknown = oleg.put("/api/v1/experts/me", profile(audience={"alliances": ["chess"]}))
    assert unknown.status_code == 400 and unknown.json()["field"] == "audience"
    made = oleg.put("/api/v1/experts/me", profile(audience={"alliances": ["medicine"]}))
    assert made.status_code == 201, made.content
    assert made.json()["audience"]["members"] == ["CN", "KZ"] and made.json()["tlp"] == "AMBER"
    expert = made.json()["id"]
    assert ids(Api(roster.world.alice).get("/api/v1/experts")) == [expert]
    assert ids(Api(roster.world.carol).get("/api/v1/experts")) == [expert]
    assert Api(sam).get(f"/api/v1/experts/{expert}").status_code == 404  # not the Secretariat: not named
    with_sco = oleg.put("/api/v1/experts/me", profile(audience={"alliances": ["medicine"], "members": ["SCO"]}))
    assert with_sco.json()["audience"]["members"] == ["CN", "KZ", "SCO"]

    # the alliance filter: who says they work with it, and the experts of its member organisations
    li = Api(roster.li).put("/api/v1/experts/me", profile(audience={"members": ["SCO"]})).json()["id"]
    listed = Api(roster.nurlan).post(
        "/api/v1/experts",
        profile(name="Berik", organisation="kz-health", alliances=["medicine"], consent=consent(),
                audience={"members": ["SCO"]}),
    ).json()["id"]  # fmt: skip
    assert set(ids(Api(sam).get("/api/v1/experts", alliance="medicine"))) == {li, listed}  # not oleg (RU)
    assert ids(Api(sam).get("/api/v1/experts", alliance="law")) == []
