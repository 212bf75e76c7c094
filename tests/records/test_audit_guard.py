"""The database itself refuses to edit the audit log (accord/records/guard.py), on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from accord.records import audit, guard
from accord.records.models import AuditEntry, AuditHead
from tests.conftest import World


def _refused(statement: str, *params: int | str) -> str:
    """Run one statement through a raw cursor; it must fail. Returns the database's message."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
    return str(caught.value)


def _head() -> tuple[int, str]:
    head = AuditHead.objects.get(id=1)
    return head.seq, head.entry_hash


def test_the_triggers_are_installed_by_the_migrations(db: None) -> None:
    assert guard.installed(connection) == guard.expected(connection.vendor)


def test_a_direct_delete_or_update_of_an_audit_entry_fails(world: World) -> None:
    count, head = AuditEntry.objects.count(), _head()
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None and count > 5
    assert "append-only" in _refused("DELETE FROM records_auditentry WHERE seq = %s", last.seq)
    assert "append-only" in _refused("DELETE FROM records_auditentry")
    assert "append-only" in _refused("UPDATE records_auditentry SET actor_name = 'mallory' WHERE seq = %s", 1)
    assert "append-only" in _refused("UPDATE records_auditentry SET data = '{}'")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=last.seq).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(action="nothing")
    if connection.vendor == "postgresql":
        assert "append-only" in _refused("TRUNCATE records_auditentry")
    assert AuditEntry.objects.count() == count and _head() == head
    assert AuditEntry.objects.get(seq=1).actor_name != "mallory"


def test_the_head_only_moves_forward_onto_the_entry_just_appended(world: World) -> None:
    seq, entry_hash = _head()
    assert seq == AuditEntry.objects.count()
    assert "only moves forward" in _refused("DELETE FROM records_audithead")
    assert "only moves forward" in _refused("UPDATE records_audithead SET seq = %s", seq - 3)
    assert "only moves forward" in _refused("UPDATE records_audithead SET seq = %s", seq)  # the same, other hash
    # Forward, but onto an entry that does not exist (hiding a truncation behind a head that looks right).
    assert "only moves forward" in _refused("UPDATE records_audithead SET seq = seq + 1")
    assert "only moves forward" in _refused("UPDATE records_audithead SET seq = seq + 1, entry_hash = %s", entry_hash)
    if connection.vendor == "postgresql":
        assert "only moves forward" in _refused("TRUNCATE records_audithead")
    assert _head() == (seq, entry_hash)
    # Appending still moves it, through the guard.
    with transaction.atomic():
        entry = audit.append("test.append", actor=None)
    assert _head() == (seq + 1, entry.entry_hash)


def test_flush_is_refused_in_production(db: None, settings: pytest.FixtureRequest) -> None:
    settings.ACCORD_ENV = "production"  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="refused when ACCORD_ENV=production"):
        call_command("flush", interactive=False, verbosity=0)
    assert guard.installed(connection) == guard.expected(connection.vendor)


def test_flush_erases_the_log_and_puts_the_guard_back(transactional_db: None, world: World) -> None:
    before = AuditEntry.objects.count()
    call_command("flush", interactive=False, verbosity=0)
    # What is left was written afresh by post_migrate (the member list, this node's identity): a new chain.
    assert AuditEntry.objects.count() < before and _head() == (AuditEntry.objects.count(), _head()[1])
    assert not AuditEntry.objects.filter(object_id=str(world.alice.uuid)).exists()
    assert guard.installed(connection) == guard.expected(connection.vendor)
    with transaction.atomic():
        audit.append("test.append", actor=None)
    assert "append-only" in _refused("DELETE FROM records_auditentry")
