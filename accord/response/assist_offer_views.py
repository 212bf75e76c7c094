"""The pages that end things in mutual assistance, and the unsolicited offer form:

* `end_request` (POST, from a request's page): the requesting member withdraws or closes its request, with a reason
  (`assist_actions.withdraw_request`, `close_request`);
* `withdraw_offer` (POST, from a request's page): the offering member withdraws its offer, with a reason
  (`assist_actions.withdraw_offer`);
* `unsolicited_new` (`/incidents/<id>/assistance/offer/`): a member offers assistance no request asked for, to an
  affected member of the incident (`assist_actions.offer_unsolicited`).

A refusal re-renders the page with the message on the field that caused it (and an error summary on the form page)
and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_actions, assist_forms, assist_page_actions, assist_views
from accord.response.views import _account, _names, visible_incident


@login_required
@require_POST
def end_request(request: HttpRequest, record_uuid: str, action: str) -> HttpResponse:
    """Withdraw (`action` "withdraw") or close ("close") a request, by its requesting member."""
    if action not in ("withdraw", "close"):
        raise Http404("no such action")
    record = assist_views._visible_request(request, record_uuid)
    reason, message = assist_page_actions.reason_of(request.POST)
    try:
        if message:
            raise ActionError(message, field="reason")
        end = assist_actions.withdraw_request if action == "withdraw" else assist_actions.close_request
        end(record.uuid, acting_user=_account(request), reason=reason)
    except ActionError as error:
        return assist_views._request_page(request, record, errors={action: error.message}, status=error.status)
    if action == "withdraw":
        messages.success(request, _("The request is withdrawn: it takes no more offers or acceptances."))
    else:
        messages.success(request, _("The request is closed: it takes no more offers or acceptances."))
    return HttpResponseRedirect(reverse("assist-request", args=[record.uuid]))


@login_required
@require_POST
def withdraw_offer(request: HttpRequest, offer_uuid: str) -> HttpResponse:
    """Withdraw an offer, by its offering member, from the page of the request it is shown on (`request`), or, for
    an unsolicited offer shown on the incident's matching board, from the board."""
    account = _account(request)
    try:
        offer = assist_actions.offer_for(Principal.of(account), offer_uuid)
    except NotFound:
        raise Http404("no such offer") from None
    body = offer.current_version.body if offer.current_version is not None else {}
    target = str(request.POST.get("request", "") or (body.get("request") or {}).get("record", ""))
    record = assist_views._visible_request(request, target) if target else None
    incident = None if record is not None else visible_incident(request, str(body["incident"]["record"]))
    reason, message = assist_page_actions.reason_of(request.POST)
    try:
        if message:
            raise ActionError(message, field="reason")
        assist_actions.withdraw_offer(offer.uuid, acting_user=account, reason=reason)
    except ActionError as error:
        errors = {f"withdraw-offer-{offer.uuid}": error.message}
        if incident is not None:
            return assist_views._board_page(request, incident, errors=errors, status=error.status)
        assert record is not None
        return assist_views._request_page(request, record, errors=errors, status=error.status)
    messages.success(request, _("Your offer is withdrawn; what was accepted of it and not committed is open again."))
    if incident is not None:
        return HttpResponseRedirect(reverse("assist-board", args=[incident.uuid]) + "#waiting-offers")
    assert record is not None
    return HttpResponseRedirect(reverse("assist-request", args=[record.uuid]) + "#offers")


def may_offer_unsolicited(account_code: str, may_act: bool, incident: Record) -> bool:
    """A focal point of a member with someone to offer to: an affected member of the open incident other than its
    own."""
    version = incident.current_version
    if not may_act or not account_code or version is None or not assist_views._incident_open(incident):
        return False
    return bool(assist_page_actions.offer_targets(version.body, account_code))


def _form_page(
    request: HttpRequest,
    incident: Record,
    form: assist_page_actions.UnsolicitedForm,
    targets: list[str],
    *,
    status: int = 200,
) -> HttpResponse:
    names = {code: name for code, name in _names().items() if code in targets}
    return render(
        request,
        "response/assist_unsolicited_form.html",
        {
            "record": incident,
            "title": assist_views._title(incident),
            "form": form,
            "error_list": form.error_list(),
            "type_groups": assist_forms.type_groups(),
            "targets": [(code, names.get(code, code)) for code in targets],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def unsolicited_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _account(request)
    incident = visible_incident(request, record_uuid)
    member = assist_views._member(account)
    own = member.code if member is not None else ""
    if not may_offer_unsolicited(own, assist_views._may_act(account), incident):
        message = _(
            "Only the focal points of a member offer assistance on an open incident, to one of its affected members "
            "other than their own."
        )
        return render(request, "response/forbidden.html", {"message": message}, status=403)
    version = incident.current_version
    assert version is not None
    targets = assist_page_actions.offer_targets(version.body, own)
    if request.method != "POST":
        initial = assist_page_actions.UnsolicitedForm(to_member=targets[0] if len(targets) == 1 else "")
        return _form_page(request, incident, initial, targets)
    form = assist_page_actions.unsolicited_from_post(request.POST, targets)
    if form.errors:
        return _form_page(request, incident, form, targets, status=400)
    try:
        assist_actions.offer_unsolicited(
            incident.uuid,
            acting_user=account,
            resource_type=form.resource_type,
            detail=form.detail,
            quantity=int(form.quantity),
            to_member=form.to_member,
            available_from=form.available_from or None,
            available_until=form.available_until or None,
            lead_time_days=int(form.lead_time_days) if form.lead_time_days else None,
            conditions=form.conditions,
            costs_borne_by=form.costs_borne_by,
            note=form.note,
        )
    except ActionError as error:
        form.place(error.field, error.message)
        return _form_page(request, incident, form, targets, status=error.status)
    messages.success(
        request,
        _("Your offer is sent to %(member)s, who may accept it for one of its requests.") % {"member": form.to_member},
    )
    return HttpResponseRedirect(reverse("assist-board", args=[incident.uuid]) + "#waiting-offers")
