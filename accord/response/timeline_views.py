"""The incident page's timeline: the latest page first, and links to older (and back to newer) pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from accord.records import kinds
from accord.records.errors import ActionError
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import timeline

PAGE = 50  # items on the incident page


def timeline_section(
    request: HttpRequest, principal: Principal, record: Record, names: dict[str, str]
) -> dict[str, Any]:
    """One page of the timeline, the latest first, from the `timeline` parameter (a cursor of an earlier page)."""
    cursor = request.GET.get("timeline") or None
    error = ""
    try:
        found = timeline.page(principal, record, limit=PAGE, order="desc", cursor=cursor)
    except ActionError:
        error = gettext("That link to older items is not valid: here are the latest.")
        found = timeline.page(principal, record, limit=PAGE, order="desc")
    for item in found.items:
        kind = kinds.get(item["kind"])
        item["label"] = kind.label if kind is not None else item["kind"]
        item["name"] = names.get(item["origin"], item["origin"])
    return {
        "timeline": found.items,
        "timeline_older": found.next,
        "timeline_newer": found.previous,
        "timeline_error": error,
    }
