"""Template helpers of the web shell."""

from __future__ import annotations

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def rfc3339(value: str) -> datetime | str:
    """The signed RFC 3339 text as a datetime, so templates can show it in the reader's language."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value
