"""Hooks: code of other apps that the record core calls without importing it.

In-transaction hooks: code that must write its own rows in the same transaction as a version.

`accord.records.tasks.on_version_committed` runs listeners in the worker after the commit; a hook
here runs inside the writing transaction (publish, revise, withdraw, node announcements and
ingest of versions from peers), so whatever it writes commits or rolls back with the version.
The notify app registers its outbox here, so the record core never imports notify.

A hook must be quick and must not do I/O outside the database: it holds the writer's lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.records.models import Version

VersionHook = Callable[["Version"], None]
VersionsHook = Callable[[list["Version"]], None]
_hooks: list[tuple[VersionHook, VersionsHook | None]] = []


def on_version_written(hook: VersionHook, *, many: VersionsHook | None = None) -> VersionHook:
    """Register `hook(version)` to run in the transaction of every version written here (idempotent).

    `many(versions)`, when given, does the same for a batch (received versions are stored a page at a time) and
    should write its rows in bulk; without it, `hook` runs once per version of the batch."""
    if all(existing is not hook for existing, _ in _hooks):
        _hooks.append((hook, many))
    return hook


def version_written(version: Version) -> None:
    """Called by the record core's writers inside their transaction, for one version."""
    for hook, _ in list(_hooks):
        hook(version)


def versions_written(versions: list[Version]) -> None:
    """Called by the batch writer (`accord.records.ingest.ingest_many`) inside its transaction."""
    for hook, many in list(_hooks):
        if many is not None:
            many(versions)
        else:
            for version in versions:
                hook(version)


# ---- who an origin node may speak for ----------------------------------------------------------------------

# `origin_members(node_id, by_node)`: the members a node may issue versions for, as this node knows it (its own
# member, and for a Secretariat hub the members whose accounts it hosts); None when nothing is registered.
# Registered by federation, which knows the peers; the record core applies it to every received version.
OriginMembers = Callable[[uuid.UUID, bool], frozenset[str]]
_origin_members: list[OriginMembers] = []


def set_origin_members(provider: OriginMembers) -> None:
    _origin_members[:] = [provider]


def origin_members(node_id: uuid.UUID, *, by_node: bool) -> frozenset[str] | None:
    if not _origin_members:
        return None
    return _origin_members[0](node_id, by_node)
