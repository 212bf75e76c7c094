"""The legal register's pages: the register with its comparison of the members by topic (a table: topic x member),
an entry's page, and the form that adds or revises an entry (the member's focal points, accounts of a law alliance
member organisation of it, the Secretariat's coordinators).

Reads through `library_queries` (the audience filter), writes through `library_actions`; a refusal re-renders the
form with the message on its field and the action's 4xx."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.alliances import library_access, library_actions, library_forms, library_queries, vocab
from accord.alliances.library_queries import InstrumentFilter
from accord.alliances.library_views import account_of, language, texts
from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import pick


def member_states() -> list[Member]:
    return list(Member.objects.filter(active=True, kind=Member.Kind.STATE))


def dress(out: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """An entry of `library_queries` with what its pages show, in the reader's language."""
    out["title_text"] = pick(out["title_translations"], language()) or out["title"]
    out["translations"] = texts(out["title_translations"])
    out["summaries"] = texts(out["summary"])
    out["member_name"] = names.get(str(out["member"]), out["member"])
    out["status_label"] = str(library_forms.STATUSES.get(str(out["status"]), out["status"]))
    out["topic_labels"] = [str(library_forms.TOPICS.get(t, t)) for t in out["topics"]]
    term = vocab.language_term(str(out["original_language"]))
    out["original_language_name"] = term.name if term is not None else out["original_language"]
    out["url"] = reverse("legal-instrument", args=[out["id"]])
    return out


def comparison(principal: Principal, names: dict[str, str]) -> dict[str, Any]:
    """The register as a table of topics by member states, each cell the entries (dressed) of that member."""
    states = member_states()
    found = library_queries.compare(principal, [m.code for m in states])
    rows = []
    for topic, cells in found.rows:
        rows.append(
            {
                "topic": topic,
                "label": library_forms.TOPICS.get(topic, topic),
                "cells": [[dress(library_queries.instrument_out(r), names) for r in cell] for cell in cells],
            }
        )
    return {"members": states, "rows": rows}


def member_names() -> dict[str, str]:
    return {m.code: m.name for m in Member.objects.all()}


@login_required
@require_http_methods(["GET", "HEAD"])
def register(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    principal = Principal.of(account)
    query = request.GET
    where = InstrumentFilter(
        member=query.get("member") or None,
        topic=query.get("topic") or None,
        status=query.get("status") or None,
        q=query.get("q", "").strip()[:200] or None,
    )
    names = member_names()
    items = [dress(library_queries.instrument_out(r), names) for r in library_queries.instruments_for(principal, where)]
    return render(
        request,
        "alliances/library_legal_list.html",
        {
            "filters": where,
            "items": items[:500],
            "compare": comparison(principal, names),
            "members": member_states(),
            "topics": library_forms.TOPICS,
            "statuses": library_forms.STATUSES,
            "may_add": bool(library_access.instrument_members(account)),
        },
    )


def _visible(request: HttpRequest, record_uuid: str) -> Record:
    try:
        return library_queries.instrument_for(Principal.of(account_of(request)), record_uuid)
    except NotFound:
        raise Http404("no such entry") from None


def _may_change(account: Account, record: Record) -> bool:
    version = record.current_version
    organisation = account.organisation
    if version is None or organisation is None or version.state != "active":
        return False
    if record.origin_node != record_actions.here().node_id or version.origin_organisation != organisation.uuid:
        return False
    return library_access.may_write_instrument(account, str(version.body.get("member") or ""))


def _entry_page(request: HttpRequest, record: Record, *, error: str = "", status: int = 200) -> HttpResponse:
    out = dress(library_queries.instrument_out(record), member_names())
    return render(
        request,
        "alliances/library_legal_entry.html",
        {"entry": out, "may_change": _may_change(account_of(request), record), "withdraw_error": error},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def entry(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _entry_page(request, _visible(request, record_uuid))


@login_required
@require_POST
def withdraw(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    try:
        library_actions.withdraw_instrument(
            record.uuid, acting_user=account_of(request), reason=request.POST.get("reason", "")
        )
    except ActionError as error:
        return _entry_page(request, record, error=error.message, status=error.status)
    messages.success(request, _("The entry is withdrawn from the register."))
    return HttpResponseRedirect(reverse("legal-instrument", args=[record.uuid]))


def _form_page(
    request: HttpRequest,
    form: library_forms.InstrumentForm,
    *,
    record: Record | None = None,
    status: int = 200,
) -> HttpResponse:
    account = account_of(request)
    organisation = account.organisation
    allowed = library_access.instrument_members(account)
    return render(
        request,
        "alliances/library_legal_form.html",
        {
            "form": form,
            "record": record,
            "error_list": form.error_list(),
            "states": [
                m for m in member_states() if m.code in allowed or (record is not None and m.code == form.member)
            ],
            "languages": vocab.LANGUAGES,
            "statuses": library_forms.STATUSES,
            "topics": library_forms.TOPICS,
            "text_fields": [
                {
                    "code": code,
                    "name": library_forms.TEXT_LANGUAGE_NAMES[code],
                    "title": form.title_translations.get(code, ""),
                    "summary": form.summary.get(code, ""),
                }
                for code in library_forms.TEXT_LANGUAGES
            ],
            "members": Member.objects.filter(active=True),
            "own": organisation.member.code if organisation is not None else "",
            "tlps": ("CLEAR", "GREEN", "AMBER"),
        },
        status=status,
    )


def _save(request: HttpRequest, record: Record | None) -> HttpResponse:
    account = account_of(request)
    organisation = account.organisation
    form = library_forms.instrument_from_post(request.POST, organisation.member.code if organisation else "")
    if record is not None:
        version = record.current_version
        assert version is not None
        form.member = str(version.body.get("member") or "")
    if form.errors:
        return _form_page(request, form, record=record, status=400)
    try:
        if record is None:
            version = library_actions.add_instrument(
                form.body(), acting_user=account, audience=form.audience(), tlp=form.tlp
            )
        else:
            version = library_actions.revise_instrument(
                record.uuid, form.body(), acting_user=account, audience=form.audience(), tlp=form.tlp
            )
    except ActionError as error:
        where = {"tlp": "audience"}.get(error.field or "", error.field or "")
        form.errors[where if where in library_forms.INSTRUMENT_FIELDS else "form"] = error.message
        return _form_page(request, form, record=record, status=error.status)
    messages.success(request, _("The register entry is saved."))
    return HttpResponseRedirect(reverse("legal-instrument", args=[version.record_uuid]))


def _refused(request: HttpRequest) -> HttpResponse:
    message = _(
        "The entries of a member are written by its focal points, by accounts of a law alliance member organisation "
        "of it, and by the Secretariat's coordinators."
    )
    return render(request, "response/forbidden.html", {"message": message}, status=403)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def add(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    allowed = library_access.instrument_members(account)
    if not allowed:
        return _refused(request)
    if request.method == "POST":
        return _save(request, None)
    own = account.organisation.member.code if account.organisation is not None else ""
    form = library_forms.InstrumentForm(member=own if own in allowed else allowed[0])
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    if not _may_change(account_of(request), record):
        return _refused(request)
    if request.method == "POST":
        return _save(request, record)
    form = library_forms.InstrumentForm.of(library_queries.instrument_out(record))
    return _form_page(request, form, record=record)
