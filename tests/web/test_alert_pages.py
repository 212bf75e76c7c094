"""The alert pages in-process (Django test client): list, detail, composer, acknowledge, cancel, assess."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accord.alerts import actions, forms
from accord.alerts.models import AcknowledgementView, AlertView
from accord.lib import cap as caplib
from accord.records.envelope import Audience
from accord.records.models import Record, Version
from tests.alerts.support import CHOLERA, cap, info
from tests.conftest import World, client_for
from tests.web.test_static_files import through_asgi

KZ_CN_RU = Audience(members=["KZ", "CN", "RU"])


def _publish(world: World, **kwargs: Any) -> actions.Published:
    fields: dict[str, Any] = {"audience": KZ_CN_RU, "tlp": "AMBER", "acting_user": world.carol}
    fields.update(kwargs)
    body = fields.pop("cap", cap(info(), info("ru-RU", event="Вспышка холеры", headline="Холера")))
    return actions.publish_alert(body, **fields)


def _html(response: Any) -> str:
    text: str = response.content.decode()
    return text


def _form(**overrides: Any) -> dict[str, Any]:
    """The composer's fields for a valid alert: English and Russian blocks, a drawn polygon, a member outline."""
    data: dict[str, Any] = {
        "status": "actual",
        "info-0-language": "en-US",
        "info-0-category": ["Health"],
        "info-0-event": "Anthrax",
        "info-0-urgency": "Immediate",
        "info-0-severity": "Severe",
        "info-0-certainty": "Observed",
        "info-0-headline": "Anthrax cases near Almaty",
        "info-0-description": "Three cases of cutaneous anthrax.",
        "info-0-expires": "2099-01-01T10:00",
        "info-3-language": "ru-RU",
        "info-3-category": ["Health"],
        "info-3-event": "Сибирская язва",
        "info-3-urgency": "Immediate",
        "info-3-severity": "Severe",
        "info-3-certainty": "Observed",
        "info-3-headline": "Сибирская язва под Алматы",
        "info-3-expires": "2099-01-01T10:00",
        "area-0-kind": "polygon",
        "area-0-desc": "Almaty region",
        "area-0-polygon": "43.0,76.0 43.5,76.0 43.5,77.5 43.0,77.5 43.0,76.0",
        "area-5-kind": "member",
        "area-5-desc": "Kyrgyzstan",
        "area-5-member": "KG",
        "disease-system": "ICD-10",
        "disease-code": "A22",
        "disease-name": "Anthrax",
        "disease-cases": "3",
        "disease-deaths": "0",
        "audience": "named",
        "members": ["KZ", "KG", "CN"],
        "tlp": "AMBER",
        "action": "publish",
    }
    data.update(overrides)
    return data


# ---- list ------------------------------------------------------------------------------------------


