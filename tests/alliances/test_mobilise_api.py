"""Mobilisation through the API: a roster call on a request for experts, the replies, a selection that becomes an
offer, acceptance, commitment and deployment in the request's ledger; who is called, who sees what."""

from __future__ import annotations

import pytest

from accord.alliances.mobilise_kinds import CALL_KIND, REPLY_KIND, SELECTION_KIND
from accord.records.models import Record, Version
from tests.alliances.mobilise_support import Mob, call, created, expert_request, mob_fixture  # noqa: F401
from tests.alliances.roster_support import Api, consent, profile, roster_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def _ledger(api: Api, request: Record) -> dict[str, int]:
    body = api.get(f"/api/v1/requests/{request.uuid}").json()
    return {k: body[k] for k in ("requested", "offered", "accepted", "committed", "gap")}


def test_call_reply_and_select_become_an_offer_and_a_deployment_in_the_ledger(mob: Mob) -> None:
    carol, li = Api(mob.carol), Api(mob.roster.li)
    made = created(call(carol, request=str(mob.request.uuid), language="ru"))
    # li (CN) matches and carol may see li's profile; oleg's is the Secretariat's only; aida is of KZ itself.
    assert made["called"] == 1 and [e["id"] for e in made["experts"]] == [mob.li_profile]
    assert made["request"] == str(mob.request.uuid) and made["incident"] == str(mob.incident.uuid)
    assert (made["from"], made["until"], made["region"], made["requester"]) == (
        "2026-06-10",
        "2026-06-30",
        "KZ-47",
        "KZ",
    )
    assert made["experts"][0]["name"] == "li" and made["experts"][0]["reply"] is None
    version = Version.objects.get(record__uuid=made["id"])
    assert version.tlp == "AMBER" and version.envelope()["audience"]["members"] == ["CN", "KZ", "SCO"]
    assert b'"li"' not in bytes(version.canonical)  # no names in the call: profile references only

    answered = li.post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": True, "from": "2026-06-12"})
    reply = created(answered)
    assert (reply["available"], reply["from"], reply["until"]) == (True, "2026-06-12", "2026-06-30")
    assert reply["expert"] == mob.li_profile and reply["member"] == "CN" and reply["seq"] == 1
    seen = carol.get(f"/api/v1/roster-calls/{made['id']}").json()
    assert seen["experts"][0]["reply"]["from"] == "2026-06-12" and len(seen["replies"]) == 1

    selected = created(carol.post(f"/api/v1/roster-calls/{made['id']}/selections", {"expert": mob.li_profile}))
    offer, deployment = selected["offer"], selected["deployment"]
    assert (offer["member"], offer["to_member"], offer["resource_type"], offer["quantity"]) == ("CN", "KZ", "expert", 1)
    assert offer["available_from"] == "2026-06-12" and offer["accepted"] == 1 and offer["committed"] == 1
    assert deployment["contact"] == {"name": "li", "phone": "", "email": "li@uni.example"}
    assert deployment["location"] == {"region": "KZ-47", "place": ""} and deployment["status"] == "mobilising"
    assert (deployment["arrival"], deployment["end"], deployment["quantity"]) == ("2026-06-12", "2026-06-30", 1)
    assert selected["request"]["accepted"] == 1 and selected["expert"] == mob.li_profile
    assert _ledger(carol, mob.request) == {"requested": 2, "offered": 1, "accepted": 1, "committed": 1, "gap": 1}
    # Who issued what: the person offered, committed and deployed themself; carol accepted and selected.
    authors = {
        kind: str(Record.objects.get(uuid=ident).current_version.author)  # type: ignore[union-attr]
        for kind, ident in (
            ("offer", offer["id"]),
            ("acceptance", selected["acceptance"]["id"]),
            ("commitment", selected["commitment"]["id"]),
            ("deployment", deployment["id"]),
            ("selection", selected["id"]),
        )
    }
    li_uuid, carol_uuid = str(mob.roster.li.uuid), str(mob.carol.uuid)
    assert authors == {"offer": li_uuid, "acceptance": carol_uuid, "commitment": li_uuid,
                       "deployment": li_uuid, "selection": carol_uuid}  # fmt: skip
    after = carol.get(f"/api/v1/roster-calls/{made['id']}").json()
    assert after["experts"][0]["selection"]["offer"] == offer["id"]
    # Selected: the reply no longer changes, and the expert is not selected twice.
    again = li.post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": False})
    assert again.status_code == 409 and again.json()["field"] == "call"
    twice = carol.post(f"/api/v1/roster-calls/{made['id']}/selections", {"expert": mob.li_profile})
    assert twice.status_code == 409 and twice.json()["field"] == "expert"


