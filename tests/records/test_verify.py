"""`verify_all` (behind `accord audit verify`) catches any edit of stored versions or audit entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accord.records import actions, guard
from accord.records import attachments as attachment_store
from accord.records.envelope import Audience
from accord.records.models import AuditEntry, Version
from accord.records.verify import verify_all
from tests.conftest import World


@pytest.fixture
def history(world: World) -> list[Version]:
    first = actions.publish(
        "note",
        {"title": "Measles outbreak", "text": "40 cases"},
        audience=Audience(members=["CN", "KZ"]),
        tlp="AMBER",
        acting_user=world.alice,
        files=[actions.NewAttachment("report.txt", "text/plain", b"forty cases\n")],
    )
    second = actions.revise(first.record, acting_user=world.alice, body={"title": "Measles outbreak", "text": "52"})
    return [first, second]


def _sql(statement: str, *params: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_untouched_history_verifies(history: list[Version]) -> None:
    report = verify_all()
    assert report.ok, report.problems
    assert report.versions == 2 and report.attachments == 2
    assert report.audit_entries == AuditEntry.objects.count() > 10


def _edit_body(v: Version) -> None:
    data = bytes(v.canonical).replace(b"40 cases", b"4 cases!")
    _sql("UPDATE records_version SET canonical = %s WHERE id = %s", data, v.pk)


def _widen_tlp(v: Version) -> None:
    _sql("UPDATE records_version SET tlp = 'GREEN' WHERE id = %s", v.pk)


def _widen_audience(v: Version) -> None:
    _sql("INSERT INTO records_audienceentry (version_id, target) VALUES (%s, 'member:RU')", v.pk)


def _swap_signature(v: Version) -> None:
    other = Version.objects.exclude(pk=v.pk).get()
    _sql("UPDATE records_version SET signature = %s WHERE id = %s", other.signature, v.pk)


def _edit_attachment(v: Version) -> None:
    sha = v.envelope()["attachments"][0]["sha256"]
    attachment_store.path_for(sha).write_bytes(b"four cases\n")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_edit_body, "stored bytes do not match content_hash"),
        (_widen_tlp, "column tlp is 'GREEN' but the signed version says 'AMBER'"),
        (_widen_audience, "audience rows differ"),
        (_swap_signature, "signature does not verify"),
        (_edit_attachment, "attachment 'report.txt' does not match its hash"),
    ],
    ids=["body", "tlp", "audience", "signature", "attachment"],
)
def test_tampering_with_a_version_is_caught(
    history: list[Version], tamper: Callable[[Version], None], expected: str
) -> None:
    tamper(history[0])
    try:
        report = verify_all()
        assert not report.ok
        assert any(expected in p and f"{history[0].record_uuid}#1" in p for p in report.problems), report.problems
    finally:
        if tamper is _edit_attachment:
            attachment_store.path_for(history[0].envelope()["attachments"][0]["sha256"]).write_bytes(b"forty cases\n")


def _lift_guard() -> None:
    """What an intruder with the database's owner rights can do: drop the append-only triggers (DDL). The test's
    transaction is rolled back afterwards, and the triggers with it."""
    guard.remove(connection)


def test_editing_an_audit_entry_is_caught_and_named(history: list[Version]) -> None:
    _lift_guard()
    entry = AuditEntry.objects.get(action="record.publish")
    _sql("UPDATE records_auditentry SET actor_name = 'mallory' WHERE id = %s", entry.pk)
    report = verify_all()
    assert [p for p in report.problems if p.startswith(f"audit entry {entry.seq} ")] == [
        f"audit entry {entry.seq} (record.publish {entry.object_id}): its content does not match its hash (edited)"
    ]


def test_removing_an_audit_entry_is_caught(history: list[Version]) -> None:
    _lift_guard()
    entry = AuditEntry.objects.get(action="record.publish")
    _sql("DELETE FROM records_auditentry WHERE id = %s", entry.pk)
    report = verify_all()
    assert any(f"expected entry {entry.seq} here" in p for p in report.problems), report.problems


def test_removing_the_last_audit_entry_is_caught(history: list[Version]) -> None:
    _lift_guard()
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    _sql("DELETE FROM records_auditentry WHERE id = %s", last.pk)
    report = verify_all()
    assert any("entries removed" in p for p in report.problems), report.problems
