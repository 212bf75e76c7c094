"""Membership from versions received from peers: the same projection as for versions issued here, the decisions that
count (a council's member or the Secretariat, never the applicant), conflicting decisions settled the same way
whatever order they arrive in, departures only by the member organisation itself, rejoining, and the kinds' rules
on received versions (a version that breaks them is quarantined, not counted)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from accord.alliances import membership_queries as queries
from accord.alliances.membership_models import Membership
from accord.lib import canonical
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.ingest import IngestResult
from tests.alliances.conftest import Api, Campus
from tests.response.peers import Peer, make_peer

pytestmark = pytest.mark.django_db

T0 = "2026-05-01T10:00:0{}Z"


@dataclass
class Org:
    """An organisation hosted by a peer node: its slug, and its UUID there (the versions' origin organisation)."""

    peer: Peer
    slug: str
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def send(self, kind: str, body: dict[str, Any], **options: Any) -> IngestResult:
        return send(self.peer, kind, body, organisation=self.uuid, **options)

    def apply(self, at: int = 0, previous: dict[str, str] | None = None, **options: Any) -> dict[str, str]:
        body: dict[str, Any] = {
            "alliance": "medicine",
            "organisation": {"slug": self.slug, "member": self.peer.member, "name": f"{self.slug} (demo)"},
            "motivation": "Joint research.",
        }
        if previous is not None:
            body["previous"] = previous
        return ref(self.send("alliance_application", body, at=at, **options))

    def leave(self, application: dict[str, str], at: int = 0) -> IngestResult:
        body = {"application": application, "alliance": "medicine", "organisation": self.key(), "reason": "Done."}
        return self.send("alliance_departure", body, at=at)

    def key(self) -> dict[str, str]:
        return {"slug": self.slug, "member": self.peer.member}


def send(
    peer: Peer,
    kind: str,
    body: dict[str, Any],
    *,
    organisation: str | None = None,
    at: int = 0,
    record: uuid.UUID | None = None,
    audience: Audience | None = None,
    tlp: str = "GREEN",
) -> IngestResult:
    """Sign a version as `peer` (an account of `organisation` there), created at second `at`, and ingest it here."""
    envelope = build_envelope(
        kind=kind,
        origin={
            "node": str(peer.node_id),
            "member": peer.member,
            "organisation": organisation or str(uuid.uuid4()),
            "account": str(uuid.uuid4()),
        },
        record=record or uuid.uuid4(),
        seq=1,
        prev_hash=None,
        status="actual",
        state="active",
        audience=audience or Audience(everyone=True),
        tlp=tlp,
        body=body,
        attachments=[],
        created_at=T0.format(at) if at < 10 else f"2026-05-01T10:00:{at}Z",
    )
    data, _ = encode(envelope)
    return actions.ingest(data, canonical.sign(peer.key, data), peer.kid, source="test")


def ref(result: IngestResult) -> dict[str, str]:
    assert result.outcome == "stored" and result.version is not None, (result.outcome, result.quarantined)
    return {"node": str(result.version.origin_node), "record": str(result.version.record_uuid)}


def decision(
    peer: Peer, application: dict[str, str], org: Org, verdict: str, *, at: int = 0, **options: Any
) -> IngestResult:
    body = {
        "application": application,
        "alliance": "medicine",
        "organisation": org.key(),
        "decision": verdict,
        "reason": f"{verdict} by {peer.member}",
    }
    return send(peer, "alliance_decision", body, at=at, **options)


def state(org: Org) -> str | None:
    found = Membership.objects.filter(alliance="medicine", organisation=org.slug, member=org.peer.member).first()
    return None if found is None else found.state


def test_a_peers_application_and_a_council_members_decision_make_a_member(campus: Campus) -> None:
    cn, kz = make_peer("CN"), make_peer("KZ")
    org = Org(cn, "cn-peer-uni")
    application = org.apply(at=1)
    assert state(org) == "pending"
    assert ref(decision(kz, application, org, "accept", at=2))  # KZ: the member of a council organisation
    assert state(org) == "member"
    assert queries.member_organisations("medicine") == [("cn-peer-uni", "CN")] and queries.is_member(
        "cn-peer-uni", "medicine"
    )
    listed = {a["slug"]: a for a in Api(campus.li).get("/api/v1/alliances").json()}
    assert listed["medicine"]["members"] == ["cn-peer-uni"]
    assert listed["medicine"]["member_organisations"][0]["name"] == "cn-peer-uni (demo)"


def test_a_decision_by_a_member_outside_the_council_is_stored_but_counts_for_nothing(campus: Campus) -> None:
    cn, uz = make_peer("CN"), make_peer("UZ")
    org = Org(cn, "cn-peer-uni")
    application = org.apply(at=1)
    assert ref(decision(uz, application, org, "accept", at=2))  # stored: signed, well formed
    assert state(org) == "pending"
    assert ref(decision(make_peer("SCO"), application, org, "accept", at=3))  # the Secretariat decides
    assert state(org) == "member"


def test_the_applying_organisation_cannot_decide_its_own_application_even_from_its_node(campus: Campus) -> None:
    kz = make_peer("KZ")  # a council member's node
    org = Org(kz, "kz-peer-uni")
    application = org.apply(at=1)
    assert ref(org.send("alliance_decision", own_decision(application, org), at=2))  # its own organisation
    assert state(org) == "pending"
    assert ref(send(kz, "alliance_decision", own_decision(application, org), at=3))  # another organisation there
    assert state(org) == "member"


def own_decision(application: dict[str, str], org: Org) -> dict[str, Any]:
    return {
        "application": application,
        "alliance": "medicine",
        "organisation": org.key(),
        "decision": "accept",
        "reason": "ours",
    }


@pytest.mark.parametrize("order", ["decline first", "accept first"])
def test_conflicting_decisions_the_earliest_signed_wins_whatever_the_order_of_arrival(
    campus: Campus, order: str
) -> None:
    cn, kz, ru = make_peer("CN"), make_peer("KZ"), make_peer("RU")
    org = Org(cn, "cn-peer-uni")
    application = org.apply(at=1)
    arrivals = {
        "decline": lambda: decision(kz, application, org, "decline", at=7),
        "accept": lambda: decision(ru, application, org, "accept", at=5),
    }
    for name in ("decline", "accept") if order == "decline first" else ("accept", "decline"):
        ref(arrivals[name]())
    found = Membership.objects.get(organisation="cn-peer-uni")
    assert (found.state, found.decided_by, found.reason) == ("member", "RU", "accept by RU")
    assert [e["event"] for e in found.history] == ["applied", "accepted"]


def test_conflicting_decisions_signed_in_the_same_second_the_smaller_record_uuid_wins(campus: Campus) -> None:
    cn, kz, ru = make_peer("CN"), make_peer("KZ"), make_peer("RU")
    org = Org(cn, "cn-peer-uni")
    application = org.apply(at=1)
    small, large = uuid.UUID(int=1 << 120), uuid.UUID(int=(1 << 127) + 5)
    ref(decision(kz, application, org, "accept", at=4, record=large))
    assert state(org) == "member"
    ref(decision(ru, application, org, "decline", at=4, record=small))
    assert state(org) == "declined"
    assert Membership.objects.get(organisation="cn-peer-uni").decided_by == "RU"


def test_a_decision_that_arrives_before_its_application_counts_once_the_application_does(campus: Campus) -> None:
    cn, kz = make_peer("CN"), make_peer("KZ")
    org = Org(cn, "cn-peer-uni")
    application_id = uuid.uuid4()
    application = {"node": str(cn.node_id), "record": str(application_id)}
    ref(decision(kz, application, org, "accept", at=2))
    assert state(org) is None
    assert org.apply(at=1, record=application_id) == application
    assert state(org) == "member"


def test_only_the_member_organisation_itself_leaves_and_then_rejoins(campus: Campus) -> None:
    cn, kz = make_peer("CN"), make_peer("KZ")
    org = Org(cn, "cn-peer-uni")
    first = org.apply(at=1)
    ref(decision(kz, first, org, "accept", at=2))
    stranger = Org(cn, "cn-peer-uni")  # the same slug, but another organisation of that node
    ref(stranger.leave(first, at=3))
    assert state(org) == "member"
    ref(org.leave(first, at=4))
    assert state(org) == "left" and not queries.is_member("cn-peer-uni", "medicine")
    second = org.apply(at=5, previous=first)
    found = Membership.objects.get(organisation="cn-peer-uni")
    assert found.state == "pending" and str(found.application.uuid) == second["record"]
    assert [(e["event"], e["rejoin"]) for e in found.history if e["event"] == "applied"] == [
        ("applied", False),
        ("applied", True),
    ]
    ref(decision(kz, second, org, "accept", at=6))
    assert state(org) == "member" and queries.alliances_of("cn-peer-uni") == ["medicine"]


def test_an_application_while_one_is_pending_or_accepted_does_not_count(campus: Campus) -> None:
    cn, kz = make_peer("CN"), make_peer("KZ")
    org = Org(cn, "cn-peer-uni")
    first = org.apply(at=1)
    twice = org.apply(at=2, previous=first)  # joining twice, while the first is pending
    found = Membership.objects.get(organisation="cn-peer-uni")
    assert found.state == "pending" and str(found.application.uuid) == first["record"]
    ref(decision(kz, twice, org, "accept", at=3))  # a decision of the application that does not count
    assert state(org) == "pending"
    ref(decision(kz, first, org, "accept", at=4))
    assert state(org) == "member"
    assert str(Membership.objects.get(organisation="cn-peer-uni").application.uuid) == first["record"]
    parallel = org.apply(at=5)  # a second "first" application: the earlier one counts
    assert str(Membership.objects.get(organisation="cn-peer-uni").application.uuid) == first["record"]
    assert parallel != first


def test_a_version_not_shared_with_everyone_at_green_does_not_count(campus: Campus) -> None:
    cn = make_peer("CN")
    org = Org(cn, "cn-peer-uni")
    org.apply(at=1, audience=Audience(members=["CN", "KZ"]), tlp="AMBER")
    assert state(org) is None


def test_received_versions_that_break_the_kinds_rules_are_quarantined(campus: Campus) -> None:
    cn, kz = make_peer("CN"), make_peer("KZ")
    org = Org(cn, "cn-peer-uni")
    application = org.apply(at=1)
    no_reason = {**own_decision(application, org), "reason": " "}
    assert send(kz, "alliance_decision", no_reason, at=2).outcome == "quarantined"
    unknown = {**own_decision(application, org), "alliance": "astronomy"}
    assert send(kz, "alliance_decision", unknown, at=2).outcome == "quarantined"
    maybe = {**own_decision(application, org), "decision": "maybe"}
    assert send(kz, "alliance_decision", maybe, at=2).outcome == "quarantined"
    # An application speaks only for the member of the node's account: a CN node applies for no KZ organisation.
    for_kz = {"alliance": "medicine", "organisation": {"slug": "kz-x", "member": "KZ"}, "motivation": ""}
    assert send(cn, "alliance_application", for_kz, at=3).outcome == "quarantined"
    assert state(org) == "pending" and Membership.objects.count() == 1