def test_the_alert_pages_need_a_login(world: World) -> None:
    for url in ("/alerts/", "/alerts/new/"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_list_shows_only_what_was_shared_and_filters(world: World) -> None:
    kz_only = _publish(world, cap=cap(info(headline="KZ-only anthrax note")), audience=Audience(members=["KZ"]))
    shared = _publish(world)
    exercise = _publish(
        world,
        cap=cap(info(headline="Exercise Steppe Shield", category=["Met"], severity="Minor")),
        audience=Audience(everyone=True),
        tlp="GREEN",
        status="exercise",
    )
    alice = client_for(world.alice)
    page = _html(alice.get("/alerts/"))
    assert "Cholera in Turkistan region" in page and "Exercise Steppe Shield" in page
    assert "KZ-only anthrax note" not in page
    assert "2 alerts" in page
    assert 'class="badge exercise"' in page
    # dave, a KZ viewer, sees the KZ-only alert too, but may not compose.
    dave_page = _html(client_for(world.dave).get("/alerts/"))
    assert "KZ-only anthrax note" in dave_page and "3 alerts" in dave_page
    assert "/alerts/new/" not in dave_page
    assert "/alerts/new/" in _html(client_for(world.carol).get("/alerts/"))

    def titles(query: str) -> str:
        return _html(alice.get(f"/alerts/?{query}"))

    assert "Exercise Steppe Shield" in titles("status=exercise")
    assert "Cholera in Turkistan region" not in titles("status=exercise")
    assert "Exercise Steppe Shield" not in titles("status=actual")
    assert "Exercise Steppe Shield" in titles("category=Met")
    assert "Cholera in Turkistan region" not in titles("category=Met")
    assert "Exercise Steppe Shield" in titles("severity=Minor")
    assert "Cholera in Turkistan region" in titles("severity=Severe")
    assert "Cholera in Turkistan region" in titles("member=KZ")
    assert "1 alert<" in titles("q=Холера")
    assert "0 alerts" in titles("member=CN")
    assert "0 alerts" in titles("severity=Nonsense") or "2 alerts" in titles("severity=Nonsense")

    actions.cancel_alert(shared.version.record, acting_user=world.carol, reason="mistake")
    ended = titles("state=ended")
    assert "Cholera in Turkistan region" in ended and "Exercise Steppe Shield" not in ended
    active = titles("state=active")
    assert "Cholera in Turkistan region" not in active and "Exercise Steppe Shield" in active
    listing = titles("")
    assert 'class="badge withdrawn">Cancelled' in listing
    assert str(kz_only.version.record_uuid) not in listing and str(exercise.version.record_uuid) in listing


def test_the_list_pages_keep_the_filters(world: World) -> None:
    for number in range(27):
        _publish(world, cap=cap(info(headline=f"Alert number {number}")), audience=Audience(members=["KZ"]))
    carol = client_for(world.carol)
    first = _html(carol.get("/alerts/?severity=Severe"))
    found = re.search(r'href="\?severity=Severe&amp;cursor=([A-Za-z0-9_-]+)" rel="next"', first)
    assert "27 alerts" in first and found is not None and "Newest" not in first
    second = _html(carol.get(f"/alerts/?severity=Severe&cursor={found.group(1)}"))
    assert "Alert number 0" in second and "Alert number 26" not in second and 'rel="next"' not in second
    assert 'href="?severity=Severe">Newest' in second
    # a cursor edited by hand shows the first page, not an error
    assert "Alert number 26" in _html(carol.get("/alerts/?severity=Severe&cursor=bm9uc2Vuc2U"))


def test_the_list_counts_exactly_up_to_the_cap(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.alerts import queries, views

    for number in range(4):
        _publish(world, cap=cap(info(headline=f"Alert number {number}")), audience=Audience(members=["KZ"]))
    carol = client_for(world.carol)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    assert "4 alerts" in _html(carol.get("/alerts/"))
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    assert "More than 2 alerts" in _html(carol.get("/alerts/"))


# ---- detail ----------------------------------------------------------------------------------------


def test_a_hidden_alert_is_not_found_like_a_missing_one(world: World) -> None:
    hidden = _publish(world, cap=cap(info(headline="For Kazakhstan only")), audience=Audience(members=["KZ"]))
    alice = client_for(world.alice)
    url = f"/alerts/{hidden.version.record_uuid}/"
    hidden_page = alice.get(url)
    missing_page = alice.get("/alerts/00000000-0000-4000-8000-000000000000/")
    garbage_page = alice.get("/alerts/not-a-uuid/")
    assert hidden_page.status_code == missing_page.status_code == garbage_page.status_code == 404
    assert "For Kazakhstan only" not in _html(hidden_page)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|name="next" type="hidden" value="[^"]+"')
    assert strip.sub("", _html(hidden_page)) == strip.sub("", _html(missing_page))
    for action in ("acknowledge", "cancel", "assess", "update"):
        assert alice.post(f"{url}{action}/", {"reason": "x"}).status_code == 404
    # A note is a record, but not an alert.
    from accord.records import actions as record_actions

    note = record_actions.publish(
        "note", {"title": "just a note"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice
    )
    assert alice.get(f"/alerts/{note.record_uuid}/").status_code == 404


def test_the_detail_shows_every_info_block_the_map_data_and_the_epidemic(world: World) -> None:
    published = _publish(world, epidemic=CHOLERA)
    page = _html(client_for(world.alice).get(f"/alerts/{published.version.record_uuid}/"))
    assert 'lang="en-US"' in page and 'lang="ru-RU"' in page
    assert "Cholera in Turkistan region" in page and "Холера" in page and "Вспышка холеры" in page
    assert 'id="alert-areas"' in page and '"areaDesc": "Turkistan region"' in page
    assert page.count('"areaDesc": "Turkistan region"') == 1  # the same area of two blocks, drawn once
    assert 'id="alert-bbox"' in page and "[68.0, 43.0, 69.0, 43.5]" in page
    # Hashed names (cached for ever by browsers; tests/web/test_static_files.py).
    assert re.search(r"/static/vendor/leaflet/leaflet\.[0-9a-f]{12}\.js", page), page
    assert re.search(r"/static/accord/members\.[0-9a-f]{12}\.geojson", page), page
    assert f"/api/v1/alerts/{published.version.record_uuid}.cap" in page
    assert f"/api/v1/alerts/{published.version.record_uuid}.geojson" in page
    assert "ICD-10 A00" in page and "Epidemic notification" in page
    assert "Thread of updates" in page and published.version.body["cap"]["identifier"] in page
    # alice may not update or cancel carol's alert.
    assert "/update/" not in page and "alert-cancel" not in page and 'class="stacked cancel-form"' not in page


def test_only_web_addresses_become_links(world: World) -> None:
    published = _publish(world, cap=cap(info(web="javascript:alert(1)"), info("ru-RU", web="https://example.org/a")))
    page = _html(client_for(world.alice).get(f"/alerts/{published.version.record_uuid}/"))
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    assert 'href="https://example.org/a"' in page


def test_the_static_map_material_is_served(world: World) -> None:
    published = _publish(world)
    page = _html(client_for(world.alice).get(f"/alerts/{published.version.record_uuid}/"))
    paths = re.findall(r"/static/(?:vendor/leaflet/leaflet|accord/alerts)\.[0-9a-f]{12}\.(?:js|css)", page)
    assert len(set(paths)) == 3, paths
    for path in set(paths):
        response, body = through_asgi(path)
        assert response.status_code == 200 and body, path


def test_every_member_outline_makes_a_valid_cap_polygon() -> None:
    outlines = forms.member_outlines()
    assert set(outlines) == {"CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY"}
    for code in outlines:
        polygon = forms.member_polygon(code)
        assert polygon is not None
        points = polygon.split()
        assert 4 <= len(points) <= forms.MAX_POLYGON_POINTS and points[0] == points[-1], code
        message = {
            "identifier": "x-1",
            "sender": "test@example.org",
            "sent": "2026-01-01T00:00:00+00:00",
            "status": "Actual",
            "msgType": "Alert",
            "scope": "Public",
            "info": [
                {
                    "category": ["Health"],
                    "event": "e",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "area": [{"areaDesc": code, "polygon": [polygon]}],
                }
            ],
        }
        report = caplib.validate(caplib.to_xml(caplib.from_json(message)))
        assert report.valid, (code, report.errors)
    assert forms.member_polygon("XX") is None


# ---- composer --------------------------------------------------------------------------------------


def test_only_focal_points_and_coordinators_may_compose(world: World) -> None:
    assert client_for(world.dave).get("/alerts/new/").status_code == 403
    assert client_for(world.dave).post("/alerts/new/", _form()).status_code == 403
    for account in (world.carol, world.sam):
        page = client_for(account).get("/alerts/new/")
        assert page.status_code == 200
        assert 'id="compose-map"' in _html(page) and 'id="info-template"' in _html(page)


def test_check_shows_the_findings_inline_and_stores_nothing(world: World) -> None:
    before = Version.objects.count()
    response = client_for(world.carol).post(
        "/alerts/new/",
        _form(**{"info-3-event": "", "area-0-polygon": "43.0,76.0 43.5,76.0 43.5,77.5 43.0,77.5", "action": "check"}),
    )
    page = _html(response)
    assert response.status_code == 200
    assert "CAP-REQUIRED" in page and "/alert/info[2]/event" in page
    assert "CAP-POLYGON-CLOSED" in page and 'href="#area-0"' in page
    # The polygon is in both blocks but is one finding.
    assert page.count('<code class="rule">CAP-POLYGON-CLOSED') == 1
    assert "A polygon must end at the point where it starts." in page  # in words, before the rule and path
    # The field itself is marked, and what the author typed is still there.
    assert re.search(r'id="info-3-event" name="info-3-event" value=""[^>]*class="invalid"', page)
    assert 'value="Anthrax cases near Almaty"' in page and "Сибирская язва под Алматы" in page
    assert "nothing was published" in page
    assert Version.objects.count() == before


def test_check_of_a_valid_alert_says_so_shows_warnings_and_stores_nothing(world: World) -> None:
    before = (Version.objects.count(), Record.objects.count())
    data = _form(action="check")
    data.update({"area-9-kind": "circle", "area-9-desc": "Point", "area-9-lat": "43.2", "area-9-lon": "76.9"})
    data["area-9-radius"] = "0"
    response = client_for(world.carol).post("/alerts/new/", data)
    page = _html(response)
    assert response.status_code == 200, page
    assert "CAP-CIRCLE-ZERO" in page and "publishing is not blocked" in page
    assert "may be published" in page
    assert (Version.objects.count(), Record.objects.count()) == before


def test_form_level_problems_are_shown_without_calling_the_validator(world: World) -> None:
    before = Version.objects.count()
    data = _form(action="publish")
    data["info-0-urgency"] = ""
    data["info-0-category"] = []
    data["area-5-member"] = "XX"
    page = _html(client_for(world.carol).post("/alerts/new/", data))
    assert "choose the urgency" in page and "choose at least one category" in page and "choose a member state" in page
    assert Version.objects.count() == before


def test_publish_builds_a_valid_cap_alert_from_the_form(world: World) -> None:
    carol = client_for(world.carol)
    response = carol.post("/alerts/new/", _form())
    assert response.status_code == 302, _html(response)
    record = Record.objects.get(kind="alert")
    assert response["Location"] == f"/alerts/{record.uuid}/"
    version = record.current_version
    assert version is not None
    message = version.body["cap"]
    assert [i["language"] for i in message["info"]] == ["en-US", "ru-RU"]
    assert message["info"][0]["expires"] == "2099-01-01T10:00:00+00:00"
    areas = message["info"][1]["area"]
    assert [a["areaDesc"] for a in areas] == ["Almaty region", "Kyrgyzstan"]
    assert areas[1]["polygon"] == [forms.member_polygon("KG")]
    assert message["scope"] == "Private" and message["addresses"] == ["CN", "KG", "KZ"]
    assert version.tlp == "AMBER" and version.body["epidemic"]["disease"]["code"] == "A22"
    assert caplib.validate(caplib.to_xml(caplib.from_json(message))).valid
    page = _html(carol.get(response["Location"]))
    assert "The alert is published." in page


def test_publish_with_errors_keeps_the_input_and_stores_nothing(world: World) -> None:
    before = Version.objects.count()
    response = client_for(world.carol).post("/alerts/new/", _form(**{"info-0-event": "   "}))
    page = _html(response)
    assert response.status_code == 400
    assert "CAP-REQUIRED" in page and "/alert/info[1]/event" in page
    assert "Сибирская язва" in page and "43.0,76.0 43.5,76.0" in page and 'value="A22"' in page
    assert Version.objects.count() == before


@pytest.mark.parametrize(
    ("audience", "tlp", "message"),
    [
        ("named", "RED", "TLP:RED is limited to named persons"),
        ("everyone", "AMBER", "TLP:AMBER needs a named audience, not everyone"),
    ],
)
def test_a_bad_audience_and_tlp_pair_is_explained_inline(world: World, audience: str, tlp: str, message: str) -> None:
    before = Version.objects.count()
    for action, status in (("check", 200), ("publish", 400)):
        response = client_for(world.carol).post("/alerts/new/", _form(audience=audience, tlp=tlp, action=action))
        assert response.status_code == status
        assert message in _html(response)
    assert Version.objects.count() == before


def test_an_epidemic_with_a_bad_code_is_explained(world: World) -> None:
    response = client_for(world.carol).post("/alerts/new/", _form(**{"disease-code": "A 00!"}))
    page = _html(response)
    assert response.status_code == 400 and "A 00! is not the ICD code of a disease on the list" in page
    unknown = client_for(world.carol).post("/alerts/new/", _form(**{"disease-code": "Z99.9", "disease-cases": "-3"}))
    assert unknown.status_code == 400 and not Record.objects.filter(kind="alert").exists()
    both = _html(unknown)
    assert "Z99.9 is not the ICD code" in both and "Cases: enter a whole number, 0 or more." in both


def test_exercise_alerts_are_published_as_exercise(world: World) -> None:
    response = client_for(world.carol).post("/alerts/new/", _form(status="exercise", audience="everyone", tlp="GREEN"))
    assert response.status_code == 302
    version = Record.objects.get(kind="alert").current_version
    assert version is not None and version.status == "exercise" and version.body["cap"]["status"] == "Exercise"


def test_the_author_updates_an_alert_from_a_prefilled_composer(world: World) -> None:
    published = _publish(world, epidemic=CHOLERA)
    url = f"/alerts/{published.version.record_uuid}/update/"
    assert client_for(world.alice).get(url).status_code == 403  # another member
    assert client_for(world.dave).get(url).status_code == 403  # a viewer of the same organisation
    carol = client_for(world.carol)
    page = _html(carol.get(url))
    assert 'value="Cholera outbreak"' in page and "Вспышка холеры" in page
    assert "43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0" in page and 'value="A00"' in page
    assert 'name="status" value="actual"' in page
    data = {
        "status": "exercise",  # ignored: an update keeps the status
        "info-0-language": "en-US",
        "info-0-category": ["Health"],
        "info-0-event": "Cholera outbreak",
        "info-0-urgency": "Immediate",
        "info-0-severity": "Extreme",
        "info-0-certainty": "Observed",
        "info-0-headline": "Cholera spreading in Turkistan region",
        "area-0-kind": "polygon",
        "area-0-desc": "Turkistan region",
        "area-0-polygon": "43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0",
        "disease-system": "ICD-10",
        "disease-code": "A00",
        "disease-name": "Cholera",
        "disease-cases": "80",
        "disease-deaths": "3",
        "audience": "named",
        "members": ["KZ", "CN", "RU"],
        "tlp": "AMBER",
        "action": "publish",
    }
    response = carol.post(url, data)
    assert response.status_code == 302, _html(response)
    record = published.version.record
    record.refresh_from_db()
    assert record.current_seq == 2
    current = record.current_version
    assert current is not None and current.status == "actual"
    assert current.body["cap"]["msgType"] == "Update" and len(current.body["cap"]["references"]) == 1
    assert current.body["epidemic"]["cases"] == 80
    detail = _html(carol.get(f"/alerts/{record.uuid}/"))
    assert "Cholera spreading in Turkistan region" in detail and "The update is published." in detail
    assert detail.count("<td><code>urn:uuid:") == 2  # both messages in the thread


# ---- acknowledge, cancel, assess -------------------------------------------------------------------


def test_an_addressed_focal_point_acknowledges_and_the_board_shows_it(world: World) -> None:
    published = _publish(world)
    url = f"/alerts/{published.version.record_uuid}/"
    alice = client_for(world.alice)
    page = _html(alice.get(url))
    assert 'class="stacked ack-form"' in page
    assert re.search(r'data-member="CN">\s*<td><bdi>China</bdi> \(CN\)</td>\s*<td>—</td>', page)
    response = alice.post(f"{url}acknowledge/", {"note": "received, investigating"})
    assert response.status_code == 302 and response["Location"] == url
    page = _html(alice.get(url))
    assert "acknowledgement is recorded" in page
    assert re.search(r'class="ack-CN acknowledged" data-member="CN"', page)
    assert 'class="stacked ack-form"' not in page
    again = alice.post(f"{url}acknowledge/")
    assert again.status_code == 409 and "CN has already acknowledged this alert" in _html(again)
    assert AcknowledgementView.objects.filter(member="CN").count() == 1
    # The origin member is not addressed; a viewer may not acknowledge.
    assert 'class="stacked ack-form"' not in _html(client_for(world.carol).get(url))
    assert client_for(world.dave).post(f"{url}acknowledge/").status_code == 403


def test_the_secretariat_addressed_acknowledges_through_a_coordinator(world: World) -> None:
    """Whoever is addressed must be able to acknowledge: the Secretariat has coordinators, not focal points."""
    published = _publish(world, audience=Audience(members=["KZ", "CN", "SCO"]))
    record = published.version.record
    url = f"/alerts/{record.uuid}/"
    AlertView.objects.filter(record=record).update(ack_deadline=timezone.now() - timedelta(minutes=5))
    sam = client_for(world.sam)
    page = _html(sam.get(url))
    assert re.search(r'<tr class="ack-SCO overdue" data-member="SCO">', page)
    assert 'class="stacked ack-form"' in page
    response = sam.post(f"{url}acknowledge/", {"note": "Secretariat informed"})
    assert response.status_code == 302 and response["Location"] == url
    page = _html(sam.get(url))
    sco_row = re.search(r'<tr class="ack-SCO acknowledged" data-member="SCO">(.*?)</tr>', page, re.S)
    assert sco_row is not None and "Acknowledged" in sco_row.group(1) and "Waiting" not in sco_row.group(1)
    assert 'class="stacked ack-form"' not in page
    # Acknowledged in time or late, the Secretariat is never escalated afterwards.
    assert [member for member, _ in actions.escalate_overdue(record)] == ["CN"]
    # A Secretariat viewer does not acknowledge for it.
    from accord.members import actions as member_actions

    viewer = member_actions.create_account(
        username="scoview",
        organisation=world.secretariat,
        roles=["viewer"],
        email="scoview@example.org",
        password="x-Long-enough-1",
        acting_user=None,
    )
    viewer_client = client_for(viewer)
    assert 'class="stacked ack-form"' not in _html(viewer_client.get(url))
    refused = viewer_client.post(f"{url}acknowledge/")
    assert refused.status_code == 403 and "needs one of the roles: coordinator, focal_point" in _html(refused)


def test_the_board_flags_overdue_and_escalated_members(world: World) -> None:
    published = _publish(world)
    record = published.version.record
    AlertView.objects.filter(record=record).update(ack_deadline=timezone.now() - timedelta(minutes=5))
    actions.acknowledge(record, acting_user=world.alice)
    escalated = actions.escalate_overdue(record)
    assert [member for member, _recipients in escalated] == ["RU"]
    page = _html(client_for(world.carol).get(f"/alerts/{record.uuid}/"))
    assert re.search(r'class="ack-CN acknowledged"', page)
    ru_row = re.search(r'<tr class="ack-RU overdue" data-member="RU">(.*?)</tr>', page, re.S)
    assert ru_row is not None
    assert "Overdue" in ru_row.group(1) and "Escalated" in ru_row.group(1)


def test_the_author_cancels_with_a_reason_and_the_list_shows_it(world: World) -> None:
    published = _publish(world)
    url = f"/alerts/{published.version.record_uuid}/"
    assert client_for(world.alice).post(f"{url}cancel/", {"reason": "not mine"}).status_code == 403
    carol = client_for(world.carol)
    assert 'class="stacked cancel-form"' in _html(carol.get(url))
    empty = carol.post(f"{url}cancel/", {"reason": "  "})
    assert empty.status_code == 400 and "say why the alert is cancelled" in _html(empty)
    response = carol.post(f"{url}cancel/", {"reason": "Laboratory results negative"})
    assert response.status_code == 302
    page = _html(carol.get(url))
    assert "The alert is cancelled." in page and "Laboratory results negative" in page
    assert 'class="stacked cancel-form"' not in page and "/update/" not in page
    listing = _html(client_for(world.alice).get("/alerts/"))
    assert 'class="status-actual cancelled"' in listing and "Cancelled" in listing
    assert AlertView.objects.get(record=published.version.record).msg_type == "Cancel"


def test_the_origin_focal_point_assesses_by_annex_2_and_sees_the_clock(world: World) -> None:
    published = _publish(world, epidemic=CHOLERA)
    url = f"/alerts/{published.version.record_uuid}/"
    answers = {
        "serious_impact-answer": "yes",
        "serious_impact-evidence": "34 cases, one death in a week",
        "unusual-answer": "yes",
        "unusual-evidence": "first cholera in the region for ten years",
        "international_spread-answer": "no",
        "travel_trade-answer": "no",
    }
    assert "Assess this event by IHR Annex 2" not in _html(client_for(world.alice).get(url))
    assert client_for(world.alice).post(f"{url}assess/", answers).status_code == 403
    carol = client_for(world.carol)
    assert "Assess this event by IHR Annex 2" in _html(carol.get(url))
    missing = carol.post(f"{url}assess/", {"serious_impact-answer": "yes"})
    assert missing.status_code == 400 and "Answer all four questions." in _html(missing)
    response = carol.post(f"{url}assess/", answers)
    assert response.status_code == 302
    page = _html(carol.get(url))
    assert "assessment is recorded" in page
    assert "<strong>Notify</strong>" in page and "2 of the 4 Annex 2 questions answered yes" in page
    assert "first cholera in the region for ten years" in page
    # The alert was sent before the assessment: it is not the notification, the clock runs from the assessment.
    assert "24-hour clock:" in page and "Notification due" in page and "Notified within 24 hours" not in page
    actions.update_alert(
        published.version.record, cap(info(description="assessed: notifiable")), acting_user=world.carol
    )
    page = _html(carol.get(url))
    assert "Notified within 24 hours" in page and "Notification due" not in page
    # Shared with the alert's audience: alice sees the assessment too.
    assert "2 of the 4 Annex 2 questions answered yes" in _html(client_for(world.alice).get(url))


def test_the_alert_pages_speak_russian_and_chinese(world: World) -> None:
    published = _publish(world)
    client = client_for(world.carol)
    client.cookies["django_language"] = "ru"
    listing = _html(client.get("/alerts/"))
    assert "<h1>Оповещения</h1>" in listing and "1 оповещение" in listing
    assert "><bdi>Холера</bdi></a>" in listing  # the headline of the Russian block, for a Russian reader
    detail = _html(client.get(f"/alerts/{published.version.record_uuid}/"))
    assert "<h1><bdi>Холера</bdi></h1>" in detail and "Подтверждения получения" in detail and "Серьёзная" in detail
    client.cookies["django_language"] = "zh-hans"
    page = _html(client.get("/alerts/new/"))
    assert "新警报" in page
    assert re.search(r'<option value="zh-CN" lang="zh-CN" selected>', page)  # a Chinese author writes in Chinese
    client.cookies["django_language"] = "en"
    assert "<h1><bdi>Cholera in Turkistan region</bdi></h1>" in _html(
        client.get(f"/alerts/{published.version.record_uuid}/")
    )


def test_the_new_alert_composer_saves_a_draft_that_its_author_finds_edits_and_publishes(world: World) -> None:
    carol = client_for(world.carol)
    assert 'formaction="/alerts/drafts/new/"' in _html(carol.get("/alerts/new/"))
    # A draft with an error is not saved: the composer says why, nothing is stored.
    broken = carol.post("/alerts/drafts/new/", _form(**{"info-0-event": "", "action": "save"}))
    assert broken.status_code == 400 and not Record.objects.filter(kind="alert").exists()
    assert "nothing was published" in _html(broken) or "error" in _html(broken)
    saved = carol.post("/alerts/drafts/new/", _form(action="save"))
    assert saved.status_code == 302 and saved["Location"].startswith("/alerts/drafts/")
    draft = Record.objects.get(kind="alert")
    assert draft.current_version is not None and draft.current_version.status == "draft"
    page = _html(carol.get(saved["Location"]))
    assert "Only you can see this draft." in page and 'value="Anthrax cases near Almaty"' in page
    assert carol.get(f"/alerts/{draft.uuid}/")["Location"] == saved["Location"]  # the alert page opens the draft
    # Edited and saved again: the next version of the same draft.
    again = carol.post(saved["Location"], _form(**{"info-0-headline": "Anthrax: 4 cases", "action": "save"}))
    assert again.status_code == 302 and again["Location"] == saved["Location"]
    draft.refresh_from_db()
    assert draft.current_seq == 2
    assert client_for(world.alice).get(saved["Location"]).status_code == 404
    published = carol.post(saved["Location"], _form(**{"info-0-headline": "Anthrax: 4 cases"}))
    assert published.status_code == 302 and "/drafts/" not in published["Location"]
    alert_page = _html(client_for(world.alice).get(published["Location"]))
    assert "Anthrax: 4 cases" in alert_page
    # A viewer may not save drafts of alerts.
    assert client_for(world.dave).post("/alerts/drafts/new/", _form(action="save")).status_code == 403
