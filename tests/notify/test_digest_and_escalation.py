"""Digests batch low-severity traffic per period; escalations of overdue acknowledgements go through notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accord.alerts.models import AlertView
from accord.alerts.tasks import check_acknowledgements
from accord.members import actions as member_actions
from accord.notify import dispatch
from accord.notify.models import Delivery, DeliveryAttempt
from accord.records.envelope import Audience
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Mailbox, Receiver, text_of, verify

pytestmark = pytest.mark.django_db


def _end_the_period() -> None:
    Delivery.objects.filter(status="held").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_digest_periods(settings: object) -> None:
    at = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)
    assert dispatch.period_end("hourly", at) == datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
    assert dispatch.period_end("daily", at) == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    assert dispatch.period_end("daily", at.replace(hour=5)) == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_digest_mode_batches_into_one_message_per_period(world: World, mailbox: Mailbox, receiver: Receiver) -> None:
    subscribe(world.carol, email="carol@example.org", language="en", mode="hourly")
    subscribe(world.sam, email="sam@example.org", language="en", mode="daily", immediate_severity="Severe")
    _, hook = subscribe(world.bob, webhook=receiver.url(), mode="hourly")
    subscribe(world.dave, email="dave@example.org", mode="hourly")  # KZ: Russian
    for severity in ("Minor", "Moderate", "Severe"):
        publish(world.alice, severity=severity, headline=f"{severity} event")
    drain()
    assert mailbox.to("carol@example.org") == [] and receiver.received == []
    (urgent,) = mailbox.to("sam@example.org")  # Severe is sent at once, the rest waits
    assert "Severe event" in str(urgent["Subject"])
    assert Delivery.objects.filter(status="held").count() == 3 + 2 + 3 + 3
    _end_the_period()
    drain()
    (digest,) = mailbox.to("carol@example.org")
    assert str(digest["Subject"]).strip() == "[Accord] Digest: 3 new notifications"
    (russian,) = mailbox.to("dave@example.org")
    assert str(russian["Subject"]).strip() == "[Accord] Сводка: 3 новых уведомления"
    body = text_of(digest)
    assert all(f"{s} event" in body for s in ("Minor", "Moderate", "Severe"))
    assert len(mailbox.to("sam@example.org")) == 2 and "2 new notifications" in str(
        mailbox.to("sam@example.org")[1]["Subject"]
    )
    (got,) = receiver.received
    payload = verify(got, hook.secret)
    assert payload["type"] == "digest" and payload["data"]["count"] == 3
    assert {item["title"] for item in payload["data"]["items"]} == {"Minor event", "Moderate event", "Severe event"}
    assert Delivery.objects.filter(status="held").count() == 0
    assert Delivery.objects.filter(status="batched").count() == 11
    # Nothing more: the items are carried once.
    dispatch.release_digests()
    drain()
    assert len(mailbox.messages) == 4 and len(receiver.received) == 1


def _ivan_and_olga(world: World) -> None:
    member_actions.create_account(
        username="ivan",
        organisation=world.ru_health,
        roles=["focal_point"],
        email="ivan@ru.example",
        password=None,
        acting_user=None,
    )
    member_actions.create_account(
        username="olga",
        organisation=world.ru_health,
        roles=["viewer"],
        email="olga@ru.example",
        password=None,
        acting_user=None,
    )


def test_an_overdue_acknowledgement_is_escalated_through_notify(world: World, mailbox: Mailbox) -> None:
    _ivan_and_olga(world)
    version = publish(world.alice, audience=Audience(members=["KZ", "RU"]), tlp="AMBER", headline="Cholera")
    AlertView.objects.filter(record=version.record).update(ack_deadline=timezone.now() - timedelta(minutes=1))
    assert check_acknowledgements.call(version.record_id) == 2  # KZ and RU
    # RU: ivan (its focal point) and olga (its other contact), in Russian; KZ: carol and dave.
    # sam, the Secretariat's coordinator, is outside this AMBER audience and is not told.
    sent = {str(m["To"]) for m in mailbox.messages}
    assert sent == {"ivan@ru.example", "olga@ru.example", "carol@example.org", "dave@example.org"}
    (ivan,) = mailbox.to("ivan@ru.example")
    assert "RU" in str(ivan["Subject"]) and "Cholera" in str(ivan["Subject"])
    rows = Delivery.objects.filter(purpose="escalation")
    assert rows.count() == 4 and set(rows.values_list("status", flat=True)) == {"sent"}
    assert rows.get(address="ivan@ru.example").language == "ru"
    assert DeliveryAttempt.objects.filter(delivery__purpose="escalation", outcome="ok").count() == 4
    assert check_acknowledgements.call(version.record_id) == 0  # once only
    drain()
    assert len(mailbox.messages) == 4


def test_the_secretariat_coordinator_is_told_when_the_alert_reaches_everyone(world: World, mailbox: Mailbox) -> None:
    _ivan_and_olga(world)
    version = publish(world.alice, headline="Cholera")
    AlertView.objects.filter(record=version.record).update(ack_deadline=timezone.now() - timedelta(minutes=1))
    assert check_acknowledgements.call(version.record_id) >= 2
    (told,) = mailbox.to("sam@example.org")  # one message naming every overdue member
    assert "KZ" in str(told["Subject"]) and "RU" in str(told["Subject"]) and "IN" in str(told["Subject"])
    assert mailbox.to("eve@example.org") == []  # disabled
