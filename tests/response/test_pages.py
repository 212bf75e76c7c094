"""The incident pages in-process (Django test client): list with filters and pages, the form that opens an
incident (inline errors, nothing stored), the incident page, and who may see what."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from accord.alerts import actions as alert_actions
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import actions
from accord.response.models import IncidentView
from tests.alerts.support import CHOLERA, cap, info
from tests.conftest import client_for
from tests.response.conftest import People, text_of


def _titles(response: Any) -> list[str]:
    """The incidents a list page shows, by title."""
    return re.findall(r'<a href="/incidents/[0-9a-f-]+/"><bdi>([^<]+)</bdi></a>', text_of(response))


def _form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title-en": "Crimean-Congo haemorrhagic fever in the south",
        "title-ru": "Крымская геморрагическая лихорадка на юге",
        "hazard": "A98.0",
        "domains": ["human", "animal"],
        "affected_members": ["KZ", "KG"],
        "regions": ["KZ-61", "KG-O"],
        "lead_member": "KZ",
        "audience": "affected",
        "tlp": "AMBER",
        "status": "actual",
    }
    data.update(changes)
    return data


def _open(people: People, **changes: Any) -> Record:
    fields: dict[str, Any] = {
        "title": {"en": "Measles in the Fergana valley"},
        "hazard": "B05",
        "affected_members": ["KZ", "KG"],
        "audience": Audience(members=["KZ", "KG", "SCO"]),
        "tlp": "GREEN",
        "acting_user": people.world.carol,
    }
    fields.update(changes)
    version = actions.open_incident(**fields)
    return Record.objects.get(pk=version.record_id)


def test_open_an_incident_from_the_form(people: People) -> None:
    carol = client_for(people.world.carol)
    page = carol.get(reverse("incident-new"))
    assert page.status_code == 200
    assert 'name="title-en"' in text_of(page) and 'value="KZ" id="affected-KZ" checked' in text_of(page)
    response = carol.post(reverse("incident-new"), _form())
    assert response.status_code == 302
    record = Record.objects.get(kind="incident")
    assert response["Location"] == reverse("incident", args=[record.uuid])
    version = record.current_version
    assert version is not None
    body = version.body
    assert body["title"]["ru"] == "Крымская геморрагическая лихорадка на юге"
    assert body["hazard"] == {"type": "disease", "icd10": "A98.0"}
    assert body["domains"] == ["human", "animal"]
    assert body["regions"] == ["KZ-61", "KG-O"] and body["level"] == 0
    assert version.envelope()["audience"]["members"] == ["KG", "KZ", "SCO"]
    detail = text_of(carol.get(response["Location"]))
    assert "Crimean-Congo haemorrhagic fever in the south" in detail
    assert "Turkistan Region" in detail and 'id="incident-map"' in detail
    assert '"members": ["KZ", "KG"]' in detail


def test_the_form_names_each_bad_field_and_stores_nothing(people: People) -> None:
    carol = client_for(people.world.carol)
    response = carol.post(
        reverse("incident-new"),
        _form(**{"title-en": "", "title-ru": "", "hazard": "", "affected_members": ["KG"], "regions": ["KZ-61"]}),
    )
    assert response.status_code == 400
    html = text_of(response)
    summary = re.search(r'<div class="finding-box errors error-summary".*?</div>', html, re.S)
    assert summary is not None
    links = re.findall(r'<a href="#([\w-]+)">', summary.group(0))
    assert links == ["title-en", "hazard", "regions", "lead_member"]
    assert 'id="title-en" name="title-en"' in html and 'aria-describedby="title-error"' in html
    assert 'id="regions-error"' in html and "KZ-61" in html
    assert not Record.objects.filter(kind="incident").exists()


def test_an_error_of_the_action_lands_on_its_field(people: People) -> None:
    # Everyone with TLP:AMBER is caught by the form; an AMBER+STRICT TLP by the form as well; the action's own
    # check of the lead member answers on the lead field.
    carol = client_for(people.world.carol)
    response = carol.post(reverse("incident-new"), _form(audience="everyone"))
    assert response.status_code == 400 and 'id="audience-error"' in text_of(response)
    response = carol.post(reverse("incident-new"), _form(lead_member="CN"))
    assert response.status_code == 400 and 'id="lead_member-error"' in text_of(response)
    assert not Record.objects.filter(kind="incident").exists()


def test_only_focal_points_and_coordinators_open_incidents(people: People) -> None:
    dave = client_for(people.world.dave)  # a KZ viewer
    assert dave.get(reverse("incident-new")).status_code == 403
    assert dave.post(reverse("incident-new"), _form()).status_code == 403
    assert not Record.objects.filter(kind="incident").exists()
    assert 'href="/incidents/new/"' not in text_of(dave.get(reverse("incidents")))
    sam = client_for(people.world.sam)  # the Secretariat's coordinator
    assert sam.post(reverse("incident-new"), _form(lead_member="SCO")).status_code == 302


def test_list_filters_and_pages(people: People) -> None:
    measles = _open(people)
    flood = _open(people, title={"en": "Floods on the Syr Darya"}, hazard="flood", affected_members=["KZ"])
    umid = _open(
        people,
        title={"en": "Cholera in Tashkent"},
        hazard="A00",
        affected_members=["UZ"],
        audience=Audience(members=["UZ", "SCO"]),
        acting_user=people.umid,
    )
    carol = client_for(people.world.carol)
    assert _titles(carol.get(reverse("incidents"))) == ["Floods on the Syr Darya", "Measles in the Fergana valley"]
    assert _titles(client_for(people.umid).get(reverse("incidents"))) == ["Cholera in Tashkent"]  # not KZ's
    assert _titles(carol.get(reverse("incidents"), {"hazard": "flood"})) == ["Floods on the Syr Darya"]
    assert _titles(carol.get(reverse("incidents"), {"hazard": "B05"})) == ["Measles in the Fergana valley"]
    assert _titles(carol.get(reverse("incidents"), {"member": "KG"})) == ["Measles in the Fergana valley"]
    assert "No incident matches." in text_of(carol.get(reverse("incidents"), {"level": "2"}))
    assert "No incident matches." in text_of(carol.get(reverse("incidents"), {"status": "closed"}))
    assert len(_titles(carol.get(reverse("incidents"), {"status": "open", "level": "0"}))) == 2
    assert carol.get(reverse("incidents"), {"level": "9", "cursor": "garbage"}).status_code == 200
    assert {measles.pk, flood.pk, umid.pk} == set(IncidentView.objects.values_list("record_id", flat=True))


def test_list_pages_by_keyset(people: People, settings: Any) -> None:
    from accord.response import views

    for i in range(3):
        _open(people, title={"en": f"Incident number {i}"})
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        carol = client_for(people.world.carol)
        first = carol.get(reverse("incidents"))
        assert _titles(first) == ["Incident number 2", "Incident number 1"]
        following = re.search(r'href="\?cursor=([^"]+)" rel="next"', text_of(first))
        assert following is not None
        assert _titles(carol.get(reverse("incidents"), {"cursor": following.group(1)})) == ["Incident number 0"]
    finally:
        views.PAGE_SIZE = original


def test_an_incident_outside_the_audience_is_404(people: People) -> None:
    record = _open(people)
    assert client_for(people.world.carol).get(reverse("incident", args=[record.uuid])).status_code == 200
    assert client_for(people.world.alice).get(reverse("incident", args=[record.uuid])).status_code == 404  # CN
    assert client_for(people.world.alice).get(reverse("incident", args=["not-a-uuid"])).status_code == 404
    assert Client().get(reverse("incident", args=[record.uuid])).status_code == 302  # to the login page


def test_the_form_is_prefilled_from_an_alert(people: People) -> None:
    block = info(area=[{"areaDesc": "Turkistan Region", "geocode": [{"valueName": "ISO3166-2", "value": "KZ-61"}]}])
    alert = alert_actions.publish_alert(
        cap(block), audience=Audience(everyone=True), tlp="GREEN", acting_user=people.world.carol, epidemic=CHOLERA
    )
    carol = client_for(people.world.carol)
    html = text_of(carol.get(reverse("incident-new"), {"alert": str(alert.version.record_uuid)}))
    assert f'name="alert" value="{alert.version.record_uuid}"' in html
    assert '<option value="A00" selected>' in html
    assert 'value="KZ-61" selected' in html and 'value="KZ" id="affected-KZ" checked' in html
    assert 'value="GREEN" selected' in html


def test_an_incident_opened_from_an_alert_links_it_and_the_alert_page_shows_it(people: People) -> None:
    area = {
        "areaDesc": "Osh Region",
        "polygon": ["40.0,72.0 40.5,72.0 40.5,73.0 40.0,73.0 40.0,72.0"],
        "geocode": [{"valueName": "ISO3166-2", "value": "KG-O"}],
    }
    alert = alert_actions.publish_alert(
        cap(info(area=[area])),
        audience=Audience(members=["KZ", "KG", "SCO"]),
        tlp="GREEN",
        acting_user=people.world.carol,
        epidemic=CHOLERA,
    )
    alert_uuid = str(alert.version.record_uuid)
    carol = client_for(people.world.carol)
    alert_page = text_of(carol.get(reverse("alert", args=[alert_uuid])))
    assert "This alert belongs to no incident." in alert_page and f"/incidents/new/?alert={alert_uuid}" in alert_page
    response = carol.post(
        reverse("incident-new"),
        _form(hazard="A00", affected_members=["KZ", "KG"], regions=["KG-O"], tlp="GREEN", alert=alert_uuid),
    )
    assert response.status_code == 302
    link = Record.objects.get(kind="incident_link")
    assert link.current_version is not None and link.current_version.body["target"]["record"] == alert_uuid
    alert_page = text_of(client_for(people.kira).get(reverse("alert", args=[alert_uuid])))
    assert "Crimean-Congo haemorrhagic fever in the south" in alert_page
    incident_page = text_of(carol.get(response["Location"]))
    assert '"areas": [{' in incident_page and "Osh Region" in incident_page  # the alert's area on the map
