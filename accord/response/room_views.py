"""The forms of the incident page that change the work on an incident (set a task and change its status, propose a
decision and state a position, schedule a meeting) and the "my tasks" page.

Each post calls one action of the response domain; a refusal re-renders the page with the message on the form
that caused it (and the 4xx of the action), nothing stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.principal import Principal
from accord.response import actions, decision_actions, meetings, queries, room, task_actions, work_queries
from accord.response.meetings_kind import zone
from accord.response.refs import LANGUAGES
from accord.response.views import _account, _names, render_incident, visible_incident


def _language() -> str:
    language = (get_language() or "en")[:2].lower()
    return language if language in LANGUAGES else "en"


def _texts(request: HttpRequest, name: str) -> dict[str, str]:
    """A text the page posts in the reader's language, as a text of the three languages."""
    text = request.POST.get(name, "").strip()
    return {_language(): text} if text else {}


def _local_time(text: str, time_zone: str, field: str) -> datetime | None:
    """A `datetime-local` value read in `time_zone`; None when blank."""
    if not text.strip():
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ActionError(_("%(field)s: give a date and time") % {"field": field}, field=field) from None
    if naive.tzinfo is not None:
        return naive
    try:
        return naive.replace(tzinfo=zone(time_zone))
    except ValueError as error:
        raise ActionError(str(error), field="time_zone") from None


def _back(record_uuid: Any, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("incident", args=[record_uuid]) + f"#{anchor}")


@login_required
@require_POST
def task_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = visible_incident(request, record_uuid)
    assignee_type, _sep, assignee = request.POST.get("assignee", "").partition(":")
    try:
        due = _local_time(request.POST.get("due", ""), "UTC", "due")
        title = _texts(request, "title")
        if not title:
            raise ActionError(_("Give the task a title."), field="title")
        task_actions.create_task(
            incident=record.uuid,
            title=title,
            description=_texts(request, "description"),
            assignee_type=assignee_type,
            assignee=assignee,
            priority=request.POST.get("priority", "normal"),
            due=due,
            acting_user=_account(request),
        )
    except ActionError as error:
        return render_incident(request, record, errors={"task": error.message}, status=error.status)
    messages.success(request, _("The task is set."))
    return _back(record.uuid, "tasks")


@login_required
@require_POST
def task_status(request: HttpRequest, task_uuid: str) -> HttpResponse:
    """A status change and/or a comment on a task, from the incident page or from "my tasks"."""
    account = _account(request)
    principal = Principal.of(account)
    try:
        task = task_actions.task_for(principal, task_uuid)
    except NotFound:
        raise Http404("no such task") from None
    version = task.current_version
    assert version is not None
    incident_uuid = (version.body.get("incident") or {}).get("record")
    from_mine = request.POST.get("from") == "mine"
    try:
        task_actions.update_task(
            task.uuid,
            acting_user=account,
            status=request.POST.get("status") or None,
            comment=request.POST.get("comment", "")[:5000],
        )
    except ActionError as error:
        if from_mine or not incident_uuid:
            return _my_tasks(request, errors={str(task.uuid): error.message}, status=error.status)
        incident = visible_incident(request, str(incident_uuid))
        return render_incident(request, incident, errors={f"task-{task.uuid}": error.message}, status=error.status)
    messages.success(request, _("The task is updated."))
    if from_mine or not incident_uuid:
        return HttpResponseRedirect(reverse("my-tasks"))
    return _back(incident_uuid, "tasks")


@login_required
@require_POST
def decision_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = visible_incident(request, record_uuid)
    level = request.POST.get("sets_level", "")
    try:
        text = _texts(request, "text")
        if not text:
            raise ActionError(_("Write what the decision decides."), field="text")
        decision_actions.propose(
            incident=record.uuid,
            text=text,
            participants=request.POST.getlist("participants"),
            sets_level=int(level) if level in ("0", "1", "2", "3") else None,
            acting_user=_account(request),
        )
    except ActionError as error:
        return render_incident(request, record, errors={"decision": error.message}, status=error.status)
    messages.success(request, _("The decision is proposed: each participating member now states its position."))
    return _back(record.uuid, "decisions")


@login_required
@require_POST
def position(request: HttpRequest, decision_uuid: str) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    try:
        decision = decision_actions.decision_for(principal, decision_uuid)
    except NotFound:
        raise Http404("no such decision") from None
    version = decision.current_version
    assert version is not None
    incident_uuid = str((version.body.get("incident") or {}).get("record", ""))
    try:
        decision_actions.take_position(
            decision.uuid,
            position=request.POST.get("position", ""),
            comment=request.POST.get("comment", "")[:5000],
            acting_user=account,
        )
    except ActionError as error:
        incident = visible_incident(request, incident_uuid)
        errors = {f"position-{decision.uuid}": error.message}
        return render_incident(request, incident, errors=errors, status=error.status)
    messages.success(request, _("Your member's position is recorded."))
    return _back(incident_uuid, f"decision-{decision.uuid}")


