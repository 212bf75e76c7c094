"""The pages of mutual assistance: an incident's matching board, the request form, and a request's page with its
ledger, its offers, its history, the accept forms (the requesting member's focal points) and the offer form (other
members).

Every read goes through the assistance queries (`assist_queries`, `assist_board`: the audience filter), every
change through the assistance actions (`assist_actions`). A refusal re-renders the page with the message on the
form that caused it and the action's 4xx; nothing is stored. An acceptance for more than is still open is the
ledger rule's 409, shown with the quantity still open.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import (
    assist_actions,
    assist_board,
    assist_forms,
    assist_kinds,
    assist_offer_deploy,
    assist_page_actions,
    assist_panels,
    assist_points,
    assist_queries,
    hanging,
)
from accord.response.assist_forms import PRIORITIES, STATUSES, region_name, type_name, unit_name
from accord.response.kinds import incident_roles
from accord.response.refs import pick, signed_time
from accord.response.views import _account, _names, visible_incident

CLOSED = assist_board.CLOSED


def _member(account: Account) -> Member | None:
    organisation = account.organisation
    return organisation.member if organisation is not None else None


def _may_act(account: Account) -> bool:
    """A focal point of a state, or a coordinator or focal point of the Secretariat (the assistance kinds' roles)."""
    member = _member(account)
    return member is not None and bool(account.role_names() & incident_roles(member))


def _incident_open(incident: Record) -> bool:
    version = incident.current_version
    return version is not None and version.state == "active" and version.body.get("status") == "open"


def _title(incident: Record) -> str:
    version = incident.current_version
    assert version is not None
    view: Any = getattr(incident, "incident_view", None)
    return pick(version.body.get("title"), None) or (view.title if view is not None else "")


def _dress(out: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A request or offer of `assist_queries` with what its page shows: names in the reader's language."""
    out["type_name"] = type_name(str(out.get("resource_type", "")))
    out["unit_name"] = unit_name(str(out.get("unit", "")))
    out["member_name"] = names.get(str(out.get("member", "")), out.get("member", ""))
    if "to_member" in out:
        out["to_member_name"] = names.get(str(out["to_member"]), out["to_member"])
        out["open_quantity"] = max(int(out["quantity"]) - int(out["accepted"]), 0)
    if "region" in out:
        out["region_name"] = region_name(str(out["region"]))
        out["point_text"] = assist_points.text(out.get("point"))
        out["priority_label"] = PRIORITIES.get(str(out.get("priority")), out.get("priority"))
        out["status_label"] = STATUSES.get(str(out.get("status")), out.get("status"))
        out["url"] = reverse("assist-request", args=[out["id"]])
    return out


def _visible_request(request: HttpRequest, record_uuid: str) -> Record:
    try:
        found = assist_actions.request_for(Principal.of(_account(request)), record_uuid)
    except NotFound:
        raise Http404("no such request") from None
    return Record.objects.select_related("current_version", "request_view").get(pk=found.pk)


def _incident_of(request: HttpRequest, out: dict[str, Any]) -> Record:
    return visible_incident(request, str((out.get("incident") or {}).get("record", "")))


# ---- the matching board -----------------------------------------------------------------------------------------


def _may_request(account: Account, incident: Record) -> bool:
    member = _member(account)
    if member is None or not _may_act(account) or not _incident_open(incident):
        return False
    version = incident.current_version
    assert version is not None
    affected = [str(m) for m in version.body.get("affected_members", [])]
    return member.code in affected or member.kind == Member.Kind.SECRETARIAT


def _may_offer_unsolicited(own: str, may_act: bool, incident: Record) -> bool:
    from accord.response.assist_offer_views import may_offer_unsolicited

    return may_offer_unsolicited(own, may_act, incident)


def _board_page(
    request: HttpRequest, incident: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    names = _names()
    found = assist_board.board(principal, incident)
    member = _member(account)
    own = member.code if member is not None else ""
    here = str(record_actions.here().node_id)
    for row in found.rows:
        _dress(row.request, names)
        for candidate in row.candidates:
            _dress(candidate.offer, names)
    for out in found.others:
        _dress(out, names)
    for offer in found.waiting:
        _dress(offer, names)
        offer["targets"] = [
            r.request
            for r in found.rows
            if r.request["member"] == offer["to_member"] and r.request["resource_type"] == offer["resource_type"]
        ]
        offer["error"] = (errors or {}).get(f"accept-{offer['id']}", "")
        offer["may_accept"] = offer["to_member"] == own and _may_act(account) and bool(offer["targets"])
        # The offering member withdraws its own offer here, when it was made on this node (its origin decides).
        offer["may_withdraw"] = (
            _may_act(account) and offer["member"] == own and offer["state"] == "active" and str(offer["node"]) == here
        )
        offer["withdraw_error"] = (errors or {}).get(f"withdraw-offer-{offer['id']}", "")
    return render(
        request,
        "response/assist_board.html",
        {
            "record": incident,
            "title": _title(incident),
            "board": found,
            "own": own,
            "may_request": _may_request(account, incident),
            "may_offer": _may_offer_unsolicited(own, _may_act(account), incident),
            "errors": errors or {},
            "posted": request.POST if request.method == "POST" else None,
            "panels": assist_panels.board_panels(request, incident),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def board(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _board_page(request, visible_incident(request, record_uuid))


# ---- the request form -------------------------------------------------------------------------------------------


def _request_form_page(
    request: HttpRequest, incident: Record, form: assist_forms.RequestForm, *, status: int = 200
) -> HttpResponse:
    account = _account(request)
    member = _member(account)
    context = hanging.incident(Principal.of(account), incident.uuid, open_only=False)
    affected = [str(m) for m in context.body.get("affected_members", [])]
    own = member.code if member is not None else ""
    regions = assist_forms.region_choices(affected if own == assist_forms.SECRETARIAT else [own])
    return render(
        request,
        "response/assist_request_form.html",
        {
            "record": incident,
            "title": _title(incident),
            "form": form,
            "error_list": form.error_list(),
            "type_groups": assist_forms.type_groups(),
            "regions": regions,
            "priorities": PRIORITIES,
            "members": assist_forms.audience_choices(context.audience),
            "own": own,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _account(request)
    incident = visible_incident(request, record_uuid)
    if not _may_request(account, incident):
        message = _(
            "Only the focal points of an affected member, and the Secretariat's coordinators, request assistance "
            "on an open incident."
        )
        return render(request, "response/forbidden.html", {"message": message}, status=403)
    if request.method != "POST":
        return _request_form_page(request, incident, assist_forms.RequestForm())
    members = {m.code for m in Member.objects.filter(active=True)}
    form = assist_forms.request_from_post(request.POST, members)
    if form.errors:
        return _request_form_page(request, incident, form, status=400)
    own = _member(account)
    try:
        version = assist_actions.create_request(
            incident.uuid,
            acting_user=account,
            resource_type=form.resource_type,
            quantity=int(form.quantity),
            detail=form.detail,
            needed_by=form.needed_by,
            region=form.region,
            point=form.point,
            priority=form.priority,
            conditions=form.conditions,
            audience=form.audience(own.code if own is not None else ""),
        )
    except ActionError as error:
        where = error.field if error.field in assist_forms.REQUEST_FIELDS and error.field != "unit" else "resource_type"
        form.errors[where] = (
            assist_points.outside(error) if isinstance(error, assist_kinds.OutsideTerritory) else error.message
        )
        return _request_form_page(request, incident, form, status=error.status)
    messages.success(request, _("The request is published to the members who may see it."))
    return HttpResponseRedirect(reverse("assist-request", args=[version.record_uuid]))


# ---- a request's page -------------------------------------------------------------------------------------------


def _history(principal: Principal, record: Record, out: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """What happened to the request, oldest first: its versions, the offers on it and the acceptances."""
    events: list[dict[str, Any]] = []
    for version in record.versions.order_by("seq"):
        change = (version.body.get("change") or {}).get("action", "")
        labels = {"create": _("Requested"), "withdraw": _("Withdrawn"), "close": _("Closed"), "edit": _("Changed")}
        events.append({"at": signed_time(version), "text": str(labels.get(change, change)), "member": out["member"]})
    for offer in out["offers"]:
        text = _("Offered %(quantity)s %(unit)s") % {"quantity": offer["quantity"], "unit": offer["unit_name"]}
        events.append({"at": offer["updated_at"], "text": text, "member": offer["member"]})
        if offer["state"] != "active":
            text = _("Withdrew the offer: %(reason)s") % {"reason": offer.get("reason", "")}
            events.append({"at": offer["updated_at"], "text": text, "member": offer["member"]})
    for acceptance in assist_board.acceptances_of(principal, record):
        view: Any = acceptance.acceptance_view
        body = acceptance.current_version.body if acceptance.current_version is not None else {}
        values = {"quantity": view.quantity, "unit": out["unit_name"], "member": body.get("offer_member", "")}
        text = _("Accepted %(quantity)s %(unit)s offered by %(member)s") % values
        events.append({"at": view.at, "text": text, "member": view.member})
    for event in events:
        event["member_name"] = names.get(event["member"], event["member"])
    return sorted(events, key=lambda e: e["at"])


def _request_page(
    request: HttpRequest, record: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    names = _names()
    out = _dress(assist_queries.request_out(record, principal), names)
    for offer in out["offers"]:
        _dress(offer, names)
    member = _member(account)
    own = member.code if member is not None else ""
    live = out["status"] not in CLOSED and out["state"] == "active"
    offers_wanted = live  # a covered request still takes offers: standby offers, the form says it is covered
    incident = _incident_of(request, out)
    errors = errors or {}
    for offer in out["offers"]:
        offer["error"] = errors.get(f"accept-{offer['id']}", "")
    assist_offer_deploy.dress(principal, out, own=own, may_act=_may_act(account), errors=errors)
    assist_page_actions.dress(out, own=own, may_act=_may_act(account), errors=errors)
    return render(
        request,
        "response/assist_request.html",
        {
            "record": record,
            "incident": incident,
            "incident_title": _title(incident),
            "req": out,
            "history": _history(principal, record, out, names),
            "may_accept": live and own == out["member"] and _may_act(account),
            "may_offer": offers_wanted and own != out["member"] and _may_act(account) and _incident_open(incident),
            "errors": errors,
            "posted": request.POST if request.method == "POST" else None,
            "panels": assist_panels.request_panels(request, record),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def request_page(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _request_page(request, _visible_request(request, record_uuid))


def _optional_int(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise ActionError(_("%(field)s: give a whole number of days") % {"field": field}, field=field)
    return int(text)


@login_required
@require_POST
def offer_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_request(request, record_uuid)
    post = request.POST
    try:
        wanted, message = assist_forms.quantity(post)
        if wanted is None:
            raise ActionError(message, field="quantity")
        assist_actions.make_offer(
            record.uuid,
            acting_user=_account(request),
            quantity=wanted,
            available_from=post.get("available_from", "").strip() or None,
            available_until=post.get("available_until", "").strip() or None,
            lead_time_days=_optional_int(post.get("lead_time_days", ""), "lead_time_days"),
            conditions=post.get("conditions", "").strip()[:5000],
            costs_borne_by=post.get("costs_borne_by", "").strip()[:200],
            note=post.get("note", "").strip()[:5000],
        )
    except ActionError as error:
        return _request_page(request, record, errors={"offer": error.message}, status=error.status)
    messages.success(request, _("Your offer is sent to the requesting member."))
    return HttpResponseRedirect(reverse("assist-request", args=[record.uuid]) + "#offers")


def _over_accepted(error: assist_actions.OverAccepted, unit: str) -> str:
    values = {"open": error.open_quantity, "offer_open": error.offer_open_quantity, "unit": unit}
    if error.open_quantity <= error.offer_open_quantity:
        return _("That is more than the request still needs: %(open)s %(unit)s are still open.") % values
    return _("That is more than the offer still has: %(offer_open)s %(unit)s of it are not accepted yet.") % values


@login_required
@require_POST
def accept(request: HttpRequest, offer_uuid: str) -> HttpResponse:
    """Accept (part of) an offer: from a request's page, or an unsolicited offer from the board (`request` names the
    request it fills)."""
    account = _account(request)
    principal = Principal.of(account)
    try:
        offer = assist_actions.offer_for(principal, offer_uuid)
    except NotFound:
        raise Http404("no such offer") from None
    body = offer.current_version.body if offer.current_version is not None else {}
    target = str(request.POST.get("request", "") or (body.get("request") or {}).get("record", ""))
    from_board = request.POST.get("from") == "board"
    unit = unit_name(str(body.get("unit", "")))
    try:
        wanted, message = assist_forms.quantity(request.POST)
        if wanted is None:
            raise ActionError(message, field="quantity")
        assist_actions.accept(
            offer.uuid,
            acting_user=account,
            quantity=wanted,
            request=None if body.get("request") else (target or None),
        )
    except ActionError as error:
        text = _over_accepted(error, unit) if isinstance(error, assist_actions.OverAccepted) else error.message
        if from_board or not target:
            incident = visible_incident(request, str((body.get("incident") or {}).get("record", "")))
            return _board_page(request, incident, errors={f"accept-{offer.uuid}": text}, status=error.status)
        record = _visible_request(request, target)
        return _request_page(request, record, errors={f"accept-{offer.uuid}": text}, status=error.status)
    messages.success(request, _("The offer is accepted; the ledger shows it."))
    if from_board:
        return HttpResponseRedirect(reverse("assist-board", args=[(body.get("incident") or {}).get("record")]))
    return HttpResponseRedirect(reverse("assist-request", args=[target]) + "#ledger")
