"""The outbox: one row per version to disseminate, written in the version's own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection

from accord.records import hooks, rows

if TYPE_CHECKING:
    from accord.records.models import Version

# Kinds nobody is ever notified of: the node's own key announcements and audit checkpoints.
SILENT_KINDS = frozenset({"node_key", "node_record", "audit_checkpoint"})
# On PostgreSQL, the channel an idle notify loop listens on (dispatch.run): told when an outbox row or new
# deliveries commit.
WAKEUP_CHANNEL = "accord_notify_outbox"


def write_entry(version: Version) -> None:
    """The in-transaction hook: queue the version for dissemination (drafts never are)."""
    from accord.notify.models import OutboxEntry

    if version.status == "draft" or version.kind in SILENT_KINDS:
        return
    OutboxEntry.objects.create(version=version)
    wake()


def wake() -> None:
    """Tell idle notify loops there is new work (PostgreSQL NOTIFY): delivered when, and only if, the current
    transaction commits; repeats within one transaction are merged. Elsewhere the loops poll."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {WAKEUP_CHANNEL}")


def write_entries(versions: list[Version]) -> None:
    """The same for a batch of versions, in one statement."""
    from accord.notify.models import OutboxEntry

    rows.insert([OutboxEntry(version=v) for v in versions if v.status != "draft" and v.kind not in SILENT_KINDS])


def register() -> None:
    hooks.on_version_written(write_entry, many=write_entries)
