"""Claiming due deliveries: one conditional UPDATE gives a batch to one worker (status `sending`, a lease, its token);
two workers never hold the same delivery."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.sql.subqueries import UpdateQuery
from django.utils import timezone

from accord.notify.models import Delivery
from accord.notify.pacing import lease_seconds
from accord.records.models import Version

# Deliveries claimed by one call of the loop (one conditional UPDATE), then sent from the worker's own queue.
CLAIM_BATCH = 100


def _mark_claimed(
    due: Q, order: tuple[str, ...], limit: int, *, token: str, until: datetime, ids: list[int] | None
) -> int:
    """One conditional UPDATE: up to `limit` rows that are `due` become this worker's (status, lease, token).

    On PostgreSQL the candidates are picked with `FOR UPDATE SKIP LOCKED` in a materialised CTE of the same
    statement (evaluated once), so workers claiming at the same time take different rows instead of waiting for
    each other; the UPDATE checks `due` again on each row. SQLite runs one writer at a time: a subquery will do."""
    candidates = Delivery.objects.filter(due)
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    candidates = candidates.order_by(*order)
    changes = {
        "status": Delivery.Status.SENDING,
        "lease_until": until,
        "lease_token": token,
        "attempts": F("attempts") + 1,
    }
    with transaction.atomic():
        if connection.vendor != "postgresql":
            return Delivery.objects.filter(due, pk__in=Subquery(candidates.values("pk")[:limit])).update(**changes)
        picked = candidates.select_for_update(skip_locked=True).values("pk")[:limit]
        picked_sql, picked_params = picked.query.get_compiler(connection=connection).as_sql()
        update = Delivery.objects.filter(due).filter(pk__in=RawSQL("SELECT picked.claimed_id FROM picked", ()))
        # The UPDATE's own SQL, with the CTE in front of it.
        compiler = update.query.chain(UpdateQuery).get_compiler(connection=connection)
        compiler.query.add_update_values(changes)
        update_sql, update_params = compiler.as_sql()
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH picked (claimed_id) AS MATERIALIZED ({picked_sql}) {update_sql}",
                (*picked_params, *update_params),
            )
            return int(cursor.rowcount)


def claim(
    limit: int, *, ids: Iterable[int] | None = None, versions: dict[int, Version] | None = None
) -> tuple[str, list[Delivery]]:
    """Claim up to `limit` due deliveries (or the given ones, if due) for this worker. Returns (token, rows).

    Due: `pending` with `next_attempt_at` passed, or `sending` whose lease has expired (its worker died); the
    latter first. `versions`: the caller's cache of versions (immutable), shared by the rows that need them."""
    now = timezone.now()
    token = uuid.uuid4().hex
    until = now + timedelta(seconds=lease_seconds())
    wanted = None if ids is None else list(ids)
    expired = Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    pending = Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
    due = Delivery.objects.filter(expired | pending)
    if not (due if wanted is None else due.filter(pk__in=wanted)).exists():
        # Nothing is due (an idle loop's poll): a read, not a writing transaction (on SQLite the claim's UPDATE
        # would take the one write lock, which ingest and publishing wait for).
        return "", []
    taken = _mark_claimed(expired, ("lease_until", "id"), limit, token=token, until=until, ids=wanted)
    if taken < limit:
        taken += _mark_claimed(pending, ("next_attempt_at", "id"), limit - taken, token=token, until=until, ids=wanted)
    if not taken:
        return "", []
    rows = list(
        Delivery.objects.filter(lease_token=token, status=Delivery.Status.SENDING)
        .select_related(
            "channel",
            "subscription__account__organisation__member",
            "subscription__organisation__member",
        )  # not `account`: only an escalation reads it, and there are few of those
        .order_by("id")
    )
    _attach_versions(rows, {} if versions is None else versions)
    return token, rows


def _attach_versions(rows: list[Delivery], cache: dict[int, Version]) -> None:
    """Give the rows their versions (with records), read once per version: a fan-out sends one version many times."""
    missing = {row.version_id for row in rows if row.version_id is not None} - cache.keys()
    if missing:
        if len(cache) > 256:
            cache.clear()
        cache.update({v.pk: v for v in Version.objects.select_related("record").filter(pk__in=missing)})
    for row in rows:
        if row.version_id is not None and row.version_id in cache:
            row.version = cache[row.version_id]
