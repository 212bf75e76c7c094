"""Background tasks of federation."""

from __future__ import annotations

import uuid

from django_tasks import task


@task()
def release_quarantined(origin_node: str) -> int:
    """A peer's node record changed: store its quarantined versions that it may issue now. Returns how many."""
    from accord.federation import noderecord
    from accord.records.ingest import release_quarantined as release

    noderecord.forget()  # this worker may hold what the peer could issue before its new node record
    return sum(1 for result in release(uuid.UUID(origin_node)) if getattr(result, "outcome", None) == "stored")
