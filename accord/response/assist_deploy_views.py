"""The deployment pages of mutual assistance: the commit form (on the request page, `assist_offer_deploy`), the
deploy form of an accepted offer, and a deployment's page with its status history and the status report form.

Only the offering member's focal points commit, deploy and report, and only on the offer's node (the actions refuse
elsewhere; the pages say so). Every read goes through the audience filter (a record the reader may not see is a
404), every change through the actions of `assist_deploy`; a refusal re-renders the form with the message on the
field it names, an error summary, and the action's 4xx; nothing is stored.
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

from accord.members.models import Account
from accord.records import actions as record_actions
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import (
    assist_actions,
    assist_deploy,
    assist_forms,
    assist_points,
    assist_queries,
    assist_views,
    hanging,
)
from accord.response.assist_deploy_forms import (
    Form,
    deploy_form,
    deploy_from_post,
    status_from_post,
    status_label,
    statuses_from,
)
from accord.response.assist_forms import type_name, unit_name
from accord.response.assist_kinds import OutsideTerritory
from accord.response.assist_offer_deploy import deployment_row, sums
from accord.response.refs import signed_time
from accord.response.views import _account, _names, visible_incident
from accord.surveillance import reference


def _visible_offer(request: HttpRequest, offer_uuid: str) -> Record:
    try:
        found = assist_actions.offer_for(Principal.of(_account(request)), offer_uuid)
    except NotFound:
        raise Http404("no such offer") from None
    return Record.objects.select_related("current_version", "offer_view").get(pk=found.pk)


def _body(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    return version.body


def _own(account: Account) -> str:
    member = assist_views._member(account)
    return member.code if member is not None else ""


def _provider(account: Account, member: str) -> bool:
    """A focal point (or Secretariat coordinator) of the providing member."""
    return _own(account) == member and assist_views._may_act(account)


def _elsewhere(record: Record) -> str:
    """Why this node does not decide on the offer: it is committed and deployed on its own node ('' when here)."""
    if record.origin_node == record_actions.here().node_id:
        return ""
    return _("This offer is committed and deployed on its own node (%(node)s), where it was made: do it there.") % {
        "node": record.origin_node
    }


def _target(request: HttpRequest, offer: Record) -> Record:
    """The request the offer serves here: its own, or (unsolicited) the one named by the form or the address."""
    named = request.POST.get("request", "") or request.GET.get("request", "")
    target = str((_body(offer).get("request") or {}).get("record", "") or named)
    if not target:
        raise Http404("name the request")
    return assist_views._visible_request(request, target)


def _not_provider(request: HttpRequest) -> HttpResponse:
    message = _("Only the offering member's focal points commit and deploy its offer.")
    return render(request, "response/forbidden.html", {"message": message}, status=403)


def _refusal(error: ActionError, offer: Record, request_record: Record, left: str) -> str:
    """An action's refusal in the reader's language where it is one the forms expect."""
    unit = unit_name(str(_body(offer).get("unit", "")))
    if isinstance(error, OutsideTerritory):
        return assist_points.outside(error)
    if isinstance(error, Forbidden) and error.field == "offer":
        return _("Only the offering member's focal points commit and deploy its offer.")
    if isinstance(error, Conflict) and error.field == "offer" and offer.origin_node != record_actions.here().node_id:
        return _elsewhere(offer)
    if isinstance(error, Conflict) and error.field == "quantity":
        open_quantity = sums(offer.uuid, request_record.uuid)[left]
        if left == "to_commit":
            text = _("That is more than was accepted and not yet committed: %(open)s %(unit)s.")
        else:
            text = _("That is more than was accepted and not yet deployed: %(open)s %(unit)s.")
        return text % {"open": open_quantity, "unit": unit}
    return error.message


# ---- commit (a form on the request page) ------------------------------------------------------------------------


@login_required
@require_POST
def commit(request: HttpRequest, offer_uuid: str) -> HttpResponse:
    account = _account(request)
    offer = _visible_offer(request, offer_uuid)
    record = _target(request, offer)
    if not _provider(account, str(_body(offer).get("member", ""))):
        return _not_provider(request)
    try:
        wanted, message = assist_forms.quantity(request.POST)
        if wanted is None:
            raise ActionError(message, field="quantity")
        assist_deploy.commit(
            offer.uuid,
            acting_user=account,
            quantity=wanted,
            request=None if _body(offer).get("request") else record.uuid,
            note=request.POST.get("note", "").strip()[:2000],
        )
    except ActionError as error:
        text = _refusal(error, offer, record, "to_commit")
        return assist_views._request_page(request, record, errors={f"commit-{offer.uuid}": text}, status=error.status)
    messages.success(request, _("The commitment is sent to the requesting member; the ledger shows it."))
    return HttpResponseRedirect(reverse("assist-request", args=[record.uuid]) + "#deployments")


# ---- the deploy form --------------------------------------------------------------------------------------------


def _deploy_page(request: HttpRequest, offer: Record, record: Record, form: Form, *, status: int = 200) -> HttpResponse:
    principal = Principal.of(_account(request))
    names = _names()
    out = assist_views._dress(assist_queries.request_out(record), names)
    offered = assist_views._dress(assist_queries.offer_out(offer), names)
    incident = assist_views._incident_of(request, out)
    context = hanging.incident(principal, incident.uuid, open_only=False)
    members = [str(m) for m in context.body.get("affected_members", [])]
    home = reference.regions().get(str(out["region"]))
    if home is not None and home.member not in members:
        members.append(home.member)
    return render(
        request,
        "response/assist_deploy_form.html",
        {
            "incident": incident,
            "incident_title": assist_views._title(incident),
            "req": out,
            "offer": offered,
            "left": sums(offer.uuid, record.uuid),
            "elsewhere": _elsewhere(offer),
            "form": form,
            "error_list": form.error_list(),
            "regions": assist_forms.region_choices(members),
            "statuses": statuses_from("mobilising"),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def deploy(request: HttpRequest, offer_uuid: str) -> HttpResponse:
    account = _account(request)
    offer = _visible_offer(request, offer_uuid)
    record = _target(request, offer)
    body = _body(offer)
    if not _provider(account, str(body.get("member", ""))):
        return _not_provider(request)
    if request.method != "POST":
        left = sums(offer.uuid, record.uuid)["to_deploy"]
        initial = {
            "region": str(_body(record).get("region", "")),
            "quantity": str(left) if left else "",
            **assist_points.values(_body(record).get("point")),
        }
        return _deploy_page(request, offer, record, deploy_form(initial))
    form, arguments = deploy_from_post(request.POST)
    if form.errors:
        return _deploy_page(request, offer, record, form, status=400)
    try:
        version = assist_deploy.deploy(
            offer.uuid, acting_user=account, request=None if body.get("request") else record.uuid, **arguments
        )
    except ActionError as error:
        form.refused(error)
        where = next(iter(form.errors))
        form.errors[where] = _refusal(error, offer, record, "to_deploy")
        return _deploy_page(request, offer, record, form, status=error.status)
    messages.success(request, _("The deployment is recorded; report its status here as it moves."))
    return HttpResponseRedirect(reverse("assist-deployment", args=[version.record_uuid]))


# ---- a deployment's page ----------------------------------------------------------------------------------------


def _visible_deployment(request: HttpRequest, record_uuid: str) -> Record:
    try:
        found = assist_deploy.deployment_for(Principal.of(_account(request)), record_uuid)
    except NotFound:
        raise Http404("no such deployment") from None
    return Record.objects.select_related("current_version").get(pk=found.pk)


def _history(record: Record) -> list[dict[str, Any]]:
    """The deployment's versions, oldest first: each status reported, what was delivered, the note."""
    rows: list[dict[str, Any]] = []
    version: Version
    for version in record.versions.order_by("seq"):
        body = version.body
        change = body.get("change") or {}
        rows.append(
            {
                "seq": version.seq,
                "at": signed_time(version),
                "status": body.get("status", ""),
                "status_label": status_label(str(body.get("status", ""))),
                "delivered": body.get("delivered", 0),
                "note": change.get("note", ""),
                "created": change.get("action") == "create",
            }
        )
    return rows


