"""Mobilisation told through notify: a roster call e-mails each called expert (with the link to the page where they
answer), in their language; a reply e-mails the one who called; sent to a local SMTP server (aiosmtpd). A called
expert whose subscription names roster calls gets the call on their webhook too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.alliances import mobilise_notices
from accord.members import actions as member_actions
from accord.notify.models import Delivery
from accord.records.models import Version
from tests.alliances.mobilise_support import Mob, call, created, mob_fixture  # noqa: F401
from tests.alliances.roster_support import Api, roster_fixture  # noqa: F401
from tests.notify.conftest import drain
from tests.notify.helpers import subscribe
from tests.notify.support import Mailbox, send_mail_to, smtp_server, text_of, verify, webhook_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    with smtp_server() as box:
        yield send_mail_to(settings, box)


def _told(version: Version) -> set[str]:
    return set(Delivery.objects.filter(version=version).values_list("address", flat=True))


def test_a_call_tells_the_called_experts_and_a_reply_tells_the_caller(mob: Mob, mailbox: Mailbox) -> None:
    member_actions.set_preferences(mob.roster.oleg, language="ru", time_zone="", acting_user=None)
    made = created(call(Api(mob.sam), request=str(mob.request.uuid)))
    version = Version.objects.get(record__uuid=made["id"])
    mobilise_notices.committed(version.pk)
    assert _told(version) == {"li@example.org", "oleg@example.org"}  # the two called; not aida, not carol
    (to_li,) = mailbox.to("li@example.org")
    subject = str(to_li["Subject"])  # li (CN) reads Chinese
    assert "流行病学" in subject and "SCO" in subject and "2026-06-10" in subject and "2026-06-30" in subject
    assert f"/alliances/roster-calls/{made['id']}/#answer" in text_of(to_li)
    (to_oleg,) = mailbox.to("oleg@example.org")
    assert "Эпидемиология" in str(to_oleg["Subject"])  # oleg reads Russian
    mobilise_notices.committed(version.pk)  # once only
    assert len(mailbox.messages) == 2

    reply = created(Api(mob.roster.li).post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": True}))
    answered = Version.objects.get(record__uuid=reply["id"], seq=1)
    mobilise_notices.committed(answered.pk)
    assert _told(answered) == {"sam@example.org"}  # the caller
    (to_sam,) = mailbox.to("sam@example.org")
    assert "an expert of CN is available, 2026-06-10 to 2026-06-30" in str(to_sam["Subject"])
    assert f"/alliances/roster-calls/{made['id']}/#replies" in text_of(to_sam)
    changed = created(Api(mob.roster.li).post(f"/api/v1/roster-calls/{made['id']}/replies", {"available": False}))
    again = Version.objects.get(record__uuid=changed["id"], seq=2)
    mobilise_notices.committed(again.pk)  # a changed reply is told too
    assert len(mailbox.to("sam@example.org")) == 2
    assert "not available" in str(mailbox.to("sam@example.org")[-1]["Subject"])


def test_a_called_expert_subscribed_to_roster_calls_gets_it_on_their_webhook(mob: Mob, mailbox: Mailbox) -> None:
    with webhook_receiver() as receiver:
        _, channel = subscribe(mob.roster.li, webhook=receiver.url(), kinds=["roster_call"])
        made = created(call(Api(mob.carol), request=str(mob.request.uuid)))
        drain()
        (got,) = receiver.wait_for(1)
    payload = verify(got, channel.secret)
    assert payload["data"]["kind"] == "roster_call" and payload["data"]["record"] == made["id"]
    assert payload["data"]["links"]["record"].endswith(f"/alliances/roster-calls/{made['id']}/")
