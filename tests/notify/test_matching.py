"""Matching: the subscription's filters, and never anything its owner may not see, on any channel."""

from __future__ import annotations

import pytest
from django.core import mail

from accord.federation.actions import add_peer
from accord.notify import actions
from accord.notify.models import Delivery, OutboxEntry
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError
from tests.conftest import World
from tests.notify.conftest import drain
from tests.notify.helpers import publish, subscribe
from tests.notify.support import Mailbox, Receiver

pytestmark = pytest.mark.django_db

# The test alert's area: Turkistan region, lon 68-69, lat 43-43.5 (inside the KZ and UZ boxes).
NEAR = {"type": "Polygon", "coordinates": [[[68.5, 43.2], [70.0, 43.2], [70.0, 44.0], [68.5, 44.0], [68.5, 43.2]]]}
FAR = {"type": "Polygon", "coordinates": [[[100.0, 30.0], [101.0, 30.0], [101.0, 31.0], [100.0, 30.0]]]}


def _delivered_to(receiver: Receiver) -> set[str]:
    return {r.path for r in receiver.received}


def test_severity_member_area_kind_and_status_filters(world: World, receiver: Receiver) -> None:
    cases = {
        "/moderate": {"min_severity": "Moderate"},
        "/severe": {"min_severity": "Severe"},
        "/extreme": {"min_severity": "Extreme"},
        "/from-cn": {"origin_members": ["CN"]},
        "/from-ru": {"origin_members": ["RU"]},
        "/in-kz": {"area_members": ["KZ"]},
        "/in-kg": {"area_members": ["KG"]},
        "/near": {"area": NEAR},
        "/far": {"area": FAR},
        "/alerts": {"kinds": ["alert"]},
        "/notes": {"kinds": ["note"]},
        "/health": {"categories": ["Health"]},
        "/met": {"categories": ["Met"]},
        "/cholera": {"events": ["cholera OUTBREAK"]},
        "/immediate": {"min_urgency": "Immediate", "min_certainty": "Observed"},
        "/future": {"min_urgency": "Future"},
        "/exercise": {"statuses": ["exercise"]},
    }
    for path, filters in cases.items():
        subscribe(world.carol, webhook=receiver.url(path), **filters)  # type: ignore[arg-type]
    publish(world.alice)  # Severe, Immediate, Observed, Health, "Cholera outbreak", CN, in Turkistan region
    drain()
    assert _delivered_to(receiver) == {
        "/moderate",
        "/severe",
        "/from-cn",
        "/in-kz",
        "/near",
        "/alerts",
        "/health",
        "/cholera",
        "/immediate",
        "/future",
    }


def test_exercise_traffic_reaches_only_who_asked_for_it(world: World, receiver: Receiver) -> None:
    subscribe(world.carol, webhook=receiver.url("/actual"))
    subscribe(world.carol, webhook=receiver.url("/exercise"), statuses=["exercise"])
    version = publish(world.alice)
    from accord.alerts import actions as alert_actions

    alert_actions.publish_alert(
        version.body["cap"] | {},
        audience=Audience(everyone=True),
        tlp="GREEN",
        status="exercise",
        acting_user=world.alice,
    )
    drain()
    paths = sorted(r.path for r in receiver.received)
    assert paths == ["/actual", "/exercise"]
    exercise = receiver.at("/exercise")[0].json()
    assert exercise["data"]["status"] == "exercise"


def test_diseases_match_code_or_name(world: World, receiver: Receiver) -> None:
    from accord.alerts import actions as alert_actions
    from tests.alerts.support import CHOLERA, cap, info

    subscribe(world.carol, webhook=receiver.url("/code"), diseases=["a00"])
    subscribe(world.carol, webhook=receiver.url("/name"), diseases=["Cholera"])
    subscribe(world.carol, webhook=receiver.url("/measles"), diseases=["B05"])
    alert_actions.publish_alert(
        cap(info()), audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice, epidemic=CHOLERA
    )
    drain()
    assert _delivered_to(receiver) == {"/code", "/name"}


