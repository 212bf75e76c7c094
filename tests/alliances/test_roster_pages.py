"""The roster's pages through Django's test client: my profile (put, change, visibility in plain words,
withdrawal with confirmation), the search (filters, only what the reader may see), an expert's page, and the
profiles a focal point manages with the person's consent."""

from __future__ import annotations

from typing import Any

import pytest

from accord.alliances import roster_actions
from accord.alliances.roster_models import ExpertProfile
from accord.records.models import Record
from tests.alliances.roster_support import Roster, consent, profile, roster_fixture  # noqa: F401
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def posted(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "fields": ["epidemiology", "virology"],
        "level-ru": "C1",
        "level-en": "B2",
        "from-0": "2026-06-01",
        "until-0": "2026-08-31",
        "from-1": "",
        "until-1": "",
        "deployable": "on",
        "deploy_within_days": "5",
        "note": "Field epidemiologist",
        "contact_email": "li@example.org",
        "visibility": "secretariat",
        "tlp": "AMBER",
    }
    found.update(changes)
    return {key: value for key, value in found.items() if value is not None}


def test_a_person_puts_changes_and_withdraws_their_profile_on_the_page(roster: Roster) -> None:
    li = client_for(roster.li)
    empty = li.get("/experts/me/")
    assert empty.status_code == 200 and "Put me on the roster" in empty.content.decode()
    saved = li.post("/experts/me/", posted())
    assert saved.status_code == 302, saved.content.decode()[:3000]
    row = ExpertProfile.objects.get()
    body = row.version.body
    assert body["fields"] == ["epidemiology", "virology"] and body["deploy_within_days"] == 5
    assert {(x["code"], x["level"]) for x in body["languages"]} == {("ru", "C1"), ("en", "B2")}
    assert body["available"] == [{"from": "2026-06-01", "until": "2026-08-31"}]
    assert row.version.envelope()["audience"]["members"] == ["SCO"] and row.version.tlp == "AMBER"

    page = li.get("/experts/me/").content.decode()
    assert "You are on the roster" in page and "Only the Secretariat (TLP:AMBER)" in page
    assert 'value="secretariat" checked' in page and 'value="C1" selected' in page

    everyone = li.post("/experts/me/", posted(visibility="everyone", fields=["one_health"]))
    assert everyone.status_code == 302
    version = Record.objects.get(kind="expert_profile").current_version
    assert version is not None and version.seq == 2 and version.tlp == "GREEN"
    assert version.envelope()["audience"]["everyone"] is True and version.body["fields"] == ["one_health"]

    confirm = li.get("/experts/me/withdraw/")
    assert confirm.status_code == 200 and "disappear at once" in confirm.content.decode()
    unconfirmed = li.post("/experts/me/withdraw/", {})
    assert unconfirmed.status_code == 400 and ExpertProfile.objects.exists()
    assert li.post("/experts/me/withdraw/", {"confirm": "yes"}).status_code == 302
    assert not ExpertProfile.objects.exists()
    assert "Put me on the roster" in li.get("/experts/me/").content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"fields": []}, "fields", "at least 1"),
        ({"level-ru": "Z9"}, "languages", "Z9"),
        ({"from-0": "2026-08-31", "until-0": "2026-06-01"}, "available", "before it starts"),
        ({"until-0": ""}, "available", "both days"),
        ({"deploy_within_days": "soon"}, "deploy_within_days", "whole number"),
        ({"contact_email": "nope"}, "contact_email", "pattern"),
        ({"visibility": "alliances"}, "visibility", "no alliance"),
        ({"visibility": "friends"}, "visibility", "Choose who"),
    ],
)
def test_the_form_shows_each_refusal_on_its_field_and_stores_nothing(
    roster: Roster, changes: dict[str, Any], field: str, words: str
) -> None:
    refused = client_for(roster.li).post("/experts/me/", posted(**changes))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert f'id="{field}-error"' in page and words in page and 'id="error-summary"' in page
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_a_person_without_the_expert_role_is_told_so(roster: Roster) -> None:
    alice = client_for(roster.world.alice)
    assert "Only an account with the role expert" in alice.get("/experts/me/").content.decode()
    refused = alice.post("/experts/me/", posted())
    assert refused.status_code == 403 and "needs the role expert" in refused.content.decode()
    assert not Record.objects.filter(kind="expert_profile").exists()


