"""Publishing, revising and withdrawing: the single-writer chain, audit entries and side effects."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from accord.lib.canonical import content_hash, verify
from accord.members.identity import signing_key
from accord.records import actions
from accord.records.envelope import Audience, decode
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import AuditEntry, Record, Version
from accord.records.principal import Principal
from tests.conftest import World

EVERYONE = Audience(everyone=True)


def _note(world: World, **kwargs: Any) -> Version:
    fields: dict[str, Any] = {"audience": EVERYONE, "tlp": "GREEN", "acting_user": world.alice}
    fields.update(kwargs)
    return actions.publish("note", {"title": "Cholera cases in the south", "text": "12 confirmed"}, **fields)


def test_a_published_version_is_signed_canonical_and_first_in_its_chain(world: World) -> None:
    version = _note(world)
    data = bytes(version.canonical)
    envelope = decode(data)
    assert envelope.seq == 1 and envelope.prev_hash is None
    assert version.content_hash == content_hash(data)
    assert version.sig_kid == signing_key().kid
    assert verify(signing_key().public_key, data, version.signature)
    assert envelope.origin["account"] == str(world.alice.uuid)
    assert envelope.origin["member"] == "CN"


def test_revisions_chain_by_hash_and_the_highest_seq_is_current(world: World) -> None:
    first = _note(world)
    second = actions.revise(first.record, acting_user=world.alice, body={"title": "Cholera: 15 cases"})
    third = actions.revise(second.record, acting_user=world.alice, tlp="CLEAR")
    assert [second.seq, third.seq] == [2, 3]
    assert second.prev_hash == first.content_hash and third.prev_hash == second.content_hash
    record = Record.objects.get(pk=first.record_id)
    assert record.current_version_id == third.pk
    assert third.body["title"] == "Cholera: 15 cases"  # unchanged fields carry over


def test_only_the_origin_organisation_issues_versions(world: World) -> None:
    version = _note(world)
    with pytest.raises(Forbidden, match="organisation that published"):
        actions.revise(version.record, acting_user=world.bob, body={"title": "hijacked"})
    with pytest.raises(Forbidden):
        actions.withdraw(version.record, acting_user=world.carol, reason="not mine")
    assert Version.objects.filter(record=version.record).count() == 1


def test_a_viewer_cannot_publish(world: World) -> None:
    with pytest.raises(Forbidden, match="roles"):
        _note(world, acting_user=world.dave)
    assert not Record.objects.exists()


def test_withdrawal_is_a_new_version_and_nothing_is_deleted(world: World) -> None:
    version = _note(world, status="exercise")
    withdrawn = actions.withdraw(version.record, acting_user=world.alice, reason="entered in error")
    assert withdrawn.seq == 2 and withdrawn.state == "withdrawn"
    assert withdrawn.status == "exercise"  # still marked as an exercise
    assert withdrawn.envelope()["reason"] == "entered in error"
    assert Version.objects.filter(record=version.record).count() == 2
    with pytest.raises(Conflict):
        actions.withdraw(version.record, acting_user=world.alice, reason="again")
    with pytest.raises(Conflict):
        actions.revise(version.record, acting_user=world.alice, body={"title": "back"})


def test_a_withdrawal_needs_a_reason(world: World) -> None:
    version = _note(world)
    with pytest.raises(ActionError, match="why"):
        actions.withdraw(version.record, acting_user=world.alice, reason="  ")


def test_a_stale_revision_is_refused(world: World) -> None:
    version = _note(world)
    actions.revise(version.record, acting_user=world.alice, body={"title": "v2"})
    with pytest.raises(Conflict, match="at version 2"):
        actions.revise(version.record, acting_user=world.alice, expected_seq=1, body={"title": "v2 again"})


def test_exercise_and_test_records_never_appear_as_actual(world: World) -> None:
    _note(world, status="exercise")
    _note(world, status="test")
    real = _note(world)
    carol = Principal.of(world.carol)
    assert list(Record.objects.visible_to(carol).actual()) == [real.record]
    assert Record.objects.visible_to(carol).count() == 3
    assert Version.objects.visible_to(carol).actual().count() == 1


@pytest.mark.parametrize(("start", "change"), [("actual", "draft"), ("exercise", "actual"), ("actual", "test")])
def test_a_published_record_keeps_its_status(world: World, start: str, change: str) -> None:
    version = _note(world, status=start)
    with pytest.raises(ActionError, match=f"published {start} record keeps its status"):
        actions.revise(version.record, acting_user=world.alice, status=change)


def test_a_draft_is_published_by_its_author_only(world: World) -> None:
    from accord.members import actions as member_actions

    colleague = member_actions.create_account(
        username="chen", organisation=world.cn_health, roles=["focal_point"], password=None, acting_user=None
    )
    draft = _note(world, status="draft")
    with pytest.raises(Forbidden, match="author of a draft"):
        actions.revise(draft.record, acting_user=colleague, status="actual")
    published = actions.revise(draft.record, acting_user=world.alice, status="actual")
    assert published.status == "actual" and published.seq == 2


def test_every_change_writes_its_audit_entry_in_the_same_transaction(world: World) -> None:
    before = AuditEntry.objects.count()
    version = _note(world)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None and AuditEntry.objects.count() == before + 1
    assert entry.action == "record.publish"
    assert entry.actor == world.alice.uuid and entry.actor_name == "alice"
    assert entry.data["content_hash"] == version.content_hash


def test_a_failed_change_leaves_neither_version_nor_audit_entry(world: World) -> None:
    before = (Version.objects.count(), AuditEntry.objects.count())
    with pytest.raises(RuntimeError), transaction.atomic():
        _note(world)
        raise RuntimeError("the caller's transaction fails after the action")
    assert (Version.objects.count(), AuditEntry.objects.count()) == before


def test_side_effects_are_queued_only_when_the_transaction_commits(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accord.records import tasks

    heard: list[int] = []
    monkeypatch.setattr(tasks, "_listeners", [])
    tasks.on_version_committed(heard.append, kinds={"alert"})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _note(world)
    assert callbacks == [], "no listener wants notes: nothing is queued"

    monkeypatch.setattr(tasks, "_listeners", [])
    tasks.on_version_committed(kinds={"note"})(heard.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = _note(world)
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.filter(task_path="accord.records.tasks.version_committed")
    assert [task.args_kwargs["args"] for task in queued] == [[version.pk]]
    assert tasks.version_committed.call(version.pk) == 1
    assert heard == [version.pk]

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _note(world)
        raise RuntimeError("rolled back")
    assert callbacks == []


def test_floats_are_refused_in_signed_bodies(world: World) -> None:
    from pydantic import BaseModel

    from accord.records import kinds

    class Reading(BaseModel):
        value: float

    kind = kinds.register(
        kinds.RecordKind(
            name="test-reading",
            label="reading",
            body_model=Reading,
            title=lambda body: "reading",
            search_text=lambda body: "",
            publish_roles=frozenset({"focal_point"}),
        )
    )
    try:
        with pytest.raises(ActionError, match="floats are not allowed"):
            actions.publish("test-reading", {"value": 1.5}, audience=EVERYONE, tlp="GREEN", acting_user=world.alice)
        assert not Version.objects.filter(kind="test-reading").exists()
    finally:
        kinds._KINDS.pop(kind.name)


@pytest.mark.parametrize(
    ("audience", "tlp", "message"),
    [
        ({"everyone": True}, "RED", "needs a named audience"),
        ({"everyone": True}, "AMBER", "needs a named audience"),
        ({"members": ["CN"]}, "AMBER+STRICT", "not whole members"),
        ({"members": ["CN"]}, "RED", "named persons"),
        ({}, "GREEN", "names nobody"),
        ({"everyone": True, "members": ["CN"]}, "GREEN", "everyone names no"),
        ({"members": ["XX"]}, "GREEN", "unknown members: XX"),
        ({"organisations": ["00000000-0000-4000-8000-000000000000"]}, "AMBER", "unknown organisations"),
        ({"persons": ["00000000-0000-4000-8000-000000000001"]}, "RED", "unknown persons"),
        ({"everyone": True}, "PURPLE", "tlp 'PURPLE'"),
    ],
)
def test_unclear_audiences_and_labels_are_refused(
    world: World, audience: dict[str, Any], tlp: str, message: str
) -> None:
    with pytest.raises(ActionError, match=message):
        _note(world, audience=Audience.model_validate(audience), tlp=tlp)
    assert not Record.objects.exists()


def test_attachments_are_kept_byte_for_byte(world: World) -> None:
    from accord.records import attachments

    original = b'<?xml version="1.0"?>\r\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">\t</alert>  \n'
    version = _note(world, files=[actions.NewAttachment("alert.xml", "application/cap+xml", original)])
    described = version.envelope()["attachments"]
    assert described[0]["size"] == len(original)
    assert attachments.read_bytes(described[0]["sha256"]) == original
