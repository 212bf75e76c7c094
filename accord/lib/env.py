"""Strict parsers for settings read from environment variables.

A wrong value stops the process with a message that names the variable; a typo in
production configuration must never silently fall back to a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A configuration variable holds a value we refuse."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_optional(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    return _raw(name, environ)


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={number} is above the maximum {maximum}")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ConfigError(f"{name}={value!r} has an empty item; separate values with single commas")
    return items


def env_path(name: str, default: Path, environ: Mapping[str, str] | None = None) -> Path:
    value = _raw(name, environ)
    return (default if value is None else Path(value)).expanduser().resolve()


def env_hours_table(name: str, default: dict[str, int], environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """`Key=hours,Key=hours`: override some keys of `default`; unknown keys and bad numbers are refused."""
    value = _raw(name, environ)
    table = dict(default)
    if value is None:
        return table
    for item in value.split(","):
        key, sep, hours = item.strip().partition("=")
        if not sep or key not in default:
            raise ConfigError(f"{name}: {item.strip()!r} is not one of {', '.join(default)} = hours")
        try:
            number = int(hours)
        except ValueError:
            raise ConfigError(f"{name}: {hours!r} is not a whole number of hours") from None
        if not 1 <= number <= 24 * 365:
            raise ConfigError(f"{name}: {number} hours is out of range (1..8760)")
        table[key] = number
    return table


def parse_base_url(name: str, value: str) -> str:
    """An absolute http(s) base URL (scheme, host, optional port and path; no query, fragment, user or space),
    without its trailing slash. `name` is what the message calls it (the variable, or an option like --url)."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"{name}={value!r} is not a URL ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name}={value!r} must be an absolute http:// or https:// address, e.g. https://accord.example.org"
        )
    if any(c.isspace() for c in text) or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name}={value!r} must be a plain base address: no spaces, query, fragment or user name")
    del port  # read only to check it is a number in range
    return text.rstrip("/")


def env_url(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """An optional absolute http(s) base URL (see parse_base_url); None when unset."""
    value = _raw(name, environ)
    return None if value is None else parse_base_url(name, value)
