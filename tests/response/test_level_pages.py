"""Consents and the level in the incident page (Django test client): the consent rule's refusal names the members
whose consent is missing; each affected member records its consent; level 2 is then reached; the timeline lists it."""

from __future__ import annotations

from django.urls import reverse

from accord.response.models import IncidentView
from tests.conftest import client_for
from tests.response.conftest import People, measles, text_of


def test_consents_then_level_two(people: People) -> None:
    incident = measles(people)
    carol, kira = client_for(people.world.carol), client_for(people.kira)
    url = reverse("incident-level", args=[incident.uuid])
    refused = carol.post(url, {"level": "2", "reason": "Spread across the border"})
    assert refused.status_code == 409
    html = text_of(refused)
    assert 'id="level-error"' in html and "Kyrgyzstan (KG)" in html and "Kazakhstan (KZ)" in html
    assert IncidentView.objects.get(record=incident).level == 0
    assert carol.post(reverse("incident-consent", args=[incident.uuid]), {"consent": "given"}).status_code == 302
    refused = carol.post(url, {"level": "2", "reason": "Spread across the border"})
    assert refused.status_code == 409 and "Kazakhstan (KZ)" not in text_of(refused).split('id="level-error"')[1][:300]
    consent = {"consent": "given", "condition": "Teams stay under the national command"}
    assert kira.post(reverse("incident-consent", args=[incident.uuid]), consent).status_code == 302
    assert carol.post(url, {"level": "2", "reason": "Spread across the border"}).status_code == 302
    assert IncidentView.objects.get(record=incident).level == 2
    page = text_of(kira.get(reverse("incident", args=[incident.uuid])))
    assert "2 · Coordinated response" in page and "Teams stay under the national command" in page
    assert page.count('class="timeline-item') >= 4  # opened, two consents, the level
    # Only a focal point of an affected member consents.
    alice = client_for(people.world.alice)  # CN: not in the audience at all
    assert alice.post(reverse("incident-consent", args=[incident.uuid]), {"consent": "given"}).status_code == 404