def test_a_subscriber_outside_the_audience_receives_nothing_on_any_channel(
    world: World, receiver: Receiver, mailbox: Mailbox
) -> None:
    # carol (KZ) and the KZ ministry subscribe on every channel; the alert goes to RU only.
    subscribe(world.carol, webhook=receiver.url("/carol"))
    subscribe(world.carol, email="carol@example.org")
    kz_channel = actions.create_channel(
        kind="webhook", target=receiver.url("/kz-health"), organisation=world.kz_health, acting_user=None
    )
    actions.create_subscription(channels=[kz_channel], organisation=world.kz_health, acting_user=None)
    # sam (Secretariat) may see only what names SCO; bob (CN, other organisation) only AMBER+STRICT to his.
    subscribe(world.sam, webhook=receiver.url("/sam"))
    subscribe(world.bob, webhook=receiver.url("/bob"))
    ru_only = publish(world.alice, audience=Audience(members=["RU"]), tlp="AMBER", headline="Secret RU alert")
    strict = publish(world.alice, audience=Audience(organisations=[world.cn_health.uuid]), tlp="AMBER+STRICT")
    red = publish(world.alice, audience=Audience(persons=[world.dave.uuid]), tlp="RED", headline="For dave only")
    record_actions.publish(
        "note",
        {"title": "draft note"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        status="draft",
        acting_user=world.alice,
    )
    drain()
    assert receiver.received == [] and mailbox.messages == []
    assert not Delivery.objects.exists()
    assert OutboxEntry.objects.filter(processed_at__isnull=False).count() == 3  # drafts have no outbox entry
    assert {ru_only.pk, strict.pk, red.pk} == set(OutboxEntry.objects.values_list("version_id", flat=True))
    # The same alerts to everyone reach them all.
    publish(world.alice, headline="For everyone")
    drain()
    assert _delivered_to(receiver) == {"/carol", "/kz-health", "/sam", "/bob"}
    assert len(mailbox.to("carol@example.org")) == 1


def test_narrowing_the_audience_before_sending_cancels_the_delivery(world: World, receiver: Receiver) -> None:
    from accord.alerts import actions as alert_actions
    from accord.notify import dispatch

    subscribe(world.carol, webhook=receiver.url("/carol"))
    version = publish(world.alice)
    dispatch.expand_outbox()
    # Before the worker sends, the origin narrows the alert to RU: carol may no longer see the record.
    alert_actions.update_alert(
        version.record, version.body["cap"], acting_user=world.alice, audience=Audience(members=["RU"]), tlp="AMBER"
    )
    drain()
    assert receiver.received == []
    delivery = Delivery.objects.get()
    assert delivery.status == "cancelled" and "may no longer see" in delivery.last_error


def test_a_disabled_account_gets_nothing(world: World, receiver: Receiver) -> None:
    from accord.members import actions as member_actions

    subscribe(world.carol, webhook=receiver.url("/carol"))
    member_actions.set_active(world.carol, False, acting_user=None)
    publish(world.alice)
    drain()
    assert receiver.received == [] and mail.outbox == []


def test_one_message_per_channel_when_several_subscriptions_match(world: World, receiver: Receiver) -> None:
    channel = actions.create_channel(kind="webhook", target=receiver.url(), account=world.carol, acting_user=None)
    actions.create_subscription(channels=[channel], account=world.carol, acting_user=None)
    actions.create_subscription(
        channels=[channel], account=world.carol, filters=actions.Filters(min_severity="Severe"), acting_user=None
    )
    publish(world.alice)
    drain()
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    ("filters", "why"),
    [
        (actions.Filters(min_severity="Huge"), "severity 'Huge'"),
        (actions.Filters(kinds=["tweet"]), "unknown record kind 'tweet'"),
        (actions.Filters(origin_members=["XX"]), "member 'XX' is not a known member"),
        (actions.Filters(area_members=["SCO"]), "no territory"),
        (actions.Filters(statuses=["draft"]), "status 'draft'"),
        (actions.Filters(area={"type": "Point", "coordinates": [1, 2]}), "Polygon"),
        (actions.Filters(area={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), "valid"),
    ],
)
def test_bad_filters_are_refused(world: World, filters: actions.Filters, why: str) -> None:
    channel = actions.create_channel(kind="email", target="carol@example.org", account=world.carol, acting_user=None)
    with pytest.raises(ActionError, match=why):
        actions.create_subscription(channels=[channel], account=world.carol, filters=filters, acting_user=None)


def test_versions_from_peers_are_disseminated_like_local_ones(world: World, receiver: Receiver) -> None:
    import uuid

    from accord.lib import canonical
    from accord.records.envelope import build_envelope, encode

    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    node_id = uuid.uuid4()
    add_peer(name=f"peer-{str(node_id)[:8]}", node_id=str(node_id), public_key=public, member="KZ", acting_user=None)
    envelope = build_envelope(
        kind="note",
        origin={"node": str(node_id), "member": "KZ", "organisation": None, "account": None},
        record=uuid.uuid4(),
        seq=1,
        prev_hash=None,
        status="actual",
        state="active",
        audience=Audience(everyone=True),
        tlp="GREEN",
        body={"title": "From the KZ node"},
        attachments=[],
        created_at="2026-11-27T10:00:00Z",
    )
    data, _ = encode(envelope)
    signature = canonical.sign(key, data)
    subscribe(world.carol, webhook=receiver.url(), kinds=["note"])
    assert record_actions.ingest(data, signature, canonical.key_id(public), source="peer").outcome == "stored"
    assert record_actions.ingest(data, signature, canonical.key_id(public), source="peer").outcome == "duplicate"
    drain()
    (got,) = receiver.received
    assert got.json()["data"]["title"] == "From the KZ node" and got.json()["data"]["origin_node"] == str(node_id)


def test_the_outbox_row_commits_or_rolls_back_with_the_version(world: World) -> None:
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(world.alice)
        assert OutboxEntry.objects.count() == 1
        raise RuntimeError("the writer fails after the version")
    assert not OutboxEntry.objects.exists()
    publish(world.alice)
    assert OutboxEntry.objects.count() == 1


def test_an_alert_naming_a_region_matches_by_the_regions_outline(world: World, receiver: Receiver) -> None:
    from accord.alerts import mapping

    subscribe(world.carol, webhook=receiver.url("/almaty"), area=mapping.area_geometry("circle", "43.25,76.95 10"))
    subscribe(world.carol, webhook=receiver.url("/aktau"), area=mapping.area_geometry("circle", "43.65,51.17 20"))
    subscribe(world.carol, webhook=receiver.url("/in-kz"), area_members=["KZ"])
    # No polygon, no circle: only the ISO 3166-2 code of Almaty (the city), issued by China.
    almaty = [{"areaDesc": "Almaty", "geocode": [{"valueName": "ISO3166-2", "value": "KZ-75"}]}]
    publish(world.alice, area=almaty)
    drain()
    assert _delivered_to(receiver) == {"/almaty", "/in-kz"}
    # A region without an outline has no geometry: it matches a member's territory only when that member issued it.
    receiver.received.clear()
    publish(world.alice, area=[{"areaDesc": "Ulytau", "geocode": [{"valueName": "ISO3166-2", "value": "KZ-62"}]}])
    drain()
    assert _delivered_to(receiver) == set()