@login_required
@require_POST
def meeting_new(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = visible_incident(request, record_uuid)
    post = request.POST
    try:
        time_zone = post.get("time_zone", "UTC")
        starts = _local_time(post.get("starts_at", ""), time_zone, "starts_at")
        if starts is None:
            raise ActionError(_("starts_at: give the date and time of the meeting"), field="starts_at")
        title = _texts(request, "title")
        if not title:
            raise ActionError(_("Give the meeting a title."), field="title")
        duration = post.get("duration", "60")
        meetings.schedule(
            incident=record.uuid,
            title=title,
            starts_at=starts.astimezone(UTC),
            time_zone=time_zone,
            duration_minutes=int(duration) if duration.isdigit() else 60,
            participants=post.getlist("participants"),
            agenda=_texts(request, "agenda"),
            location=post.get("location", "").strip()[:500],
            acting_user=_account(request),
        )
    except ActionError as error:
        return render_incident(request, record, errors={"meeting": error.message}, status=error.status)
    messages.success(request, _("The meeting is scheduled."))
    return _back(record.uuid, "meetings")


# ---- my tasks --------------------------------------------------------------------------------------------------


def _my_tasks(request: HttpRequest, *, errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    principal = Principal.of(_account(request))
    show = request.GET.get("show", "open")
    where = work_queries.TaskFilter(mine=True)
    rows = list(work_queries.tasks_for(principal, where)[:500])
    names = _names()
    tasks = room.task_rows(principal, rows, names)
    if show != "all":
        tasks = [t for t in tasks if t["status"] in ("open", "in_progress")]
    titles = {
        str(r.uuid): r.incident_view.title
        for r in queries.incidents_for(principal).filter(uuid__in=[t["incident"].get("record") for t in tasks])
    }
    for task in tasks:
        task["incident_title"] = titles.get(str(task["incident"].get("record")), "")
    return render(
        request,
        "response/my_tasks.html",
        {
            "tasks": tasks,
            "show": show,
            "task_statuses": room.TASK_STATUSES,
            "errors": errors or {},
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def my_tasks(request: HttpRequest) -> HttpResponse:
    return _my_tasks(request)


# ---- consent and level -----------------------------------------------------------------------------------------


@login_required
@require_POST
def consent(request: HttpRequest, record_uuid: str) -> HttpResponse:
    """Record the consent of the account's member to the incident's activation (given, refused, withdrawn)."""
    record = visible_incident(request, record_uuid)
    try:
        actions.record_consent(
            record,
            consent=request.POST.get("consent", ""),
            condition=request.POST.get("condition", "")[:2000],
            acting_user=_account(request),
        )
    except ActionError as error:
        return render_incident(request, record, errors={"consent": error.message}, status=error.status)
    messages.success(request, _("Your member's consent is recorded."))
    return _back(record.uuid, "level")


@login_required
@require_POST
def level(request: HttpRequest, record_uuid: str) -> HttpResponse:
    """Raise or lower the level with a reason; the consent rule's refusal names the members."""
    record = visible_incident(request, record_uuid)
    wanted = request.POST.get("level", "")
    try:
        if wanted not in ("0", "1", "2", "3"):
            raise ActionError(_("Choose a level from 0 to 3."), field="level")
        actions.change_level(
            record, level=int(wanted), reason=request.POST.get("reason", "")[:2000], acting_user=_account(request)
        )
    except actions.MissingConsent as refused:
        names = _names()
        message = _(
            "Level %(level)s needs the consent of every affected member. Consent is missing or refused from: "
            "%(members)s."
        ) % {"level": wanted, "members": ", ".join(f"{names.get(m, m)} ({m})" for m in refused.missing)}
        return render_incident(request, record, errors={"level": message}, status=refused.status)
    except ActionError as error:
        return render_incident(request, record, errors={"level": error.message}, status=error.status)
    messages.success(request, _("The level is changed."))
    return _back(record.uuid, "level")


# ---- close and reopen ------------------------------------------------------------------------------------------


def _status_message(error: ActionError, wanted: str) -> str:
    """The action's refusal in the reader's language (the actions speak English, for the API)."""
    if error.field == "reason" and error.message.startswith("the reason is longer"):
        return _("The reason is longer than 2000 characters.")
    if error.field == "reason" and wanted == "close":
        return _("Say why the incident is closed.")
    if error.field == "reason":
        return _("Say why the incident is reopened.")
    if isinstance(error, Forbidden):
        return _(
            "Only a focal point or coordinator of the organisation that opened the incident closes or reopens it, "
            "on the node where it was opened."
        )
    if isinstance(error, Conflict) and wanted == "close":
        return _("The incident is closed already.")
    if isinstance(error, Conflict):
        return _("The incident is open already.")
    return error.message


def _set_status(request: HttpRequest, record_uuid: str, wanted: str) -> HttpResponse:
    record = visible_incident(request, record_uuid)
    change = actions.close_incident if wanted == "close" else actions.reopen_incident
    try:
        change(record, reason=request.POST.get("reason", "")[:2001], acting_user=_account(request))
    except NotFound:
        raise Http404("no such incident") from None
    except ActionError as error:
        errors = {wanted: _status_message(error, wanted)}
        return render_incident(request, record, errors=errors, status=error.status)
    if wanted == "close":
        messages.success(request, _("The incident is closed."))
    else:
        messages.success(request, _("The incident is open again."))
    return _back(record.uuid, "status")


@login_required
@require_POST
def incident_close(request: HttpRequest, record_uuid: str) -> HttpResponse:
    """Close the incident with a reason (the organisation that opened it, on its node)."""
    return _set_status(request, record_uuid, "close")


@login_required
@require_POST
def incident_reopen(request: HttpRequest, record_uuid: str) -> HttpResponse:
    """Reopen a closed incident with a reason: at its level if the consents still hold, else at level 1."""
    return _set_status(request, record_uuid, "reopen")