def test_the_secretariat_calls_whom_it_may_see_and_each_reader_sees_names_it_may_see(mob: Mob) -> None:
    sam, carol, li, oleg = Api(mob.sam), Api(mob.carol), Api(mob.roster.li), Api(mob.roster.oleg)
    made = created(call(sam, request=str(mob.request.uuid)))
    assert made["called"] == 2 and {e["id"] for e in made["experts"]} == {mob.li_profile, mob.oleg_profile}
    assert made["member"] == "SCO" and made["requester"] == "KZ"
    path = f"/api/v1/roster-calls/{made['id']}"
    created(li.post(f"{path}/replies", {"available": True}))
    created(oleg.post(f"{path}/replies", {"available": False, "note": "teaching until July"}))

    names = {e["id"]: e["name"] for e in carol.get(path).json()["experts"]}
    assert names == {mob.li_profile: "li", mob.oleg_profile: None}  # oleg's profile is the Secretariat's only
    assert len(carol.get(path).json()["replies"]) == 2
    as_li = li.get(path).json()
    assert {e["id"]: e["name"] for e in as_li["experts"]} == {mob.li_profile: "li", mob.oleg_profile: None}
    assert [r["expert"] for r in as_li["replies"]] == [mob.li_profile]  # not oleg's reply
    assert [e["you"] for e in as_li["experts"] if e["id"] == mob.li_profile] == [True]
    as_oleg = oleg.get(path).json()
    assert [r["expert"] for r in as_oleg["replies"]] == [mob.oleg_profile]
    assert {e["id"]: e["name"] for e in as_oleg["experts"]}[mob.li_profile] is None
    assert Api(mob.ivan).get(path).status_code == 404  # IN is outside the call's audience
    # The Secretariat called, but KZ selects: the acceptance is KZ's.
    refused = sam.post(f"{path}/selections", {"expert": mob.li_profile})
    assert refused.status_code == 403 and refused.json()["field"] == "call"
    unavailable = carol.post(f"{path}/selections", {"expert": mob.oleg_profile})
    assert unavailable.status_code == 409 and unavailable.json()["field"] == "expert"
    created(carol.post(f"{path}/selections", {"expert": mob.li_profile}))


def test_a_new_reply_is_a_new_version_of_the_same_record(mob: Mob) -> None:
    carol, li = Api(mob.carol), Api(mob.roster.li)
    made = created(call(carol, request=str(mob.request.uuid)))
    path = f"/api/v1/roster-calls/{made['id']}/replies"
    first = created(li.post(path, {"available": False}))
    assert first["from"] is None and first["until"] is None
    second = created(li.post(path, {"available": True, "from": "2026-06-20", "until": "2026-06-25"}))
    assert second["id"] == first["id"] and second["seq"] == 2
    assert Record.objects.filter(kind=REPLY_KIND).count() == 1
    assert carol.get(f"/api/v1/roster-calls/{made['id']}").json()["experts"][0]["reply"]["available"] is True


