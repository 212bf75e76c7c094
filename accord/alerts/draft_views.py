"""The pages of draft alerts: the author's list, a draft in the composer (check, save, publish), discard.

Drafts are written through accord.alerts.drafts and read through accord.alerts.queries.drafts_of (the one
audience filter: a draft is its author's alone)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.alerts import drafts, forms, queries
from accord.alerts.views import _account, _compose_page, _forbidden, _member_names, _principal, can_compose, dry_run
from accord.members.models import Account
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record, Version
from accord.surveillance import reference


def _own(request: HttpRequest, record_uuid: str) -> tuple[Record, Version]:
    """The request's account's own live draft, else 404 (anyone else's draft does not exist for them)."""
    try:
        record = queries.alert_for(_principal(request), record_uuid)
        return record, drafts.own_draft(record, _account(request))
    except (NotFound, ActionError):
        raise Http404("no such draft") from None


def _regions(codes: list[str]) -> list[dict[str, str]]:
    names = _member_names()
    known = reference.regions()
    rows = []
    for code in codes:
        region = known.get(code)
        member = region.member if region is not None else code.split("-")[0]
        name = region.name if region is not None else names.get(code, code)
        rows.append({"code": code, "name": name, "member": member, "member_name": names.get(member, member)})
    return rows


def _context(record: Record, version: Version) -> dict[str, Any]:
    info = version.body.get("draft") or {}
    return {
        "draft": record,
        "draft_info": info,
        "draft_regions": _regions(list(info.get("regions", []))),
        "draft_signal_url": reverse("surveillance-signal", args=[info["signal"]]) if info.get("signal") else None,
    }


def _composition(version: Version) -> forms.Composition:
    info = version.body.get("draft") or {}
    return forms.from_message(
        version.body["cap"],
        status=info.get("status", "actual"),
        audience=info.get("audience") or version.envelope()["audience"],
        tlp=info.get("tlp") or version.tlp,
        epidemic=version.body.get("epidemic"),
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def draft_list(request: HttpRequest) -> HttpResponse:
    rows = []
    for record in queries.drafts_of(_principal(request)):
        version = record.current_version
        assert version is not None
        info = version.body.get("draft") or {}
        view = getattr(record, "alert_view", None)
        rows.append(
            {
                "record": record,
                "title": (view.headline or view.event) if view is not None else str(record.uuid),
                "saved_at": version.received_at,
                "regions": _regions(list(info.get("regions", []))),
                "from_signal": bool(info.get("signal")),
            }
        )
    return render(request, "alerts/drafts.html", {"rows": rows, "can_compose": can_compose(_account(request))})


def _save(request: HttpRequest, account: Account, record: Record | None) -> HttpResponse:
    """Save what the composer holds as a draft (new, or the next version of `record`)."""
    composition = forms.from_post(request.POST)
    extra = _context(record, drafts.own_draft(record, account)) if record is not None else {}
    if composition.problems:  # nothing saved: the composer shows why
        return _compose_page(request, composition, record=None, findings=composition.problems, extra=extra, status=400)
    try:
        saved = drafts.save_draft(
            composition.cap(),
            audience=composition.audience(),
            tlp=composition.tlp,
            status=composition.status,
            acting_user=account,
            epidemic=composition.epidemic(),
            record=record,
        )
    except ActionError as error:
        findings = getattr(error, "findings", None)
        if findings is None:
            composition.section_errors.setdefault("top", []).append(error.message)
        return _compose_page(request, composition, record=None, findings=findings, extra=extra, status=error.status)
    messages.success(request, _("The draft is saved. Only you can see it."))
    return HttpResponseRedirect(reverse("alert-draft", args=[saved.version.record_uuid]))


@login_required
@require_POST
def draft_new(request: HttpRequest) -> HttpResponse:
    """The new-alert composer's "Save as draft"."""
    account = _account(request)
    if not can_compose(account):
        return _forbidden(request, _("Only focal points and coordinators publish alerts."))
    return _save(request, account, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def draft_page(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _account(request)
    record, version = _own(request, record_uuid)
    if request.method != "POST":
        return _compose_page(request, _composition(version), record=None, extra=_context(record, version))
    action = request.POST.get("action")
    if action == "save":
        return _save(request, account, record)
    composition = forms.from_post(request.POST)
    extra = _context(record, version)
    publishing = action == "publish"
    refused = 400 if publishing else 200
    if composition.problems:
        return _compose_page(
            request, composition, record=None, findings=composition.problems, extra=extra, status=refused
        )

    def issue() -> Any:
        return drafts.publish_draft(
            record,
            acting_user=account,
            cap=composition.cap(),
            audience=composition.audience(),
            tlp=composition.tlp,
            status=composition.status,
            epidemic=composition.epidemic(),
        )

    try:
        if not publishing:
            warnings = dry_run(issue)
            return _compose_page(request, composition, record=None, findings=warnings, checked=True, extra=extra)
        result = issue()
    except ActionError as error:
        findings = getattr(error, "findings", None)
        if findings is None:
            section = error.field if error.field in ("audience", "tlp", "status") else "top"
            composition.section_errors.setdefault(section, []).append(error.message)
        return _compose_page(
            request,
            composition,
            record=None,
            findings=findings,
            extra=extra,
            status=error.status if publishing else 200,
        )
    messages.success(request, _("The alert is published."))
    for warning in result.warnings:
        messages.warning(request, f"{warning['rule']} {warning['path']}: {warning['message']}")
    return HttpResponseRedirect(reverse("alert", args=[result.version.record_uuid]))


@login_required
@require_POST
def draft_discard(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record, _version = _own(request, record_uuid)
    drafts.discard_draft(record, acting_user=_account(request))
    messages.success(request, _("The draft is discarded."))
    return HttpResponseRedirect(reverse("alert-drafts"))
