"""Audit checkpoints: the node signs its audit head; `verify_all` checks the chain against the signed heads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accord.lib import canonical
from accord.members.identity import SigningKey, signing_key
from accord.records import actions, audit, checkpoint
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import Forbidden
from accord.records.models import AuditEntry, AuditHead, Version
from accord.records.verify import verify_all
from tests.conftest import World


def _entry() -> None:
    with transaction.atomic():
        audit.append("test.entry", actor=None)


def _head() -> int:
    return AuditHead.objects.get(id=1).seq


@pytest.fixture
def peers() -> Iterator[list[checkpoint.PeerAnswer]]:
    """Stand-in peers for the in-process tests (the real ones answer over HTTP: tests/federation)."""
    answers: list[checkpoint.PeerAnswer] = []
    saved = list(checkpoint._peer_sources)
    checkpoint._peer_sources[:] = [lambda: list(answers)]
    yield answers
    checkpoint._peer_sources[:] = saved


def test_a_checkpoint_is_the_nodes_signed_head_for_everyone(world: World) -> None:
    head = AuditHead.objects.get(id=1)
    version = checkpoint.issue()
    assert version is not None and version.kind == "audit_checkpoint"
    assert version.body == {
        "sequence": head.seq,
        "head_hash": head.entry_hash,
        "head_at": AuditEntry.objects.get(seq=head.seq).at,
    }
    assert version.audience_everyone and version.tlp == "CLEAR" and version.status == "actual"
    assert version.author is None and version.origin_organisation is None
    assert version.origin_node == actions.this_node().node_id
    assert canonical.verify(signing_key().public_key, bytes(version.canonical), version.signature)
    # Its own audit entry comes after the head it signs.
    entry = AuditEntry.objects.get(seq=head.seq + 1)
    assert entry.action == "audit.checkpoint" and entry.object_id == f"{version.record_uuid}#1"


def test_a_checkpoint_is_issued_only_when_the_head_moved(world: World) -> None:
    assert checkpoint.issue() is not None
    assert checkpoint.issue() is None  # only the checkpoint's own entry since
    forced = checkpoint.issue(force=True)
    assert forced is not None
    _entry()
    again = checkpoint.issue()
    assert again is not None and again.body["sequence"] == _head() - 1
    # Each names the one before it: the checkpoints form a chain of their own.
    assert "previous" not in Version.objects.get(kind="audit_checkpoint", id__lt=forced.id).body
    assert forced.body["previous"] != again.body["previous"] == forced.content_hash
    assert Version.objects.filter(kind="audit_checkpoint").count() == 3


def test_the_worker_is_due_after_the_interval_and_only_if_the_head_moved(world: World) -> None:
    later = timezone.now() + timedelta(seconds=3601)
    assert not checkpoint.due() and checkpoint.run_once() is None  # a new node: the hour since its first entry
    first = checkpoint.run_once(later)
    assert first is not None and checkpoint.run_once(later) is None
    assert not checkpoint.due(later)  # nothing new
    _entry()
    assert not checkpoint.due()  # new, but the hour has not passed
    assert checkpoint.due(later)


def test_no_account_may_publish_a_checkpoint(world: World) -> None:
    head = AuditHead.objects.get(id=1)
    body = {"sequence": head.seq, "head_hash": head.entry_hash, "head_at": "2026-12-01T00:00:00Z"}
    for person in (world.alice, world.sam):
        with pytest.raises(Forbidden):
            actions.publish("audit_checkpoint", body, audience=Audience(everyone=True), tlp="CLEAR", acting_user=person)
    assert not Version.objects.filter(kind="audit_checkpoint").exists()
    with pytest.raises(Exception, match="is issued by a node itself"):
        checkpoint.check_origin({"node": "x", "account": str(world.alice.uuid), "organisation": None})


def _signed_by_node(sequence: int, head_hash: str) -> Version:
    """A checkpoint this node signed of a chain it no longer has (as if the rest of the chain was lost)."""
    body = {"sequence": sequence, "head_hash": head_hash, "head_at": "2026-12-01T00:00:00Z"}
    return actions.issue_as_node("audit_checkpoint", body, key=signing_key(), action="audit.checkpoint", actor=None)


def test_the_chain_agrees_with_its_checkpoints(world: World, peers: list[checkpoint.PeerAnswer]) -> None:
    version = checkpoint.issue()
    assert version is not None
    item = checkpoint.Signed(bytes(version.canonical), version.signature, version.sig_kid)
    peers.append(checkpoint.PeerAnswer("accord-kz", "answered", [item]))
    report = verify_all(peers=True)
    assert report.ok and report.warnings == [], (report.problems, report.warnings)
    assert report.checkpoints is not None and report.checkpoints.local_checkpoints == 1
    (finding,) = report.checkpoints.findings
    assert finding.status == "agrees" and finding.source == "peer accord-kz"
    assert finding.sequence == version.body["sequence"]


def _unstored(sequence: int, head_hash: str) -> checkpoint.Signed:
    """A checkpoint this node signed that is not stored here: it was lost, peers hold it."""
    node = actions.this_node()
    data, _ = encode(
        build_envelope(
            kind="audit_checkpoint",
            origin={"node": str(node.node_id), "member": node.member.code, "organisation": None, "account": None},
            record=uuid.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="CLEAR",
            body={"sequence": sequence, "head_hash": head_hash, "head_at": "2026-12-01T00:00:00Z"},
            attachments=[],
        )
    )
    key = signing_key()
    return checkpoint.Signed(data, key.sign(data), key.kid)


def test_a_fork_a_peer_holds_tells_of_lost_entries(world: World, peers: list[checkpoint.PeerAnswer]) -> None:
    mine = checkpoint.issue()
    assert mine is not None
    latest = checkpoint.Signed(bytes(mine.canonical), mine.signature, mine.sig_kid)
    # The peer's highest checkpoint agrees, but it also holds one of a branch this chain does not have.
    peers.append(checkpoint.PeerAnswer("accord-kz", "answered", [latest, _unstored(3, "sha256:" + "3" * 64)]))
    report = verify_all(peers=True)
    assert not report.ok
    (problem,) = report.problems
    assert problem.startswith("peer accord-kz: holds checkpoint ") and "of entry 3, signed by this node" in problem
    assert "lost audit entries up to 3" in problem
    assert report.checkpoints is not None
    assert [f.status for f in report.checkpoints.findings] == ["agrees", "lost"]


def test_a_stored_checkpoint_beyond_the_head_tells_of_lost_entries(world: World) -> None:
    head = _head()
    _signed_by_node(head + 40, "sha256:" + "1" * 64)
    report = verify_all()
    assert not report.ok
    (problem,) = report.problems
    assert f"this node has lost audit entries {head + 2}..{head + 40}: restored from an old backup?" in problem


def test_a_checkpoint_of_another_entry_at_that_place_tells_of_lost_entries(world: World) -> None:
    _signed_by_node(5, "sha256:" + "2" * 64)
    report = verify_all()
    (problem,) = report.problems
    assert "lost audit entries up to 5: its entry 5 is not the one it signed" in problem


def test_unreachable_and_untrustworthy_peers_are_shown_but_do_not_fail(
    world: World, peers: list[checkpoint.PeerAnswer]
) -> None:
    report = verify_all(peers=True)
    assert report.ok and report.warnings == [
        "no peers to compare the audit chain with: a lost tail of the log cannot be detected"
    ]
    assert verify_all(peers=False).warnings == []
    # A peer that answers with a checkpoint this node never signed (another key) is not believed.
    private = canonical.generate_private_key()
    public = canonical.public_key_b64(private)
    stranger = SigningKey(kid=canonical.key_id(public), public_key=public, private_key=private)
    mine = checkpoint.issue()
    assert mine is not None
    data = bytes(mine.canonical)
    peers.append(checkpoint.PeerAnswer("accord-ru", "unreachable", detail="unreachable: connection refused"))
    peers.append(
        checkpoint.PeerAnswer("accord-kg", "answered", [checkpoint.Signed(data, stranger.sign(data), stranger.kid)])
    )
    peers.append(checkpoint.PeerAnswer("accord-uz", "none", detail="holds no checkpoint of this node yet"))
    report = verify_all(peers=True)
    assert report.ok
    assert report.warnings == [
        "peer accord-ru: unreachable: connection refused",
        f"peer accord-kg: its checkpoint of this node cannot be trusted: it is signed with {stranger.kid}, "
        "which is not a key of this node",
    ]
    assert report.checkpoints is not None
    assert {f.source: f.status for f in report.checkpoints.findings} == {
        "peer accord-ru": "unreachable",
        "peer accord-kg": "invalid",
        "peer accord-uz": "none",
    }


def test_a_checkpoint_signed_after_its_key_was_revoked_is_not_believed(world: World) -> None:
    from accord.members.models import NodeKey

    mine = checkpoint.issue()
    assert mine is not None
    NodeKey.objects.filter(kid=mine.sig_kid).update(revoked_at=timezone.now() - timedelta(days=1))
    report = verify_all()
    assert report.warnings == [f"this node: it is signed with {mine.sig_kid} after that key was revoked"]
