"""The joint response, start to end, in a real browser (issue 16, item 7): a surveillance signal verified and
published as an alert; an incident opened from the signal's page with the alert filled in; the consents of the two
affected members; level 2; a situation report from each member and the consolidated report that sums them; a task
set, started and finished; a decision adopted by every participant's position; the incident closed with a reason.

Two people, each in a browser context of their own (no switching of users): carol, focal point of Kazakhstan's
ministry of health, at desktop width, and alice, focal point of China's, at 360 px, with the keyboard where it
matters. Drives the system Chromium (/usr/bin/chromium) through Playwright against pytest-django's live server;
the signal exists before the browser starts and the test does no database work while Playwright's loop runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.envelope import Audience
from accord.surveillance import actions
from accord.surveillance.models import Signal, Upload
from tests.conftest import PASSWORD, World
from tests.surveillance.support import csv_bytes, last_week, rows_for, series
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def signal(transactional_db: None, world: World) -> str:
    """An outbreak of cholera in Almaty Region, from counts carol shared with KZ and the Secretariat."""
    data = csv_bytes(rows_for("A00", "KZ-19", series(outbreak=60)))
    submitted = actions.submit_upload(
        data, acting_user=world.carol, audience=Audience(members=["KZ", "SCO"]), tlp="AMBER"
    )
    done = actions.process_upload(submitted.pk)
    assert done is not None and done.status == Upload.Status.DONE
    return str(Signal.objects.get(period=last_week().label).uuid)


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def _file_sitrep(page: Page, day: str, figures: dict[str, int]) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name="File a situation report").click()
    page.fill("#period_start", day)
    page.fill("#period_end", day)
    for name, value in figures.items():
        page.fill(f"#figures-{name}", str(value))
    page.check("#measure-isolation")
    with page.expect_navigation():
        page.get_by_role("button", name="File the report").click()


def _support(page: Page) -> None:
    decision = page.locator("article.decision")
    decision.get_by_label("Support").check()
    with page.expect_navigation():
        decision.get_by_role("button", name="State the position").click()


def test_from_a_signal_to_an_adopted_decision_and_the_closing(
    signal: str, live_server: LiveServer, browser: Browser
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    carol_context = _context(browser, DESKTOP)
    alice_context = _context(browser, NARROW)
    try:
        carol = carol_context.new_page()
        carol.on("dialog", lambda dialog: dialog.accept())  # publishing an Actual alert asks first
        alice = alice_context.new_page()
        errors: list[str] = []
        for page in (carol, alice):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(carol, live_server.url, "carol", PASSWORD)
        log_in(alice, live_server.url, "alice", PASSWORD)
        signal_url = f"{live_server.url}/surveillance/signals/{signal}/"

        # carol verifies the signal and publishes the draft alert made from it.
        carol.goto(signal_url)
        expect(carol.locator("#incidents")).to_have_count(0)
        carol.fill("#verify-note", "Lab confirmed: 3 of 5 samples")
        with carol.expect_navigation():
            carol.click("#verify")
        expect(carol.locator("h1")).to_have_text("Draft alert")
        with carol.expect_navigation():
            carol.click("#publish")
        expect(carol.locator("ul.messages")).to_contain_text("The alert is published.")
        alert_path = carol.url.removeprefix(live_server.url)

        # The signal's page lists the alert and opens an incident from it, filled in; China is affected too.
        carol.goto(signal_url)
        panel = carol.locator("#incidents")
        expect(panel.locator(f'a[href="{alert_path}"]')).to_be_visible()
        expect(panel).to_contain_text("This signal belongs to no incident.")
        with carol.expect_navigation():
            panel.get_by_role("link", name="Open an incident").click()
        expect(carol.locator("#title-en")).to_have_value(
            "Cholera above the expected level in Almaty Region (Kazakhstan)"
        )
        expect(carol.locator("#hazard")).to_have_value("A00")
        expect(carol.locator("#affected-KZ")).to_be_checked()
        carol.check("#affected-CN")
        with carol.expect_navigation():
            carol.get_by_role("button", name="Open the incident").click()
        expect(carol.locator("ul.messages")).to_contain_text("The alert it was opened from is linked.")
        expect(carol.locator("#incident-level")).to_contain_text("Monitoring")
        incident_url = carol.url.split("#")[0]
        incident_path = incident_url.removeprefix(live_server.url)
        carol.goto(signal_url)
        expect(carol.locator(f'#incidents a[href="{incident_path}"]')).to_have_text(
            "Cholera above the expected level in Almaty Region (Kazakhstan)"
        )
        check_page(carol, label="signal page with its alert and incident")

        # Level 2 is refused until both affected members consent; then it is reached.
        carol.goto(incident_url)
        carol.select_option("#level-select", "2")
        carol.fill("#level-reason", "Cases on both sides of the border")
        with carol.expect_navigation():
            carol.get_by_role("button", name="Change the level").click()
        expect(carol.locator("#level-error")).to_contain_text("China (CN)")
        with carol.expect_navigation():
            carol.get_by_role("button", name="Record the consent").click()
        expect(carol.locator("tr.consent-KZ")).to_contain_text("Given")
        alice.goto(incident_url)
        alice.check("#consent-given")
        alice.fill("#consent-condition", "Teams stay under the national command")
        with alice.expect_navigation():
            alice.locator("#consent-condition").press("Enter")
        expect(alice.locator("tr.consent-CN")).to_contain_text("Teams stay under the national command")
        carol.goto(incident_url)
        carol.select_option("#level-select", "2")
        carol.fill("#level-reason", "Cases on both sides of the border")
        with carol.expect_navigation():
            carol.get_by_role("button", name="Change the level").click()
        expect(carol.locator("#incident-level")).to_contain_text("Coordinated response")

        # A situation report from each member; the consolidated report sums them.
        _file_sitrep(
            carol, yesterday, {"new_cases": 12, "new_deaths": 1, "cumulative_cases": 40, "cumulative_deaths": 2}
        )
        expect(carol.locator("tr.sitrep-KZ")).to_contain_text("40")
        alice.goto(incident_url)
        _file_sitrep(alice, yesterday, {"new_cases": 5, "new_deaths": 0, "cumulative_cases": 9, "cumulative_deaths": 0})
        expect(alice.locator("tr.sitrep-CN")).to_contain_text("9")
        check_page(alice, label="incident page with reports at 360 px")
        with carol.expect_navigation():
            carol.get_by_role("link", name="Consolidated report").click()
        carol.fill("#period_end", yesterday)
        with carol.expect_navigation():
            carol.get_by_role("button", name="Show").click()
        expect(carol.locator("#total-new-cases")).to_have_text("17")
        expect(carol.locator("#total-new-deaths")).to_have_text("1")
        expect(carol.locator("#total-cumulative-cases")).to_have_text("49")
        expect(carol.locator("tr.member-KZ.status-reported")).to_contain_text("12")
        expect(carol.locator("tr.member-CN.status-reported")).to_contain_text("5")
        check_page(carol, label="consolidated report")

        # carol sets a task for China; alice finds it under "my tasks", starts it and finishes it.
        carol.goto(incident_url)
        carol.locator("#tasks summary").press("Enter")
        carol.fill("#task-title", "Send the laboratory results of the water samples")
        carol.select_option("#task-assignee", "member:CN")
        carol.select_option("#task-priority", "high")
        with carol.expect_navigation():
            carol.locator("#task-title").press("Enter")
        expect(carol.locator("#tasks .task-status")).to_have_text("Open")
        alice.goto(f"{live_server.url}/tasks/mine/")
        row = alice.locator("tr.task")
        expect(row).to_contain_text("Send the laboratory results of the water samples")
        check_page(alice, label="my tasks at 360 px")
        row.locator("select").select_option("in_progress")
        with alice.expect_navigation():
            row.get_by_role("button", name="Update").click()
        expect(alice.locator("tr.task .task-status")).to_have_text("In progress")
        alice.locator("tr.task select").select_option("done")
        alice.locator("tr.task input[name=comment]").fill("Results sent to KZ")
        with alice.expect_navigation():
            alice.locator("tr.task input[name=comment]").press("Enter")
        expect(alice.get_by_text("Nothing is assigned to you.")).to_be_visible()
        carol.goto(incident_url)
        expect(carol.locator("#tasks .task-status")).to_have_text("Done")

        # A decision of KZ and CN, adopted once both state their support.
        carol.locator("#decisions summary").click()
        carol.fill("#decision-text", "Joint water safety inspections in the border districts for four weeks")
        carol.uncheck("#decision-participant-SCO")
        with carol.expect_navigation():
            carol.get_by_role("button", name="Propose").click()
        expect(carol.locator("article.decision")).to_contain_text("Open for positions")
        _support(carol)
        alice.goto(incident_url)
        _support(alice)
        expect(alice.locator("article.decision")).to_contain_text("Adopted")
        expect(alice.locator("article.decision tr.position-KZ")).to_contain_text("Support")
        check_page(alice, label="incident page with an adopted decision at 360 px")
        expect(alice.locator("#close-form")).to_have_count(0)  # only the organisation that opened it closes it

        # carol closes the incident, by keyboard: a blank reason is refused next to the field; it may be reopened.
        carol.goto(incident_url)
        carol.locator("#close-reason").fill("   ")
        carol.locator("#close-reason").press("Tab")
        with carol.expect_navigation():
            carol.keyboard.press("Enter")
        expect(carol.locator("#close-error")).to_have_text("Say why the incident is closed.")
        expect(carol.locator("#close-reason")).to_have_attribute("aria-describedby", "close-error")
        expect(carol.locator(".badges .incident-status")).to_have_text("Open")
        carol.locator("#close-reason").fill("No new case for two incubation periods")
        carol.locator("#close-reason").press("Tab")
        expect(carol.locator("#close-incident")).to_be_focused()
        with carol.expect_navigation():
            carol.keyboard.press("Enter")
        expect(carol.locator("ul.messages")).to_contain_text("The incident is closed.")
        expect(carol.locator(".badges .incident-status")).to_have_text("Closed")
        expect(carol.locator("#reopen-form")).to_be_visible()
        expect(carol.locator(".level-form")).to_have_count(0)
        check_page(carol, label="closed incident")
        alice.goto(incident_url)
        expect(alice.locator(".badges .incident-status")).to_have_text("Closed")
        expect(alice.locator(".change-reason")).to_have_text("No new case for two incubation periods")
        check_page(alice, label="closed incident at 360 px")
        assert not errors, errors
    finally:
        carol_context.close()
        alice_context.close()
