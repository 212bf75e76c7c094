"""A TOTP code computed as an authenticator app does (RFC 6238: HMAC-SHA1, 30 s, 6 digits), from the base32 key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

MARGIN = 4.0  # seconds: a code is never made in the last MARGIN seconds of its 30-second step


def totp(secret: str, *, ahead: int = 0, at: float | None = None) -> str:
    """The code for now (or `at`), `ahead` 30-second steps later. A code is accepted once: a second log-in in the
    same step uses the next step's code, which the server accepts as clock drift of one step."""
    key = base64.b32decode(secret.replace(" ", "").upper())
    if at is None and 30 - time.time() % 30 < MARGIN:
        # So close to the next step, the server may check the code after the step has turned: it would accept it as
        # a step of drift behind and remember that drift, and refuse a later log-in's code of the next step. Wait.
        time.sleep(30 - time.time() % 30 + 0.05)
    counter = int((time.time() if at is None else at) // 30) + ahead
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"
