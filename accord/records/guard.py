"""The database refuses to edit the audit log: triggers on PostgreSQL and SQLite (docs/records.md, "Append-only").

- `records_auditentry`: every UPDATE and DELETE is refused (and TRUNCATE on PostgreSQL). Entries are only inserted.
- `records_audithead`: DELETE (and TRUNCATE) is refused; an UPDATE is allowed only when it moves the head one step
  forward, onto the entry just appended (the entry with the new sequence and hash must exist).

The triggers are installed by migration `records.0002_audit_append_only` and are part of the schema: ORM calls,
raw SQL and bulk statements of the application all meet them. Only DDL (DROP TRIGGER) lifts them. Django's
`flush` is the one place that does so (accord/records/management/commands/flush.py): it erases the whole
database, is refused when ACCORD_ENV=production, and reinstates the triggers in the same transaction. What DDL can
do is what the checkpoints held by peers are for (accord/records/checkpoint.py).

A migration that rebuilds one of these tables on SQLite (Django copies the table and drops the old one, and its
triggers with it) must call `install` again; tests/records/test_audit_guard.py checks they are in place.
"""

from __future__ import annotations

from typing import Any

ENTRY_TABLE = "records_auditentry"
HEAD_TABLE = "records_audithead"

# The trigger names, per database: the tests look them up, `remove` drops them.
SQLITE_TRIGGERS = (
    "accord_audit_entry_no_update",
    "accord_audit_entry_no_delete",
    "accord_audit_head_no_delete",
    "accord_audit_head_forward_only",
)
POSTGRESQL_TRIGGERS = (
    (ENTRY_TABLE, "accord_audit_entry_append_only"),
    (ENTRY_TABLE, "accord_audit_entry_no_truncate"),
    (HEAD_TABLE, "accord_audit_head_forward_only"),
    (HEAD_TABLE, "accord_audit_head_no_truncate"),
)

ENTRY_MESSAGE = "the audit log is append-only: audit entries cannot be changed or deleted"
HEAD_MESSAGE = "the audit head only moves forward, onto the entry just appended"

# The head may move from seq to seq + 1 only, and only onto an entry that exists with that hash.
_FORWARD = (
    "NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 AND EXISTS "
    "(SELECT 1 FROM records_auditentry WHERE seq = NEW.seq AND entry_hash = NEW.entry_hash)"
)

_SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS accord_audit_entry_no_update BEFORE UPDATE ON {ENTRY_TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{ENTRY_MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS accord_audit_entry_no_delete BEFORE DELETE ON {ENTRY_TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{ENTRY_MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS accord_audit_head_no_delete BEFORE DELETE ON {HEAD_TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS accord_audit_head_forward_only BEFORE UPDATE ON {HEAD_TABLE} "
    f"WHEN NOT ({_FORWARD}) BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END",
]

_POSTGRESQL_FUNCTIONS = [
    f"""CREATE OR REPLACE FUNCTION accord_audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{ENTRY_MESSAGE} (% refused)', TG_OP;
END $$""",
    f"""CREATE OR REPLACE FUNCTION accord_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF {_FORWARD} THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '{HEAD_MESSAGE} (% refused)', TG_OP;
END $$""",
]

_POSTGRESQL_TRIGGERS = [
    f"CREATE TRIGGER accord_audit_entry_append_only BEFORE UPDATE OR DELETE ON {ENTRY_TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION accord_audit_entry_guard()",
    f"CREATE TRIGGER accord_audit_entry_no_truncate BEFORE TRUNCATE ON {ENTRY_TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION accord_audit_entry_guard()",
    f"CREATE TRIGGER accord_audit_head_forward_only BEFORE UPDATE OR DELETE ON {HEAD_TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION accord_audit_head_guard()",
    f"CREATE TRIGGER accord_audit_head_no_truncate BEFORE TRUNCATE ON {HEAD_TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION accord_audit_head_guard()",
]


def install_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return list(_SQLITE_INSTALL)
    if vendor == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name in POSTGRESQL_TRIGGERS]
        return _POSTGRESQL_FUNCTIONS + drops + _POSTGRESQL_TRIGGERS
    raise NotImplementedError(f"no audit guard for database {vendor!r}: the audit log would not be append-only")


def remove_statements(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name in POSTGRESQL_TRIGGERS]
    raise NotImplementedError(f"no audit guard for database {vendor!r}")


def install(connection: Any) -> None:
    """Create the triggers (idempotent)."""
    with connection.cursor() as cursor:
        for statement in install_statements(connection.vendor):
            cursor.execute(statement)


def remove(connection: Any) -> None:
    """Drop the triggers: DDL, for `flush` and for migrations that rebuild the tables. Never application code."""
    with connection.cursor() as cursor:
        for statement in remove_statements(connection.vendor):
            cursor.execute(statement)


def installed(connection: Any) -> set[str]:
    """The names of the guard triggers present in the database."""
    if connection.vendor == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s"
    with connection.cursor() as cursor:
        cursor.execute(query, ["accord_audit_%"])
        return {str(row[0]) for row in cursor.fetchall()}


def expected(vendor: str) -> set[str]:
    return set(SQLITE_TRIGGERS) if vendor == "sqlite" else {name for _, name in POSTGRESQL_TRIGGERS}
