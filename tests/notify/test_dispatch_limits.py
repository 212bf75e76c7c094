"""What a receiver may ask and what one host may take: Retry-After, the per-host limit, and e-mail addresses that
keep refusing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from accord.notify import dispatch
from accord.notify.models import Delivery, DeliveryAttempt
from accord.notify.transports import parse_retry_after
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Mailbox, Receiver, free_port, send_mail_to, text_of, webhook_receiver

pytestmark = pytest.mark.django_db


# ---- Retry-After ---------------------------------------------------------------------------------------------


def test_retry_after_is_read_as_seconds_or_an_http_date_and_bounded() -> None:
    now = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 0 ", now) == 0
    assert parse_retry_after(format_datetime(now + timedelta(minutes=10), usegmt=True), now) == 600
    assert parse_retry_after("Sat, 28 Nov 2026 03:00:00 GMT", now) == 0  # in the past: at once
    assert parse_retry_after("86400", now) == 3600  # at most an hour
    for garbage in ("", "soon", "-5", "1.5", "12 seconds", "Sat, 99 Nov 2026 03:00:00 GMT"):
        assert parse_retry_after(garbage, now) is None, garbage


@pytest.mark.parametrize(
    ("status", "retry_after", "low", "high"),
    [
        (503, "120", 119, 121),  # the receiver's wish
        (429, "in-date", 599, 601),  # an HTTP date, ten minutes ahead
        (503, "999999", 3599, 3601),  # bounded: one hour
        (503, "whenever", 27, 34),  # unreadable: the usual backoff (30 s +- 10 %)
        (500, "120", 27, 34),  # only 429 and 503 carry it
    ],
)
def test_the_next_attempt_follows_retry_after(
    world: World, receiver: Receiver, status: int, retry_after: str, low: float, high: float
) -> None:
    def answer(path: str) -> tuple[int, float, bytes]:
        value = retry_after
        if value == "in-date":
            value = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
        receiver.reply_headers = {"Retry-After": value}
        return status, 0.0, b""

    receiver.answer = answer
    subscribe(world.carol, webhook=receiver.url())
    publish(world.alice)
    drain()
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    attempt = DeliveryAttempt.objects.get()
    # From when the outcome was recorded (the attempt's start plus its duration), not from before the send: a
    # loaded machine may take more than a second between the two.
    recorded = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
    delay = (delivery.next_attempt_at - recorded).total_seconds()
    assert low <= delay <= high, delay
    assert attempt.status_code == status


# ---- one host, a few slots -------------------------------------------------------------------------------


def test_one_host_takes_at_most_its_share_of_the_send_slots(world: World, settings: Any) -> None:
    settings.ACCORD_NOTIFY_PER_HOST = 2
    order: list[str] = []
    active = {"now": 0, "most": 0}
    lock = threading.Lock()
    release = threading.Event()

    def slow(path: str) -> tuple[int, float, bytes]:
        with lock:
            order.append("slow")
            active["now"] += 1
            active["most"] = max(active["most"], active["now"])
        release.wait(10)  # held until the fast receiver has had its turn (or 10 s)
        with lock:
            active["now"] -= 1
        return 204, 0.0, b""

    def fast(path: str) -> tuple[int, float, bytes]:
        with lock:
            order.append("fast")
        # Let the slow host fill what it may take (on a busy machine its second send can start after this one).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with lock:
                if active["now"] >= 2:
                    break
            time.sleep(0.01)
        release.set()
        return 204, 0.0, b""

    with webhook_receiver() as slow_host, webhook_receiver() as fast_host:
        slow_host.answer, fast_host.answer = slow, fast
        # Six channels on the slow host, made (and so claimed) before the one on the fast host.
        for n in range(6):
            subscribe([world.carol, world.dave, world.bob][n % 3], webhook=slow_host.url(f"/hook/{n}"))
        subscribe(world.sam, webhook=fast_host.url())
        publish(world.alice)
        loop = dispatch.Loop("test", concurrency=4)
        try:
            loop.drain(timeout=60)
        finally:
            release.set()
            loop.close()
    # With four slots, the slow host got two; the fast receiver did not wait for the slow host to answer.
    assert active["most"] == 2
    assert order.index("fast") <= 2, order
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_per_host_limit_counts_host_and_port() -> None:
    assert dispatch.host_of("webhook", "https://Hooks.Example.org/a?b=1") == "hooks.example.org:443"
    assert dispatch.host_of("webhook", "http://hooks.example.org/a") == "hooks.example.org:80"
    assert dispatch.host_of("webhook", "http://127.0.0.1:8080/a") == "127.0.0.1:8080"
    assert dispatch.host_of("email", "carol@example.org") == ""  # the SMTP relay is one host: no limit


# ---- e-mail addresses that keep refusing ------------------------------------------------------------------


@contextmanager
def refusing_smtp_server(*, recipient: str = "", sender: str = "") -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 that refuses RCPT TO:<recipient> (550) and MAIL FROM:<sender> (553), and
    accepts everything else."""
    import email
    import email.policy
    from email.message import EmailMessage

    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port())

    class Handler:
        async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address == sender:
                return "553 5.7.1 sender not allowed"
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
            if address == recipient:
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            with box.lock:
                box.messages.append(message)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def refusing_mailbox(settings: Any) -> Iterator[Mailbox]:
    with refusing_smtp_server(recipient="gone@example.org", sender="blocked@node.example") as box:
        yield send_mail_to(settings, box)


def test_an_email_channel_whose_address_keeps_being_refused_is_disabled_and_the_owner_told(
    world: World, refusing_mailbox: Mailbox
) -> None:
    _, channel = subscribe(world.sam, email="gone@example.org", language="en")
    subscribe(world.carol, email="carol@example.org")  # another channel on the same relay keeps working
    for n in range(4):  # ACCORD_NOTIFY_DISABLE_AFTER is 3 in these tests
        publish(world.alice, headline=f"Alert {n}")
        drain()
    channel.refresh_from_db()
    assert channel.is_disabled and "3 permanent failures in a row" in channel.disabled_reason
    assert "550" in channel.last_error
    refused = Delivery.objects.filter(channel=channel, purpose="match")
    assert sorted(refused.values_list("status", flat=True)) == ["failed", "failed", "failed"]  # none for alert 3
    assert len(refusing_mailbox.to("carol@example.org")) == 4
    # The owner is told at the account's own address, through the same relay.
    notice = Delivery.objects.get(purpose="notice")
    assert notice.status == "sent" and notice.address == "sam@example.org"
    (message,) = refusing_mailbox.to("sam@example.org")
    assert "gone@example.org" in text_of(message)


def test_a_refusal_that_is_not_about_the_address_does_not_count_against_the_channel(
    world: World, refusing_mailbox: Mailbox, settings: Any
) -> None:
    _, channel = subscribe(world.sam, email="sam@example.org", language="en")
    settings.DEFAULT_FROM_EMAIL = "blocked@node.example"  # the relay refuses this node's sender: not sam's fault
    for n in range(4):
        publish(world.alice, headline=f"Alert {n}")
        drain()
    channel.refresh_from_db()
    assert not channel.is_disabled and channel.failures == 0
    deliveries = Delivery.objects.filter(channel=channel)
    assert set(deliveries.values_list("status", flat=True)) == {"failed"}  # permanent, so not retried
    assert all("553" in error for error in deliveries.values_list("last_error", flat=True))
