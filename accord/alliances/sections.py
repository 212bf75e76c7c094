"""The sections of an alliance's page that other parts bring (activities, library, the legal register, One Health
events): each part registers a function that returns the template to include and its context, so the page's view
(membership) needs no import of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Section:
    name: str
    order: int
    # (request, alliance) -> (template name, context), or None when the section has nothing to show there
    render: Callable[[HttpRequest, Any], tuple[str, dict[str, Any]] | None]


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    _SECTIONS[section.name] = section
    return section


def for_alliance(request: HttpRequest, alliance: Any) -> list[tuple[str, dict[str, Any]]]:
    """The sections to include on `alliance`'s page, in order."""
    found = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        rendered = section.render(request, alliance)
        if rendered is not None:
            found.append(rendered)
    return found
