"""Closing and reopening an incident in its page (Django test client): a reason is required, the refusals are
shown next to the field in the reader's language, only the organisation that opened it sees the forms, and a
closed incident takes no consent or level change until it is reopened."""

from __future__ import annotations

from django.urls import reverse

from accord.response.models import IncidentView
from tests.conftest import client_for
from tests.response.conftest import People, measles, text_of


def test_close_needs_a_reason_then_reopen(people: People) -> None:
    incident = measles(people)
    carol = client_for(people.world.carol)
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert 'id="close-form"' in page and 'id="reopen-form"' not in page
    assert 'id="close-reason"' in page and "required" in page.split('id="close-reason"')[1][:200]

    close = reverse("incident-close", args=[incident.uuid])
    refused = carol.post(close, {"reason": "   "})
    assert refused.status_code == 400
    html = text_of(refused)
    assert 'id="close-error"' in html and "Say why the incident is closed." in html
    assert 'aria-invalid="true" aria-describedby="close-error"' in html
    assert IncidentView.objects.get(record=incident).status == "open"

    done = carol.post(close, {"reason": "No new case for 42 days"})
    assert done.status_code == 302 and done["Location"].endswith("#status")
    view = IncidentView.objects.get(record=incident)
    assert view.status == "closed"
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert "The incident is closed." in page and "No new case for 42 days" in page
    assert 'id="reopen-form"' in page and 'id="close-form"' not in page
    assert "level-form" not in page and "consent-form" not in page  # a closed incident takes neither

    again = carol.post(close, {"reason": "twice"})
    assert again.status_code == 409 and "The incident is closed already." in text_of(again)

    reopen = reverse("incident-reopen", args=[incident.uuid])
    assert carol.post(reopen, {"reason": ""}).status_code == 400
    assert carol.post(reopen, {"reason": "Two new cases in Osh"}).status_code == 302
    assert IncidentView.objects.get(record=incident).status == "open"
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert "The incident is open again." in page and 'id="close-form"' in page
    assert incident.versions.count() == 3  # opened, closed, reopened: nothing stored by the refusals


def test_only_the_organisation_that_opened_it_closes_it(people: People) -> None:
    incident = measles(people)
    close = reverse("incident-close", args=[incident.uuid])
    for account in (people.kira, people.world.sam, people.world.dave):  # KG focal point, SCO coordinator, KZ viewer
        client = client_for(account)
        page = text_of(client.get(reverse("incident", args=[incident.uuid])))
        assert 'id="close-form"' not in page and "level-form" not in page
        refused = client.post(close, {"reason": "Over"})
        assert refused.status_code == 403
        html = text_of(refused)
        assert 'id="close-error"' in html and "Only a focal point or coordinator of the organisation that" in html
    assert client_for(people.ivan).post(close, {"reason": "Over"}).status_code == 404  # outside the audience
    assert IncidentView.objects.get(record=incident).status == "open"
    assert incident.versions.count() == 1


def test_the_messages_are_translated(people: People) -> None:
    incident = measles(people)
    for language, said in (("ru", "Укажите, почему"), ("zh-hans", "请说明")):
        client = client_for(people.world.carol)
        client.post("/i18n/setlang/", {"language": language})
        page = text_of(client.get(reverse("incident", args=[incident.uuid])))
        assert 'id="close-form"' in page and "Close the incident" not in page
        refused = text_of(client.post(reverse("incident-close", args=[incident.uuid]), {"reason": ""}))
        assert said in refused.split('id="close-error"')[1][:200]
