"""ACCORD_PUBLIC_URL: every link in every e-mail (real SMTP), feed and webhook payload is absolute and right."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import checks
from django.test import Client
from lxml import etree

from accord.federation.actions import set_node_url
from accord.members import site
from accord.notify import actions as notify_actions
from accord.notify.actions import Filters
from accord.records.envelope import Audience
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Mailbox, Receiver, text_of, verify

pytestmark = pytest.mark.django_db

PUBLIC = "https://accord.example.kz"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def public(settings: Any) -> str:
    settings.ACCORD_PUBLIC_URL = PUBLIC
    return PUBLIC


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>]+", text)


def test_alert_e_mails_link_to_the_public_address(world: World, mailbox: Mailbox, public: str) -> None:
    subscribe(world.sam, email="sam@example.org", language="en")
    subscribe(world.carol)  # Russian
    version = publish(world.alice)
    drain()
    page = f"{PUBLIC}/alerts/{version.record_uuid}/"
    cap = f"{PUBLIC}/api/v1/alerts/{version.record_uuid}.cap"
    for message in (*mailbox.to("sam@example.org"), *mailbox.to("carol@example.org")):
        text, html = text_of(message), text_of(message, "html")
        assert page in text and cap in text
        assert f'href="{page}"' in html and f'href="{cap}"' in html
        # Every link is absolute and on the public address (none to localhost, none relative).
        assert _links(text) and all(link.startswith(PUBLIC + "/") for link in _links(text))
        assert 'href="/' not in html and "localhost" not in text + html


def test_without_the_setting_the_url_given_at_init_is_used(world: World, mailbox: Mailbox, settings: Any) -> None:
    settings.ACCORD_PUBLIC_URL = ""
    set_node_url("https://hub.example.org/accord/", acting_user=None)
    assert site.public_url() == "https://hub.example.org/accord" and site.source() == "node"
    subscribe(world.sam, email="sam@example.org", language="en")
    version = publish(world.alice)
    drain()
    (message,) = mailbox.to("sam@example.org")
    assert f"https://hub.example.org/accord/alerts/{version.record_uuid}/" in text_of(message)


def test_webhook_payloads_carry_absolute_links(world: World, receiver: Receiver, public: str) -> None:
    _, channel = subscribe(world.carol, webhook=receiver.url())
    version = publish(world.alice)
    drain()
    (got,) = receiver.wait_for(1)
    links = verify(got, channel.secret)["data"]["links"]
    assert links == {
        "record": f"{PUBLIC}/alerts/{version.record_uuid}/",
        "cap": f"{PUBLIC}/api/v1/alerts/{version.record_uuid}.cap",
    }


def _atom_links(content: bytes) -> list[str]:
    root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    return [str(link.get("href")) for link in root.iter(f"{ATOM}link")]


def test_feeds_link_to_the_public_address_not_to_the_host_asked(world: World, public: str) -> None:
    version = publish(world.alice, tlp="CLEAR")
    # The public CAP index feed, asked for at another host name (a proxy's, an internal one).
    feed = Client().get("/feeds/alerts.atom", headers={"host": "127.0.0.1"})
    assert feed.status_code == 200
    links = _atom_links(feed.content)
    assert f"{PUBLIC}/feeds/alerts/{version.record_uuid}.cap" in links
    assert links and all(link.startswith(PUBLIC + "/") for link in links)
    rss = Client().get("/feeds/alerts.rss", headers={"host": "127.0.0.1"})
    assert all(link.startswith(PUBLIC + "/") for link in _links(rss.content.decode()) if "w3.org" not in link)
    # A subscription's own feed.
    subscription = notify_actions.create_subscription(
        channels=[], filters=Filters(kinds=["alert"]), account=world.carol, name="all", acting_user=world.carol
    )
    token = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    mine = Client().get(f"/feeds/s/{token}/subscription.atom", headers={"host": "127.0.0.1"})
    links = _atom_links(mine.content)
    assert f"{PUBLIC}/alerts/{version.record_uuid}/" in links
    assert links and all(link.startswith(PUBLIC + "/") for link in links)


def test_without_any_public_address_a_feed_links_to_the_address_it_was_asked_at(world: World, settings: Any) -> None:
    settings.ACCORD_PUBLIC_URL = ""
    site.forget()
    version = publish(world.alice, audience=Audience(everyone=True), tlp="CLEAR")
    links = _atom_links(Client().get("/feeds/alerts.atom").content)
    assert f"http://testserver/feeds/alerts/{version.record_uuid}.cap" in links


def test_production_without_a_public_url_warns(settings: Any) -> None:
    settings.ACCORD_ENV = "production"
    settings.ACCORD_PUBLIC_URL = ""
    site.forget()
    (warning,) = site.check_public_url()
    assert isinstance(warning, checks.Warning) and warning.id == "accord.W001"
    assert "ACCORD_PUBLIC_URL is not set" in warning.msg
    assert any(w.id == "accord.W001" for w in checks.run_checks(tags=["accord"]))
    settings.ACCORD_PUBLIC_URL = PUBLIC
    assert site.check_public_url() == [] and site.production_warning() is None
    settings.ACCORD_ENV = "development"
    settings.ACCORD_PUBLIC_URL = ""
    assert site.check_public_url() == []


def test_accord_serve_warns_at_start_up_in_production_without_a_public_url(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from accord.cli import _warn_public_url

    settings.ACCORD_ENV = "production"
    settings.ACCORD_PUBLIC_URL = ""
    _warn_public_url()
    assert "accord: warning: ACCORD_PUBLIC_URL is not set" in capsys.readouterr().err
    settings.ACCORD_PUBLIC_URL = PUBLIC
    _warn_public_url()
    assert capsys.readouterr().err == ""
