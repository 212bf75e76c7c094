"""The surveillance pages in-process (Django test client): series, chart, signals, review, uploads, settings."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.surveillance import actions, alert_draft
from accord.surveillance.models import DetectorSetting, Dhis2Code, Signal, Upload
from tests.conftest import PASSWORD, World, client_for
from tests.surveillance.support import csv_bytes, last_week, rows_for, series


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _upload(world: World, data: bytes, audience: Audience | None = None) -> Upload:
    submitted = actions.submit_upload(
        data, acting_user=world.carol, audience=audience or Audience(members=["KZ", "SCO"]), tlp="AMBER"
    )
    done = actions.process_upload(submitted.pk)
    assert done is not None
    return done


@pytest.fixture
def outbreak(world: World) -> Signal:
    done = _upload(world, csv_bytes(rows_for("A00", "KZ-19", series(outbreak=60))))
    assert done.status == Upload.Status.DONE, done.errors
    return Signal.objects.get(period=last_week().label)


def test_the_pages_need_a_login_and_the_navigation_links_them(world: World) -> None:
    from django.test import Client

    anonymous = Client()
    for url in ("/surveillance/", "/surveillance/signals/", "/surveillance/upload/", "/surveillance/template.csv"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    page = _html(client_for(world.carol).get("/surveillance/"))
    assert 'href="/surveillance/"' in page and 'href="/surveillance/signals/"' in page
    assert 'href="/surveillance/signals/"' not in _html(client_for(world.dave).get("/records/"))  # a viewer


def test_the_series_browser_lists_what_the_reader_may_see_and_filters(world: World, outbreak: Signal) -> None:
    _upload(world, csv_bytes(rows_for("B05", "KZ-61", series(weeks=10))), Audience(members=["KZ"]))
    page = _html(client_for(world.carol).get("/surveillance/"))
    assert 'region=KZ-19"' in page and 'region=KZ-61"' in page and "Cholera</bdi></a>" in page
    filtered = _html(client_for(world.carol).get("/surveillance/?disease=B05"))
    assert 'region=KZ-61"' in filtered and 'region=KZ-19"' not in filtered
    sam = _html(client_for(world.sam).get("/surveillance/"))
    assert 'region=KZ-19"' in sam and 'region=KZ-61"' not in sam  # B05 went to KZ only
    assert 'region=KZ-19"' not in _html(client_for(world.alice).get("/surveillance/"))


def test_the_chart_shows_counts_threshold_and_the_alarm(world: World, outbreak: Signal) -> None:
    response = client_for(world.carol).get("/surveillance/series/?member=KZ&disease=A00&region=KZ-19")
    page = _html(response)
    assert response.status_code == 200
    assert page.count('class="bar') >= 52 and 'class="threshold"' in page
    assert f'class="bar alarm" data-week="{last_week().label}"' in page
    assert 'class="alarm-mark"' in page
    assert "farringtonFlexible" in page
    assert client_for(world.alice).get("/surveillance/series/?member=KZ&disease=A00&region=KZ-19").status_code == 404
    russian = client_for(world.carol)
    russian.post("/i18n/setlang/", {"language": "ru"})
    assert "Алматинская область" in _html(russian.get("/surveillance/series/?member=KZ&disease=A00&region=KZ-19"))


def test_the_signal_inbox_follows_roles_and_the_audience(world: World, outbreak: Signal) -> None:
    inbox = _html(client_for(world.carol).get("/surveillance/signals/"))
    assert f'href="/surveillance/signals/{outbreak.uuid}/"' in inbox
    assert client_for(world.dave).get("/surveillance/signals/").status_code == 403  # a viewer
    assert str(outbreak.uuid) not in _html(client_for(world.alice).get("/surveillance/signals/"))
    assert client_for(world.alice).get(f"/surveillance/signals/{outbreak.uuid}/").status_code == 404
    page = _html(client_for(world.carol).get(f"/surveillance/signals/{outbreak.uuid}/"))
    assert str(outbreak.observed) in page and "<svg" in page and 'id="verify"' in page and 'id="dismiss"' in page


def test_verifying_saves_a_draft_alert_that_outlives_the_page(world: World, outbreak: Signal) -> None:
    client = client_for(world.carol)
    response = client.post(f"/surveillance/signals/{outbreak.uuid}/verify/", {"note": "lab confirmed"})
    assert response.status_code == 302
    match = re.fullmatch(r"/alerts/drafts/([0-9a-f-]{36})/", response["Location"])
    assert match is not None
    draft = Record.objects.get(uuid=match.group(1))
    composer = _html(client.get(response["Location"]))
    assert 'value="A00"' in composer and f'value="{outbreak.observed}"' in composer
    assert 'value="KZ-19"' in composer and "Almaty Region" in composer
    severity = actions.severity_for(Signal.objects.get(pk=outbreak.pk))
    assert re.search(rf'<option value="{severity}" selected>', composer)
    assert re.search(r'<option value="AMBER" selected>TLP:AMBER</option>', composer)
    # The reviewer's note and the signal's region are carried with the draft.
    assert 'class="draft-note">lab confirmed<' in composer or "lab confirmed</bdi>" in composer
    assert 'class="draft-region" data-code="KZ-19"' in composer and 'id="save-draft"' in composer
    outbreak.refresh_from_db()
    assert outbreak.status == Signal.Status.VERIFIED
    detail = _html(client.get(f"/surveillance/signals/{outbreak.uuid}/"))
    assert "IHR Annex 2 assessment draft" in detail and 'id="verify"' not in detail
    # The page is left: the draft is in the author's list, and writing the alert again opens the same draft.
    assert f'href="/alerts/drafts/{draft.uuid}/"' in _html(client.get("/alerts/drafts/"))
    assert 'href="/alerts/drafts/"' in _html(client.get("/alerts/"))  # "My drafts", beside "New alert"
    again = client.post(f"/surveillance/signals/{outbreak.uuid}/alert/")
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Record.objects.filter(kind="alert").count() == 1
    # Nobody else sees it, not even a colleague of the same organisation.
    assert client_for(world.dave).get(response["Location"]).status_code == 404
    assert client_for(world.sam).get(f"/alerts/{draft.uuid}/").status_code == 404
    assert str(draft.uuid) not in _html(client_for(world.sam).get("/alerts/"))
    # The composer publishes the draft as it is: a new alert, and the draft is gone from the list.
    fields: dict[str, Any] = {}
    for key, value in alert_draft.draft_params(Signal.objects.get(pk=outbreak.pk)):
        fields.setdefault(key, []).append(value)
    published = client.post(response["Location"], {**fields, "info-0-expires": "", "action": "publish"})
    assert published.status_code == 302, _html(published)[:2000]
    alert = Record.objects.get(uuid=published["Location"].split("/")[2])
    assert alert.current_version is not None and alert.current_version.status == "actual"
    assert f"/alerts/drafts/{draft.uuid}/" not in _html(client.get("/alerts/drafts/"))
    assert client.get(response["Location"]).status_code == 404
    assert client_for(world.sam).get(published["Location"]).status_code == 200


def test_a_draft_is_discarded_from_its_page(world: World, outbreak: Signal) -> None:
    client = client_for(world.carol)
    location = client.post(f"/surveillance/signals/{outbreak.uuid}/verify/")["Location"]
    assert client_for(world.dave).post(f"{location}discard/").status_code == 404
    response = client.post(f"{location}discard/")
    assert response.status_code == 302 and response["Location"] == "/alerts/drafts/"
    page = _html(client.get("/alerts/drafts/"))
    assert "The draft is discarded." in page and "You have no draft alerts." in page


def test_the_assessment_draft_is_recorded_by_the_members_focal_point(world: World, outbreak: Signal) -> None:
    client = client_for(world.carol)
    location = client.post(f"/surveillance/signals/{outbreak.uuid}/verify/")["Location"]
    answers = {
        "serious_impact-answer": "yes",
        "unusual-answer": "yes",
        "international_spread-answer": "no",
        "travel_trade-answer": "no",
    }
    response = client.post(f"/surveillance/signals/{outbreak.uuid}/assess/", answers)
    assert response.status_code == 302
    outbreak.refresh_from_db()
    assert outbreak.assessment is not None
    # The assessor's draft alert of the signal now notifies the assessment.
    opened = client.post(f"/surveillance/signals/{outbreak.uuid}/alert/")
    assert opened["Location"] == location
    draft = Record.objects.get(uuid=location.split("/")[3])
    assert draft.current_version is not None
    assert draft.current_version.body["epidemic"]["assessment"] == str(outbreak.assessment)
    assert f'value="{outbreak.assessment}"' in _html(client.get(location))


def test_dismiss_without_a_reason_is_refused_on_the_page(world: World, outbreak: Signal) -> None:
    client = client_for(world.carol)
    response = client.post(f"/surveillance/signals/{outbreak.uuid}/dismiss/", {"reason": "  "})
    assert response.status_code == 400 and "say why the signal is dismissed" in _html(response)
    response = client.post(f"/surveillance/signals/{outbreak.uuid}/dismiss/", {"reason": "duplicate reports"})
    assert response.status_code == 302
    page = _html(client.get(response["Location"]))
    assert "duplicate reports" in page and "Dismissed" in page


def test_an_upload_shows_progress_then_its_per_row_errors(world: World) -> None:
    client = client_for(world.carol)
    page = _html(client.get("/surveillance/upload/"))
    assert 'href="/surveillance/template.csv"' in page and 'href="/surveillance/template.xlsx"' in page
    data = csv_bytes([("A00", "KZ-19", last_week().label, "-4"), ("A00", "KG-C", last_week().label, "1")])
    response = client.post(
        "/surveillance/upload/",
        {"file": SimpleUploadedFile("bad.csv", data), "audience": "named", "members": ["KZ", "SCO"], "tlp": "AMBER"},
    )
    assert response.status_code == 302
    upload = Upload.objects.get()
    assert response["Location"] == f"/surveillance/uploads/{upload.uuid}/"
    status = client.get(f"/surveillance/uploads/{upload.uuid}/status.json").json()
    assert status["status"] == "queued" and status["finished"] is False
    queued = _html(client.get(response["Location"]))
    assert 'id="upload-progress"' in queued and 'data-finished="false"' in queued
    actions.process_upload(upload.pk)
    status = client.get(f"/surveillance/uploads/{upload.uuid}/status.json").json()
    assert status["status"] == "failed" and status["finished"] and len(status["errors"]) == 2
    report = _html(client.get(response["Location"]))
    assert "Nothing of it was stored" in report and "negative" in report and "not a region of KZ" in report
    # The uploader only.
    assert client_for(world.alice).get(f"/surveillance/uploads/{upload.uuid}/status.json").status_code == 404


def test_uploading_needs_a_file_and_a_role(world: World) -> None:
    assert client_for(world.dave).get("/surveillance/upload/").status_code == 403
    response = client_for(world.carol).post("/surveillance/upload/", {"tlp": "AMBER"})
    assert response.status_code == 400 and "Choose a file" in _html(response)
    response = client_for(world.carol).post(
        "/surveillance/upload/",
        {"file": SimpleUploadedFile("a.csv", b"x"), "audience": "everyone", "tlp": "RED"},
    )
    assert response.status_code == 400 and "TLP:RED" in _html(response)


def test_the_templates_download(world: World) -> None:
    client = client_for(world.carol)
    response = client.get("/surveillance/template.csv")
    assert response["Content-Type"].startswith("text/csv") and response.content == b"disease,region,period,count\n"
    response = client.get("/surveillance/template.xlsx")
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["counts", "about", "diseases", "regions"]


def test_the_settings_page_is_for_admins(world: World) -> None:
    admin = member_actions.create_account(
        username="root", organisation=world.secretariat, roles=["admin"], email="", password=PASSWORD, acting_user=None
    )
    assert client_for(world.carol).get("/surveillance/settings/").status_code == 403
    client = client_for(admin)
    assert "farringtonFlexible" in _html(client.get("/surveillance/settings/"))
    response = client.post(
        "/surveillance/settings/",
        {"action": "detector", "disease": "B05", "algorithm": "earsC", "control": '{"method": "C2"}', "enabled": "on"},
    )
    assert response.status_code == 302
    assert DetectorSetting.objects.get(disease="B05").control == {"method": "C2"}
    response = client.post(
        "/surveillance/settings/", {"action": "detector", "disease": "B05", "algorithm": "earsC", "control": "{"}
    )
    assert response.status_code == 400 and "not JSON" in _html(response)
    response = client.post("/surveillance/settings/", {"action": "mapping", "mapping": "dataElement deX = A00\nbad"})
    assert response.status_code == 400 and "line 2" in _html(response)
    client.post(
        "/surveillance/settings/", {"action": "mapping", "mapping": "dataElement deX = 1A00\norgUnit ou1 = KZ-19"}
    )
    assert set(Dhis2Code.objects.values_list("source", "target")) == {("deX", "A00"), ("ou1", "KZ-19")}
