"""Voluntary membership of the alliances through the API: the three alliances, apply → accept → leave → rejoin,
decline with a reason, who sees pending applications, and every bad input (a 4xx naming the field, nothing
stored)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.alliances import membership_queries as queries
from accord.records.models import AuditEntry, Record, Version
from tests.alliances.conftest import Api, Campus

pytestmark = pytest.mark.django_db

KINDS = ("alliance_application", "alliance_decision", "alliance_departure")


def stored() -> tuple[int, int, int]:
    """What a refused call must leave as it was: versions and records of membership, and audit entries."""
    return (
        Version.objects.filter(kind__in=KINDS).count(),
        Record.objects.filter(kind__in=KINDS).count(),
        AuditEntry.objects.filter(action__startswith="record.").count(),
    )


def apply(api: Api, slug: str = "medicine", **payload: Any) -> Any:
    return api.post(f"/api/v1/alliances/{slug}/applications", payload or {"motivation": "We train epidemiologists."})


def decide(api: Api, application: str, decision: str = "accept", reason: str = "Meets the charter.") -> Any:
    return api.post(f"/api/v1/applications/{application}/decision", {"decision": decision, "reason": reason})


def created(response: Any) -> str:
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def alliances(api: Api) -> dict[str, dict[str, Any]]:
    listed = api.get("/api/v1/alliances")
    assert listed.status_code == 200, listed.content
    return {a["slug"]: a for a in listed.json()}


def test_the_three_alliances_with_names_charters_council_and_members(campus: Campus) -> None:
    found = alliances(Api(campus.li))
    assert list(found) == ["agriculture", "law", "medicine"]
    for alliance in found.values():
        assert set(alliance["names"]) == {"en", "zh", "ru"} and all(alliance["names"].values())
        assert all(alliance["charters"].values()) and alliance["charter"] == alliance["charters"]["en"]
        assert alliance["members"] == []
    assert found["medicine"]["council"] == ["kz-demo-uni", "ru-demo-uni"] and found["law"]["council"] == []
    russian = Api(campus.li).get("/api/v1/alliances", HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.status_code == 200


def test_apply_accept_leave_and_rejoin(campus: Campus) -> None:
    li, aida, ivan = Api(campus.li), Api(campus.aida), Api(campus.ivan)
    made = apply(li)
    first = created(made)
    assert made.json()["state"] == "pending" and made.json()["organisation"] == "cn-demo-uni"
    assert made.json()["member"] == "CN" and made.json()["motivation"] == "We train epidemiologists."
    assert alliances(li)["medicine"]["members"] == []
    assert not queries.is_member("cn-demo-uni", "medicine")

    # The council sees the pending application; the applicant does not see it among those to decide.
    assert [a["id"] for a in aida.get("/api/v1/alliances/medicine").json()["applications"]] == [first]
    mine = li.get("/api/v1/alliances/medicine").json()
    assert mine["applications"] == [] and mine["may_decide"] is False
    assert [m["state"] for m in mine["memberships"]] == ["pending"]

    accepted = decide(aida, first, "accept", "A strong school of public health.")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "member" and accepted.json()["decided_by"] == "KZ"
    assert accepted.json()["reason"] == "A strong school of public health."
    listed = alliances(li)["medicine"]
    assert listed["members"] == ["cn-demo-uni"] and listed["member_states"] == ["CN"]
    assert queries.member_organisations("medicine") == [("cn-demo-uni", "CN")]
    assert queries.member_codes("medicine") == ["CN"] and queries.alliances_of("cn-demo-uni") == ["medicine"]
    assert queries.is_member("cn-demo-uni", "medicine") and queries.may_act_for_alliance(campus.li, "medicine")
    assert not queries.may_act_for_alliance(campus.lin, "medicine")  # a viewer acts for no one
    assert not queries.may_act_for_alliance(campus.li, "law")
    assert queries.may_act_for_alliance(campus.world.sam, "law")  # a Secretariat coordinator
    assert queries.may_act_for_alliance(campus.aida, "medicine")  # the council

    # A second decision, by another council member, is refused: decided already.
    before = stored()
    again = decide(ivan, first, "decline", "Too late.")
    assert again.status_code == 409 and again.json()["field"] == "application"
    assert stored() == before

    left = li.post("/api/v1/alliances/medicine/leave", {"reason": "We focus on our own programmes."})
    assert left.status_code == 200, left.content
    assert left.json()["state"] == "left" and left.json()["reason"] == "We focus on our own programmes."
    assert alliances(li)["medicine"]["members"] == [] and not queries.is_member("cn-demo-uni", "medicine")

    # Rejoin: a new application, following the one that was left.
    second = created(apply(li))
    assert second != first
    assert Version.objects.get(record__uuid=second).body["previous"]["record"] == first
    assert decide(Api(campus.world.sam), second, "accept", "Welcome back.").json()["decided_by"] == "SCO"
    detail = li.get("/api/v1/alliances/medicine").json()
    assert detail["members"] == ["cn-demo-uni"]
    events = [(e["event"], e.get("rejoin", False)) for e in detail["history"]]
    assert events == [("applied", False), ("accepted", False), ("left", False), ("applied", True), ("accepted", False)]
    assert [e["reason"] for e in detail["history"]][1:3] == [
        "A strong school of public health.",
        "We focus on our own programmes.",
    ]
    assert li.get(f"/api/v1/applications/{first}").json()["application_state"] == "left"


def test_a_declined_organisation_may_apply_again(campus: Campus) -> None:
    li, ivan = Api(campus.li), Api(campus.ivan)
    first = created(apply(li))
    declined = decide(ivan, first, "decline", "The charter asks for a faculty of medicine.")
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert declined.json()["reason"] == "The charter asks for a faculty of medicine."
    assert alliances(li)["medicine"]["members"] == []
    second = created(apply(li, motivation="Our new faculty of medicine opened."))
    assert li.get(f"/api/v1/applications/{second}").json()["state"] == "pending"
    assert li.get(f"/api/v1/applications/{first}").json()["application_state"] == "declined"


def test_an_application_takes_no_body_at_all(campus: Campus) -> None:
    made = Api(campus.li).post("/api/v1/alliances/law/applications")
    assert made.status_code == 201, made.content
    assert made.json()["alliance"] == "law" and made.json()["motivation"] == ""


def test_joining_twice_is_a_409_naming_alliance_and_stores_nothing(campus: Campus) -> None:
    li = Api(campus.li)
    first = created(apply(li))
    before = stored()
    twice = apply(li)
    assert twice.status_code == 409 and twice.json()["field"] == "alliance"
    assert stored() == before
    decide(Api(campus.aida), first)
    member = apply(li)
    assert member.status_code == 409 and member.json()["field"] == "alliance" and "member" in member.json()["detail"]
    assert Record.objects.filter(kind="alliance_application").count() == 1


def test_deciding_ones_own_application_is_a_403(campus: Campus) -> None:
    aida = Api(campus.aida)  # on the council, and applying
    own = created(apply(aida))
    before = stored()
    refused = decide(aida, own)
    assert refused.status_code == 403 and refused.json()["field"] == "application"
    assert stored() == before
    # Another account of the same applying organisation neither.
    from tests.alliances.conftest import _account

    colleague = _account("dana", campus.kz_uni, "focal_point")
    assert decide(Api(colleague), own).status_code == 403
    assert stored() == before
    assert decide(Api(campus.ivan), own).status_code == 200  # the rest of the council may


def test_who_may_not_decide_gets_a_403(campus: Campus) -> None:
    application = created(apply(Api(campus.li)))
    before = stored()
    for account in (campus.world.alice, campus.world.carol, campus.world.dave):  # not on the council
        refused = decide(Api(account), application)
        assert refused.status_code == 403, (account.username, refused.content)
    from tests.alliances.conftest import _account

    sco_expert = _account("sco.expert", campus.world.secretariat, "expert")  # of the Secretariat, not a coordinator
    assert decide(Api(sco_expert), application).status_code == 403
    assert stored() == before


def test_a_decision_needs_a_reason_and_a_known_decision(campus: Campus) -> None:
    application = created(apply(Api(campus.li)))
    aida = Api(campus.aida)
    before = stored()
    for decision in ("accept", "decline"):
        for reason in ("", "   "):
            missing = decide(aida, application, decision, reason)
            assert missing.status_code == 400 and missing.json()["field"] == "reason", missing.content
    no_reason = aida.post(f"/api/v1/applications/{application}/decision", {"decision": "accept"})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    unknown = decide(aida, application, "maybe")
    assert unknown.status_code == 400 and unknown.json()["field"] == "decision"
    assert stored() == before


def test_leaving_an_alliance_one_is_not_in_is_a_409(campus: Campus) -> None:
    li = Api(campus.li)
    before = stored()
    never = li.post("/api/v1/alliances/law/leave")
    assert never.status_code == 409 and never.json()["field"] == "alliance"
    created(apply(li, "law"))
    before = stored()
    pending = li.post("/api/v1/alliances/law/leave", {})
    assert pending.status_code == 409 and pending.json()["field"] == "alliance"
    assert stored() == before


def test_unknown_alliance_and_application_are_404(campus: Campus) -> None:
    li = Api(campus.li)
    before = stored()
    for response in (
        li.get("/api/v1/alliances/astronomy"),
        apply(li, "astronomy"),
        li.post("/api/v1/alliances/astronomy/leave"),
        decide(Api(campus.aida), "7a1d7f8e-0000-4000-8000-000000000000"),
        li.get("/api/v1/applications/7a1d7f8e-0000-4000-8000-000000000000"),
    ):
        assert response.status_code == 404, response.content
    assert stored() == before


def test_a_viewer_only_account_may_not_apply_decide_or_leave(campus: Campus) -> None:
    lin = Api(campus.lin)
    before = stored()
    assert apply(lin).status_code == 403
    assert stored() == before
    application = created(apply(Api(campus.li)))
    decide(Api(campus.aida), application)
    before = stored()
    assert lin.post("/api/v1/alliances/medicine/leave").status_code == 403
    from tests.alliances.conftest import _account

    council_viewer = _account("kz.viewer", campus.kz_uni, "viewer")
    other = created(apply(Api(campus.world.alice)))
    before = stored()
    assert decide(Api(council_viewer), other).status_code == 403
    assert stored() == before


def test_an_account_applies_only_for_its_own_organisation(campus: Campus) -> None:
    before = stored()
    other = apply(Api(campus.li), organisation="kz-demo-uni")
    assert other.status_code == 403 and other.json()["field"] == "organisation"
    assert stored() == before
    assert created(apply(Api(campus.li), organisation="cn-demo-uni"))


def test_a_read_token_may_not_apply(campus: Campus) -> None:
    from accord.members import actions as member_actions

    _, token = member_actions.create_token(campus.li, name="r", scope="read", acting_user=None)
    from django.test import Client

    refused = Client().post(
        "/api/v1/alliances/medicine/applications",
        data="{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403
    assert Record.objects.filter(kind__in=KINDS).count() == 0


def test_the_records_are_shared_with_everyone_at_tlp_green_and_not_writable_through_records(campus: Campus) -> None:
    application = created(apply(Api(campus.li)))
    version = Version.objects.get(record__uuid=application)
    assert version.audience_everyone and version.tlp == "GREEN" and version.origin_member == "CN"
    generic = Api(campus.li).post(
        "/api/v1/records",
        {"kind": "alliance_application", "body": version.body, "audience": {"everyone": True}, "tlp": "GREEN"},
    )
    assert generic.status_code in (400, 422) and "applications" in generic.json()["detail"]
