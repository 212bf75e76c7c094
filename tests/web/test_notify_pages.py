"""The notification pages in-process (Django test client): channels (with refused addresses and the reason,
the webhook secret shown once, test notifications to a real local receiver), subscriptions (create, edit,
pause, delete, feed addresses) and the delivery log of an alert for coordinators."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from standardwebhooks import Webhook

from accord.alerts import actions as alert_actions
from accord.members import actions as member_actions
from accord.members.models import Account, Organisation
from accord.notify import actions as notify_actions
from accord.notify import dispatch
from accord.notify.models import Channel, Delivery, Subscription
from accord.records.envelope import Audience
from accord.records.models import AuditEntry, Version
from tests.alerts.support import cap, info
from tests.conftest import PASSWORD, World, client_for


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers `status` and keeps what it was sent."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/accord?key=private"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    found = Receiver()
    yield found
    found.close()


# ---- access ----------------------------------------------------------------------------------------------


def test_the_pages_need_a_login(world: World) -> None:
    for url in ("/notifications/", "/notifications/subscriptions/new/", "/notifications/deliveries/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_the_navigation_and_the_banner_are_on_every_page(world: World) -> None:
    page = _html(client_for(world.carol).get("/records/"))
    assert 'href="/notifications/"' in page
    assert 'id="live-banner"' in page and 'data-stream="/api/v1/stream"' in page
    assert re.search(r"/static/notify/live\.[0-9a-f]{12}\.js", page), page
    assert 'id="live-banner"' not in _html(Client().get("/login/"))


# ---- channels --------------------------------------------------------------------------------------------


def test_an_email_channel_is_added_and_tested(world: World) -> None:
    client = client_for(world.carol)
    response = client.post(
        "/notifications/channels/",
        {"kind": "email", "target": "carol.duty@example.org", "language": "ru", "name": "Duty desk"},
    )
    assert response.status_code == 302
    channel = Channel.objects.get(account=world.carol)
    assert (channel.kind, channel.target, channel.language, channel.name) == (
        "email",
        "carol.duty@example.org",
        "ru",
        "Duty desk",
    )
    assert AuditEntry.objects.filter(action="notify.channel.add", object_id=str(channel.uuid)).exists()
    page = _html(client.get("/notifications/"))
    assert "carol.duty@example.org" in page and "Send a test notification" in page

    response = client.post(f"/notifications/channels/{channel.uuid}/test/", follow=True)
    assert "Test notification sent to carol.duty@example.org." in _html(response)
    assert [m.to for m in mail.outbox] == [["carol.duty@example.org"]]
    assert Delivery.objects.get(channel=channel, purpose="test").status == "sent"


@pytest.mark.parametrize(
    ("kind", "target", "reason"),
    [
        ("email", "not-an-address", "e-mail address refused: &#x27;not-an-address&#x27; is not a valid e-mail"),
        ("email", "", "This field is required."),
        (
            "webhook",
            "ftp://example.org/hook",
            "webhook URL refused: example.org: URL scheme &#x27;ftp&#x27; is refused",
        ),
        ("webhook", "http://10.1.2.3/hook", "refused to connect to a private address"),
        ("webhook", "http://127.0.0.1:9/hook", "refused to connect to a loopback address"),
        ("webhook", "https://user:secret@example.org/hook", "URLs with user information"),
    ],
)
def test_a_refused_address_is_shown_with_the_reason(world: World, kind: str, target: str, reason: str) -> None:
    response = client_for(world.carol).post(
        "/notifications/channels/", {"kind": kind, "target": target, "language": "en"}
    )
    assert response.status_code == 400
    page = _html(response)
    assert reason in page
    assert 'class="field-error"' in page
    assert not Channel.objects.exists()


def test_a_webhook_secret_is_shown_once_and_the_test_is_signed(world: World, receiver: Receiver) -> None:
    client = client_for(world.carol)
    response = client.post("/notifications/channels/", {"kind": "webhook", "target": receiver.url, "language": "en"})
    assert response.status_code == 200
    channel = Channel.objects.get(account=world.carol)
    assert channel.secret.startswith("whsec_") and channel.secret in _html(response)
    assert channel.secret not in _html(client.get("/notifications/"))

    response = client.post(f"/notifications/channels/{channel.uuid}/test/", follow=True)
    assert "Test notification sent to" in _html(response)
    [(headers, body)] = receiver.received
    payload = Webhook(channel.secret).verify(body, headers)
    assert payload["type"] == "test"
    assert headers["webhook-id"] == Delivery.objects.get(channel=channel).key


def test_a_failing_test_notification_says_why(world: World, receiver: Receiver) -> None:
    receiver.status = 500
    channel = notify_actions.create_channel(
        kind="webhook", target=receiver.url, account=world.carol, acting_user=world.carol
    )
    response = client_for(world.carol).post(f"/notifications/channels/{channel.uuid}/test/", follow=True)
    page = _html(response)
    assert "The test notification to" in page and "failed" in page and "500" in page


def test_a_channel_is_removed_and_nobody_else_can_touch_it(world: World) -> None:
    channel = notify_actions.create_channel(
        kind="email", target="carol@example.org", account=world.carol, acting_user=world.carol
    )
    alice = client_for(world.alice)
    for action in ("test", "remove", "enable"):
        assert alice.post(f"/notifications/channels/{channel.uuid}/{action}/").status_code == 404
    assert "carol@example.org" not in _html(alice.get("/notifications/"))
    assert client_for(world.carol).post(f"/notifications/channels/{channel.uuid}/remove/").status_code == 302
    assert not Channel.objects.exists()
    assert AuditEntry.objects.filter(action="notify.channel.remove", object_id=str(channel.uuid)).exists()


# ---- subscriptions ---------------------------------------------------------------------------------------


def _subscription_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Severe health alerts near home",
        "active": "on",
        "kinds": ["alert"],
        "statuses": ["actual"],
        "categories": ["Health"],
        "events": "Cholera outbreak, Measles",
        "diseases": "A00",
        "min_severity": "Severe",
        "min_urgency": "",
        "min_certainty": "Likely",
        "area_members": ["KZ", "KG"],
        "origin_members": [],
        "area": "",
        "mode": "immediate",
        "immediate_severity": "",
    }
    data.update(overrides)
    return data


def test_a_subscription_is_created_edited_paused_and_deleted(world: World) -> None:
    client = client_for(world.carol)
    channel = notify_actions.create_channel(
        kind="email", target="carol@example.org", account=world.carol, acting_user=world.carol
    )
    form = _html(client.get("/notifications/subscriptions/new/"))
    assert 'name="kinds"' in form and 'value="alert"' in form and "You have no channels yet" not in form
    response = client.post("/notifications/subscriptions/new/", _subscription_form(channels=[str(channel.uuid)]))
    assert response.status_code == 302, _html(response)
    subscription = Subscription.objects.get(account=world.carol)
    assert subscription.kinds == ["alert"] and subscription.categories == ["Health"]
    assert subscription.events == ["Cholera outbreak", "Measles"] and subscription.diseases == ["A00"]
    assert (subscription.min_severity, subscription.min_certainty) == ("Severe", "Likely")
    assert subscription.area_members == ["KG", "KZ"]
    assert list(subscription.channels.all()) == [channel]
    page = _html(client.get("/notifications/"))
    assert "Severe health alerts near home" in page and "Severity Severe or worse" in page

    area = {"type": "Polygon", "coordinates": [[[68, 43], [69, 43], [69, 44], [68, 44], [68, 43]]]}
    response = client.post(
        f"/notifications/subscriptions/{subscription.uuid}/",
        _subscription_form(active="", area=json.dumps(area), mode="daily", immediate_severity="Extreme"),
    )
    assert response.status_code == 302, _html(response)
    subscription.refresh_from_db()
    assert not subscription.active and subscription.mode == "daily" and subscription.immediate_severity == "Extreme"
    assert subscription.area is not None and subscription.area["type"] == "Polygon"
    assert list(subscription.channels.all()) == []
    assert AuditEntry.objects.filter(action="notify.subscription.update", object_id=str(subscription.uuid)).exists()
    assert "Paused" in _html(client.get("/notifications/"))

    assert client.post(f"/notifications/subscriptions/{subscription.uuid}/remove/").status_code == 302
    assert not Subscription.objects.exists()
    assert AuditEntry.objects.filter(action="notify.subscription.remove").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"area": "{not json"}, "The area is not JSON"),
        ({"area": '{"type": "Point", "coordinates": [1, 2]}'}, "area must be a GeoJSON Polygon or MultiPolygon"),
        (
            {"area": '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}'},
            "self-intersecting",
        ),
        ({"min_severity": "Catastrophic"}, "Select a valid choice"),
        ({"kinds": ["no-such-kind"]}, "Select a valid choice"),
    ],
)
def test_a_wrong_subscription_is_refused_with_the_reason(world: World, overrides: dict[str, Any], message: str) -> None:
    response = client_for(world.carol).post("/notifications/subscriptions/new/", _subscription_form(**overrides))
    assert response.status_code == 400
    assert message in _html(response)
    assert not Subscription.objects.exists()


def test_someone_elses_subscription_is_not_found(world: World) -> None:
    subscription = notify_actions.create_subscription(channels=[], account=world.carol, acting_user=world.carol)
    alice = client_for(world.alice)
    assert alice.get(f"/notifications/subscriptions/{subscription.uuid}/").status_code == 404
    assert alice.post(f"/notifications/subscriptions/{subscription.uuid}/", _subscription_form()).status_code == 404
    for action in ("remove", "feed", "feed/withdraw"):
        assert alice.post(f"/notifications/subscriptions/{subscription.uuid}/{action}/").status_code == 404
    # Nor can a channel of someone else be chosen.
    bobs = notify_actions.create_channel(
        kind="email", target="bob@example.org", account=world.bob, acting_user=world.bob
    )
    response = client_for(world.carol).post(
        f"/notifications/subscriptions/{subscription.uuid}/", _subscription_form(channels=[str(bobs.uuid)])
    )
    assert response.status_code == 400 and "Select a valid choice" in _html(response)


def test_a_feed_address_is_shown_once_and_opens_the_feed(world: World) -> None:
    client = client_for(world.carol)
    subscription = notify_actions.create_subscription(
        channels=[], account=world.carol, name="Everything", acting_user=world.carol
    )
    alert_actions.publish_alert(
        cap(info(headline="Cholera in Turkistan")),
        audience=Audience(members=["KZ"]),
        tlp="AMBER",
        acting_user=world.sam,
    )
    response = client.post(f"/notifications/subscriptions/{subscription.uuid}/feed/")
    assert response.status_code == 200
    page = _html(response)
    atom = page.split('id="feed-atom">', 1)[1].split("<", 1)[0]
    assert atom.startswith("http://testserver/feeds/s/sfeed_") and atom.endswith("/subscription.atom")
    assert 'id="feed-rss"' in page
    token = atom.split("/feeds/s/", 1)[1].split("/", 1)[0]
    assert token not in _html(client.get("/notifications/"))
    feed = Client().get(atom.replace("http://testserver", ""))
    assert feed.status_code == 200 and b"Cholera in Turkistan" in feed.content
    assert client.post(f"/notifications/subscriptions/{subscription.uuid}/feed/withdraw/").status_code == 302
    assert Client().get(atom.replace("http://testserver", "")).status_code == 404


# ---- organisation subscriptions --------------------------------------------------------------------------


def _admin(organisation: Organisation, username: str) -> Account:
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=["admin"],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


def test_an_organisation_admin_manages_its_subscriptions_on_the_pages(world: World) -> None:
    kate = _admin(world.kz_health, "kate")
    client = client_for(kate)
    page = _html(client.get("/notifications/"))
    assert 'id="organisation"' in page and "/notifications/organisation/subscriptions/new/" in page
    assert "The organisation has no subscriptions yet." in page

    response = client.post(
        "/notifications/organisation/channels/",
        {"org-kind": "email", "org-target": "duty@health.kz", "org-language": "ru", "org-name": "Duty desk"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#org-channels")
    channel = Channel.objects.get(organisation=world.kz_health)
    assert channel.account is None and (channel.target, channel.language) == ("duty@health.kz", "ru")
    assert AuditEntry.objects.get(action="notify.channel.add", object_id=str(channel.uuid)).data["owner"] == (
        "organisation:kz-health"
    )
    assert not Channel.objects.filter(account=kate).exists()

    form = _html(client.get("/notifications/organisation/subscriptions/new/"))
    assert "A subscription of <bdi>kz-health</bdi>" in form and str(channel.uuid) in form
    response = client.post(
        "/notifications/organisation/subscriptions/new/",
        _subscription_form(name="Ministry duty desk", channels=[str(channel.uuid)]),
    )
    assert response.status_code == 302, _html(response)
    subscription = Subscription.objects.get(organisation=world.kz_health)
    assert subscription.account is None and list(subscription.channels.all()) == [channel]
    assert subscription.min_severity == "Severe" and subscription.area_members == ["KG", "KZ"]
    entry = AuditEntry.objects.get(action="notify.subscription.add", object_id=str(subscription.uuid))
    assert entry.actor == kate.uuid and entry.data["owner"] == "organisation:kz-health"
    assert not Subscription.objects.filter(account=kate).exists()

    page = _html(client.get("/notifications/"))
    organisation_part = page.split('id="organisation"', 1)[1]
    assert "Ministry duty desk" in organisation_part and "duty@health.kz" in organisation_part
    assert "Ministry duty desk" not in page.split('id="organisation"', 1)[0]  # not among kate's own

    response = client.post(
        f"/notifications/subscriptions/{subscription.uuid}/",
        _subscription_form(name="Ministry duty desk", min_severity="Extreme", channels=[str(channel.uuid)]),
    )
    assert response.status_code == 302, _html(response)
    subscription.refresh_from_db()
    assert subscription.min_severity == "Extreme" and subscription.organisation_id == world.kz_health.pk

    response = client.post(f"/notifications/subscriptions/{subscription.uuid}/remove/")
    assert response.status_code == 302
    assert not Subscription.objects.exists()
    assert Channel.objects.filter(pk=channel.pk).exists()  # channels are removed on their own on the pages
    assert AuditEntry.objects.get(action="notify.subscription.remove", object_id=str(subscription.uuid)).data == {
        "owner": "organisation:kz-health"
    }


def test_an_organisations_subscriptions_are_validated_like_an_accounts(world: World) -> None:
    kate = _admin(world.kz_health, "kate")
    client = client_for(kate)
    response = client.post(
        "/notifications/organisation/channels/",
        {"org-kind": "webhook", "org-target": "http://10.1.2.3/hook", "org-language": "en"},
    )
    assert response.status_code == 400
    page = _html(response)
    assert "refused to connect to a private address" in page.split('id="organisation"', 1)[1]
    assert not Channel.objects.exists()
    response = client.post(
        "/notifications/organisation/subscriptions/new/", _subscription_form(area='{"type": "Point"}')
    )
    assert response.status_code == 400 and "area must be a GeoJSON Polygon or MultiPolygon" in _html(response)
    # Only the organisation's channels can be chosen, not the administrator's own.
    own = notify_actions.create_channel(kind="email", target="kate@example.org", account=kate, acting_user=kate)
    response = client.post(
        "/notifications/organisation/subscriptions/new/", _subscription_form(channels=[str(own.uuid)])
    )
    assert response.status_code == 400 and "Select a valid choice" in _html(response)
    assert not Subscription.objects.exists()


def test_only_the_organisations_admins_manage_its_subscriptions(world: World) -> None:
    _admin(world.kz_health, "kate")
    channel = notify_actions.create_channel(
        kind="email", target="duty@health.kz", organisation=world.kz_health, acting_user=None
    )
    subscription = notify_actions.create_subscription(
        channels=[channel], organisation=world.kz_health, name="Ministry duty desk", acting_user=None
    )
    other_admin = _admin(world.cn_health, "chen")
    # carol works there but is no administrator; chen administers another organisation; sam coordinates.
    for account in (world.carol, other_admin, world.sam):
        client = client_for(account)
        page = _html(client.get("/notifications/"))
        assert "Ministry duty desk" not in page and "duty@health.kz" not in page
        assert client.get(f"/notifications/subscriptions/{subscription.uuid}/").status_code == 404
        for action in ("remove", "feed", "feed/withdraw"):
            assert client.post(f"/notifications/subscriptions/{subscription.uuid}/{action}/").status_code == 404
        for action in ("test", "remove", "enable"):
            assert client.post(f"/notifications/channels/{channel.uuid}/{action}/").status_code == 404
    for account in (world.carol, world.sam):  # no organisation to manage
        client = client_for(account)
        assert 'id="organisation"' not in _html(client.get("/notifications/"))
        assert client.get("/notifications/organisation/subscriptions/new/").status_code == 404
        assert client.post("/notifications/organisation/subscriptions/new/", _subscription_form()).status_code == 404
        response = client.post(
            "/notifications/organisation/channels/",
            {"org-kind": "email", "org-target": "x@example.org", "org-language": "en"},
        )
        assert response.status_code == 404
    # chen's organisation pages are cn-health's: what he makes there is cn-health's, never kz-health's.
    chen = client_for(other_admin)
    assert "Subscriptions of <bdi>cn-health</bdi>" in _html(chen.get("/notifications/"))
    assert chen.post("/notifications/organisation/subscriptions/new/", _subscription_form()).status_code == 302
    assert Subscription.objects.get(name="Severe health alerts near home").organisation == world.cn_health
    assert Subscription.objects.filter(pk=subscription.pk).exists() and Channel.objects.filter(pk=channel.pk).exists()
    assert Channel.objects.count() == 1 and Subscription.objects.filter(organisation=world.kz_health).count() == 1


# ---- delivery log ----------------------------------------------------------------------------------------


def _delivered_alert(world: World, receiver: Receiver) -> Version:
    """carol has an e-mail and a webhook channel; an alert for KZ is published and delivered to both."""
    email = notify_actions.create_channel(
        kind="email", target="carol@example.org", account=world.carol, acting_user=world.carol
    )
    hook = notify_actions.create_channel(
        kind="webhook", target=receiver.url, account=world.carol, acting_user=world.carol
    )
    notify_actions.create_subscription(channels=[email, hook], account=world.carol, acting_user=world.carol)
    version = alert_actions.publish_alert(
        cap(info(headline="Cholera in Turkistan")),
        audience=Audience(members=["KZ"]),
        tlp="AMBER",
        acting_user=world.sam,
    ).version
    dispatch.expand_outbox()
    dispatch.deliver(Delivery.objects.filter(record=version.record).values_list("pk", flat=True))
    return version


def test_the_delivery_log_shows_who_was_notified_how_and_when(world: World, receiver: Receiver) -> None:
    version = _delivered_alert(world, receiver)
    sam = client_for(world.sam)
    listing = _html(sam.get("/notifications/deliveries/"))
    assert "Cholera in Turkistan" in listing and f"/notifications/deliveries/{version.record_uuid}/" in listing
    page = _html(sam.get(f"/notifications/deliveries/{version.record_uuid}/"))
    assert "2 deliveries" in page and "Sent: 2" in page
    assert page.count('class="delivery status-sent"') == 2
    assert "carol@example.org" in page
    port = receiver.url.split(":")[2].split("/")[0]
    assert f"http://127.0.0.1:{port}" in page
    assert "key=private" not in page and "/hooks/accord" not in page  # a webhook is shown by its origin only
    assert "Delivered" in page and "carol" in page


def test_the_delivery_log_is_for_coordinators_and_only_for_alerts_they_may_see(
    world: World, receiver: Receiver
) -> None:
    version = _delivered_alert(world, receiver)
    carol = client_for(world.carol)
    assert carol.get("/notifications/deliveries/").status_code == 404
    assert carol.get(f"/notifications/deliveries/{version.record_uuid}/").status_code == 404
    assert "Delivery logs" not in _html(carol.get("/notifications/"))
    private = alert_actions.publish_alert(
        cap(info(headline="For carol in person")),
        audience=Audience(persons=[world.carol.uuid]),
        tlp="RED",
        acting_user=world.carol,
    ).version
    sam = client_for(world.sam)
    assert sam.get(f"/notifications/deliveries/{private.record_uuid}/").status_code == 404
    assert "For carol in person" not in _html(sam.get("/notifications/deliveries/"))


def test_the_alert_page_links_to_its_delivery_log_for_coordinators_only(world: World, receiver: Receiver) -> None:
    version = _delivered_alert(world, receiver)
    link = f'href="/notifications/deliveries/{version.record_uuid}/"'
    sam = client_for(world.sam)
    page = _html(sam.get(f"/alerts/{version.record_uuid}/"))
    assert link in page and "Delivery log" in page
    assert sam.get(f"/notifications/deliveries/{version.record_uuid}/").status_code == 200
    for reader in (world.carol, world.dave):  # in the audience, but not coordinators
        page = _html(client_for(reader).get(f"/alerts/{version.record_uuid}/"))
        assert "Cholera in Turkistan" in page and link not in page


def test_a_subscription_area_is_chosen_as_in_the_composer(world: World) -> None:
    """Points as latitude,longitude (the composer's order), or a circle; stored as GeoJSON (longitude first)."""
    client = client_for(world.carol)
    polygon = client.post(
        "/notifications/subscriptions/new/",
        _subscription_form(name="Turkistan", area="43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0"),
    )
    assert polygon.status_code == 302, _html(polygon)
    stored = Subscription.objects.get(name="Turkistan").area
    assert stored is not None and stored["type"] == "Polygon" and stored["coordinates"][0][0] == [68.0, 43.0]
    edit = client.get(f"/notifications/subscriptions/{Subscription.objects.get(name='Turkistan').uuid}/")
    assert "43,68 43.5,68 43.5,69 43,69 43,68" in _html(edit)
    circle = client.post(
        "/notifications/subscriptions/new/",
        _subscription_form(name="Almaty", circle_lat="43.25", circle_lon="76.9", circle_radius="50"),
    )
    assert circle.status_code == 302, _html(circle)
    circled = Subscription.objects.get(name="Almaty").area
    assert circled is not None
    ring = circled["coordinates"][0]
    assert all(76 < lon < 77.6 and 42.7 < lat < 43.8 for lon, lat in ring)
    for overrides, message in (
        ({"area": "43.0,68.0 43.5"}, "Write at least four points as latitude,longitude"),
        ({"circle_lat": "43.2", "circle_lon": "76.9"}, "A circle needs its centre"),
        (
            {
                "area": "43.0,68.0 43.5,68.0 43.5,69.0 43.0,68.0",
                "circle_lat": "1",
                "circle_lon": "2",
                "circle_radius": "3",
            },
            "Give a polygon or a circle, not both",
        ),
        ({"circle_lat": "95", "circle_lon": "76.9", "circle_radius": "5"}, "less than or equal to 90"),
    ):
        response = client.post("/notifications/subscriptions/new/", _subscription_form(name="bad", **overrides))
        assert response.status_code == 400 and message in _html(response), overrides
    assert not Subscription.objects.filter(name="bad").exists()


def test_a_subscription_area_is_chosen_as_a_region_and_shown_so_again(world: World) -> None:
    from accord.members import outlines

    client = client_for(world.carol)
    form = _html(client.get("/notifications/subscriptions/new/"))
    assert '<option value="KZ-75">KZ · Almaty (KZ-75)</option>' in form
    assert 'value="KZ-62"' not in form  # Ulytau has no outline to match by
    response = client.post(
        "/notifications/subscriptions/new/", _subscription_form(area_members=[], area_region="KZ-75")
    )
    assert response.status_code == 302, _html(response)
    subscription = Subscription.objects.get(account=world.carol)
    assert subscription.area == outlines.region_geometry("KZ-75")[0]  # type: ignore[index]
    # Edited again, the form shows the region chosen, not its outline's points.
    page = _html(client.get(f"/notifications/subscriptions/{subscription.uuid}/"))
    assert '<option value="KZ-75" selected>' in page
    assert re.search(r'<textarea name="area"[^>]*>\s*</textarea>', page)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"area_region": "KZ-75", "circle_lat": "43", "circle_lon": "77", "circle_radius": "5"}, "Give one area"),
        ({"area_region": "KZ-75", "area": "43,68 43.5,68 43.5,69 43,68"}, "Give one area"),
        ({"area_region": "KZ-62"}, "Select a valid choice"),
    ],
)
def test_a_region_with_another_area_or_without_an_outline_is_refused(
    world: World, overrides: dict[str, Any], message: str
) -> None:
    response = client_for(world.carol).post("/notifications/subscriptions/new/", _subscription_form(**overrides))
    assert response.status_code == 400 and message in _html(response)
    assert 'id="id_area_region"' in _html(response)
    assert not Subscription.objects.exists()
