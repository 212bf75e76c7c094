"""The browser the Playwright tests drive: Debian's Chromium, never a downloaded build."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Error, sync_playwright

# Playwright's sync API runs an asyncio event loop in this thread while it is open; Django
# refuses database work in a thread with a running loop unless this is set.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}; the browser tests need it "
            "(install the distribution's chromium package, e.g. sudo apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"Chromium at {CHROMIUM} did not start under Playwright: {error}")
        try:
            yield launched
        finally:
            launched.close()
            # Should anything have opened a database connection while the loop ran, close it
            # here: it is not the test's connection, and left open it blocks dropping the
            # PostgreSQL test database at the end of the session.
            connections.close_all()