def test_the_search_page_shows_only_what_the_reader_may_see(roster: Roster) -> None:
    hidden, _ = roster_actions.put_own(roster.aida, profile=profile(note="x"), audience={"members": ["SCO"]})
    shared, _ = roster_actions.put_own(
        roster.oleg, profile=profile(fields=["food_safety"], deployable=False), audience={"everyone": True}
    )
    alice = client_for(roster.world.alice)
    page = alice.get("/experts/").content.decode()
    assert "oleg" in page and "aida" not in page and "1 expert" in page
    assert alice.get(f"/experts/{hidden.record_uuid}/").status_code == 404
    assert alice.get(f"/experts/{shared.record_uuid}/").status_code == 200

    sam = client_for(roster.world.sam)
    both = sam.get("/experts/").content.decode()
    assert "oleg" in both and "aida" in both and "2 experts" in both
    assert "aida" in sam.get("/experts/", {"field": "virology"}).content.decode()
    assert "oleg" not in sam.get("/experts/", {"field": "virology"}).content.decode()
    assert "aida" not in sam.get("/experts/", {"deployable": "no"}).content.decode()
    assert "oleg" in sam.get("/experts/", {"member": "RU", "language": "ru"}).content.decode()
    assert (
        "2 experts"
        in sam.get("/experts/", {"available_from": "2026-06-01", "available_until": "2026-06-30"}).content.decode()
    )
    bad = sam.get("/experts/", {"available_from": "2026-07-01", "available_until": "2026-06-01"})
    assert bad.status_code == 400 and 'id="available_until-error"' in bad.content.decode()
    expert = sam.get(f"/experts/{hidden.record_uuid}/").content.decode()
    assert "Epidemiology" in expert and "Only the Secretariat" in expert


def test_the_pages_speak_russian_and_chinese(roster: Roster) -> None:
    roster_actions.put_own(roster.aida, profile=profile(), audience={"everyone": True})
    sam = client_for(roster.world.sam)
    russian = sam.get("/experts/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Реестр экспертов" in russian and "Эпидемиология" in russian
    chinese = client_for(roster.aida).get("/experts/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "我的专家档案" in chinese and "流行病学" in chinese


def test_a_focal_point_manages_profiles_with_consent(roster: Roster) -> None:
    nurlan = client_for(roster.nurlan)
    assert nurlan.get("/experts/managed/").status_code == 200
    form = nurlan.get("/experts/managed/new/").content.decode()
    assert 'value="nurlan"' in form and "kz-health" in form  # recorded by; organisations of KZ
    missing = nurlan.post("/experts/managed/new/", posted(name="Berik", organisation="kz-uni"))
    assert missing.status_code == 400 and 'id="consent-error"' in missing.content.decode()
    assert not Record.objects.filter(kind="expert_profile").exists()
    made = nurlan.post(
        "/experts/managed/new/",
        posted(name="Berik", organisation="kz-uni", consent_given_on="2026-04-20", consent_method="signed form",
               consent_recorded_by="nurlan"),
    )  # fmt: skip
    assert made.status_code == 302, made.content.decode()[:2000]
    row = ExpertProfile.objects.get()
    assert row.managed and row.name == "Berik" and row.version.body["consent"]["method"] == "signed form"
    listed = nurlan.get("/experts/managed/").content.decode()
    assert "Berik" in listed and "signed form" in listed
    edit = nurlan.get(f"/experts/managed/{row.record.uuid}/").content.decode()
    assert 'value="Berik"' in edit and 'value="2026-04-20"' in edit
    changed = nurlan.post(
        f"/experts/managed/{row.record.uuid}/",
        posted(name="Berik", organisation="kz-uni", consent_given_on="2026-04-20", consent_method="e-mail",
               fields=["food_safety"]),
    )  # fmt: skip
    assert changed.status_code == 302
    assert ExpertProfile.objects.get().version.body["consent"]["method"] == "e-mail"
    # an expert of the same organisation may not manage it
    assert client_for(roster.aida).get("/experts/managed/").status_code == 403
    assert client_for(roster.world.carol).get(f"/experts/managed/{row.record.uuid}/").status_code == 404
    assert nurlan.post(f"/experts/managed/{row.record.uuid}/withdraw/", {"confirm": "yes"}).status_code == 302
    assert not ExpertProfile.objects.exists()


def test_the_nav_links_to_the_roster(roster: Roster) -> None:
    page = client_for(roster.li).get("/experts/").content.decode()
    assert 'href="/experts/"' in page and 'href="/experts/me/"' in page
    assert consent()  # (the helper stays in use)
