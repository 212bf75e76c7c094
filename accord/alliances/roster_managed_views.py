"""The pages of the profiles a focal point manages for people without an account, each with the person's recorded
consent (`roster_actions.create_managed`, `update_profile`, `withdraw_profile`):

* `managed` (`/experts/managed/`): the profiles our organisation manages;
* `managed_new` (`/experts/managed/new/`) and `managed_edit` (`/experts/managed/<id>/`): the form, with the
  person's name, affiliation (an organisation of our member) and consent;
* `managed_withdraw` (`/experts/managed/<id>/withdraw/`): the confirmation, then the withdrawal.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.alliances import roster_actions, roster_forms, roster_queries
from accord.alliances.roster_models import ExpertProfile
from accord.alliances.roster_views import _alliance_choice, account_of, forbidden, form_context, shown
from accord.members.models import Account, Organisation
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal


def _may_manage(account: Account) -> bool:
    return account.organisation is not None and account.has_role("focal_point")


def _refused(request: HttpRequest) -> HttpResponse:
    return forbidden(
        request, _("Only the focal points of an organisation manage profiles for people without an account.")
    )


def _row(account: Account, record_uuid: str) -> ExpertProfile:
    """A managed profile of the account's organisation (404 for any other)."""
    try:
        row = roster_queries.profile_for(Principal.of(account), record_uuid)
    except NotFound:
        raise Http404("no such expert") from None
    if row.pk not in set(roster_queries.managed_by(account).values_list("pk", flat=True)):
        raise Http404("no such managed profile")
    return row


def _organisations(account: Account) -> list[Organisation]:
    assert account.organisation is not None
    return list(Organisation.objects.filter(member=account.organisation.member).order_by("slug"))


def _form_page(
    request: HttpRequest, form: roster_forms.ProfileForm, row: ExpertProfile | None, *, status: int = 200
) -> HttpResponse:
    account = account_of(request)
    context: dict[str, Any] = form_context(form, account)
    context.update({"profile": shown(row) if row is not None else None, "organisations": _organisations(account)})
    return render(request, "alliances/roster_managed_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def managed(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    if not _may_manage(account):
        return _refused(request)
    rows = [shown(row) for row in roster_queries.managed_by(account)]
    return render(request, "alliances/roster_managed.html", {"items": rows})


def _save(request: HttpRequest, row: ExpertProfile | None) -> HttpResponse:
    account = account_of(request)
    form = roster_forms.from_post(request.POST, managed=True)
    if form.visibility == "kept" and row is None:
        form.visibility = "secretariat"
    audience = form.audience(form.organisation or (account.organisation.slug if account.organisation else ""))
    if form.errors:
        return _form_page(request, form, row, status=400)
    try:
        if row is None:
            version = roster_actions.create_managed(
                account, profile=form.managed(), audience=audience, tlp=form.label()
            )
        else:
            version = roster_actions.update_profile(
                account, row.record.uuid, profile=form.managed(), audience=audience, tlp=form.label()
            )
    except ActionError as error:
        form.place(error.field, error.message)
        return _form_page(request, form, row, status=error.status)
    messages.success(request, _("The profile is saved, visible as chosen."))
    return HttpResponseRedirect(reverse("roster-expert", args=[version.record_uuid]))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def managed_new(request: HttpRequest) -> HttpResponse:
    account = account_of(request)
    if not _may_manage(account):
        return _refused(request)
    if request.method == "POST":
        return _save(request, None)
    assert account.organisation is not None
    form = roster_forms.ProfileForm(
        organisation=account.organisation.slug, consent_recorded_by=account.get_full_name() or account.username
    )
    return _form_page(request, form, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def managed_edit(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = account_of(request)
    if not _may_manage(account):
        return _refused(request)
    row = _row(account, record_uuid)
    if request.method == "POST":
        return _save(request, row)
    envelope = row.version.envelope()
    form = roster_forms.from_body(envelope["body"], envelope["audience"], row.version.tlp)
    _alliance_choice(form, envelope["audience"], account)
    return _form_page(request, form, row)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def managed_withdraw(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = account_of(request)
    if not _may_manage(account):
        return _refused(request)
    row = _row(account, record_uuid)
    context: dict[str, Any] = {"profile": shown(row), "own": False}
    if request.method != "POST":
        return render(request, "alliances/roster_withdraw.html", context)
    if request.POST.get("confirm") != "yes":
        context["error"] = _("Tick the box to confirm the withdrawal.")
        return render(request, "alliances/roster_withdraw.html", context, status=400)
    try:
        roster_actions.withdraw_profile(account, row.record.uuid)
    except ActionError as error:
        context["error"] = error.message
        return render(request, "alliances/roster_withdraw.html", context, status=error.status)
    messages.success(request, _("The profile is withdrawn: it no longer appears in any search."))
    return HttpResponseRedirect(reverse("roster-managed"))
