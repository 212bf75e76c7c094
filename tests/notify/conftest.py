"""Fixtures of the notify tests: receivers on 127.0.0.1, and the outbound allow list that lets Accord reach them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.notify import dispatch
from tests.notify.support import Mailbox, Receiver, send_mail_to, smtp_server, webhook_receiver


@pytest.fixture(autouse=True)
def _local_receivers(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    settings.ACCORD_NOTIFY_TIMEOUT_SECONDS = 2
    settings.ACCORD_NOTIFY_RETRY_SECONDS = 30
    settings.ACCORD_NOTIFY_MAX_ATTEMPTS = 4
    settings.ACCORD_NOTIFY_DISABLE_AFTER = 3


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield send_mail_to(settings, box)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def drain() -> None:
    """Run a notify worker until nothing is due and nothing is in flight."""
    loop = dispatch.Loop("test", concurrency=4)
    try:
        loop.drain(timeout=30)
    finally:
        loop.close()
