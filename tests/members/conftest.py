"""Fixtures of the account tests: an administrator of the node, and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.members import actions as member_actions
from accord.members.models import Account
from tests.conftest import PASSWORD, World
from tests.notify.support import Mailbox, send_mail_to, smtp_server


@pytest.fixture
def admin(world: World) -> Account:
    return member_actions.create_account(
        username="root",
        organisation=world.secretariat,
        roles=["admin"],
        email="root@example.org",
        password=PASSWORD,
        acting_user=None,
    )


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """Mail really goes out over SMTP (ACCORD_EMAIL_BACKEND=smtp) to an aiosmtpd server. The background task that
    sends it runs right after the commit (the immediate task backend), so tests that use this fixture need
    committed transactions (`django_db(transaction=True)`)."""
    settings.TASKS = IMMEDIATE_TASKS
    with smtp_server() as box:
        yield send_mail_to(settings, box)
