"""The sections the library brings to an alliance's page (`accord.alliances.sections`): the alliance's newest
documents (every alliance), the comparison of the members' legal instruments by topic (the law alliance) and the One
Health events (the agriculture alliance). Each reads as the page's reader, through the audience filter."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accord.alliances import library_access, library_onehealth, library_queries
from accord.alliances.library_queries import DocumentFilter
from accord.alliances.sections import Section, register
from accord.members.models import Account
from accord.records.principal import Principal

NEWEST = 5


def _principal(request: HttpRequest) -> Principal:
    return Principal.of(getattr(request, "user", None))


def documents(request: HttpRequest, alliance: Any) -> tuple[str, dict[str, Any]] | None:
    from accord.alliances.library_views import alliance_names, dress

    rows = library_queries.documents_for(_principal(request), DocumentFilter(alliance=alliance.slug))
    names = alliance_names()
    items = [dress(library_queries.document_out(r), names) for r in rows[:NEWEST]]
    user = getattr(request, "user", None)
    may_add = isinstance(user, Account) and library_access.may_act_for_alliance(user, alliance.slug)
    context = {"alliance": alliance, "items": items, "count": rows.count(), "may_add": may_add}
    return "alliances/library_section_documents.html", context


def legal_register(request: HttpRequest, alliance: Any) -> tuple[str, dict[str, Any]] | None:
    if alliance.slug != "law":
        return None
    from accord.alliances.library_legal_views import comparison, member_names

    user = getattr(request, "user", None)
    may_add = isinstance(user, Account) and bool(library_access.instrument_members(user))
    context = {"alliance": alliance, "compare": comparison(_principal(request), member_names()), "may_add": may_add}
    return "alliances/library_section_legal.html", context


def one_health(request: HttpRequest, alliance: Any) -> tuple[str, dict[str, Any]] | None:
    if alliance.slug != "agriculture":
        return None
    return "alliances/library_section_onehealth.html", {
        "alliance": alliance,
        "events": library_onehealth.listed(_principal(request)),
    }


LIBRARY = register(Section(name="library", order=40, render=documents))
LEGAL_REGISTER = register(Section(name="legal-register", order=45, render=legal_register))
ONE_HEALTH = register(Section(name="one-health", order=50, render=one_health))
