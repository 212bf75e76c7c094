"""The surveillance signal page and the incidents (Django test client): a signal turned into an alert lists the
alert, offers "open an incident" filled in from it, and once the incident is open shows it; the incident links the
alert and the signal's IHR assessment. Readers who cannot see a record do not learn of it through the signal."""

from __future__ import annotations

import re

from django.urls import reverse

from accord.alerts import actions as alert_actions
from accord.alerts import drafts
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.surveillance import actions
from accord.surveillance.models import Signal, Upload
from tests.conftest import client_for
from tests.response.conftest import People, text_of
from tests.surveillance.support import csv_bytes, last_week, rows_for, series


def _signal(people: People) -> Signal:
    """An outbreak of cholera in Almaty Region (KZ), shared with KZ and the Secretariat."""
    data = csv_bytes(rows_for("A00", "KZ-19", series(outbreak=60)))
    submitted = actions.submit_upload(
        data, acting_user=people.world.carol, audience=Audience(members=["KZ", "SCO"]), tlp="AMBER"
    )
    done = actions.process_upload(submitted.pk)
    assert done is not None and done.status == Upload.Status.DONE, done.errors if done else None
    return Signal.objects.get(period=last_week().label)


def test_a_signal_turned_into_an_alert_opens_an_incident_and_shows_it(people: People) -> None:
    signal = _signal(people)
    carol = client_for(people.world.carol)
    page_url = reverse("surveillance-signal", args=[signal.uuid])
    assert 'id="incidents"' not in text_of(carol.get(page_url))  # nothing made of it yet

    verified = carol.post(reverse("surveillance-signal-verify", args=[signal.uuid]), {"note": "lab confirmed"})
    match = re.fullmatch(r"/alerts/drafts/([0-9a-f-]{36})/", verified["Location"])
    assert match is not None
    questions = text_of(carol.get(page_url))
    assert "-answer" in questions
    keys = sorted(set(re.findall(r'name="([a-z_]+)-answer"', questions)))
    assessed = carol.post(
        reverse("surveillance-signal-assess", args=[signal.uuid]), {f"{key}-answer": "yes" for key in keys}
    )
    assert assessed.status_code == 302
    signal.refresh_from_db()
    assert signal.assessment is not None
    published = drafts.publish_draft(Record.objects.get(uuid=match.group(1)), acting_user=people.world.carol)
    alert_uuid = str(published.version.record_uuid)

    page = text_of(carol.get(page_url))
    assert f'href="/alerts/{alert_uuid}/"' in page and "This signal belongs to no incident." in page
    assert f'href="/incidents/new/?alert={alert_uuid}"' in page
    form = text_of(carol.get(reverse("incident-new"), {"alert": alert_uuid}))
    assert f'name="alert" value="{alert_uuid}"' in form and '<option value="A00" selected>' in form
    assert 'value="KZ" id="affected-KZ" checked' in form

    opened = carol.post(
        reverse("incident-new"),
        {
            "title-en": "Cholera in Almaty Region",
            "hazard": "A00",
            "domains": ["human"],
            "affected_members": ["KZ"],
            "regions": ["KZ-19"],
            "lead_member": "KZ",
            "audience": "affected",
            "tlp": "AMBER",
            "status": "actual",
            "alert": alert_uuid,
        },
    )
    assert opened.status_code == 302
    targets = {
        link.current_version.body["target"]["record"]
        for link in Record.objects.filter(kind="incident_link").select_related("current_version")
        if link.current_version is not None
    }
    assert targets == {alert_uuid, str(signal.assessment)}  # the alert and the assessment it notifies
    # The assessment's own page (the generic record page) names the incident it now belongs to.
    assessment_page = text_of(carol.get(reverse("record", args=[signal.assessment])))
    assert 'id="incidents"' in assessment_page and "Cholera in Almaty Region" in assessment_page
    assert opened["Location"] in assessment_page
    page = text_of(carol.get(page_url))
    assert "Cholera in Almaty Region" in page and opened["Location"] in page
    assert "This signal belongs to no incident." not in page

    # The Secretariat's coordinator sees the signal, the alert and the incident (all shared with SCO); a viewer
    # may not open one; a focal point of another member sees no signal at all.
    sam = text_of(client_for(people.world.sam).get(page_url))
    assert f'href="/alerts/{alert_uuid}/"' in sam and "Cholera in Almaty Region" in sam
    assert client_for(people.kira).get(page_url).status_code == 404


def test_the_alert_is_found_through_the_authors_draft_without_an_assessment(people: People) -> None:
    signal = _signal(people)
    carol = client_for(people.world.carol)
    verified = carol.post(reverse("surveillance-signal-verify", args=[signal.uuid]), {"note": ""})
    draft_uuid = verified["Location"].split("/")[-2]
    published = drafts.publish_draft(Record.objects.get(uuid=draft_uuid), acting_user=people.world.carol)
    alert_uuid = str(published.version.record_uuid)
    page_url = reverse("surveillance-signal", args=[signal.uuid])
    page = text_of(carol.get(page_url))
    assert f'href="/alerts/{alert_uuid}/"' in page and f"/incidents/new/?alert={alert_uuid}" in page
    # Without an assessment, only the draft's author can tell which alert came of the signal.
    assert f'href="/alerts/{alert_uuid}/"' not in text_of(client_for(people.world.sam).get(page_url))
    # A cancelled alert is still listed, marked, and no incident is opened from it.
    alert_actions.cancel_alert(published.version.record, acting_user=people.world.carol, reason="false alarm")
    page = text_of(carol.get(page_url))
    assert f'href="/alerts/{alert_uuid}/"' in page and "cancelled" in page and "/incidents/new/" not in page
