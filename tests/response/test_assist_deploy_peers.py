"""A deployment's versions received from a peer are checked against the version before them as this node stores
it, not only against their own `change.from_status`: a status going back, or a delivered quantity going down, is
refused (quarantined, never shown) on the one-by-one path and in a page received at once (`ingest_many`)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.lib import canonical
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import ActionError
from accord.records.ingest import Incoming, IngestResult, ingest_many
from accord.records.kinds import Author
from accord.records.models import QuarantinedVersion, Record
from accord.response.assist_deploy_kind import DEPLOYMENT
from accord.response.assist_models import DeploymentView
from tests.response.peers import Peer, make_peer

pytestmark = pytest.mark.django_db


def _body(status: str, delivered: int, from_status: str | None) -> dict[str, Any]:
    node = "00000000-0000-0000-0000-000000000001"
    change: dict[str, Any] = {"action": "create"} if from_status is None else {"action": "status"}
    if from_status is not None:
        change["from_status"] = from_status
    return {
        "incident": {"node": node, "record": "00000000-0000-0000-0000-000000000002"},
        "request": {"node": node, "record": "00000000-0000-0000-0000-000000000003"},
        "offer": {"node": node, "record": "00000000-0000-0000-0000-000000000004"},
        "member": "CN",
        "resource_type": "pcr_tests",
        "unit": "tests",
        "quantity": 6000,
        "delivered": delivered,
        "contact": {"name": "Wang Li"},
        "location": {"region": "KZ-61"},
        "status": status,
        "change": change,
    }


class Chain:
    """The versions of one deployment as the peer signs them, each following the one before."""

    def __init__(self, peer: Peer) -> None:
        self.peer, self.record = peer, uuid.uuid4()
        self.hashes: list[str | None] = [None]
        self.organisation, self.account = str(uuid.uuid4()), str(uuid.uuid4())

    def sign(self, seq: int, body: dict[str, Any]) -> Incoming:
        envelope = build_envelope(
            kind="deployment",
            origin={
                "node": str(self.peer.node_id),
                "member": self.peer.member,
                "organisation": self.organisation,
                "account": self.account,
            },
            record=self.record,
            seq=seq,
            prev_hash=self.hashes[seq - 1],
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="GREEN",
            body=body,
            attachments=[],
        )
        data, digest = encode(envelope)
        if len(self.hashes) == seq:
            self.hashes.append(digest)
        else:
            self.hashes[seq] = digest
        return Incoming(data, canonical.sign(self.peer.key, data), self.peer.kid)


def _one(item: Incoming) -> IngestResult:
    return actions.ingest(item.data, item.signature, item.kid, source="test")


def _shown(chain: Chain) -> tuple[int, str, int]:
    record = Record.objects.select_related("current_version").get(uuid=chain.record)
    view = DeploymentView.objects.get(record=record)
    return record.current_seq, view.status, view.delivered


def test_a_peer_version_going_back_from_the_stored_one_is_quarantined_whatever_its_from_status() -> None:
    chain = Chain(make_peer("CN"))
    assert _one(chain.sign(1, _body("mobilising", 0, None))).outcome == "stored"
    assert _one(chain.sign(2, _body("arrived", 3000, "mobilising"))).outcome == "stored"
    # Back to in_transit, saying it comes from mobilising (the kind's own check would let it pass).
    backwards = _one(chain.sign(3, _body("in_transit", 3000, "mobilising")))
    assert backwards.outcome == "quarantined" and backwards.quarantined is not None
    assert "status" in backwards.quarantined.reason and "arrived" in backwards.quarantined.reason
    # Forward, but less delivered than the version before.
    less = _one(chain.sign(3, _body("operating", 1000, "arrived")))
    assert less.outcome == "quarantined" and less.quarantined is not None
    assert "delivered" in less.quarantined.reason
    assert _shown(chain) == (2, "arrived", 3000)
    # The honest next version is stored, and moves the deployment on.
    assert _one(chain.sign(3, _body("operating", 6000, "arrived"))).outcome == "stored"
    assert _shown(chain) == (3, "operating", 6000)
    assert QuarantinedVersion.objects.filter(record_uuid=chain.record).count() == 2


def test_a_page_received_at_once_is_checked_version_by_version() -> None:
    chain = Chain(make_peer("CN"))
    page = [
        chain.sign(1, _body("mobilising", 0, None)),
        chain.sign(2, _body("arrived", 2000, "mobilising")),
        chain.sign(3, _body("operating", 4000, "arrived")),
        chain.sign(4, _body("in_transit", 4000, "mobilising")),  # back, behind a lying from_status
    ]
    results = ingest_many(page, source="test")
    outcomes = [r.outcome if isinstance(r, IngestResult) else "error" for r in results]
    assert outcomes == ["stored", "stored", "stored", "quarantined"]
    assert _shown(chain) == (3, "operating", 4000)
    less = chain.sign(4, _body("operating", 3999, "operating"))
    again = [less, chain.sign(4, _body("demobilised", 4000, "operating"))]
    found = ingest_many(again, source="test")
    assert [r.outcome if isinstance(r, IngestResult) else "error" for r in found] == ["quarantined", "stored"]
    assert _shown(chain) == (4, "demobilised", 4000)
    assert QuarantinedVersion.objects.filter(record_uuid=chain.record).count() == 2


def test_the_rule_between_versions_is_the_kinds_on_every_path() -> None:
    author = Author(member="CN", received=True)
    previous = DEPLOYMENT.check(_body("arrived", 3000, "in_transit"), author)
    with pytest.raises(ActionError) as back:
        DEPLOYMENT.check(_body("in_transit", 3000, "mobilising"), author, previous)
    assert back.value.field == "status"
    with pytest.raises(ActionError) as less:
        DEPLOYMENT.check(_body("arrived", 2999, "arrived"), author, previous)
    assert less.value.field == "delivered"
    assert DEPLOYMENT.check(_body("arrived", 3000, "arrived"), author, previous)["delivered"] == 3000
    # Without the version before it, only what the version says of itself is checked.
    assert DEPLOYMENT.check(_body("in_transit", 0, "mobilising"), author)["status"] == "in_transit"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("quantity", {"quantity": 9000}),
        ("member", {"member": "RU"}),
        ("offer", {"offer": {"node": "00000000-0000-0000-0000-000000000001", "record": str(uuid.UUID(int=9))}}),
        ("resource_type", {"resource_type": "antivirals", "unit": "courses"}),
    ],
)
def test_a_later_version_changes_nothing_of_what_the_deployment_is_for(field: str, changes: dict[str, Any]) -> None:
    """A status report moves the status and the delivered quantity; one that also changes the quantity, the member,
    the offer or the resource is refused on every path: issued here (the kind's check) or received (quarantined)."""
    author = Author(member="CN", received=True)
    previous = DEPLOYMENT.check(_body("in_transit", 0, "mobilising"), author)
    changed = {**_body("arrived", 1000, "in_transit"), **changes}
    with pytest.raises(ActionError) as refused:
        DEPLOYMENT.check(changed, author, previous)
    assert refused.value.field == field
    chain = Chain(make_peer("CN"))
    assert _one(chain.sign(1, _body("mobilising", 0, None))).outcome == "stored"
    received = _one(chain.sign(2, changed))
    assert received.outcome == "quarantined" and received.quarantined is not None
    assert field in received.quarantined.reason
    assert _shown(chain) == (1, "mobilising", 0)
