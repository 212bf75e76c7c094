"""The text of the e-mail that tells an account's owner it was locked (sent by the notification outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _


def _time(text: str | None) -> str:
    if not text:
        return "?"
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return "?"


def render_account_locked(data: dict[str, Any]) -> tuple[str, str]:
    """(subject, plain text body) in the active language."""
    subject = "[Accord] " + _("Your account was locked after failed log-ins")
    body = _(
        "There were %(failures)s wrong passwords in a row for your Accord account %(username)s, the last from the "
        "address %(address)s. Log-in to the account is blocked until %(until)s. If this was not you, tell your "
        "administrator: someone may be guessing your password."
    ) % {
        "failures": data.get("failures", "?"),
        "username": data.get("username", ""),
        "address": data.get("address") or "?",
        "until": _time(data.get("until")),
    }
    return subject, body
