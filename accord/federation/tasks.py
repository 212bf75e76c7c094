"""Background tasks of federation."""

from __future__ import annotations

import uuid

from django_tasks import task


@task()
def release_quarantined(origin_node: str) -> int:
    """A peer's node record changed: store its quarantined versions that it may issue now. Returns how many."""
    from accord.records.ingest import release_quarantined as release

    return sum(1 for result in release(uuid.UUID(origin_node)) if getattr(result, "outcome", None) == "stored")