def test_a_call_on_an_incident_makes_its_request_when_an_expert_is_selected(mob: Mob) -> None:
    sam, li = Api(mob.sam), Api(mob.roster.li)
    made = created(call(sam, incident=str(mob.incident.uuid), message="Field team for Aktau"))
    assert made["request"] is None and made["region"] == "KZ-47" and made["requester"] == "SCO"
    created(li.post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": True}))
    selected = created(sam.post(f"/api/v1/roster-calls/{made['id']}/selections", {"expert": mob.li_profile}))
    request = selected["request"]
    assert (request["member"], request["resource_type"], request["quantity"], request["region"]) == (
        "SCO", "expert", 1, "KZ-47"
    )  # fmt: skip
    assert request["accepted"] == 1 and request["committed"] == 1 and request["status"] == "covered"
    assert request["detail"] == "Epidemiology"


def test_bad_input_is_refused_naming_the_field_and_stores_nothing(mob: Mob) -> None:
    carol, li, aida = Api(mob.carol), Api(mob.roster.li), Api(mob.roster.aida)
    request = str(mob.request.uuid)
    pcr = expert_request(mob.carol, mob.incident, resource_type="pcr_tests", detail="", quantity=10)
    cases = [
        ({}, 400, "request"),
        ({"request": request, "incident": str(mob.incident.uuid)}, 400, "request"),
        ({"request": str(pcr.uuid)}, 400, "request"),
        ({"request": request, "field": "astrology"}, 400, "field"),
        ({"request": request, "language": "xx"}, 400, "language"),
        ({"request": request, "from": "2026-06-30", "until": "2026-06-10"}, 400, "until"),
        ({"request": request, "from": "June"}, 400, "from"),
        ({"request": request, "field": "plant_health"}, 409, "field"),  # nobody matches
        ({"request": request, "from": "2026-09-01", "until": "2026-09-10"}, 409, "field"),  # nobody is available
    ]
    for changes, status, field in cases:
        answer = call(carol, **changes)
        assert (answer.status_code, answer.json().get("field")) == (status, field), (changes, answer.content)
    refused = call(Api(mob.roster.world.dave), request=request)  # a viewer
    assert refused.status_code == 403
    assert call(Api(mob.roster.world.alice), request=request).status_code == 403  # CN does not call for KZ
    assert call(Api(mob.ivan), request=request).status_code == 404  # IN may not see the request
    assert not Record.objects.filter(kind=CALL_KIND).exists()

    made = created(call(carol, request=request))
    path = f"/api/v1/roster-calls/{made['id']}"
    for who in (aida, carol, Api(mob.roster.oleg)):  # not called (oleg may not even see it: 404)
        answer = who.post(f"{path}/replies", {"available": True})
        assert answer.status_code in (403, 404) and answer.json().get("field", "call") == "call"
    assert aida.post(f"{path}/replies", {"available": True}).status_code == 403
    backwards = li.post(f"{path}/replies", {"available": True, "from": "2026-06-20", "until": "2026-06-12"})
    assert backwards.status_code == 400 and backwards.json()["field"] == "until"
    outside = li.post(f"{path}/replies", {"available": True, "from": "2026-08-01", "until": "2026-08-05"})
    assert outside.status_code == 400 and outside.json()["field"] == "from"
    assert li.post(f"{path}/replies", {"available": "yes"}).status_code == 422
    assert not Record.objects.filter(kind=REPLY_KIND).exists()

    silent = carol.post(f"{path}/selections", {"expert": mob.li_profile})
    assert silent.status_code == 409 and silent.json()["field"] == "expert"
    stranger = carol.post(f"{path}/selections", {"expert": mob.oleg_profile})
    assert stranger.status_code == 409 and stranger.json()["field"] == "expert"
    created(li.post(f"{path}/replies", {"available": False}))
    unavailable = carol.post(f"{path}/selections", {"expert": mob.li_profile})
    assert unavailable.status_code == 409 and unavailable.json()["field"] == "expert"
    assert "not available" in unavailable.json()["detail"]
    assert not Record.objects.filter(kind__in=[SELECTION_KIND, "assistance_offer", "deployment"]).exists()


def test_an_expert_offers_only_themself_and_reports_their_own_deployment(mob: Mob) -> None:
    carol, li = Api(mob.carol), Api(mob.roster.li)
    # An expert makes no offer of their own through mutual assistance: that is the member's focal points'.
    direct = li.post(f"/api/v1/requests/{mob.request.uuid}/offers", {"quantity": 1})
    assert direct.status_code == 403 and direct.json()["field"] == "member"
    made = created(call(carol, request=str(mob.request.uuid)))
    created(li.post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": True}))
    selected = created(carol.post(f"/api/v1/roster-calls/{made['id']}/selections", {"expert": mob.li_profile}))
    moved = li.post(f"/api/v1/deployments/{selected['deployment']['id']}/status", {"status": "in_transit"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "in_transit"


def test_a_managed_profile_is_answered_and_offered_by_the_focal_point_who_manages_it(mob: Mob) -> None:
    alice, carol = Api(mob.roster.world.alice), Api(mob.carol)
    listed = alice.post(
        "/api/v1/experts",
        profile(name="Wang Fang", organisation="cn-uni", consent=consent(), audience={"members": ["KZ", "CN", "SCO"]}),
    )
    managed = created(listed)["id"]
    made = created(call(carol, request=str(mob.request.uuid)))
    assert {e["id"] for e in made["experts"]} == {mob.li_profile, managed}
    path = f"/api/v1/roster-calls/{made['id']}"
    # li answers for themself only; alice (CN ministry, focal point) manages Wang Fang's profile and answers for it.
    assert Api(mob.roster.li).post(f"{path}/replies", {"available": True, "expert": managed}).status_code == 403
    bob = Api(mob.roster.world.bob)  # a CN focal point of another organisation
    assert bob.post(f"{path}/replies", {"available": True}).status_code == 403
    answer = created(alice.post(f"{path}/replies", {"available": True, "from": "2026-06-15"}))
    assert answer["expert"] == managed and answer["member"] == "CN"
    selected = created(carol.post(f"{path}/selections", {"expert": managed}))
    assert selected["deployment"]["contact"]["name"] == "Wang Fang" and selected["offer"]["member"] == "CN"
    offer = Record.objects.get(uuid=selected["offer"]["id"])
    assert str(offer.current_version.author) == str(mob.roster.world.alice.uuid)  # type: ignore[union-attr]