def _deployment_page(
    request: HttpRequest, record: Record, form: Form | None = None, *, status: int = 200
) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    names = _names()
    out = deployment_row(assist_queries.deployment_out(record))
    out["type_name"] = type_name(str(out["resource_type"]))
    out["member_name"] = names.get(str(out["member"]), out["member"])
    incident = visible_incident(request, str(out["incident"].get("record", "")))
    try:
        wanted = assist_actions.request_for(principal, str(out["request"].get("record", "")))
        request_url = reverse("assist-request", args=[wanted.uuid])
    except NotFound:
        request_url = ""
    active = out["state"] == "active"
    return render(
        request,
        "response/assist_deployment.html",
        {
            "record": record,
            "incident": incident,
            "incident_title": assist_views._title(incident),
            "request_url": request_url,
            "dep": out,
            "history": _history(record),
            "may_report": active and _provider(account, str(out["member"])) and _recorded_by(account, record),
            "elsewhere": record.origin_node != record_actions.here().node_id,
            "statuses": statuses_from(str(out["status"])),
            "form": form or Form(values={"status": str(out["status"]), "delivered": str(out["delivered"])}),
            "error_list": form.error_list() if form is not None else [],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def deployment(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _deployment_page(request, _visible_deployment(request, record_uuid))


def _recorded_by(account: Account, record: Record) -> bool:
    """The account's organisation recorded the deployment (its status reports are new versions of that record)."""
    current = record.current_version
    organisation = account.organisation
    return current is not None and organisation is not None and current.origin_organisation == organisation.uuid


def _status_refusal(error: ActionError, record: Record, wanted: str) -> str:
    body = _body(record)
    values = {
        "current": status_label(str(body.get("status", ""))),
        "delivered": body.get("delivered", 0),
        "quantity": body.get("quantity", 0),
        "unit": unit_name(str(body.get("unit", ""))),
    }
    if isinstance(error, Forbidden):
        return _("Only the focal points of the organisation that recorded the deployment report its status.")
    if isinstance(error, Conflict) and error.field == "deployment":
        return _("This deployment was recorded on another node: its status is reported there.")
    if isinstance(error, Conflict) and error.field == "status" and wanted == body.get("status"):
        return _("The deployment is already %(current)s: report a delivered quantity or a note with it.") % values
    if isinstance(error, Conflict) and error.field == "status":
        return _("The deployment is %(current)s: a status report goes forward only.") % values
    if isinstance(error, Conflict) and error.field == "delivered":
        return _("%(delivered)s %(unit)s are already reported delivered: the quantity does not go down.") % values
    if error.field == "delivered":
        return _("That is more than the deployment's quantity (%(quantity)s %(unit)s).") % values
    return error.message


@login_required
@require_POST
def report_status(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _account(request)
    record = _visible_deployment(request, record_uuid)
    form, arguments = status_from_post(request.POST)
    if form.errors:
        return _deployment_page(request, record, form, status=400)
    try:
        assist_deploy.report_status(record.uuid, acting_user=account, **arguments)
    except ActionError as error:
        form.refused(error)
        where = next(iter(form.errors))
        form.errors[where] = _status_refusal(error, record, str(arguments["status"]))
        return _deployment_page(request, record, form, status=error.status)
    messages.success(request, _("The status is reported to the requesting member; the ledger shows it."))
    return HttpResponseRedirect(reverse("assist-deployment", args=[record.uuid]) + "#history")
