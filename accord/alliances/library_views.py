"""The library's pages: search (form and results), a document's page with its downloads and its withdrawal, and the
form that adds a document with its files (for accounts that may act for an alliance).

Every read goes through `library_queries` (the audience filter: a document one may not see is a 404, here as in the
API), every change through `library_actions`. A refusal re-renders the form with the message on the field at fault
(a refused file on the file field) and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.alliances import library_access, library_actions, library_files, library_forms, library_queries, vocab
from accord.alliances.library_queries import DocumentFilter
from accord.alliances.models import Alliance
from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import pick

PER_PAGE = 20


def account_of(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def language() -> str:
    return (get_language() or "en")[:2].lower()


def texts(value: dict[str, str] | None) -> list[dict[str, str]]:
    """A text in several languages, the reader's first, each with its language code and name."""
    found = dict(value or {})
    order = [language(), *library_forms.TEXT_LANGUAGES]
    seen: list[str] = []
    for code in order:
        if code in found and code not in seen:
            seen.append(code)
    return [
        {"code": code, "name": str(library_forms.TEXT_LANGUAGE_NAMES.get(code, code)), "text": found[code]}
        for code in seen
    ]


def language_names(codes: list[str]) -> list[str]:
    names = []
    for code in codes:
        term = vocab.language_term(code)
        names.append(term.name if term is not None else code)
    return names


def alliance_names() -> dict[str, str]:
    return {a.slug: a.name for a in Alliance.objects.all()}


def dress(out: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """A document of `library_queries` with what its pages show, in the reader's language."""
    names = names if names is not None else alliance_names()
    out["title_text"] = pick(out["title"], language())
    out["titles"] = texts(out["title"])
    out["abstracts"] = texts(out["abstract"])
    out["type_label"] = str(library_forms.TYPES.get(str(out["type"]), out["type"]))
    out["alliance_name"] = names.get(str(out["alliance"]), out["alliance"])
    out["language_names"] = language_names(list(out["languages"]))
    out["url"] = reverse("library-document", args=[out["id"]])
    for item in out["files"]:
        item["download"] = reverse("library-file", args=[out["id"], item["name"]])
    return out


def _allowed_alliances(account: Account) -> list[Alliance]:
    return [a for a in Alliance.objects.all() if library_access.may_act_for_alliance(account, a.slug)]


# ---- search ----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    query = request.GET
    where = DocumentFilter(
        q=query.get("q", "").strip()[:200] or None,
        alliance=query.get("alliance") or None,
        type=query.get("type") or None,
        tag=query.get("tag", "").strip()[:40] or None,
        language=query.get("language") or None,
    )
    rows = library_queries.documents_for(Principal.of(account), where)
    page = Paginator(rows, PER_PAGE).get_page(query.get("page"))
    names = alliance_names()
    items = [dress(library_queries.document_out(record), names) for record in page.object_list]
    return render(
        request,
        "alliances/library_search.html",
        {
            "filters": where,
            "items": items,
            "page": page,
            "count": page.paginator.count,
            "alliances": Alliance.objects.all(),
            "types": library_forms.TYPES,
            "languages": vocab.LANGUAGES,
            "may_add": bool(_allowed_alliances(account)),
        },
    )


# ---- a document --------------------------------------------------------------------------------------------------


def _visible(request: HttpRequest, record_uuid: str) -> Record:
    try:
        return library_queries.document_for(Principal.of(account_of(request)), record_uuid)
    except NotFound:
        raise Http404("no such document") from None


def _may_withdraw(account: Account, record: Record) -> bool:
    version = record.current_version
    organisation = account.organisation
    if version is None or organisation is None or version.state != "active":
        return False
    if record.origin_node != record_actions.here().node_id or version.origin_organisation != organisation.uuid:
        return False
    return bool(account.role_names() & library_access.ACTING_ROLES)


def _document_page(request: HttpRequest, record: Record, *, error: str = "", status: int = 200) -> HttpResponse:
    account = account_of(request)
    out = dress(library_queries.document_out(record))
    publisher = out["publisher"]
    member = Member.objects.filter(code=publisher.get("member")).first()
    return render(
        request,
        "alliances/library_document.html",
        {
            "doc": out,
            "publisher_member": member.name if member is not None else publisher.get("member"),
            "may_withdraw": _may_withdraw(account, record),
            "withdraw_error": error,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def document(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _document_page(request, _visible(request, record_uuid))


@login_required
@require_http_methods(["GET", "HEAD"])
def download(request: HttpRequest, record_uuid: str, name: str) -> HttpResponse:
    try:
        response: HttpResponse = library_queries.download(Principal.of(account_of(request)), record_uuid, name)
    except NotFound:
        raise Http404("no such file") from None
    return response


@login_required
@require_POST
def withdraw(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    try:
        library_actions.withdraw_document(
            record.uuid, acting_user=account_of(request), reason=request.POST.get("reason", "")
        )
    except ActionError as error:
        return _document_page(request, record, error=error.message, status=error.status)
    messages.success(request, _("The document is withdrawn: it is no longer listed, and its files are not served."))
    return HttpResponseRedirect(reverse("library-document", args=[record.uuid]))


# ---- adding a document -------------------------------------------------------------------------------------------


def _form_page(
    request: HttpRequest, form: library_forms.DocumentForm, allowed: list[Alliance], *, status: int = 200
) -> HttpResponse:
    account = account_of(request)
    organisation = account.organisation
    return render(
        request,
        "alliances/library_form.html",
        {
            "form": form,
            "error_list": form.error_list(),
            "alliances": allowed,
            "types": library_forms.TYPES,
            "text_fields": [
                {
                    "code": code,
                    "name": library_forms.TEXT_LANGUAGE_NAMES[code],
                    "title": form.title.get(code, ""),
                    "abstract": form.abstract.get(code, ""),
                }
                for code in library_forms.TEXT_LANGUAGES
            ],
            "languages": vocab.LANGUAGES,
            "members": Member.objects.filter(active=True),
            "own": organisation.member.code if organisation is not None else "",
            "tlps": ("CLEAR", "GREEN", "AMBER"),
            "max_bytes": library_files.max_bytes(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def add(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    allowed = _allowed_alliances(account)
    if not allowed:
        message = _("Only accounts that may act for an alliance (its member organisations, its council, the "
                    "Secretariat's coordinators) add documents to its library.")  # fmt: skip
        return render(request, "response/forbidden.html", {"message": message}, status=403)
    if request.method != "POST":
        form = library_forms.DocumentForm(alliance=request.GET.get("alliance", allowed[0].slug), languages=[])
        return _form_page(request, form, allowed)
    organisation = account.organisation
    own = organisation.member.code if organisation is not None else ""
    form = library_forms.document_from_post(request.POST, request.FILES, own)
    if form.errors:
        return _form_page(request, form, allowed, status=400)
    try:
        version = library_actions.add_document(
            form.alliance,
            acting_user=account,
            doc_type=form.doc_type,
            title={k: v for k, v in form.title.items() if v},
            abstract={k: v for k, v in form.abstract.items() if v},
            tags=form.tag_list(),
            languages=form.languages,
            date=form.date,
            authors=form.authors,
            files=form.uploads,
            audience=form.audience(),
            tlp=form.tlp,
        )
    except ActionError as error:
        where = {"tlp": "audience", "attachments": "file"}.get(error.field or "", error.field or "")
        form.errors[where if where in library_forms.DOCUMENT_FIELDS else "form"] = error.message
        return _form_page(request, form, allowed, status=error.status)
    messages.success(request, _("The document is in the library."))
    return HttpResponseRedirect(reverse("library-document", args=[version.record_uuid]))
