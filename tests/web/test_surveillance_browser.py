"""From counts to an alert in a real browser: upload a file, watch the worker process it, see the signal,
verify it, and land in the alert composer holding the draft alert saved from it.

Drives the system Chromium (/usr/bin/chromium) through Playwright against pytest-django's live server, like
tests/web/test_alert_browser.py. On PostgreSQL a django-tasks-db worker runs in a thread of its own, as
`accord worker` would in its own process, so the upload really is queued, picked up and processed while the
page polls. The SQLite pass keeps its test database in memory, where a second connection writing at the same
time meets "database table is locked" (shared-cache locks are not retried); there the tasks run with the
immediate backend, in the live server's thread right after the upload commits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django_tasks_db.management.commands.db_worker import Worker
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.conftest import PASSWORD, World
from tests.surveillance.support import csv_bytes, last_week, rows_for, series
from tests.web.conftest import PNG_SIGNATURE

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    """carol, focal point of KZ's ministry of health, uploads, verifies and writes the alert."""
    return world


@pytest.fixture
def worker(people: World, settings: Any) -> Iterator[Worker | None]:
    """A task worker in a thread, polling the database queue every 0.1 s (immediate tasks on SQLite)."""
    if connection.vendor == "sqlite":
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
        }
        yield None
        return
    running = Worker(
        queue_names=["default"],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="browser-test",
        excluded_queue_names=[],
    )

    def run() -> None:
        try:
            running.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="accord-test-worker", daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.running = False
        thread.join(timeout=30)


def _log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def test_upload_see_the_signal_verify_it_and_write_the_alert(
    people: World, worker: Worker | None, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    counts = tmp_path / "kz-cholera.csv"
    counts.write_bytes(csv_bytes(rows_for("A00", "KZ-19", series(outbreak=60))))
    week = last_week().label
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, live_server, "carol")

        # The upload page, from the navigation; the templates are offered.
        with page.expect_navigation():
            page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Surveillance").click()
        with page.expect_navigation():
            page.get_by_role("link", name="Upload counts").first.click()
        expect(page.locator("#template-xlsx")).to_have_attribute("href", "/surveillance/template.xlsx")
        page.set_input_files("#file", str(counts))
        with page.expect_navigation():
            page.click("#upload")

        # The worker checks, stores and watches the counts while the page polls; then the summary.
        expect(page.locator("#upload-progress")).to_be_visible()
        expect(page.locator("#upload-status")).to_have_text("Done", timeout=60_000)
        expect(page.locator("#upload-signals")).to_have_text("1")
        shot = tmp_path / "upload.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(PNG_SIGNATURE)

        # The signal, in the inbox and on its page with the chart and the numbers.
        with page.expect_navigation():
            page.get_by_role("link", name="See the signals").click()
        row = page.locator("tr.signal-row").filter(has_text=week)
        expect(row).to_contain_text("Cholera")
        expect(row).to_contain_text("Open")
        with page.expect_navigation():
            row.get_by_role("link", name="Cholera").click()
        expect(page.locator("svg.series-chart")).to_be_visible()
        expect(page.locator(f'svg.series-chart rect.bar.alarm[data-week="{week}"]')).to_have_count(1)
        observed = int(page.locator("#signal-observed").inner_text())
        assert observed >= 60
        # From the keyboard: the chart in focus reads out the latest week, and the arrow keys step through the weeks.
        chart = page.locator("figure.chart").first
        readout = chart.locator("[data-chart-readout]")
        chart.focus()
        expect(readout).to_be_visible()
        expect(readout).to_have_attribute("aria-live", "polite")
        latest = readout.inner_text()
        assert re.search(r": \d+", latest), latest
        page.keyboard.press("ArrowLeft")
        expect(readout).not_to_have_text(latest)
        expect(chart.locator("svg .current")).to_have_count(1)
        weeks = chart.locator("svg [data-week]")
        for _ in range(weeks.count()):
            page.keyboard.press("ArrowRight")
            if week in readout.inner_text():
                break
        expect(readout).to_contain_text(f"{week}: {observed}")
        page.keyboard.press("End")
        expect(readout).to_have_text(latest)

        # Verified: straight into the alert composer, holding the draft saved for carol alone.
        page.fill("#verify-note", "Lab confirmed: 3 of 5 samples")
        with page.expect_navigation():
            page.click("#verify")
        assert page.url.startswith(f"{live_server.url}/alerts/drafts/")
        expect(page.locator("h1")).to_have_text("Draft alert")
        expect(page.locator(".draft-note")).to_have_text("Lab confirmed: 3 of 5 samples")
        expect(page.locator('.draft-region[data-code="KZ-19"]')).to_contain_text("Almaty Region")
        expect(page.locator("ul.messages")).to_contain_text("The signal is verified")
        expect(page.locator("#disease-code")).to_have_value("A00")
        expect(page.locator("#disease-name")).to_have_value("Cholera")
        expect(page.locator("#disease-cases")).to_have_value(str(observed))
        expect(page.locator("#info-0-event")).to_have_value("Cholera")
        expect(page.locator("#info-0-headline")).to_have_value(
            "Cholera above the expected level in Almaty Region (Kazakhstan)"
        )
        expect(page.locator("#areas .area-row")).to_have_count(1)
        expect(page.locator('#areas input[value="KZ-19"]')).to_have_count(1)
        expect(page.locator('input[name="members"][value="SCO"]')).to_be_checked()
        expect(page.locator("#tlp")).to_have_value("AMBER")

        # The draft is valid CAP as it stands.
        with page.expect_navigation():
            page.click("#check")
        expect(page.locator(".finding-box.ok")).to_contain_text("valid CAP 1.2")
        page.screenshot(path=str(tmp_path / "composer.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
