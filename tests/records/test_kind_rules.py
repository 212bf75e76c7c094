"""Every kind's rules on every write path: the actions, the generic API, revisions, and versions from peers.

The forgeries are those an outside tester found: an acknowledgement or case counts in another member's name, an
IHR assessment whose computed outcome is typed in, an alert whose body is not CAP; plus node-only kinds issued
by an account and text with control characters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accord.alerts import actions as alert_actions
from accord.alerts.models import AcknowledgementView, AssessmentView
from accord.federation.actions import add_peer
from accord.federation.tasks import release_quarantined
from accord.lib import canonical
from accord.records import actions, kinds
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import ActionError, Forbidden
from accord.records.ingest import authority_problem
from accord.records.models import AuditEntry, QuarantinedVersion, Record, Version
from accord.surveillance import reference
from tests.alerts.support import cap, info
from tests.conftest import World, client_for

YES = {"answer": True, "evidence": ""}


def _region(member: str) -> str:
    return next(code for code, region in sorted(reference.regions().items()) if region.member == member)


def _counts(member: str) -> dict[str, Any]:
    return {
        "member": member,
        "region": _region(member),
        "disease": {"system": "ICD-10", "code": "B05", "name": "Measles"},
        "resolution": "week",
        "year": 2026,
        "counts": [{"period": "2026-W01", "count": 3}],
    }


@pytest.fixture
def bodies(world: World) -> dict[str, dict[str, Any]]:
    """A valid body of each kind as its own action makes it, issued for KZ (carol, a focal point of KZ)."""
    alert = alert_actions.publish_alert(
        cap(info()), audience=Audience(members=["KZ", "RU"]), tlp="AMBER", acting_user=world.alice
    ).version
    ack = alert_actions.acknowledge(alert.record, acting_user=world.carol, note="seen")
    assessment = alert_actions.assess(
        event="Cholera in Turkistan",
        answers={"serious_impact": YES, "unusual": YES, "international_spread": YES, "travel_trade": YES},
        acting_user=world.carol,
    )
    return {
        "alert": dict(alert.body),
        "acknowledgement": dict(ack.body),
        "ihr_assessment": dict(assessment.body),
        "case_counts": _counts("KZ"),
        "note": {"title": "Flood on the Ishim", "text": "Water rising", "language": "en"},
    }


# ---- what each forgery is, for every kind that speaks for a member or has computed fields ------------------

FORGERIES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]], type[ActionError], str]] = {
    "ack in India's name": ("acknowledgement", lambda b: {**b, "member": "IN"}, Forbidden, "body.member is IN"),
    "counts in China's name": ("case_counts", lambda b: _counts("CN"), Forbidden, "body.member is CN"),
    "outcome typed in": (
        "ihr_assessment",
        lambda b: {**b, "outcome": "do_not_notify"},
        ActionError,
        "body.outcome is computed",
    ),
    "not CAP": ("alert", lambda b: {"cap": {"foo": "bar"}}, ActionError, "cap:"),
    "ack that is no Ack": (
        "acknowledgement",
        lambda b: {**b, "cap": {**b["cap"], "msgType": "Alert"}},
        ActionError,
        "cap.msgType",
    ),
    "notified before the assessment": (
        "alert",
        lambda b: {
            **b,
            "cap": {**b["cap"], "sent": "2020-01-01T00:00:00+00:00"},
            "epidemic": {
                "disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"},
                "assessment": str(AssessmentView.objects.get().record.uuid),
            },
        },
        ActionError,
        "cap.sent: the notification time 2020-01-01T00:00:00+00:00 is before the assessment it notifies",
    ),
    "NUL in a title": ("note", lambda b: {**b, "title": "Flood\x00"}, ActionError, "control character NUL"),
    "bell in a text": ("note", lambda b: {**b, "text": "ring \x07"}, ActionError, "U+0007"),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_the_action_refuses_each_forgery_and_stores_nothing(world: World, bodies: dict[str, Any], case: str) -> None:
    kind, forge, error, message = FORGERIES[case]
    before = Version.objects.count()
    with pytest.raises(error) as raised:
        actions.publish(
            kind, forge(bodies[kind]), audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol
        )
    assert message in raised.value.message and raised.value.field in ("body", None)
    assert Version.objects.count() == before


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_revision_refuses_each_forgery(world: World, bodies: dict[str, Any], case: str) -> None:
    kind, forge, error, message = FORGERIES[case]
    if kind == "alert":
        record = Version.objects.get(kind="alert").record  # published by alice (CN)
        author = world.alice
    else:
        author = world.carol
        record = (
            Record.objects.filter(kind=kind, origin_member="KZ").first()
            or actions.publish(
                kind, bodies[kind], audience=Audience(everyone=True), tlp="GREEN", acting_user=author
            ).record
        )
    seq = record.current_seq
    with pytest.raises(error) as raised:
        actions.revise(record, acting_user=author, body=forge(bodies[kind]))
    assert message in raised.value.message
    record.refresh_from_db()
    assert record.current_seq == seq


def test_the_same_bodies_unforged_are_accepted(world: World, bodies: dict[str, Any]) -> None:
    """The rules refuse what is forged, not the kind: each valid body passes its kind's check for KZ."""
    for name, body in bodies.items():
        kind = kinds.require(name)
        status = "actual"
        kind.check(body, kinds.Author(member="CN" if name == "alert" else "KZ", status=status))


