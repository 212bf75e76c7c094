"""In-transaction hooks: code that must write its own rows in the same transaction as a version.

`accord.records.tasks.on_version_committed` runs listeners in the worker after the commit; a hook
here runs inside the writing transaction (publish, revise, withdraw, node announcements and
ingest of versions from peers), so whatever it writes commits or rolls back with the version.
The notify app registers its outbox here, so the record core never imports notify.

A hook must be quick and must not do I/O outside the database: it holds the writer's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.records.models import Version

VersionHook = Callable[["Version"], None]
_hooks: list[VersionHook] = []


def on_version_written(hook: VersionHook) -> VersionHook:
    """Register `hook(version)` to run in the transaction of every version written here (idempotent)."""
    if all(existing is not hook for existing in _hooks):
        _hooks.append(hook)
    return hook


def version_written(version: Version) -> None:
    """Called by the record core's one writer, `_write_version`, inside its transaction."""
    for hook in list(_hooks):
        hook(version)
