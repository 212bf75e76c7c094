"""Claiming in batches: one conditional UPDATE per batch, never the same delivery twice, leases renewed and
given back; an idle loop on PostgreSQL is woken by the commit of a version."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from accord.notify import dispatch
from accord.notify.models import Delivery
from tests.conftest import World
from tests.notify.helpers import publish

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def _deliveries(count: int) -> list[int]:
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(
            key=f"msg_test_{n:04d}",
            purpose=Delivery.Purpose.TEST,
            kind="webhook",
            address=f"http://127.0.0.1:9/{n}",
            next_attempt_at=now - timedelta(seconds=count - n),  # oldest first
        )
        for n in range(count)
    )
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.django_db
def test_a_claim_takes_a_whole_batch_and_the_next_claim_takes_the_rest() -> None:
    ids = _deliveries(30)
    Delivery.objects.filter(pk=ids[-1]).update(next_attempt_at=timezone.now() + timedelta(hours=1))  # not due
    first_token, first = dispatch.claim(20)
    assert [d.pk for d in first] == ids[:20]  # in the order they became due
    assert all(d.status == "sending" and d.lease_token == first_token and d.attempts == 1 for d in first)
    second_token, second = dispatch.claim(20)
    assert [d.pk for d in second] == ids[20:29] and second_token != first_token
    assert dispatch.claim(20) == ("", [])
    # A lease that ran out (its worker died) is taken again, before anything pending, with the same key.
    Delivery.objects.filter(pk=ids[3]).update(lease_until=timezone.now() - timedelta(seconds=1))
    Delivery.objects.filter(pk=ids[-1]).update(next_attempt_at=timezone.now())
    _, third = dispatch.claim(1)
    assert [d.pk for d in third] == [ids[3]] and third[0].attempts == 2 and third[0].key == "msg_test_0003"
    # Only the given ones, when asked for them (escalations, test notifications).
    _, given = dispatch.claim(10, ids=[ids[-1], ids[5]])
    assert [d.pk for d in given] == [ids[-1]]  # the other is held by a live lease


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql_pass
@on_postgresql
def test_workers_claiming_at_the_same_time_never_share_a_delivery() -> None:
    ids = _deliveries(400)
    taken: list[list[int]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            while True:
                _, rows = dispatch.claim(25)
                if not rows:
                    return
                with lock:
                    taken.append([d.pk for d in rows])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [pk for batch in taken for pk in batch]
    assert sorted(everything) == ids  # each delivery claimed exactly once
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_the_queue_keeps_its_leases_and_gives_back_what_it_did_not_send(settings: Any) -> None:
    settings.ACCORD_NOTIFY_LEASE_SECONDS = 60
    ids = _deliveries(12)
    loop = dispatch.Loop("test", concurrency=2)
    try:
        assert loop._claim()
        assert [held.delivery.pk for held in loop.queue] == ids  # one batch, larger than the send slots
        # Half the lease has gone by: the queue's leases are extended, except where another worker took over.
        for held in loop.queue:
            held.lease_until = timezone.now() + timedelta(seconds=10)
        Delivery.objects.filter(pk=ids[0]).update(lease_token="someone-else")
        before = timezone.now()
        loop._renew()
        assert [held.delivery.pk for held in loop.queue] == ids[1:]
        leases = Delivery.objects.filter(pk__in=ids[1:]).values_list("lease_until", flat=True)
        assert all(lease is not None and lease > before + timedelta(seconds=50) for lease in leases)
    finally:
        loop.close()
    # Closing gives the unsent ones back at once (no waiting for the lease), as if never tried.
    rows = Delivery.objects.filter(pk__in=ids[1:])
    assert set(rows.values_list("status", "attempts", "lease_until")) == {("pending", 0, None)}
    assert Delivery.objects.get(pk=ids[0]).status == "sending"  # the other worker's


@pytest.mark.django_db(transaction=True)
def test_an_idle_loop_on_postgresql_is_woken_when_a_version_commits(world: World) -> None:
    wakeup = dispatch._Wakeup()
    try:
        if connection.vendor != "postgresql":
            assert wakeup.listener is None  # SQLite: the loop polls
            return
        stop = threading.Event()
        assert not wakeup.wait(stop, 0.01)  # nothing yet
        publish(world.alice)
        assert wakeup.wait(stop, 30)
    finally:
        wakeup.close()
