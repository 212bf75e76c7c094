"""Mobilisation in a real browser (issue 18, item 8): carol (Kazakhstan) calls the roster from her request for an
epidemiologist, with the keyboard; li (an expert of a Chinese university, at 360 px) finds the call among her roster
calls and answers that she is available; carol selects her on the call's page, and the request's ledger shows the
expert offered, accepted and committed.

carol at desktop width, li at 360 px, each in a browser context of their own; every page is checked with axe-core
(and, at 360 px, for horizontal overflow). Drives the system Chromium through Playwright against pytest-django's live
server; the incident, the request and li's profile exist before the browser starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accord.alliances import roster_actions
from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.response import actions, assist_actions
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@dataclass
class Scene:
    request: str
    profile: str


@pytest.fixture
def scene(transactional_db: None, world: World) -> Scene:
    li = member_actions.create_account(
        username="li",
        organisation=member_actions.create_organisation(
            member_code="CN", slug="cn-uni", kind="university", name_en="Demo University", acting_user=None
        ),
        roles=["expert"],
        email="li@example.org",
        password=PASSWORD,
        acting_user=None,
    )
    today = date.today()
    profile, _ = roster_actions.put_own(
        li,
        profile={
            "fields": ["epidemiology"],
            "languages": [{"code": "ru", "level": "C1"}],
            "available": [{"from": today.isoformat(), "until": (today + timedelta(days=90)).isoformat()}],
            "deployable": True,
            "contact_email": "li@uni.example",
        },
        audience={"members": ["KZ", "CN", "SCO"]},
        tlp="AMBER",
    )
    incident = actions.open_incident(
        title={"en": "Plague in Mangystau"},
        hazard="A20",
        affected_members=["KZ"],
        regions=["KZ-47"],
        audience=Audience(members=["KZ", "CN", "SCO"]),
        tlp="GREEN",
        acting_user=world.carol,
    )
    request = assist_actions.create_request(
        incident.record_uuid,
        acting_user=world.carol,
        resource_type="expert",
        detail="epidemiology",
        quantity=1,
        needed_by=(today + timedelta(days=3)).isoformat(),
        region="KZ-47",
    )
    return Scene(request=str(request.record_uuid), profile=str(profile.record_uuid))


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def test_roster_call_reply_and_selection_show_in_the_request_ledger(
    scene: Scene, live_server: LiveServer, browser: Browser
) -> None:
    contexts = [_context(browser, DESKTOP), _context(browser, NARROW)]
    try:
        carol, li = (c.new_page() for c in contexts)
        errors: list[str] = []
        for page in (carol, li):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(carol, live_server.url, "carol", PASSWORD)
        log_in(li, live_server.url, "li", PASSWORD)

        # carol opens the request's "Call the roster" panel and sends the call with the keyboard.
        carol.goto(f"{live_server.url}/assistance/requests/{scene.request}/")
        summary = carol.locator("#roster-calls summary")
        summary.focus()
        carol.keyboard.press("Enter")
        expect(carol.locator("#panel-call-field")).to_have_value("epidemiology")  # preset from the request
        check_page(carol, label="request page, the roster panel open")
        carol.locator("#panel-call-language").focus()
        carol.keyboard.type("Russian")
        with carol.expect_navigation():
            carol.locator("#call-roster").press("Enter")
        expect(carol.locator("ul.messages")).to_contain_text("The roster is called: 1 expert is asked to reply.")
        expect(carol.locator("table.called-experts")).to_contain_text("No reply you may see")
        check_page(carol, label="the call, no reply yet")
        call_url = carol.url

        # li finds the call among hers and answers at 360 px.
        li.goto(f"{live_server.url}/alliances/roster-calls/")
        check_page(li, label="my roster calls, narrow")
        with li.expect_navigation():
            li.locator("ul.roster-call-list a").first.click()
        expect(li.locator("#answer")).to_be_visible()
        check_page(li, label="the call, answer form, narrow")
        li.get_by_label("Available", exact=True).check()
        li.locator("#answer textarea").fill("I can leave within three days.")
        with li.expect_navigation():
            li.get_by_role("button", name="Send my reply").click()
        expect(li.locator("ul.messages")).to_contain_text("Your reply is sent to the caller.")
        expect(li.locator(f"#expert-{scene.profile} .reply")).to_contain_text("Available")
        check_page(li, label="the call after the reply, narrow")

        # carol selects li; the request's ledger counts the expert offered, accepted and committed.
        carol.goto(call_url)
        select = carol.locator(f"#select-{scene.profile}")
        expect(select).to_have_text("Select li")
        check_page(carol, label="the call with an available expert")
        select.focus()
        with carol.expect_navigation():
            carol.keyboard.press("Enter")
        expect(carol.locator("ul.messages")).to_contain_text("The expert is selected")
        expect(carol.locator("#ledger-offered")).to_have_text("1")
        expect(carol.locator("#ledger-accepted")).to_have_text("1")
        expect(carol.locator("#ledger-committed")).to_have_text("1")
        expect(carol.locator("#ledger-gap")).to_have_text("0")
        expect(carol.locator("#roster-calls")).to_contain_text("1 expert called")
        check_page(carol, label="the request after the selection")
        li.goto(call_url)
        expect(li.locator(f"#expert-{scene.profile}")).to_contain_text("Selected")
        check_page(li, label="the call after the selection, narrow")
        assert errors == []
    finally:
        for context in contexts:
            context.close()
