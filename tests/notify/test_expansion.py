"""Expanding a version into deliveries part by part: each part commits on its own (sending starts before the last
is made), the entry is marked done with its last part, and an expansion cut off half-way and done again makes no
delivery twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.notify import actions, dispatch, expansion
from accord.notify.models import Delivery, OutboxEntry
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Receiver

pytestmark = pytest.mark.django_db


def test_a_fan_out_commits_part_by_part_and_a_cut_off_expansion_done_again_sends_each_once(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expansion, "EXPAND_PART", 2)
    channels = [subscribe(world.carol, webhook=receiver.url(f"/hook/{n}"))[1] for n in range(4)]
    # A fifth subscription, in the last part, on the first part's channel: one message per channel and version.
    actions.create_subscription(
        channels=[channels[0]], filters=actions.Filters(), account=world.carol, name="again", acting_user=world.carol
    )
    version = publish(world.alice)
    entry = OutboxEntry.objects.get(version=version)

    first = dispatch.Expander()
    assert first.count == 1 and first.step()
    made = Delivery.objects.filter(version=version)
    assert sorted(made.values_list("channel_id", flat=True)) == sorted(c.pk for c in channels[:2])
    entry.refresh_from_db()
    assert entry.processed_at is None and entry.lease_token == first.entries[0].lease_token

    # The worker stalls past its lease; another takes the entry over and expands it from its first part.
    OutboxEntry.objects.filter(pk=entry.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    second = dispatch.Expander()
    assert second.count == 1
    while second.step():
        pass
    entry.refresh_from_db()
    assert entry.processed_at is not None and entry.tries == 2
    keys = list(made.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == 4  # the part made twice made nothing twice
    assert sorted(made.values_list("channel_id", flat=True)) == sorted(c.pk for c in channels)
    assert dispatch.Expander().count == 0  # done: nobody expands it again

    # The stalled worker wakes up: its lease is gone, so it writes nothing more (were the rows gone, it would not
    # make them again) and gives the entry up.
    made.delete()
    while first.step():
        pass
    assert not made.exists()
    # (Put back as they were, for the sending below.)
    OutboxEntry.objects.filter(pk=entry.pk).update(processed_at=None, lease_until=None)
    assert dispatch.expand_outbox() == 1
    assert set(made.values_list("key", flat=True)) == set(keys)

    drain()
    assert sorted(r.path for r in receiver.received) == [f"/hook/{n}" for n in range(4)]


def test_a_worker_that_stops_mid_expansion_gives_the_entry_back(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expansion, "EXPAND_PART", 1)
    for n in range(3):
        subscribe(world.carol, webhook=receiver.url(f"/hook/{n}"))
    version = publish(world.alice)
    loop = dispatch.Loop("test")
    assert loop.step(0)  # one round: the first part only
    assert loop.expander is not None
    assert Delivery.objects.filter(version=version).count() == 1
    loop.close()
    entry = OutboxEntry.objects.get(version=version)
    assert entry.processed_at is None and entry.lease_until is None  # free for the next worker at once
    drain()
    assert sorted(r.path for r in receiver.received) == [f"/hook/{n}" for n in range(3)]
    assert Delivery.objects.filter(version=version, status="sent").count() == 3


def test_with_nobody_subscribed_the_outbox_is_settled_in_one_statement_and_a_later_subscription_still_hears(
    world: World, receiver: Receiver
) -> None:
    versions = [publish(world.alice) for _ in range(3)]
    waiting = OutboxEntry.objects.filter(version__in=versions, processed_at__isnull=True)
    assert waiting.count() == 3
    expander = dispatch.Expander()
    assert expander.count == 3 and not expander.step()  # marked processed, nothing to expand
    assert not waiting.exists() and not Delivery.objects.exists()
    assert dispatch.Expander().count == 0  # nothing waits: a read, no write

    # Once someone subscribes, the versions issued after it are expanded as before.
    subscribe(world.carol, webhook=receiver.url("/hook/later"))
    later = publish(world.alice)
    assert dispatch.expand_outbox() == 1
    assert Delivery.objects.filter(version=later).count() == 1
