"""Idempotency keys and recipients' languages."""

from __future__ import annotations

import hashlib

# The working language of a member's accounts when a recipient has no channel saying otherwise.
MEMBER_LANGUAGES = {"CN": "zh-hans", "RU": "ru", "KZ": "ru", "KG": "ru", "TJ": "ru", "UZ": "ru", "BY": "ru"}


def key_for(*parts: object) -> str:
    """A delivery key: `msg_` + 32 hex digits of SHA-256 over the parts. The same parts give the same key,
    on every worker and after every restart; the unique constraint on `Delivery.key` does the rest."""
    text = "|".join(str(part) for part in parts)
    return "msg_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def language_of_member(code: str | None) -> str:
    return MEMBER_LANGUAGES.get((code or "").upper(), "en")
