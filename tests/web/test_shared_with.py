"""Every record, alert and incident page says whom the record was shared with, in words, with its TLP's meaning."""

from __future__ import annotations

from accord.alerts import actions as alert_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from tests.alerts.support import cap, info
from tests.conftest import World, client_for


def test_a_record_page_names_its_audience_and_tlp_in_words(world: World) -> None:
    note = record_actions.publish(
        "note",
        {"title": "Ili river", "text": "rising"},
        audience=Audience(members=["KZ", "RU"], organisations=[world.cn_health.uuid]),
        tlp="AMBER",
        acting_user=world.carol,
    )
    page = client_for(world.carol).get(f"/records/{note.record_uuid}/").content.decode()
    assert "Shared with Kazakhstan, Russia, cn-health · TLP:AMBER: the members named only" in page
    russian = client_for(world.carol).get(f"/records/{note.record_uuid}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "TLP:AMBER" in russian and "Shared with" not in russian


def test_an_alert_page_says_every_member_and_green(world: World) -> None:
    published = alert_actions.publish_alert(
        cap(info()), audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol
    )
    page = client_for(world.alice).get(f"/alerts/{published.version.record_uuid}/").content.decode()
    assert "Shared with every member · TLP:GREEN: may be passed on within the SCO community" in page


def test_the_records_list_filters_by_kind_and_an_empty_search_says_so(world: World) -> None:
    record_actions.publish(
        "note",
        {"title": "Ili river", "text": "rising"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    )
    client = client_for(world.alice)
    notes = client.get("/records/", {"kind": "note"}).content.decode()
    assert "Ili river" in notes and '<option value="note" selected>' in notes
    assert "Ili river" not in client.get("/records/", {"kind": "alert"}).content.decode()
    nothing = client.get("/records/", {"q": "zzzz"}).content.decode()
    assert "No record you may see matches these filters." in nothing
    assert "Nothing has been shared with you yet." not in nothing


def test_an_acknowledgement_links_to_its_alert(world: World) -> None:
    published = alert_actions.publish_alert(
        cap(info()), audience=Audience(members=["CN"]), tlp="AMBER", acting_user=world.carol
    )
    from accord.records.models import Record

    alert = Record.objects.get(uuid=published.version.record_uuid)
    ack = alert_actions.acknowledge(alert, acting_user=world.alice)
    page = client_for(world.alice).get(f"/records/{ack.record_uuid}/").content.decode()
    assert f'href="/alerts/{alert.uuid}/"' in page and "The alert it is about" in page
