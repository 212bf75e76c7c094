"""The upload page in a real browser (Debian's Chromium through Playwright): a zip bomb is refused at once with
the limit it passed, and a file with a thousand bad rows gets a report of the first 100, with the count, that
fits a 360 px screen. Tasks run with the immediate backend, in the live server's thread after the commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.models import AuditEntry
from accord.surveillance.models import Upload
from tests.conftest import PASSWORD, World
from tests.surveillance import hostile
from tests.surveillance.support import csv_bytes, week_labels
from tests.web.conftest import browser  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def people(transactional_db: None, world: World, settings: Any) -> World:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    return world


def _log_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form.login button[type=submit]")


def test_a_hostile_upload_is_refused_on_the_page_and_a_long_report_is_cut(
    people: World,
    live_server: LiveServer,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(hostile.bomb_shared_string())
    week = week_labels(1)[0]
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([("Z" * 900, "KZ-19", week, str(n)) for n in range(1_000)]))
    context = browser.new_context(locale="en-US", viewport={"width": 360, "height": 800})
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _log_in(page, live_server, "carol")
        audit_before = AuditEntry.objects.count()

        page.goto(f"{live_server.url}/surveillance/upload/")
        page.set_input_files("#file", str(bomb))
        page.focus("#upload")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        alert = page.get_by_role("alert").first
        expect(alert).to_contain_text("xl/sharedStrings.xml of the workbook inflates to more than 33554432 bytes")
        assert Upload.objects.count() == 0 and AuditEntry.objects.count() == audit_before

        page.set_input_files("#file", str(bad))
        page.focus("#upload")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("#upload-status")).to_have_text("Refused")
        expect(page.get_by_role("heading", level=2)).to_contain_text("1000 problems")
        expect(page.locator(".upload-errors-shown")).to_have_text("The first 100 of 1000 problems are listed.")
        expect(page.locator("table.errors tbody tr")).to_have_count(100)
        first = page.locator("table.errors tbody tr").first.inner_text()
        assert "Z" * 199 + "…" in first and "Z" * 201 not in first
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the report scrolls sideways by {overflow} px at 360 px"
        assert errors == []
    finally:
        context.close()
