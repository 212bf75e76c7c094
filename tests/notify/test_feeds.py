"""Per-subscription Atom/RSS feeds: who can open them (the subscription's feed token, or a feed-scope API token
of someone who manages the subscription), what they list (what the subscription matches and its owner may see,
updates and cancellations of matched alerts included), and the CAP XML of each listed version."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from lxml import etree

from accord.alerts import actions as alert_actions
from accord.members import actions as member_actions
from accord.notify import actions as notify_actions
from accord.notify import feeds
from accord.notify.actions import Filters
from accord.notify.models import Subscription
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.models import AuditEntry, Version
from tests.alerts.support import cap, info
from tests.conftest import World

ATOM = "{http://www.w3.org/2005/Atom}"


def _xml(data: bytes) -> Any:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def _publish(author: Any, members: list[str], headline: str, severity: str = "Severe", **kwargs: Any) -> Version:
    fields: dict[str, Any] = {"audience": Audience(members=members), "tlp": "AMBER", "acting_user": author}
    fields.update(kwargs)
    return alert_actions.publish_alert(cap(info(headline=headline, severity=severity)), **fields).version


def _subscription(owner: Any, **filters: Any) -> Subscription:
    return notify_actions.create_subscription(
        channels=[], filters=Filters(**filters), account=owner, name="Severe alerts", acting_user=owner
    )


def _atom(client: Client, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    root = _xml(response.content)
    entries = []
    for entry in root.findall(f"{ATOM}entry"):
        links = {link.get("rel"): (link.get("href"), link.get("type")) for link in entry.findall(f"{ATOM}link")}
        entries.append(
            {
                "id": entry.findtext(f"{ATOM}id"),
                "title": entry.findtext(f"{ATOM}title"),
                "summary": entry.findtext(f"{ATOM}summary"),
                "links": links,
            }
        )
    return entries


@pytest.fixture
def setting(world: World) -> dict[str, Any]:
    """carol (KZ) subscribes to Severe alerts or worse; some traffic around it."""
    subscription = _subscription(world.carol, kinds=["alert"], min_severity="Severe")
    token = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    return {
        "subscription": subscription,
        "token": token,
        "severe": _publish(world.sam, ["KZ", "CN"], "Severe, for KZ and CN"),
        "minor": _publish(world.sam, ["KZ"], "Minor, for KZ", severity="Minor"),
        "elsewhere": _publish(world.sam, ["CN"], "Severe, for CN only"),
        "exercise": _publish(world.sam, ["KZ"], "Severe exercise", status="exercise"),
        "draft": _publish(world.carol, ["KZ"], "Severe draft of carol's", status="draft"),
        "note": record_actions.publish(
            "note", {"title": "A note"}, audience=Audience(members=["KZ"]), tlp="GREEN", acting_user=world.sam
        ),
    }


def test_the_feed_lists_what_the_subscription_matches_and_its_owner_may_see(
    world: World, setting: dict[str, Any]
) -> None:
    client = Client()
    entries = _atom(client, f"/feeds/s/{setting['token']}/subscription.atom")
    severe: Version = setting["severe"]
    assert [e["title"] for e in entries] == ["Severe, for KZ and CN"]
    entry = entries[0]
    assert entry["id"] == f"urn:accord:version:{severe.origin_node}:{severe.record_uuid}:1"
    assert "Alert: Cholera outbreak (Severe, Immediate, Observed)" in entry["summary"]
    href, media = entry["links"]["alternate"]
    assert media == "application/cap+xml"
    assert href == f"http://testserver/feeds/s/{setting['token']}/alerts/{severe.record_uuid}/1.cap"
    assert entry["links"]["related"] == (f"http://testserver/alerts/{severe.record_uuid}/", "text/html")

    cap_response = client.get(href)
    assert cap_response.status_code == 200
    assert cap_response["Content-Type"] == "application/cap+xml"
    document = _xml(cap_response.content)
    assert document.findtext("{urn:oasis:names:tc:emergency:cap:1.2}identifier") == severe.body["cap"]["identifier"]


def test_nothing_outside_the_audience_or_the_filters_can_be_fetched_through_the_feed(
    world: World, setting: dict[str, Any]
) -> None:
    client = Client()
    token = setting["token"]
    for name in ("minor", "elsewhere", "exercise", "draft"):
        version: Version = setting[name]
        response = client.get(f"/feeds/s/{token}/alerts/{version.record_uuid}/1.cap")
        assert response.status_code == 404, name
        assert version.body["cap"]["info"][0]["headline"].encode() not in response.content
    assert client.get(f"/feeds/s/{token}/alerts/{setting['severe'].record_uuid}/2.cap").status_code == 404


def test_rss_lists_the_same(world: World, setting: dict[str, Any]) -> None:
    response = Client().get(f"/feeds/s/{setting['token']}/subscription.rss")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/rss+xml; charset=utf-8"
    items = _xml(response.content).findall("channel/item")
    assert [i.findtext("title") for i in items] == ["Severe, for KZ and CN"]
    assert items[0].findtext("link", "").endswith(f"/alerts/{setting['severe'].record_uuid}/1.cap")
    assert items[0].findtext("guid", "").startswith("urn:accord:version:")
    assert Client().get(f"/feeds/s/{setting['token']}/subscription.json").status_code == 404


def test_updates_and_cancellations_of_a_matched_alert_stay_in_the_thread(world: World, setting: dict[str, Any]) -> None:
    severe: Version = setting["severe"]
    alert_actions.update_alert(severe.record, cap(info(headline="Downgraded", severity="Minor")), acting_user=world.sam)
    alert_actions.cancel_alert(severe.record, acting_user=world.sam, reason="sent in error")
    entries = _atom(Client(), f"/feeds/s/{setting['token']}/subscription.atom")
    assert [(e["title"], e["id"].rsplit(":", 1)[1]) for e in entries] == [
        ("Downgraded", "3"),
        ("Downgraded", "2"),
        ("Severe, for KZ and CN", "1"),
    ]
    assert entries[0]["summary"].startswith("[CANCELLED] Cancel:")
    assert entries[1]["summary"].startswith("Update:")
    assert Client().get(f"/feeds/s/{setting['token']}/alerts/{severe.record_uuid}/3.cap").status_code == 200


def test_an_audience_narrowed_later_hides_the_whole_thread(world: World, setting: dict[str, Any]) -> None:
    severe: Version = setting["severe"]
    alert_actions.update_alert(
        severe.record, cap(info(headline="For CN now")), acting_user=world.sam, audience=Audience(members=["CN"])
    )
    assert _atom(Client(), f"/feeds/s/{setting['token']}/subscription.atom") == []
    assert Client().get(f"/feeds/s/{setting['token']}/alerts/{severe.record_uuid}/1.cap").status_code == 404


def test_exercise_traffic_only_for_a_subscription_that_asks_for_it(world: World, setting: dict[str, Any]) -> None:
    subscription = _subscription(world.carol, kinds=["alert"], statuses=["exercise"])
    token = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    entries = _atom(Client(), f"/feeds/s/{token}/subscription.atom")
    assert [e["title"] for e in entries] == ["Severe exercise"]
    assert entries[0]["summary"].startswith("[EXERCISE]")


def test_other_kinds_link_to_their_page(world: World, setting: dict[str, Any]) -> None:
    subscription = _subscription(world.carol, kinds=["note"])
    token = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    entries = _atom(Client(), f"/feeds/s/{token}/subscription.atom")
    note: Version = setting["note"]
    assert [e["title"] for e in entries] == ["A note"]
    assert entries[0]["links"]["alternate"] == (f"http://testserver/records/{note.record_uuid}/", "text/html")


def test_an_organisation_subscription_sees_as_the_organisation(world: World) -> None:
    admin = member_actions.create_account(
        username="kz.admin", organisation=world.kz_health, roles=["admin"], acting_user=None
    )
    subscription = notify_actions.create_subscription(
        channels=[], filters=Filters(kinds=["alert"]), organisation=world.kz_health, acting_user=admin
    )
    token = notify_actions.issue_feed_token(subscription, acting_user=admin)
    _publish(world.sam, ["KZ"], "For the member")
    alert_actions.publish_alert(
        cap(info(headline="For carol in person")),
        audience=Audience(persons=[world.carol.uuid]),
        tlp="RED",
        acting_user=world.sam,
    )
    assert [e["title"] for e in _atom(Client(), f"/feeds/s/{token}/subscription.atom")] == ["For the member"]


def test_a_feed_token_opens_one_feed_until_it_is_replaced_or_withdrawn(world: World, setting: dict[str, Any]) -> None:
    client = Client()
    subscription: Subscription = setting["subscription"]
    old = setting["token"]
    assert old.startswith("sfeed_") and subscription.feed_token_digest == feeds.digest(old)
    assert feeds.digest(old) != old and old not in str(
        list(AuditEntry.objects.values_list("data", flat=True))
    )  # only the digest is kept, and not in the audit log
    new = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    assert client.get(f"/feeds/s/{old}/subscription.atom").status_code == 404
    assert client.get(f"/feeds/s/{new}/subscription.atom").status_code == 200
    notify_actions.withdraw_feed_token(subscription, acting_user=world.carol)
    assert client.get(f"/feeds/s/{new}/subscription.atom").status_code == 404
    assert client.get("/feeds/s/sfeed_nonsense/subscription.atom").status_code == 404
    assert AuditEntry.objects.filter(action="notify.subscription.feed_token").count() == 2
    assert AuditEntry.objects.filter(action="notify.subscription.feed_token.withdraw").count() == 1


def test_the_feed_closes_with_its_owner_or_its_subscription(world: World, setting: dict[str, Any]) -> None:
    url = f"/feeds/s/{setting['token']}/subscription.atom"
    subscription: Subscription = setting["subscription"]
    Subscription.objects.filter(pk=subscription.pk).update(active=False)
    assert Client().get(url).status_code == 404
    Subscription.objects.filter(pk=subscription.pk).update(active=True)
    member_actions.set_active(world.carol, False, acting_user=None)
    assert Client().get(url).status_code == 404


def test_only_the_owner_manages_the_feed_token(world: World, setting: dict[str, Any]) -> None:
    from accord.records.errors import Forbidden

    with pytest.raises(Forbidden):
        notify_actions.issue_feed_token(setting["subscription"], acting_user=world.alice)


def test_a_feed_scope_api_token_of_the_owner_opens_the_feed(world: World, setting: dict[str, Any]) -> None:
    subscription: Subscription = setting["subscription"]
    client = Client()
    _, feed = member_actions.create_token(world.carol, name="reader", scope="feed", acting_user=None)
    _, read = member_actions.create_token(world.carol, name="api", scope="read", acting_user=None)
    _, alices = member_actions.create_token(world.alice, name="reader", scope="feed", acting_user=None)
    url = f"/feeds/t/{feed}/subscriptions/{subscription.uuid}.atom"
    entries = _atom(client, url)
    assert [e["title"] for e in entries] == ["Severe, for KZ and CN"]
    href = entries[0]["links"]["alternate"][0]
    assert href.startswith(f"http://testserver/feeds/t/{feed}/subscriptions/{subscription.uuid}/alerts/")
    assert client.get(href).status_code == 200
    assert client.get(f"/feeds/t/{read}/subscriptions/{subscription.uuid}.atom").status_code == 404
    assert client.get(f"/feeds/t/{alices}/subscriptions/{subscription.uuid}.atom").status_code == 404
    assert client.get(href.replace(feed, alices)).status_code == 404


def test_titles_are_text_in_the_xml(world: World) -> None:
    subscription = _subscription(world.carol, kinds=["alert"])
    token = notify_actions.issue_feed_token(subscription, acting_user=world.carol)
    _publish(world.sam, ["KZ"], "<script>alert(1)</script> & more")
    response = Client().get(f"/feeds/s/{token}/subscription.atom")
    assert b"<script>" not in response.content
    assert [e["title"] for e in _atom(Client(), f"/feeds/s/{token}/subscription.atom")] == [
        "<script>alert(1)</script> & more"
    ]
