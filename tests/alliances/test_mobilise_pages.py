"""The mobilisation pages through the Django test client: the "call the roster" panel of a request for experts (and
of an incident's board), the call form and its refusals, a call's page as each reader may see it, the expert's
answer form, the requester's select button, and the request's ledger afterwards."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from accord.alliances.mobilise_kinds import CALL_KIND, REPLY_KIND
from accord.records.models import Record
from tests.alliances.mobilise_support import Mob, expert_request, mob_fixture  # noqa: F401
from tests.alliances.roster_support import roster_fixture  # noqa: F401
from tests.conftest import client_for
from tests.response.assist_support import page_ledger

pytestmark = pytest.mark.django_db


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined,no-any-return]


def test_the_panel_offers_the_call_form_to_those_who_may_call(mob: Mob) -> None:
    page = reverse("assist-request", args=[mob.request.uuid])
    carol = _text(client_for(mob.carol).get(page))
    assert 'id="roster-calls"' in carol and 'id="call-roster"' in carol
    assert 'name="field"' in carol and '<option value="epidemiology" selected>' in carol  # preset from the detail
    start = max(date(2026, 6, 10), date.today())  # from the day the experts are needed, or today
    assert f'value="{start.isoformat()}"' in carol
    sam = _text(client_for(mob.sam).get(page))
    assert 'id="call-roster"' in sam
    alice = _text(client_for(mob.roster.world.alice).get(page))  # CN sees the request, calls nothing for KZ
    assert 'id="call-roster"' not in alice and 'id="roster-calls"' not in alice
    pcr = expert_request(mob.carol, mob.incident, resource_type="pcr_tests", detail="", quantity=5)
    assert 'id="roster-calls"' not in _text(client_for(mob.carol).get(reverse("assist-request", args=[pcr.uuid])))
    board = _text(client_for(mob.carol).get(reverse("assist-board", args=[mob.incident.uuid])))
    assert 'id="roster-calls"' in board and 'name="incident"' in board


def test_call_answer_and_select_through_the_pages(mob: Mob) -> None:
    carol, li = client_for(mob.carol), client_for(mob.roster.li)
    form = {"request": str(mob.request.uuid), "field": "epidemiology", "language": "", "from": "2026-06-10",
            "until": "2026-06-30", "message": "Plague team"}  # fmt: skip
    made = carol.post(reverse("roster-call-new"), form)
    assert made.status_code == 302
    call = Record.objects.get(kind=CALL_KIND)
    assert made["Location"] == reverse("roster-call", args=[call.uuid])
    shown = _text(carol.get(made["Location"]))
    assert "Plague team" in shown and "li" in shown and 'id="answer"' not in shown

    mine = _text(li.get(reverse("roster-calls")))
    assert reverse("roster-call", args=[call.uuid]) in mine
    page = _text(li.get(reverse("roster-call", args=[call.uuid])))
    assert 'id="answer"' in page and 'name="available"' in page and 'value="2026-06-10"' in page
    answered = li.post(
        reverse("roster-call-reply", args=[call.uuid]),
        {"available": "yes", "from": "2026-06-12", "until": "2026-06-28", "note": "ready", "expert": mob.li_profile},
    )
    assert answered.status_code == 302 and Record.objects.filter(kind=REPLY_KIND).count() == 1

    shown = _text(carol.get(reverse("roster-call", args=[call.uuid])))
    assert "2026-06-12 – 2026-06-28" in shown and f'id="select-{mob.li_profile}"' in shown
    chosen = carol.post(reverse("roster-call-select", args=[call.uuid]), {"expert": mob.li_profile})
    assert chosen.status_code == 302 and chosen["Location"].endswith("#ledger")
    ledger = page_ledger(_text(carol.get(chosen["Location"])))
    assert (ledger["requested"], ledger["offered"], ledger["accepted"], ledger["committed"]) == ("2", "1", "1", "1")
    after = _text(carol.get(reverse("roster-call", args=[call.uuid])))
    assert "badge selected" in after and f'id="select-{mob.li_profile}"' not in after


def test_refusals_are_shown_on_the_form_that_caused_them(mob: Mob) -> None:
    carol = client_for(mob.carol)
    form = {"request": str(mob.request.uuid), "field": "epidemiology", "from": "2026-06-30", "until": "2026-06-10"}
    backwards = carol.post(reverse("roster-call-new"), form)
    assert backwards.status_code == 400
    page = _text(backwards)
    assert 'id="until-error"' in page and 'aria-invalid="true"' in page and 'id="error-summary"' in page
    nobody = carol.post(reverse("roster-call-new"), {**form, "from": "2026-06-10", "until": "2026-06-30",
                                                       "field": "plant_health"})  # fmt: skip
    assert nobody.status_code == 409 and 'id="field-error"' in _text(nobody)
    assert not Record.objects.filter(kind=CALL_KIND).exists()

    good = carol.post(reverse("roster-call-new"), {**form, "from": "2026-06-10", "until": "2026-06-30"})
    call = Record.objects.get(kind=CALL_KIND)
    assert good.status_code == 302
    aida = client_for(mob.roster.aida)  # KZ: sees the call, is not called
    assert 'id="answer"' not in _text(aida.get(reverse("roster-call", args=[call.uuid])))
    refused = aida.post(reverse("roster-call-reply", args=[call.uuid]), {"available": "yes"})
    assert refused.status_code == 403 and 'id="answer-error"' in _text(refused)
    assert "Only the experts this call names answer it" in _text(refused)
    silent = carol.post(reverse("roster-call-select", args=[call.uuid]), {"expert": mob.li_profile})
    assert silent.status_code == 409 and f'id="select-error-{mob.li_profile}"' in _text(silent)
    hidden = client_for(mob.ivan).get(reverse("roster-call", args=[call.uuid]))
    assert hidden.status_code == 404


def test_the_call_page_in_russian_and_chinese(mob: Mob) -> None:
    carol = client_for(mob.carol)
    carol.post(
        reverse("roster-call-new"),
        {"request": str(mob.request.uuid), "field": "epidemiology", "from": "2026-06-10", "until": "2026-06-30"},
    )
    call = Record.objects.get(kind=CALL_KIND)
    for language, word in (("ru", "Эпидемиология"), ("zh-hans", "流行病学")):
        page = _text(carol.get(reverse("roster-call", args=[call.uuid]), headers={"Accept-Language": language}))
        assert word in page and re.search(r'<html lang="(ru|zh-hans)"', page)
