"""Receiving signed versions: verification, idempotence and equivocation quarantine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.federation.actions import add_peer
from accord.lib import canonical
from accord.members import actions as member_actions
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import ActionError, Forbidden
from accord.records.ingest import Incoming
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
    add_peer(name=f"peer-{str(node_id)[:8]}", node_id=str(node_id), public_key=public, member="KZ", acting_user=None)
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
    russian = member_actions.create_account(
        username="root.ru",
        organisation=world.secretariat,
        roles=["admin"],
        email="admin.ru@sco.example",
        password=None,
        acting_user=None,
    )
    type(russian).objects.filter(pk=russian.pk).update(language="ru")  # as chosen on the profile
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
    assert notify_admins_of_quarantine.call(item.pk) == 2
    sent = {tuple(m.to): m for m in mail.outbox[-2:]}
    assert str(record) in sent[("admin@sco.example",)].subject
    assert "equivocating version quarantined" in sent[("admin@sco.example",)].subject
    # Each admin in the language of their profile.
    assert "противоречащая версия" in sent[("admin.ru@sco.example",)].subject
    assert "Свяжитесь с оператором узла" in sent[("admin.ru@sco.example",)].body
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


# ---- a page at once (ingest_many) ----------------------------------------------------------------------


def _incoming(data: bytes, signature: str, kid: str) -> Incoming:
    return Incoming(data, signature, kid)


def _state() -> tuple[set[tuple[str, str, int, str]], dict[str, int], int]:
    """What storing left behind: every version's identity and hash, each record's current seq, outbox rows."""
    from accord.notify.models import OutboxEntry

    versions = {
        (str(o), str(r), s, h)
        for o, r, s, h in Version.objects.values_list("origin_node", "record_uuid", "seq", "content_hash")
    }
    current = {str(r.uuid): r.current_seq for r in Record.objects.select_related("current_version")}
    for record in Record.objects.select_related("current_version"):
        assert record.current_version is not None and record.current_version.seq == record.current_seq
    return versions, current, OutboxEntry.objects.count()


def test_a_page_is_stored_in_bulk_with_each_refusal_named_and_nothing_else_lost(world: World, peer: Peer) -> None:
    held = uuid.uuid4()
    h1_data, h1, h1_sig = peer.version(held, 1, None, {"title": "held v1"})
    actions.ingest(h1_data, h1_sig, peer.kid, source="earlier")
    chain = uuid.uuid4()
    c1, ch1, cs1 = peer.version(chain, 1, None, {"title": "c1"})
    c2, ch2, cs2 = peer.version(chain, 2, ch1, {"title": "c2"})
    c3, ch3, cs3 = peer.version(chain, 3, ch2, {"title": "c3"})
    other, _, other_sig = peer.version(held, 1, None, {"title": "a second v1"})
    broken, _, broken_sig = peer.version(held, 2, "sha256:" + "2" * 64, {"title": "broken chain"})
    forged = c1.replace(b'"title":"c1"', b'"title":"cX"')
    wrong_kind, _, wrong_kind_sig = peer.version(chain, 4, ch3, {"title": "kind"}, kind="future-kind")
    page = [
        _incoming(c3, cs3, peer.kid),  # newest first: the current pointer must still end at 3
        _incoming(h1_data, h1_sig, peer.kid),  # already held: a duplicate
        _incoming(other, other_sig, peer.kid),  # equivocation: quarantined
        _incoming(forged, cs1, peer.kid),  # altered bytes
        _incoming(c1, cs1, "ed25519:0000000000000000"),  # unknown key
        _incoming(broken, broken_sig, peer.kid),
        _incoming(c1, cs1, peer.kid),
        _incoming(wrong_kind, wrong_kind_sig, peer.kid),
        _incoming(c2, cs2, peer.kid),
        _incoming(c2, cs2, peer.kid),  # twice in the same page
        _incoming(b"{not json", "x", peer.kid),
    ]
    audit_before = AuditEntry.objects.count()
    results = actions.ingest_many(page, source="page")
    outcomes = [r.outcome if isinstance(r, actions.IngestResult) else r.message for r in results]
    assert outcomes[0] == "stored" and outcomes[1] == "duplicate" and outcomes[2] == "quarantined"
    assert "does not verify" in outcomes[3]
    assert "not a known key" in outcomes[4]
    assert "prev_hash" in outcomes[5]
    assert outcomes[6] == "stored"
    assert "differs from the record's kind" in outcomes[7]
    assert outcomes[8:10] == ["stored", "duplicate"]
    assert "not JSON" in outcomes[10]
    record = Record.objects.get(uuid=chain)
    assert record.current_seq == 3 and record.current_version is not None
    assert record.current_version.body["title"] == "c3"
    assert Version.objects.get(record_uuid=held, seq=1).content_hash == h1
    assert QuarantinedVersion.objects.get().existing_hash == h1
    # One audit entry lists the versions stored in bulk; the quarantine has its own, as one by one.
    entries = list(AuditEntry.objects.filter(seq__gt=audit_before).order_by("seq"))
    assert [e.action for e in entries] == ["record.ingest", "record.quarantine"]
    listed = [v["object"] for v in entries[0].data["versions"]]
    assert sorted(listed) == sorted(f"{chain}#{n}" for n in (1, 2, 3))
    from accord.records.verify import verify_all

    assert verify_all().ok


def test_a_key_announced_in_a_page_verifies_the_versions_after_it(world: World, peer: Peer) -> None:
    new_key = canonical.generate_private_key()
    new_public = canonical.public_key_b64(new_key)
    new_kid = canonical.key_id(new_public)
    announcement, _, announcement_sig = peer.version(
        uuid.uuid4(),
        1,
        None,
        {"action": "add", "kid": new_kid, "public_key": new_public},
        kind="node_key",
        tlp="CLEAR",
    )
    first, _, _ = peer.version(uuid.uuid4(), 1, None, {"title": "signed with the new key"})
    before, _, before_sig = peer.version(uuid.uuid4(), 1, None, {"title": "signed before"})
    results = actions.ingest_many(
        [
            _incoming(before, before_sig, peer.kid),
            _incoming(announcement, announcement_sig, peer.kid),
            _incoming(first, canonical.sign(new_key, first), new_kid),
        ],
        source="page",
    )
    assert [r.outcome for r in results if isinstance(r, actions.IngestResult)] == ["stored"] * 3


def test_an_alert_thread_in_one_page_projects_as_if_stored_one_by_one(world: World, peer: Peer) -> None:
    from accord.alerts import actions as alert_actions
    from accord.alerts.models import AlertView
    from tests.alerts.support import cap, info

    local = alert_actions.publish_alert(
        cap(info()), audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice
    ).version
    first_body = local.body
    second_body = {**first_body, "cap": {**first_body["cap"], "sent": "2026-11-28T09:00:00+00:00"}}
    record = uuid.uuid4()
    v1, h1, s1 = peer.version(record, 1, None, first_body, kind="alert")
    v2, _, s2 = peer.version(record, 2, h1, second_body, kind="alert")
    results = actions.ingest_many([_incoming(v2, s2, peer.kid), _incoming(v1, s1, peer.kid)], source="page")
    assert [r.outcome for r in results if isinstance(r, actions.IngestResult)] == ["stored", "stored"]
    view = AlertView.objects.get(record__uuid=record)
    assert view.version.seq == 2
    sent_first = AlertView.objects.get(record=local.record).first_sent_at
    assert view.first_sent_at == sent_first  # kept from version 1, as when stored one by one in seq order


@given(
    plan=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.booleans()), min_size=1, max_size=14),
    pages=st.integers(1, 5),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_storing_in_pages_leaves_what_storing_one_by_one_leaves(
    world: World, peer: Peer, plan: list[tuple[int, int, bool]], pages: int
) -> None:
    """Any arrival order, duplicates and forks, in any page sizes: the same versions, pointers and outbox rows."""
    from django.db import transaction

    records = [uuid.uuid5(uuid.NAMESPACE_URL, f"record-{n}") for n in range(3)]
    chains: dict[tuple[int, bool], list[tuple[bytes, str, str]]] = {}
    for n, record in enumerate(records):
        for fork in (False, True):
            made: list[tuple[bytes, str, str]] = []
            previous = None
            for seq in (1, 2, 3):
                data, digest, signature = peer.version(record, seq, previous, {"title": f"{n}-{seq}-{fork}"})
                made.append((data, digest, signature))
                previous = digest
            chains[(n, fork)] = made
    items = [chains[(n, fork)][seq - 1] for n, seq, fork in plan]
    incoming = [_incoming(data, signature, peer.kid) for data, _, signature in items]

    def one_by_one() -> list[str]:
        outcomes: list[str] = []
        for item in incoming:
            try:
                outcomes.append(actions.ingest(item.data, item.signature, item.kid, source="t").outcome)
            except ActionError as error:
                outcomes.append(error.message)
        return outcomes

    def in_pages() -> list[str]:
        size = max(1, -(-len(incoming) // pages))
        outcomes: list[str] = []
        for start in range(0, len(incoming), size):
            for result in actions.ingest_many(incoming[start : start + size], source="t"):
                outcomes.append(result.message if isinstance(result, ActionError) else result.outcome)
        return outcomes

    results = []
    for run in (one_by_one, in_pages):
        with transaction.atomic():
            outcomes = run()
            results.append((outcomes, _state(), QuarantinedVersion.objects.count()))
            transaction.set_rollback(True)
    (single, single_state, single_q), (paged, paged_state, paged_q) = results
    assert paged_state == single_state and paged_q == single_q
    if pages == len(incoming) or len(incoming) == 1:
        assert paged == single