def test_a_bidi_override_is_stored_as_text(world: World) -> None:
    """Right-to-left text is legitimate (Persian, for Iran): it is kept, and the pages isolate it."""
    version = actions.publish(
        "note",
        {"title": "\u202eevil\u202c title"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    )
    assert version.body["title"] == "\u202eevil\u202c title"


def test_a_withdrawal_reason_with_control_characters_is_refused(world: World) -> None:
    version = actions.publish(
        "note", {"title": "t"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol
    )
    with pytest.raises(ActionError) as raised:
        actions.withdraw(version.record, acting_user=world.carol, reason="oops\x1b[31m")
    assert raised.value.field == "reason" and "U+001B" in raised.value.message


@pytest.mark.parametrize("kind", ["node_key", "node_record", "audit_checkpoint"])
def test_node_kinds_are_never_issued_by_an_account(world: World, kind: str) -> None:
    admin = world.sam
    with pytest.raises(Forbidden) as raised:
        actions.publish(kind, {"member": "SCO"}, audience=Audience(everyone=True), tlp="CLEAR", acting_user=admin)
    assert "issued only by a node" in raised.value.message


def test_an_assessment_of_another_members_alert_is_refused(world: World, bodies: dict[str, Any]) -> None:
    alert = Version.objects.get(kind="alert")
    body = {**bodies["ihr_assessment"], "alert": {"node": str(alert.origin_node), "record": str(alert.record_uuid)}}
    with pytest.raises(Forbidden) as raised:
        actions.publish("ihr_assessment", body, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol)
    assert "only the member that sent an alert assesses it" in raised.value.message


# ---- the generic API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    [
        ("alert", "POST /api/v1/alerts"),
        ("acknowledgement", "POST /api/v1/alerts/{uuid}/acknowledge"),
        ("ihr_assessment", "POST /api/v1/assessments"),
        ("case_counts", "POST /api/v1/surveillance/uploads"),
        ("node_key", "rotate-key"),
        ("node_record", "the node itself"),
        ("audit_checkpoint", "accord audit checkpoint"),
    ],
)
def test_the_generic_endpoint_sends_kinds_with_their_own_to_it(
    world: World, bodies: dict[str, Any], kind: str, endpoint: str
) -> None:
    web = client_for(world.carol)
    before = Version.objects.count()
    response = web.post(
        "/api/v1/records",
        {"kind": kind, "body": bodies.get(kind, {}), "audience": {"everyone": True}, "tlp": "GREEN"},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "kind" and endpoint in response.json()["detail"]
    assert Version.objects.count() == before


def test_the_generic_endpoint_cannot_revise_or_withdraw_an_alert_or_an_acknowledgement(
    world: World, bodies: dict[str, Any]
) -> None:
    ack = Record.objects.get(kind="acknowledgement")
    alert = Record.objects.get(kind="alert")
    carol, alice = client_for(world.carol), client_for(world.alice)
    revised = carol.post(
        f"/api/v1/records/{ack.uuid}/versions",
        {"body": {**bodies["acknowledgement"], "member": "IN"}},
        content_type="application/json",
    )
    assert revised.status_code == 400 and "acknowledge" in revised.json()["detail"]
    withdrawn = alice.post(f"/api/v1/records/{alert.uuid}/withdraw", {"reason": "x"}, content_type="application/json")
    assert withdrawn.status_code == 400 and "/cancel" in withdrawn.json()["detail"]
    assert Record.objects.get(pk=ack.pk).current_seq == 1 and Record.objects.get(pk=alert.pk).current_seq == 1


def test_a_note_with_a_nul_is_refused_by_the_api_naming_the_field(world: World) -> None:
    web: Client = client_for(world.carol)
    response = web.post(
        "/api/v1/records",
        json.dumps({"kind": "note", "body": {"title": "a\u0000b"}, "audience": {"everyone": True}, "tlp": "GREEN"}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "body" and "body.title" in response.json()["detail"]


# ---- versions received from peers ------------------------------------------------------------------------


class Sender:
    """A peer node of `member`, signing what the test makes it say."""

    def __init__(self, member: str) -> None:
        self.key = canonical.generate_private_key()
        self.public = canonical.public_key_b64(self.key)
        self.node_id = uuid.uuid4()
        self.member = member
        add_peer(
            name=f"peer-{str(self.node_id)[:8]}",
            node_id=str(self.node_id),
            public_key=self.public,
            member=member,
            acting_user=None,
        )

    def send(
        self, kind: str, body: dict[str, Any], *, member: str | None = None, by_node: bool = False
    ) -> actions.IngestResult:
        origin = {
            "node": str(self.node_id),
            "member": member or self.member,
            "organisation": None if by_node else str(uuid.uuid4()),
            "account": None if by_node else str(uuid.uuid4()),
        }
        data, _ = encode(
            build_envelope(
                kind=kind,
                origin=origin,
                record=uuid.uuid4(),
                seq=1,
                prev_hash=None,
                status="actual",
                state="active",
                audience=Audience(everyone=True),
                tlp="GREEN",
                body=body,
                attachments=[],
            )
        )
        return actions.ingest(data, canonical.sign(self.key, data), canonical.key_id(self.public), source="test")


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_version_from_a_peer_is_quarantined_and_never_shown(
    world: World, bodies: dict[str, Any], case: str
) -> None:
    kind, forge, _, message = FORGERIES[case]
    kz = Sender("KZ")
    result = kz.send(kind, forge(bodies[kind]))
    assert result.outcome == "quarantined" and result.quarantined is not None
    assert message in result.quarantined.reason and result.quarantined.existing_hash == ""
    assert not Version.objects.filter(origin_node=kz.node_id).exists()
    assert any(message in entry.data["reason"] for entry in AuditEntry.objects.filter(action="record.quarantine"))


def test_a_peer_may_not_speak_for_another_member_in_the_envelope_either(world: World, bodies: dict[str, Any]) -> None:
    kz = Sender("KZ")
    forged = kz.send("acknowledgement", {**bodies["acknowledgement"], "member": "IN"}, member="IN")
    assert forged.outcome == "quarantined" and forged.quarantined is not None
    assert "may issue versions for KZ, not for IN" in forged.quarantined.reason
    honest = kz.send("acknowledgement", bodies["acknowledgement"])
    assert honest.outcome == "stored"
    # KZ acknowledged this alert already on this node: the first acknowledgement stands on the board.
    assert AcknowledgementView.objects.filter(member="KZ").count() == 1


def test_a_node_that_is_no_peer_speaks_for_no_member(world: World) -> None:
    key = canonical.generate_private_key()
    node = uuid.uuid4()
    from accord.members.actions import register_node_key

    register_node_key(str(node), canonical.public_key_b64(key), acting_user=None)
    shape_origin = {"node": str(node), "member": "KZ", "organisation": None, "account": None}
    data, _ = encode(
        build_envelope(
            kind="note",
            origin=shape_origin,
            record=uuid.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="GREEN",
            body={"title": "hello"},
            attachments=[],
        )
    )
    from accord.records.envelope import decode

    assert authority_problem(decode(data), node) == f"node {node} may issue versions for no member, not for KZ"


def test_a_node_key_announced_by_an_account_of_a_peer_is_quarantined(world: World) -> None:
    kz = Sender("KZ")
    other = canonical.public_key_b64(canonical.generate_private_key())
    body = {"action": "add", "kid": canonical.key_id(other), "public_key": other}
    forged = kz.send("node_key", body)
    assert forged.outcome == "quarantined" and forged.quarantined is not None
    assert "issued only by a node" in forged.quarantined.reason


def test_a_secretariat_hub_speaks_for_the_members_its_node_record_declares(
    world: World, bodies: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    hub = Sender("SCO")
    tj_counts = _counts("TJ")
    early = hub.send("case_counts", tj_counts, member="TJ")
    assert early.outcome == "quarantined"  # before the hub declared TJ
    with django_capture_on_commit_callbacks(execute=True):
        declared = hub.send("node_record", {"member": "SCO", "hosts": ["TJ"]}, by_node=True)
    assert declared.outcome == "stored"
    assert release_quarantined.call(str(hub.node_id)) == 1  # the task the record's arrival queued
    assert Version.objects.filter(origin_node=hub.node_id, kind="case_counts", origin_member="TJ").count() == 1
    assert not QuarantinedVersion.objects.filter(origin_node=hub.node_id).exists()
    assert AuditEntry.objects.filter(action="record.release").count() == 1
    # TJ yes; India, which the hub does not host, no; and a hub that is not the Secretariat hosts nobody.
    assert (
        hub.send(
            "case_counts", {**_counts("TJ"), "year": 2025, "counts": [{"period": "2025-W01", "count": 1}]}, member="TJ"
        ).outcome
        == "stored"
    )
    assert hub.send("case_counts", _counts("IN"), member="IN").outcome == "quarantined"
    kz = Sender("KZ")
    assert kz.send("node_record", {"member": "KZ", "hosts": ["TJ"]}, by_node=True).outcome == "stored"
    assert kz.send("case_counts", _counts("TJ"), member="TJ").outcome == "quarantined"


def test_this_node_declares_the_members_it_hosts_in_its_node_record(world: World) -> None:
    from accord.federation import noderecord

    version = noderecord.sync()
    assert version is not None and version.kind == "node_record" and version.author is None
    assert version.body == {"member": "SCO", "hosts": ["CN", "KZ", "RU"]}
    assert noderecord.sync() is None  # unchanged: no new version
    from accord.members.actions import create_organisation

    create_organisation(member_code="TJ", slug="tj-health", kind="health_ministry", name_en="TJ", acting_user=None)
    again = noderecord.sync()
    assert again is not None and again.seq == 2 and again.body["hosts"] == ["CN", "KZ", "RU", "TJ"]


def test_the_dedicated_endpoints_refuse_a_member_or_an_outcome_typed_in(world: World) -> None:
    alert = alert_actions.publish_alert(
        cap(info()), audience=Audience(members=["KZ"]), tlp="AMBER", acting_user=world.alice
    ).version
    web = client_for(world.carol)
    ack = web.post(f"/api/v1/alerts/{alert.record_uuid}/acknowledge", {"member": "IN"}, content_type="application/json")
    assert ack.status_code == 422 and "member" in ack.json()["detail"]
    answers = dict.fromkeys(("serious_impact", "unusual", "international_spread", "travel_trade"), YES)
    assessed = web.post(
        "/api/v1/assessments",
        {"event": "x", "answers": answers, "outcome": "do_not_notify"},
        content_type="application/json",
    )
    assert assessed.status_code == 422 and "outcome" in assessed.json()["detail"]
    assert not Version.objects.filter(kind__in=["acknowledgement", "ihr_assessment"]).exists()


def test_control_characters_are_refused_outside_records_too(world: World) -> None:
    """Names people read elsewhere: organisations, API tokens, subscriptions."""
    from accord.members.actions import create_organisation, create_token
    from accord.notify.actions import create_subscription

    with pytest.raises(ActionError) as raised:
        create_organisation(
            member_code="KZ", slug="kz-x", kind="health_ministry", name_en="Ministry\x00", acting_user=None
        )
    assert raised.value.field == "name_en" and "NUL" in raised.value.message
    with pytest.raises(ActionError) as raised:
        create_token(world.carol, name="laptop\x1b[2J", acting_user=world.carol)
    assert raised.value.field == "name" and "U+001B" in raised.value.message
    with pytest.raises(ActionError) as raised:
        create_subscription(channels=[], account=world.carol, name="cholera\x07", acting_user=world.carol)
    assert raised.value.field == "name"
