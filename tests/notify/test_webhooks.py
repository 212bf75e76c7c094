"""Webhooks: signed per Standard Webhooks, at most once, retried with backoff, disabled after permanent failures."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.utils import timezone

from accord.alerts import actions as alert_actions
from accord.notify import actions, dispatch
from accord.notify.models import Channel, Delivery, DeliveryAttempt
from accord.records.errors import ActionError
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Receiver, verify

pytestmark = pytest.mark.django_db


def test_a_webhook_is_signed_and_carries_the_version_and_the_cap_link(world: World, receiver: Receiver) -> None:
    _, channel = subscribe(world.carol, webhook=receiver.url())
    assert channel.secret.startswith("whsec_")
    version = publish(world.alice)
    drain()
    (got,) = receiver.wait_for(1)
    payload = verify(got, channel.secret)  # raises if the signature does not verify
    delivery = Delivery.objects.get()
    assert got.headers["webhook-id"] == delivery.key and delivery.status == "sent"
    assert payload["type"] == "record.published"
    data = payload["data"]
    assert data["record"] == str(version.record_uuid) and data["seq"] == 1 and data["kind"] == "alert"
    assert data["links"]["cap"].endswith(f"/api/v1/alerts/{version.record_uuid}.cap")
    assert data["version"]["content_hash"] == version.content_hash
    assert data["version"]["envelope"]["body"]["cap"]["info"][0]["severity"] == "Severe"
    assert data["thread"] == f"{version.origin_node}/{version.record_uuid}"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.outcome == "ok" and attempt.status_code == 204


def test_updates_share_the_thread_and_each_is_delivered_once(world: World, receiver: Receiver) -> None:
    _, channel = subscribe(world.carol, webhook=receiver.url())
    version = publish(world.alice)
    drain()
    alert_actions.cancel_alert(version.record, acting_user=world.alice, reason="sent in error")
    drain()
    drain()  # nothing left: no second send
    first, second = receiver.wait_for(2)
    assert len(receiver.received) == 2
    one, two = verify(first, channel.secret), verify(second, channel.secret)
    assert one["data"]["thread"] == two["data"]["thread"]
    assert two["type"] == "record.withdrawn" and two["data"]["seq"] == 2
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    # Expanding the same outbox entry again makes no second delivery (unique key).
    from accord.notify.models import OutboxEntry

    OutboxEntry.objects.update(processed_at=None, lease_until=None)
    dispatch.expand_outbox()
    assert Delivery.objects.count() == 2


def test_temporary_failures_are_retried_with_backoff_and_the_same_webhook_id(world: World, receiver: Receiver) -> None:
    answers = iter([503, 503, 200])
    receiver.answer = lambda path: (next(answers), 0.0, b"")
    _, channel = subscribe(world.carol, webhook=receiver.url())
    publish(world.alice)
    delays = []
    for _ in range(3):
        started = timezone.now()
        drain()
        delivery = Delivery.objects.get()
        if delivery.status == "pending":
            delays.append((delivery.next_attempt_at - started).total_seconds())
            Delivery.objects.update(next_attempt_at=timezone.now())  # time passes
    assert delivery.status == "sent" and delivery.attempts == 3
    assert 27 <= delays[0] <= 34 and 54 <= delays[1] <= 67  # 30 s, then 60 s (+-10 %)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {delivery.key} and len(receiver.received) == 3
    outcomes = list(DeliveryAttempt.objects.values_list("outcome", "status_code"))
    assert outcomes == [("temporary", 503), ("temporary", 503), ("ok", 200)]
    assert all(a.duration_ms >= 0 for a in DeliveryAttempt.objects.all())
    channel.refresh_from_db()
    assert channel.failures == 0 and not channel.is_disabled


def test_retries_stop_after_the_last_attempt(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda path: (500, 0.0, b"")
    subscribe(world.carol, webhook=receiver.url())
    publish(world.alice)
    for _ in range(6):
        drain()
        Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 4 and delivery.last_error == "HTTP 500"
    assert len(receiver.received) == 4


def test_permanent_failures_disable_the_channel_and_tell_the_owner(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda path: (410, 0.0, b"gone")
    _, channel = subscribe(world.carol, webhook=receiver.url())
    mail.outbox.clear()
    for n in range(4):
        publish(world.alice, headline=f"Alert {n}")
        drain()
    channel.refresh_from_db()
    assert channel.is_disabled and "permanent failures" in channel.disabled_reason
    assert len(receiver.received) == 3  # the fourth alert was not sent to a disabled channel
    statuses = sorted(Delivery.objects.filter(purpose="match").values_list("status", flat=True))
    assert statuses == ["failed", "failed", "failed"]  # no delivery is made for a disabled channel
    notice = Delivery.objects.get(purpose="notice")
    assert notice.status == "sent" and notice.address == "carol@example.org"
    (message,) = [m for m in mail.outbox if m.to == ["carol@example.org"]]
    assert message.subject == "[Accord] Ваш вебхук отключён" and receiver.url() in message.body  # carol: KZ, Russian
    # 408 and 429 are temporary, not permanent.
    actions.enable_channel(channel, acting_user=world.carol)
    receiver.answer = lambda path: (429, 0.0, b"")
    publish(world.alice, headline="Later")
    drain()
    assert Delivery.objects.filter(purpose="match").order_by("-id").first().status == "pending"  # type: ignore[union-attr]


def test_a_redirect_is_not_followed(world: World, receiver: Receiver) -> None:
    receiver.answer = lambda path: (302, 0.0, b"")
    subscribe(world.carol, webhook=receiver.url())
    publish(world.alice)
    drain()
    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and "redirects are not followed" in delivery.last_error
    assert len(receiver.received) == 1


def test_a_slow_or_garbage_receiver_does_not_hold_up_the_others(world: World, receiver: Receiver) -> None:
    def answer(path: str) -> tuple[int, float, bytes]:
        if path == "/slow":
            return 200, 3.0, b""  # longer than the 2 s time limit
        if path == "/garbage":
            return 200, 0.0, b"x" * 200_000  # more than any acknowledgement
        return 204, 0.0, b""

    receiver.answer = answer
    subscribe(world.carol, webhook=receiver.url("/slow"))
    subscribe(world.dave, webhook=receiver.url("/garbage"))
    subscribe(world.bob, webhook=receiver.url("/fast"))
    publish(world.alice)
    loop = dispatch.Loop("test", concurrency=4)
    started = time.monotonic()
    try:
        while (
            not receiver.at("/fast")
            or Delivery.objects.filter(address=receiver.url("/fast"), status="sent").count() == 0
        ):
            loop.step(0.05)
            assert time.monotonic() - started < 1.5, "the fast receiver waited for the slow one"
        loop.drain(timeout=10)
    finally:
        loop.close()
    by_path = {d.address.rsplit("/", 1)[1]: d for d in Delivery.objects.all()}
    assert by_path["fast"].status == "sent"
    assert by_path["slow"].status == "pending" and "timed out" in by_path["slow"].last_error
    assert by_path["garbage"].status == "pending" and "too large" in by_path["garbage"].last_error


@pytest.mark.parametrize(
    ("kind", "target", "why"),
    [
        ("webhook", "ftp://example.org/hook", "only http and https"),
        ("webhook", "javascript:alert(1)", "only http and https"),
        ("webhook", "https://user:secret@example.org/hook", "user information"),
        ("webhook", "http://10.1.2.3/hook", "private"),
        ("webhook", "http://169.254.169.254/latest/meta-data/", "link-local"),
        ("webhook", "http://[::1]:8080/hook", "loopback"),
        ("webhook", "", "empty"),
        ("email", "not-an-address", "not a valid e-mail address"),
        ("email", "a@b", "not a valid e-mail address"),
        ("email", "carol@example.org\nBcc: x@example.org", "not a valid e-mail address"),
        ("fax", "+7 123", "not email or webhook"),
    ],
)
def test_bad_channels_are_refused_with_the_reason(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: str, target: str, why: str
) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "")
    with pytest.raises(ActionError, match=why):
        actions.create_channel(kind=kind, target=target, account=world.carol, acting_user=world.carol)
    assert not Channel.objects.exists()


def test_the_allow_list_admits_an_internal_receiver(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "10.1.0.0/16")
    channel = actions.create_channel(
        kind="webhook", target="http://10.1.2.3/hook", account=world.carol, acting_user=world.carol
    )
    assert channel.target == "http://10.1.2.3/hook"


def test_only_the_owner_manages_a_subscription(world: World, receiver: Receiver) -> None:
    from accord.records.errors import Forbidden

    subscription, channel = subscribe(world.carol, webhook=receiver.url())
    with pytest.raises(Forbidden):
        actions.remove_subscription(subscription, acting_user=world.dave)
    with pytest.raises(Forbidden):
        actions.create_subscription(channels=[channel], account=world.dave, acting_user=world.dave)
    actions.remove_subscription(subscription, acting_user=world.carol)
    assert not Channel.objects.exists()


def test_a_test_notification_reaches_the_channel(world: World, receiver: Receiver) -> None:
    _, channel = subscribe(world.carol, webhook=receiver.url())
    delivery = actions.send_test(channel, acting_user=world.carol)
    assert delivery.status == "sent"
    (got,) = receiver.received
    assert verify(got, channel.secret)["type"] == "test"
