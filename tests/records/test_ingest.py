"""Receiving signed versions: verification, idempotence and equivocation quarantine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from accord.lib import canonical
from accord.members import actions as member_actions
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import ActionError, Forbidden
from accord.records.models import AuditEntry, QuarantinedVersion, Record, Version
from accord.records.principal import Principal
from accord.records.tasks import notify_admins_of_quarantine
from tests.conftest import World


@dataclass
class Peer:
    node_id: uuid.UUID
    key: Any
    kid: str

    def version(
        self, record: uuid.UUID, seq: int, prev_hash: str | None, body: dict[str, Any], **kw: Any
    ) -> tuple[bytes, str, str]:
        envelope = build_envelope(
            kind=kw.get("kind", "note"),
            origin={"node": str(self.node_id), "member": "KZ", "organisation": None, "account": None},
            record=record,
            seq=seq,
            prev_hash=prev_hash,
            status=kw.get("status", "actual"),
            state="active",
            audience=kw.get("audience", Audience(everyone=True)),
            tlp=kw.get("tlp", "GREEN"),
            body=body,
            attachments=[],
            created_at="2026-11-27T10:00:00Z",
        )
        data, digest = encode(envelope)
        return data, digest, canonical.sign(self.key, data)


@pytest.fixture
def peer(world: World) -> Peer:
    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    node_id = uuid.uuid4()
    member_actions.register_node_key(str(node_id), public, acting_user=None)
    return Peer(node_id=node_id, key=key, kid=canonical.key_id(public))


def test_a_verified_version_is_stored_and_visible_by_its_audience(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    data, digest, signature = peer.version(record, 1, None, {"title": "Flood on the Ishim"})
    result = actions.ingest(data, signature, peer.kid, source="test")
    assert result.outcome == "stored" and result.version is not None
    assert result.version.content_hash == digest
    assert Record.objects.visible_to(Principal.of(world.alice)).filter(uuid=record).exists()
    assert AuditEntry.objects.filter(action="record.ingest", object_id=f"{record}#1").exists()


def test_the_same_version_twice_is_stored_once(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    data, _, signature = peer.version(record, 1, None, {"title": "once"})
    assert actions.ingest(data, signature, peer.kid, source="a").outcome == "stored"
    entries = AuditEntry.objects.count()
    assert actions.ingest(data, signature, peer.kid, source="b").outcome == "duplicate"
    assert Version.objects.filter(record_uuid=record).count() == 1
    assert AuditEntry.objects.count() == entries


def test_an_equivocating_version_is_quarantined_and_the_admins_told(
    world: World, peer: Peer, django_capture_on_commit_callbacks: Any
) -> None:
    member_actions.create_account(
        username="root",
        organisation=world.secretariat,
        roles=["admin"],
        email="admin@sco.example",
        password=None,
        acting_user=None,
    )
    record = uuid.uuid4()
    data, first_hash, signature = peer.version(record, 1, None, {"title": "ten cases"})
    actions.ingest(data, signature, peer.kid, source="a")
    other, other_hash, other_signature = peer.version(record, 1, None, {"title": "no cases"})
    with django_capture_on_commit_callbacks(execute=True):
        result = actions.ingest(other, other_signature, peer.kid, source="b")
    assert result.outcome == "quarantined"
    # The stored version is untouched; the newcomer is kept aside and shown to nobody.
    stored = Version.objects.get(record_uuid=record, seq=1)
    assert stored.content_hash == first_hash and stored.body["title"] == "ten cases"
    item = QuarantinedVersion.objects.get()
    assert (item.content_hash, item.existing_hash) == (other_hash, first_hash)
    assert AuditEntry.objects.filter(action="record.quarantine").count() == 1
    queued = DBTaskResult.objects.get(task_path="accord.records.tasks.notify_admins_of_quarantine")
    assert queued.args_kwargs["args"] == [item.pk]
    assert notify_admins_of_quarantine.call(item.pk) == 1
    assert mail.outbox[-1].to == ["admin@sco.example"]
    assert str(record) in mail.outbox[-1].subject
    # Hearing the same equivocation again adds nothing.
    assert actions.ingest(other, other_signature, peer.kid, source="c").outcome == "quarantined"
    assert QuarantinedVersion.objects.count() == 1


def test_versions_arriving_out_of_order_keep_the_highest_seq_current(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    v1, h1, s1 = peer.version(record, 1, None, {"title": "v1"})
    v2, _, s2 = peer.version(record, 2, h1, {"title": "v2"})
    actions.ingest(v2, s2, peer.kid, source="t")
    actions.ingest(v1, s1, peer.kid, source="t")
    stored = Record.objects.get(uuid=record)
    assert stored.current_seq == 2 and stored.current_version is not None
    assert stored.current_version.body["title"] == "v2"


def test_a_version_whose_prev_hash_breaks_the_chain_is_refused(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    v1, _, s1 = peer.version(record, 1, None, {"title": "v1"})
    actions.ingest(v1, s1, peer.kid, source="t")
    v2, _, s2 = peer.version(record, 2, "sha256:" + "1" * 64, {"title": "v2"})
    with pytest.raises(ActionError, match="prev_hash"):
        actions.ingest(v2, s2, peer.kid, source="t")
    assert Version.objects.filter(record_uuid=record).count() == 1


def test_an_earlier_version_that_does_not_lead_to_the_stored_one_is_refused(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    v1, h1, s1 = peer.version(record, 1, None, {"title": "v1"})
    v2, _, s2 = peer.version(record, 2, h1, {"title": "v2"})
    actions.ingest(v2, s2, peer.kid, source="t")
    other_v1, _, other_s1 = peer.version(record, 1, None, {"title": "a different v1"})
    with pytest.raises(ActionError, match="does not follow"):
        actions.ingest(other_v1, other_s1, peer.kid, source="t")
    assert actions.ingest(v1, s1, peer.kid, source="t").outcome == "stored"


def test_a_received_version_with_an_unclear_audience_is_refused(world: World, peer: Peer) -> None:
    data, _, signature = peer.version(uuid.uuid4(), 1, None, {"title": "x"}, tlp="RED")
    with pytest.raises(ActionError, match="TLP:RED needs a named audience"):
        actions.ingest(data, signature, peer.kid, source="t")


def test_bad_signatures_unknown_keys_and_altered_bytes_are_refused(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    data, _, signature = peer.version(record, 1, None, {"title": "genuine"})
    altered = data.replace(b"genuine", b"forged!")
    with pytest.raises(Forbidden, match="does not verify"):
        actions.ingest(altered, signature, peer.kid, source="t")
    with pytest.raises(Forbidden, match="not a known key"):
        actions.ingest(data, signature, "ed25519:0000000000000000", source="t")
    stranger = canonical.generate_private_key()
    with pytest.raises(Forbidden, match="does not verify"):
        actions.ingest(data, canonical.sign(stranger, data), peer.kid, source="t")
    assert not Version.objects.filter(record_uuid=record).exists()


def test_non_canonical_or_malformed_envelopes_are_refused(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    data, _, _ = peer.version(record, 1, None, {"title": "x"})
    spaced = data.replace(b",", b", ", 1)
    with pytest.raises(ActionError, match="canonical"):
        actions.ingest(spaced, canonical.sign(peer.key, spaced), peer.kid, source="t")
    with pytest.raises(ActionError, match="not JSON"):
        actions.ingest(b"{not json", canonical.sign(peer.key, b"{not json"), peer.kid, source="t")


def test_a_version_of_an_unknown_kind_is_stored_opaquely(world: World, peer: Peer) -> None:
    record = uuid.uuid4()
    data, _, signature = peer.version(record, 1, None, {"anything": ["goes", 1]}, kind="future-kind")
    result = actions.ingest(data, signature, peer.kid, source="t")
    assert result.version is not None and result.version.kind == "future-kind"
    assert bytes(result.version.canonical) == data
