"""The alliances' pages through the Django test client: the three alliances, an alliance's page with its charter,
council, members and history, the apply / decide / leave forms and their refusals (the message on the form, the
4xx, nothing stored), in English, Russian and Chinese, and the sections other parts register."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from accord.alliances import membership_queries as queries
from accord.alliances import sections
from accord.alliances.membership_models import Membership
from accord.records.models import Record
from tests.alliances.conftest import Campus
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

KINDS = ("alliance_application", "alliance_decision", "alliance_departure")


def text(response: Any) -> str:
    body: str = response.content.decode()
    return body


def records() -> int:
    return Record.objects.filter(kind__in=KINDS).count()


def application_of(slug: str) -> str:
    return str(Membership.objects.get(organisation=slug).application.uuid)


def test_the_list_shows_the_three_alliances_in_each_language(campus: Campus) -> None:
    client = client_for(campus.li)
    page = client.get("/alliances/")
    assert page.status_code == 200
    for name in ("SCO University Alliance in Medicine", "SCO University Alliance in Law", "in Agriculture"):
        assert name in text(page)
    assert 'href="/alliances/"' in text(page)  # in the navigation
    # the alliances' other pages are one click away
    for href in ("/experts/me/", "/experts/", "/alliances/roster-calls/", "/library/", "/legal-register/"):
        assert f'href="{href}"' in text(page), href
    assert "Альянс университетов ШОС в области медицины" in text(client.get("/alliances/", HTTP_ACCEPT_LANGUAGE="ru"))
    chinese = text(client.get("/alliances/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "上海合作组织医学大学联盟" in chinese and "大学联盟" in chinese


def test_the_pages_need_a_log_in_and_an_unknown_alliance_is_a_404(campus: Campus) -> None:
    assert Client().get("/alliances/medicine/").status_code == 302
    assert client_for(campus.li).get("/alliances/astronomy/").status_code == 404


def test_apply_decide_and_leave_through_the_forms(campus: Campus) -> None:
    li, aida = client_for(campus.li), client_for(campus.aida)
    page = text(li.get("/alliances/medicine/"))
    assert "Charter" in page and 'id="apply-form"' in page and 'id="leave-form"' not in page
    assert "kz-demo-uni (demo)" in page and "ru-demo-uni (demo)" in page  # the council
    assert 'id="applications"' not in page  # li decides nothing

    applied = li.post("/alliances/medicine/apply/", {"motivation": "A school of public health."})
    assert applied.status_code == 302 and applied["Location"] == "/alliances/medicine/#your-membership"
    application = application_of("cn-demo-uni")
    mine = text(li.get("/alliances/medicine/"))
    assert "Application pending" in mine and 'id="apply-form"' not in mine

    council = text(aida.get("/alliances/medicine/"))
    assert f'id="application-{application}"' in council and "A school of public health." in council
    blank = aida.post(f"/alliances/applications/{application}/decide/", {"decision": "accept", "reason": " "})
    assert blank.status_code == 400 and "Give the reason of the decision." in text(blank)
    assert records() == 1
    accepted = aida.post(
        f"/alliances/applications/{application}/decide/", {"decision": "accept", "reason": "Welcome to the alliance."}
    )
    assert accepted.status_code == 302 and queries.is_member("cn-demo-uni", "medicine")
    again = client_for(campus.ivan).post(
        f"/alliances/applications/{application}/decide/", {"decision": "decline", "reason": "No."}
    )
    assert again.status_code in (404, 409)  # no longer pending
    member = text(li.get("/alliances/medicine/"))
    assert 'id="leave-form"' in member and "member since" in member and "Welcome to the alliance." in member

    unconfirmed = li.post("/alliances/medicine/leave/", {"reason": "Budget."})
    assert unconfirmed.status_code == 400 and "Confirm that your organisation leaves the alliance." in text(unconfirmed)
    assert records() == 2 and queries.is_member("cn-demo-uni", "medicine")
    left = li.post("/alliances/medicine/leave/", {"reason": "Budget.", "confirm": "yes"})
    assert left.status_code == 302 and not queries.is_member("cn-demo-uni", "medicine")
    after = text(li.get("/alliances/medicine/"))
    assert 'id="apply-form"' in after and "left the alliance" in after and "Budget." in after


def test_refusals_show_on_their_form_with_the_status_and_store_nothing(campus: Campus) -> None:
    viewer = client_for(campus.lin)
    page = text(viewer.get("/alliances/medicine/"))
    assert 'id="apply-form"' not in page and 'id="leave-form"' not in page
    refused = viewer.post("/alliances/medicine/apply/", {"motivation": "x"})
    assert refused.status_code == 403 and "Only an expert, focal point or coordinator" in text(refused)
    assert records() == 0

    li = client_for(campus.li)
    li.post("/alliances/medicine/apply/")
    twice = li.post("/alliances/medicine/apply/")
    assert twice.status_code == 409 and "application is pending" in text(twice)
    not_member = li.post("/alliances/law/leave/", {"confirm": "yes"})
    assert not_member.status_code == 409 and "not a member of this alliance" in text(not_member)
    application = application_of("cn-demo-uni")
    outsider = client_for(campus.world.alice).post(
        f"/alliances/applications/{application}/decide/", {"decision": "accept", "reason": "ok"}
    )
    assert outsider.status_code == 403 and "council or a coordinator of the Secretariat" in text(outsider)
    assert records() == 1
    assert client_for(campus.li).post("/alliances/applications/not-a-uuid/decide/", {}).status_code == 404


def test_a_council_organisation_sees_its_own_application_without_a_form(campus: Campus) -> None:
    aida = client_for(campus.aida)
    aida.post("/alliances/medicine/apply/")
    application = application_of("kz-demo-uni")
    page = text(aida.get("/alliances/medicine/"))
    assert f'id="application-{application}"' in page and f'action="/alliances/applications/{application}' not in page
    own = aida.post(f"/alliances/applications/{application}/decide/", {"decision": "accept", "reason": "Us."})
    assert own.status_code == 403 and "does not decide its own application" in text(own)
    assert records() == 1


def test_the_page_in_russian_and_chinese(campus: Campus) -> None:
    li = client_for(campus.li)
    li.post("/alliances/medicine/apply/")
    russian = text(li.get("/alliances/medicine/", HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Устав" in russian and "Заявка рассматривается" in russian
    chinese = text(li.get("/alliances/medicine/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "章程" in chinese and "申请待审" in chinese


@pytest.fixture
def extra_section() -> Iterator[None]:
    """A section of the law alliance only, rendered from an existing template (the messages list) with its own
    context, as the other parts register theirs."""

    def render(request: Any, alliance: Any) -> tuple[str, dict[str, Any]] | None:
        if alliance.slug != "law":
            return None
        return "alerts/_messages.html", {"messages": ["<legal register>"]}

    sections.register(sections.Section(name="test-section", order=99, render=render))
    yield
    sections._SECTIONS.pop("test-section")


def test_the_sections_other_parts_register_are_included(campus: Campus, extra_section: None) -> None:
    law = text(client_for(campus.li).get("/alliances/law/"))
    medicine = text(client_for(campus.li).get("/alliances/medicine/"))
    assert '<li class="message ">&lt;legal register&gt;</li>' in law
    assert "legal register" not in medicine
