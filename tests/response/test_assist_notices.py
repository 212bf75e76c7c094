"""Mutual assistance told through notify: a new request to the focal points of the members in its audience (not the
requester's own, not viewers, not members outside it), a new offer and an acceptance to the two parties, each once,
in the recipient's language, sent by e-mail to a local SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.notify.models import Delivery
from accord.records.envelope import Audience
from accord.records.models import Version
from accord.response import assist_actions, assist_notices
from tests.notify.support import Mailbox, send_mail_to, smtp_server
from tests.response.conftest import People, measles

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])


@pytest.fixture
def mailbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    with smtp_server() as box:
        yield send_mail_to(settings, box)


def _told(version: Version) -> set[str]:
    return set(Delivery.objects.filter(version=version).values_list("address", flat=True))


def test_request_offer_and_acceptance_are_told_to_whom_they_concern(people: People, mailbox: Mailbox) -> None:
    incident = measles(people, audience=AUDIENCE)
    world = people.world
    wanted = assist_actions.create_request(
        incident.uuid,
        acting_user=world.carol,
        resource_type="pcr_tests",
        quantity=10_000,
        needed_by="2026-05-10",
        region="KZ-61",
    )
    assist_notices.committed(wanted.pk)
    # The focal points of KG, CN, UZ and the Secretariat's coordinator; not KZ's own, nor the viewer kim, nor IN.
    assert _told(wanted) == {
        "kira@example.org",
        "alice@example.org",
        "bob@example.org",
        "umid@example.org",
        "sam@example.org",
    }
    (russian,) = mailbox.to("kira@example.org")
    assert "ПЦР-тесты" in str(russian["Subject"]) and "KZ" in str(russian["Subject"])
    assert len(mailbox.messages) == 5 and {m["To"] for m in mailbox.messages} >= {"alice@example.org"}
    assist_notices.committed(wanted.pk)  # once only
    assert Delivery.objects.filter(version=wanted).count() == 5 and len(mailbox.messages) == 5

    offer = assist_actions.make_offer(wanted.record_uuid, acting_user=people.umid, quantity=6000)
    assert {d.address for d in assist_notices.queue(offer)} == {"carol@example.org", "umid@example.org"}
    accepted = assist_actions.accept(offer.record_uuid, acting_user=world.carol, quantity=4000)
    assist_notices.committed(accepted.pk)
    assert _told(accepted) == {"carol@example.org", "umid@example.org"}
    (to_umid,) = [m for m in mailbox.to("umid@example.org") if "4000" in str(m["Subject"])]
    assert "KZ принял предложение" in str(to_umid["Subject"])  # UZ reads Russian
    assert "/assistance/requests/" in to_umid.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_withdrawal_or_a_later_version_tells_nobody(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    wanted = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="ventilators",
        quantity=3,
        needed_by="2026-05-10",
        region="KZ-61",
    )
    withdrawn = assist_actions.withdraw_request(wanted.record_uuid, acting_user=people.world.carol, reason="found")
    assert withdrawn.seq == 2 and assist_notices.queue(withdrawn) == []
