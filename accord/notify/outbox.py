"""The outbox: one row per version to disseminate, written in the version's own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.records import hooks

if TYPE_CHECKING:
    from accord.records.models import Version

# Kinds nobody is ever notified of: the node's own key announcements.
SILENT_KINDS = frozenset({"node_key"})


def write_entry(version: Version) -> None:
    """The in-transaction hook: queue the version for dissemination (drafts never are)."""
    from accord.notify.models import OutboxEntry

    if version.status == "draft" or version.kind in SILENT_KINDS:
        return
    OutboxEntry.objects.create(version=version)


def register() -> None:
    hooks.on_version_written(write_entry)
