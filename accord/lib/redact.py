"""Secrets out of logs: a function that blanks the secrets a logged URL, header or request line may carry, and a
logging filter that applies it to every record it sees (message, arguments and traceback).

What is blanked: API tokens (`accord_<prefix>.<secret>`: the prefix stays, it names the token and is not
secret), subscription feed keys (`sfeed_...`), webhook secrets (`whsec_...`), the key in a feed URL
(`/feeds/t/<key>/`, `/feeds/s/<key>/`, whatever its form), bearer credentials, and the values of query or form
parameters and headers named like a password, token, key, secret or signature. Pure Python: the filter is
installed by settings.LOGGING for Django's and Accord's loggers and by `accord serve` on uvicorn's.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_SECRET_NAMES = (
    r"password|passwd|pass|new_password1|new_password2|old_password|token|access_token|refresh_token|api_key|apikey"  # noqa: S105
    r"|key|secret|client_secret|signature|sig|otp|authorization|csrfmiddlewaretoken|sessionid|csrftoken"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # An API token anywhere: keep the public prefix, blank the secret.
    (re.compile(r"\b(accord_[A-Za-z0-9]{1,64})\.[A-Za-z0-9_\-]+"), rf"\1.{REDACTED}"),
    # The key segment of a feed URL, whatever it looks like (a token, a subscription key, a mistyped one).
    (re.compile(r"(/feeds/[ts]/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    # Subscription feed keys and webhook signing secrets.
    (re.compile(r"\bsfeed_[A-Za-z0-9_\-]+"), f"sfeed_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_\-]+"), f"whsec_{REDACTED}"),
    # Credentials in an Authorization-like header or text.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)\b(token)\s+[A-Za-z0-9._~+/=\-]{24,}"), rf"\1 {REDACTED}"),
    # name=value in a query string, form body or cookie header, and "name": "value" in JSON.
    (
        re.compile(rf"(?i)((?:^|[?&;,\s])(?:{_SECRET_NAMES})=)[^&;,\s\"'#]*"),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(rf"(?i)(\"(?:{_SECRET_NAMES})\"\s*:\s*\")(?:[^\"\\]|\\.)*\""),
        rf'\1{REDACTED}"',
    ),
    # Signature headers, as "Name: value" (federation requests, webhooks).
    (
        re.compile(r"(?i)\b((?:accord|webhook|x(?:-[a-z]+)*)-signature|authorization|cookie)(\s*:\s*)[^\r\n]+"),
        rf"\1\2{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """`text` with every secret Accord knows the shape of replaced by [redacted]."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (int, float, bool)):
        return value  # numbers keep their type, so "%d" still formats them
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RedactingFilter(logging.Filter):
    """Rewrite a record so that neither its message, nor its arguments, nor its traceback carries a secret.

    The arguments keep their shape (uvicorn's access formatter unpacks a 5-tuple), so formatting is unchanged
    but for the blanked secrets. The record is never dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            text = str(record.msg)
            cleaned = redact(text)
            if cleaned != text:
                record.msg = cleaned
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def uvicorn_log_config(base: dict[str, object]) -> dict[str, object]:
    """uvicorn's logging configuration `base` with the filter on its handlers and loggers."""
    import copy

    config = copy.deepcopy(base)
    filters = config.setdefault("filters", {})
    assert isinstance(filters, dict)
    filters["redact"] = {"()": f"{__name__}.RedactingFilter"}
    for section in ("handlers", "loggers"):
        entries = config.get(section, {})
        assert isinstance(entries, dict)
        for entry in entries.values():
            names = entry.setdefault("filters", [])
            if "redact" not in names:
                names.append("redact")
    return config
