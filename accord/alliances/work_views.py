"""The pages of the alliances' joint work:

* `activity_list` (`/alliances/<slug>/activities/`): an alliance's activities the reader may see, to come and past,
  with the calendar feed's link;
* `activity_page` (`/activities/<id>/`): one activity, with the edit link and the cancel and withdraw forms for
  those who may change it;
* `activity_new` and `activity_edit`: the activity form (`work_forms`), for accounts allowed to act for the
  alliance (`work_actions.may_act`), on the node that issued the activity;
* `activity_cancel`, `activity_withdraw` (POST).

A refusal re-renders the page with the message on the field that caused it and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.alliances import work_actions, work_forms, work_queries
from accord.alliances.models import Alliance
from accord.alliances.work_display import STATE_LABELS, TYPE_LABELS, dress, page_context
from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _alliance(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise Http404("no such alliance")
    return found


def _visible(request: HttpRequest, record_uuid: str) -> Record:
    try:
        return work_actions.activity_for(Principal.of(_account(request)), record_uuid)
    except NotFound:
        raise Http404("no such activity") from None


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "alliances/work_forbidden.html", {"message": message}, status=403)


def _may_change(account: Account, record: Record) -> bool:
    """Whether `account` may edit, cancel or withdraw the activity here: its node's, active, of an alliance the
    account acts for, and of its organisation."""
    version = record.current_version
    if version is None or version.state != "active" or not account.organisation:
        return False
    if record.origin_node != record_actions.here().node_id or version.origin_organisation != account.organisation.uuid:
        return False
    return work_actions.may_act(account, str(version.body.get("alliance", "")))


@login_required
def activity_list(request: HttpRequest, slug: str) -> HttpResponse:
    alliance = _alliance(slug)
    account = _account(request)
    principal = Principal.of(account)
    language = get_language()
    rows = work_queries.activities_of(principal, slug)[:500]
    return render(
        request,
        "alliances/work_list.html",
        {
            "alliance": alliance,
            "activities": [dress(work_queries.activity_out(r, language)) for r in rows],
            **page_context(request, alliance),
        },
    )


def _members() -> list[Member]:
    return list(Member.objects.filter(active=True).order_by("code"))


def _form_page(
    request: HttpRequest,
    alliance: Alliance,
    form: work_forms.ActivityForm,
    *,
    record: Record | None = None,
    keeps_sharing: bool = False,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "alliances/work_form.html",
        {
            "alliance": alliance,
            "form": form,
            "record": record,
            "error_list": form.error_list(),
            "types": [(code, str(label)) for code, label in TYPE_LABELS.items()],
            "states": [(code, str(label)) for code, label in STATE_LABELS.items() if record or code != "cancelled"],
            "members": _members(),
            "tlps": work_forms.TLPS,
            "keeps_sharing": keeps_sharing,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def activity_new(request: HttpRequest, slug: str) -> HttpResponse:
    alliance = _alliance(slug)
    account = _account(request)
    if not work_actions.may_act(account, slug):
        message = _(
            "Only the alliance's member organisations, its council and the Secretariat's coordinators add activities."
        )
        return _forbidden(request, message)
    if request.method != "POST":
        return _form_page(request, alliance, work_forms.ActivityForm())
    members = {m.code for m in _members()}
    form = work_forms.from_post(request.POST, members, creating=True)
    if form.errors:
        return _form_page(request, alliance, form, status=400)
    try:
        version = work_actions.create_activity(
            slug, form.given(), acting_user=account, audience=form.audience(), tlp=form.tlp
        )
    except ActionError as error:
        form.place_error(error.field, error.message)
        return _form_page(request, alliance, form, status=error.status)
    messages.success(request, _("The activity is recorded."))
    return HttpResponseRedirect(reverse("alliance-activity", args=[version.record_uuid]))


@login_required
def activity_page(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _activity_page(request, _visible(request, record_uuid))


def _activity_page(
    request: HttpRequest, record: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    out = dress(work_queries.activity_out(record, get_language()), principal=Principal.of(account))
    alliance = Alliance.objects.filter(slug=out["alliance"]).first()
    elsewhere = record.origin_node != record_actions.here().node_id
    context: dict[str, Any] = {
        "record": record,
        "activity": out,
        "alliance": alliance,
        "may_change": _may_change(account, record),
        "elsewhere": elsewhere,
        "errors": errors or {},
        "posted": request.POST if errors else {},
    }
    return render(request, "alliances/work_activity.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def activity_edit(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    account = _account(request)
    if not _may_change(account, record):
        return _forbidden(request, _("Only the host organisation's accounts that act for the alliance change it."))
    version = record.current_version
    assert version is not None
    alliance = _alliance(str(version.body.get("alliance", "")))
    audience = version.envelope()["audience"]
    keeps = bool(audience.get("organisations") or audience.get("persons")) or version.tlp not in work_forms.TLPS
    if request.method != "POST":
        current = work_forms.from_activity(work_queries.activity_out(record), audience)
        return _form_page(request, alliance, current, record=record, keeps_sharing=keeps)
    form = work_forms.from_post(request.POST, {m.code for m in _members()}, creating=False)
    kept = work_forms.from_activity(work_queries.activity_out(record), audience)
    form.fields, form.documents = kept.fields, kept.documents
    if form.errors:
        return _form_page(request, alliance, form, record=record, keeps_sharing=keeps, status=400)
    try:
        work_actions.revise_activity(
            record.uuid,
            form.given(),
            acting_user=account,
            expected_seq=int(form.expected_seq) if form.expected_seq.isdigit() else None,
            audience=None if keeps else form.audience(),
            tlp=None if keeps else form.tlp,
        )
    except ActionError as error:
        form.place_error(error.field, error.message)
        return _form_page(request, alliance, form, record=record, keeps_sharing=keeps, status=error.status)
    messages.success(request, _("The activity is updated."))
    return HttpResponseRedirect(reverse("alliance-activity", args=[record.uuid]))


@login_required
@require_POST
def activity_cancel(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    try:
        work_actions.cancel_activity(record.uuid, acting_user=_account(request))
    except ActionError as error:
        return _activity_page(request, record, errors={"cancel": error.message}, status=error.status)
    messages.success(request, _("The activity is cancelled; calendars show it cancelled."))
    return HttpResponseRedirect(reverse("alliance-activity", args=[record.uuid]))


@login_required
@require_POST
def activity_withdraw(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible(request, record_uuid)
    reason = request.POST.get("reason", "").strip()
    try:
        if not reason:
            raise ActionError(_("Say why, in a few words."), field="reason")
        work_actions.withdraw_activity(record.uuid, acting_user=_account(request), reason=reason)
    except ActionError as error:
        return _activity_page(request, record, errors={"withdraw": error.message}, status=error.status)
    messages.success(request, _("The activity is withdrawn: it no longer appears in lists or calendars."))
    slug = str(record.current_version.body.get("alliance", "")) if record.current_version else ""
    return HttpResponseRedirect(reverse("alliance-activities", args=[slug]))
