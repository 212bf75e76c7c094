"""The pages of mobilisation: the "call the roster" panel of a request for experts and of an incident's matching
board (`assist_panels`), the call form, a call's page (the called experts as the reader may see them, the replies,
a select button per available expert for the requesting member, the answer form for a called expert), and the calls
that name the reader.

Every read goes through `mobilise_queries` (the audience filter), every change through `mobilise_actions`. A refusal
re-renders the page with the message on the form that caused it and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accord.alliances import mobilise_actions, mobilise_forms, mobilise_queries
from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_actions, queries
from accord.response.assist_forms import region_choices, region_name
from accord.response.kinds import incident_roles
from accord.response.refs import pick


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _panel(request: HttpRequest, record: Record, calls: list[Record]) -> str:
    account = _account(request)
    principal = Principal.of(account)
    may_call = mobilise_forms.may_call(account, record)
    if not calls and not may_call:
        return ""
    return render_to_string(
        "alliances/mobilise_panel.html",
        {
            "calls": [_dress(mobilise_queries.call_out(c, principal)) for c in calls],
            "may_call": may_call,
            "target": record,
            "values": mobilise_forms.presets(record),
            "field_choices": mobilise_forms.field_choices(),
            "language_choices": mobilise_forms.language_choices(),
            "on_request": record.kind == "assistance_request",
        },
        request=request,
    )


def request_panel(request: HttpRequest, record: Record) -> str:
    """The roster calls of a request for experts, and the form to call (`assist_panels.on_request_page`)."""
    version = record.current_version
    if version is None or version.body.get("resource_type") != "expert":
        return ""
    principal = Principal.of(_account(request))
    return _panel(request, record, list(mobilise_queries.calls_of_request(principal, record.uuid)))


def board_panel(request: HttpRequest, incident: Record) -> str:
    """The roster calls of an incident, and the form to call (`assist_panels.on_board`)."""
    principal = Principal.of(_account(request))
    return _panel(request, incident, list(mobilise_queries.calls_of_incident(principal, incident.uuid)))


def _dress(out: dict[str, Any]) -> dict[str, Any]:
    out["url"] = reverse("roster-call", args=[out["id"]])
    out["region_name"] = region_name(str(out["region"]))
    out["available"] = sum(1 for e in out["experts"] if e["reply"] and e["reply"]["available"])
    out["answered"] = sum(1 for e in out["experts"] if e["reply"])
    return out


# ---- the call form ----------------------------------------------------------------------------------------------


def _target(request: HttpRequest, data: Any) -> Record:
    """The request or incident the form is for (`request` or `incident` in the query or the form), as the reader
    may see it; 404 otherwise."""
    principal = Principal.of(_account(request))
    try:
        if data.get("request"):
            return assist_actions.request_for(principal, str(data["request"]))
        return queries.incident_for(principal, str(data.get("incident", "")))
    except NotFound:
        raise Http404("no such request or incident") from None


def _form_page(
    request: HttpRequest, target: Record, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> HttpResponse:
    body = target.current_version.body if target.current_version is not None else {}
    on_request = target.kind == "assistance_request"
    regions: list[tuple[str, str]] = []
    if not on_request:
        organisation = _account(request).organisation
        own = organisation.member.code if organisation is not None else ""
        affected = [str(m) for m in body.get("affected_members", [])]
        secretariat = organisation is not None and organisation.member.kind == Member.Kind.SECRETARIAT
        regions = region_choices(affected if secretariat else [own])
    return render(
        request,
        "alliances/mobilise_call_form.html",
        {
            "target": target,
            "on_request": on_request,
            "title": pick(body.get("title")) if not on_request else "",
            "values": values,
            "errors": errors,
            "error_list": [{"anchor": f"call-{k}", "message": v} for k, v in errors.items()],
            "field_choices": mobilise_forms.field_choices(),
            "language_choices": mobilise_forms.language_choices(),
            "regions": regions,
            "may_call": mobilise_forms.may_call(_account(request), target),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def call_new(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    target = _target(request, data)
    values = mobilise_forms.presets(target)
    if request.method != "POST":
        return _form_page(request, target, values, {})
    values.update({k: str(data.get(k, "")).strip() for k in ("field", "language", "from", "until", "region")})
    values["message"] = str(data.get("message", "")).strip()[:2000]
    on_request = target.kind == "assistance_request"
    try:
        version = mobilise_actions.call_roster(
            acting_user=_account(request),
            request=target.uuid if on_request else None,
            incident=None if on_request else target.uuid,
            field=values["field"],
            language=values["language"] or None,
            start=values["from"],
            until=values["until"],
            region=values["region"] or None,
            message=values["message"],
        )
    except ActionError as error:
        where = error.field if error.field in ("field", "language", "from", "until", "region") else "field"
        return _form_page(request, target, values, {where: mobilise_forms.message_for(error)}, error.status)
    called = len(version.body["called"])
    text = ngettext(
        "The roster is called: %(count)s expert is asked to reply.",
        "The roster is called: %(count)s experts are asked to reply.",
        called,
    )
    messages.success(request, text % {"count": called})
    return HttpResponseRedirect(reverse("roster-call", args=[version.record_uuid]))


# ---- a call's page ----------------------------------------------------------------------------------------------


def _visible_call(request: HttpRequest, record_uuid: str) -> Record:
    try:
        return mobilise_actions.call_for(Principal.of(_account(request)), record_uuid)
    except NotFound:
        raise Http404("no such roster call") from None


def _may_select(account: Account, out: dict[str, Any]) -> bool:
    organisation = account.organisation
    if organisation is None or organisation.member.code != out["requester"] or out["state"] != "active":
        return False
    return bool(account.role_names() & incident_roles(organisation.member))


def _call_page(
    request: HttpRequest, record: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    out = _dress(mobilise_queries.call_out(record, principal))
    errors = errors or {}
    here = str(record_actions.here().node_id)
    mine = {str(r.profile_record) for r in mobilise_actions.answerable(record, account)}
    may_select = _may_select(account, out)
    for expert in out["experts"]:
        reply = expert["reply"]
        expert["answerable"] = expert["id"] in mine and out["state"] == "active" and not expert["selection"]
        expert["selectable"] = may_select and reply is not None and reply["available"] and not expert["selection"]
        expert["elsewhere"] = expert["selectable"] and reply is not None and str(reply["node"]) != here
        expert["error"] = errors.get(f"select-{expert['id']}", "")
    answering = [e for e in out["experts"] if e["answerable"]]
    target = None
    try:
        if out["request"]:
            target = assist_actions.request_for(principal, out["request"])
    except NotFound:
        target = None
    return render(
        request,
        "alliances/mobilise_call.html",
        {
            "call": out,
            "request_record": target,
            "incident_visible": queries_incident(principal, str(out["incident"])),
            "answering": answering,
            "errors": errors,
            "posted": request.POST if request.method == "POST" else None,
        },
        status=status,
    )


def queries_incident(principal: Principal, incident: str) -> Record | None:
    try:
        return queries.incident_for(principal, incident)
    except NotFound:
        return None


@login_required
@require_http_methods(["GET", "HEAD"])
def call_page(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return _call_page(request, _visible_call(request, record_uuid))


@login_required
@require_POST
def reply(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_call(request, record_uuid)
    post = request.POST
    available = post.get("available")
    try:
        if available not in ("yes", "no"):
            raise ActionError(_("Say whether you are available."), field="available")
        mobilise_actions.reply(
            record.uuid,
            acting_user=_account(request),
            available=available == "yes",
            start=post.get("from", "").strip() or None if available == "yes" else None,
            until=post.get("until", "").strip() or None if available == "yes" else None,
            note=post.get("note", "").strip()[:2000],
            expert=post.get("expert") or None,
        )
    except ActionError as error:
        return _call_page(request, record, errors={"answer": mobilise_forms.message_for(error)}, status=error.status)
    messages.success(request, _("Your reply is sent to the caller."))
    return HttpResponseRedirect(reverse("roster-call", args=[record.uuid]) + "#answer")


@login_required
@require_POST
def select(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_call(request, record_uuid)
    expert = request.POST.get("expert", "")
    try:
        made = mobilise_actions.select(record.uuid, acting_user=_account(request), expert=expert)
    except ActionError as error:
        errors = {f"select-{expert}": mobilise_forms.message_for(error)}
        return _call_page(request, record, errors=errors, status=error.status)
    messages.success(request, _("The expert is selected: offered, accepted, committed and deployed."))
    target = made["offer"].body["request"]["record"]
    return HttpResponseRedirect(reverse("assist-request", args=[target]) + "#ledger")


@login_required
@require_http_methods(["GET", "HEAD"])
def my_calls(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    calls = [_dress(mobilise_queries.call_out(r, principal)) for r in mobilise_queries.calls_for(account)[:100]]
    return render(request, "alliances/mobilise_calls.html", {"calls": calls})
