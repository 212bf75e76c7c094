"""The append-only, hash-chained audit log.

Each entry's hash covers its fields and the previous entry's hash, so removing, reordering
or editing any entry breaks every later link. Appends lock the single AuditHead row, which
serialises concurrent writers on PostgreSQL (SELECT ... FOR UPDATE) and on SQLite (whose
IMMEDIATE transactions already hold the write lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection

from accord.lib.canonical import canonical_bytes, content_hash
from accord.records import rows
from accord.records.envelope import now_rfc3339
from accord.records.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from accord.members.models import Account

GENESIS = "sha256:" + "0" * 64


def entry_payload(
    *,
    seq: int,
    at: str,
    node_id: str | None,
    actor: str | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "node": node_id,
        "actor": actor,
        "actor_name": actor_name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
        "prev_hash": prev_hash,
    }


def hash_of(entry: AuditEntry) -> str:
    return content_hash(
        canonical_bytes(
            entry_payload(
                seq=entry.seq,
                at=entry.at,
                node_id=str(entry.node_id) if entry.node_id else None,
                actor=str(entry.actor) if entry.actor else None,
                actor_name=entry.actor_name,
                action=entry.action,
                object_type=entry.object_type,
                object_id=entry.object_id,
                data=entry.data,
                prev_hash=entry.prev_hash,
            )
        )
    )


def lock() -> None:
    """Take the audit head's lock now, at the start of a writing transaction.

    Writers of versions take it before inserting, so versions get their ids (the change-feed
    order) in the order their transactions commit, and a feed reader never skips one."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.lock() must be called inside transaction.atomic()")
    if _read_head() is None:
        AuditHead.objects.get_or_create(id=1)


def _read_head() -> tuple[int, str] | None:
    """The head's (seq, entry_hash), locking its row where the database locks rows (one small statement: this runs
    in every writing transaction)."""
    table = connection.ops.quote_name(AuditHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, entry_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row is not None else None


def append(
    action: str,
    *,
    actor: Account | None,
    object_type: str = "",
    object_id: str = "",
    data: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry. Must run inside the caller's transaction: the entry lands with the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.append() must be called inside transaction.atomic()")
    from accord.members.identity import here

    head = _read_head()
    if head is None:
        AuditHead.objects.create(id=1)
        head = (0, "")
    head_seq, head_hash = head
    node_here = here()  # None before the node has its identity (its first entries are made while it gets one)
    node = node_here.node_id if node_here is not None else None
    entry = AuditEntry(
        seq=head_seq + 1,
        at=now_rfc3339(),
        node_id=node,
        actor=actor.uuid if actor is not None else None,
        actor_name=actor_name if actor_name is not None else (actor.username if actor is not None else "system"),
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data or {},
        prev_hash=head_hash or GENESIS,
    )
    entry.entry_hash = hash_of(entry)  # also refuses floats and the like before anything is written
    rows.insert([entry])
    table = connection.ops.quote_name(AuditHead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET seq = %s, entry_hash = %s WHERE id = 1",  # noqa: S608
            [entry.seq, entry.entry_hash],
        )
    return entry
