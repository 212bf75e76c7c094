"""The activities section of an alliance's page (registered in `accord.alliances.sections`): what is to come and what
took place lately, as the reader may see them, with the links to all activities, to the calendar feed and, for those
who may, to the form that adds one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language

from accord.alliances.sections import Section, register


def render(request: HttpRequest, alliance: Any) -> tuple[str, dict[str, Any]] | None:
    from accord.alliances import work_queries
    from accord.alliances.work_display import dress, page_context
    from accord.records.principal import Principal

    principal = Principal.of(request.user)
    language = get_language()
    context = {
        "alliance": alliance,
        "upcoming": [
            dress(work_queries.activity_out(r, language)) for r in work_queries.upcoming(principal, alliance.slug)
        ],
        "recent": [
            dress(work_queries.activity_out(r, language)) for r in work_queries.recent(principal, alliance.slug)
        ],
        **page_context(request, alliance),
    }
    return "alliances/_activities.html", context


SECTION = register(Section(name="activities", order=10, render=render))
