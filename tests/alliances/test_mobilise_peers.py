"""Mobilisation from versions received from peers: a reply made on the expert's node reaches the caller's node (the
same projection, the caller told, the call's page shows it), a call made on another node reaches the called expert
here (they see it among their calls, are told, and answer here); the kinds' rules hold on received versions (a reply
for an expert the call did not call, or outside its window, a selection by another member than the call's, is
quarantined); and a selection of an expert who answered on another node is the documented 409."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.alliances import mobilise_notices
from accord.alliances.mobilise_models import RosterCallView, RosterReplyView
from accord.lib import canonical
from accord.notify.models import Delivery
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.ingest import IngestResult
from accord.records.models import Record
from tests.alliances.mobilise_support import Mob, call, created, mob_fixture  # noqa: F401
from tests.alliances.roster_support import Api, roster_fixture  # noqa: F401
from tests.response.peers import Peer, make_peer

pytestmark = pytest.mark.django_db


def _send(peer: Peer, kind: str, body: dict[str, Any], audience: Audience) -> IngestResult:
    origin: dict[str, Any] = {"node": str(peer.node_id), "member": peer.member, "organisation": str(uuid.uuid4()),
              "account": str(uuid.uuid4())}  # fmt: skip
    envelope = build_envelope(
        kind=kind,
        origin=origin,
        record=uuid.uuid4(),
        seq=1,
        prev_hash=None,
        status="actual",
        state="active",
        audience=audience,
        tlp="AMBER",
        body=body,
        attachments=[],
    )
    data, _ = encode(envelope)
    return actions.ingest(data, canonical.sign(peer.key, data), peer.kid, source="test")


def _ref(record: Record | str, node: Any = None) -> dict[str, str]:
    if isinstance(record, Record):
        return {"node": str(record.origin_node), "record": str(record.uuid)}
    return {"node": str(node), "record": record}


def test_a_reply_from_the_experts_node_reaches_the_caller(mob: Mob) -> None:
    """li's profile is CN's, but say li answered on CN's node: the reply arrives here, signed by that node."""
    carol = Api(mob.carol)
    made = created(call(carol, request=str(mob.request.uuid)))
    called = Record.objects.get(uuid=made["id"])
    cn = make_peer("CN")
    profile = Record.objects.get(uuid=mob.li_profile)
    audience = Audience(members=["KZ", "SCO"])
    reply = {"call": _ref(called), "expert": _ref(profile), "member": "CN", "available": True,
             "from": "2026-06-12", "until": "2026-06-30", "note": "from CN"}  # fmt: skip
    result = _send(cn, "roster_reply", reply, audience)
    assert result.outcome == "stored", result.quarantined
    assert RosterReplyView.objects.filter(call_record=called.uuid, available=True).count() == 1
    shown = carol.get(f"/api/v1/roster-calls/{made['id']}").json()
    assert shown["experts"][0]["reply"]["note"] == "from CN" and shown["experts"][0]["reply"]["node"] == str(cn.node_id)
    assert result.version is not None
    mobilise_notices.committed(result.version.pk)
    assert list(Delivery.objects.filter(version=result.version).values_list("address", flat=True)) == [
        "carol@example.org"
    ]
    # Selecting an expert who answered on another node is not built yet: a 409 that says so, nothing stored.
    refused = carol.post(f"/api/v1/roster-calls/{made['id']}/selections", {"expert": mob.li_profile})
    assert refused.status_code == 409 and refused.json()["field"] == "expert"
    assert "another node" in refused.json()["detail"]
    assert not Record.objects.filter(kind="assistance_offer").exists()

    # The kinds' rules hold on received versions: an expert the call did not call; dates outside its window.
    stranger = {**reply, "expert": _ref(str(uuid.uuid4()), cn.node_id)}
    assert _send(cn, "roster_reply", stranger, audience).outcome == "quarantined"
    outside = {**reply, "from": "2026-08-01", "until": "2026-08-05"}
    assert _send(cn, "roster_reply", outside, audience).outcome == "quarantined"
    as_kz = {**reply, "member": "KZ"}  # CN's node speaks for CN only
    assert _send(cn, "roster_reply", as_kz, audience).outcome == "quarantined"
    assert RosterReplyView.objects.filter(call_record=called.uuid).count() == 1


def test_a_call_from_another_node_reaches_the_called_expert_here(mob: Mob) -> None:
    """The Secretariat's hub calls li; li is told here, sees the call among hers, and answers on this node."""
    hub = make_peer("SCO")
    profile = Record.objects.get(uuid=mob.li_profile)
    body: dict[str, Any] = {
        "incident": _ref(mob.incident),
        "request": _ref(mob.request),
        "member": "SCO",
        "requester": "KZ",
        "field": "epidemiology",
        "from": "2026-06-10",
        "until": "2026-06-30",
        "region": "KZ-47",
        "message": "From the hub",
        "called": [{"profile": _ref(profile), "member": "CN", "account": str(mob.roster.li.uuid)}],
    }
    result = _send(hub, "roster_call", body, Audience(members=["CN", "KZ", "SCO"]))
    assert result.outcome == "stored", result.quarantined
    assert result.version is not None
    assert RosterCallView.objects.filter(record__uuid=result.version.record_uuid, called=1).exists()
    mobilise_notices.committed(result.version.pk)
    assert list(Delivery.objects.filter(version=result.version).values_list("address", flat=True)) == ["li@example.org"]
    li = Api(mob.roster.li)
    answered = created(li.post(f"/api/v1/roster-calls/{result.version.record_uuid}/replies", {"available": True}))
    assert answered["expert"] == mob.li_profile and answered["from"] == "2026-06-10"
    assert (
        Api(mob.roster.aida)
        .post(f"/api/v1/roster-calls/{result.version.record_uuid}/replies", {"available": True})
        .status_code
        == 403
    )

    # A call that calls an expert of the member that selects, or made by a member for another: quarantined.
    own = {**body, "called": [{**body["called"][0], "member": "KZ"}]}
    assert _send(hub, "roster_call", own, Audience(members=["CN", "KZ", "SCO"])).outcome == "quarantined"
    cn = make_peer("CN")
    for_kz = {**body, "member": "CN"}
    assert _send(cn, "roster_call", for_kz, Audience(members=["CN", "KZ", "SCO"])).outcome == "quarantined"

    # A selection received from another member than the call's requester is quarantined.
    selection = {
        "call": _ref(str(result.version.record_uuid), hub.node_id),
        "expert": _ref(profile),
        "expert_member": "CN",
        "member": "SCO",
        "reply": {**_ref(str(answered["id"]), answered["node"]), "seq": 1},
        **{name: _ref(str(uuid.uuid4()), hub.node_id) for name in
           ("request", "offer", "acceptance", "commitment", "deployment")},
    }  # fmt: skip
    assert _send(hub, "roster_selection", selection, Audience(members=["CN", "KZ", "SCO"])).outcome == "quarantined"
