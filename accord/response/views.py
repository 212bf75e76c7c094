"""The incident pages: list, the form that opens one, and the incident page.

Every read goes through `accord.response.queries` (the audience filter); every change through the response
actions. An incident the reader may not see gets the same 404 as no incident at all.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.alerts import queries as alert_queries
from accord.alerts.models import AlertView
from accord.members.models import Account, Member
from accord.records.envelope import TLPS
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import actions, forms, hazards, queries, room
from accord.response.decisions_kind import PROPOSER_ROLES
from accord.response.kinds import incident_roles
from accord.response.meetings_kind import MEETING_ROLES
from accord.response.refs import pick
from accord.response.tasks_kind import TASK_ROLES
from accord.response.timeline_views import timeline_section
from accord.surveillance import reference

PAGE_SIZE = 25
LEVELS = {
    0: gettext_lazy("0 · Monitoring"),
    1: gettext_lazy("1 · Information sharing"),
    2: gettext_lazy("2 · Coordinated response"),
    3: gettext_lazy("3 · Joint deployment"),
}
STATUSES = {"open": gettext_lazy("Open"), "closed": gettext_lazy("Closed")}


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _principal(request: HttpRequest) -> Principal:
    return Principal.of(_account(request))


def may_open(user: Account) -> bool:
    """Focal points of a state, coordinators and focal points of the Secretariat (the incident kind's rule)."""
    organisation = user.organisation
    return organisation is not None and bool(user.role_names() & incident_roles(organisation.member))


def _names() -> dict[str, str]:
    return {m.code: m.name for m in Member.objects.all()}


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "response/forbidden.html", {"message": message}, status=403)


def visible_incident(request: HttpRequest, record_uuid: str) -> Record:
    try:
        return queries.incident_for(_principal(request), record_uuid)
    except NotFound:
        raise Http404("no such incident") from None


def level_label(level: int) -> str:
    return str(LEVELS.get(level, level))


# ---- list ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def incident_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    members = forms.state_members()
    choices = forms.hazard_choices()
    hazard_codes = {code for code, _label in choices["diseases"]} | {code for code, _label in choices["types"]}
    level = g.get("level") or ""
    where = queries.IncidentFilter(
        status=g.get("status") if g.get("status") in STATUSES else None,
        level=int(level) if level in ("0", "1", "2", "3") else None,
        hazard=g.get("hazard") if g.get("hazard") in hazard_codes else None,
        member=g.get("member") if g.get("member") in {m.code for m in members} else None,
    )
    rows = queries.incidents_for(_principal(request), where)
    cursor = g.get("cursor") or None
    try:
        page = queries.page(rows, PAGE_SIZE, cursor)
    except ActionError:
        page = queries.page(rows, PAGE_SIZE, None)  # a cursor edited by hand: the first page
        cursor = None
    names = _names()
    placeholder = "00000000-0000-0000-0000-000000000000"
    url_head, url_tail = reverse("incident", args=[placeholder]).split(placeholder)
    language = get_language()
    items = []
    for record in page.rows:
        version = record.current_version
        assert version is not None
        body = version.body
        view: Any = record.incident_view
        affected = list(body.get("affected_members", []))
        items.append(
            {
                "record": record,
                "version": version,
                "view": view,
                "url": f"{url_head}{record.uuid}{url_tail}",
                "title": pick(body.get("title"), language) or view.title,
                "hazard": hazards.label(dict(body.get("hazard") or {})),
                "affected": affected,
                "affected_names": ", ".join(names.get(code, code) for code in affected),
                "level_label": level_label(view.level),
                "status_label": STATUSES.get(view.status, view.status),
            }
        )
    return render(
        request,
        "response/list.html",
        {
            "page": page,
            "first_page": cursor is None,
            "items": items,
            "filters": where,
            "statuses": STATUSES,
            "levels": LEVELS,
            "hazards": choices,
            "members": members,
            "may_open": may_open(_account(request)),
        },
    )


# ---- open an incident ------------------------------------------------------------------------------------------


def _from_alert(principal: Principal, alert_uuid: str, member: str | None) -> forms.IncidentForm:
    """A new incident pre-filled from an alert (a signal's, say): its headline, disease, members and regions."""
    form = forms.IncidentForm()
    try:
        record = alert_queries.alert_for(principal, alert_uuid)
    except NotFound:
        return form
    view = AlertView.objects.filter(record=record).first()
    version = record.current_version
    if view is None or version is None:
        return form
    form.alert = str(record.uuid)
    language = (get_language() or "en")[:2]
    headline = view.headline or view.event
    if headline:
        form.title = {language if language in ("zh", "ru", "en") else "en": headline[:300]}
    if view.disease_code:
        disease = reference.find_disease(view.disease_code)
        if disease is not None:
            form.hazard = disease.code
    table = reference.regions()
    states = {m.code for m in forms.state_members()}
    regions: list[str] = []
    for info in version.body.get("cap", {}).get("info", []):
        for area in info.get("area", []):
            for code in area.get("geocode", []):
                value = str(code.get("value", ""))
                if code.get("valueName") == "ISO3166-2" and value in table and value not in regions:
                    regions.append(value)
    affected = [code for code in dict.fromkeys(table[r].member for r in regions) if code in states]
    if not affected and record.origin_member in states:
        affected = [record.origin_member]
    form.affected = affected
    form.regions = [r for r in regions if not table[r].whole_member and table[r].member in affected]
    form.lead = member if member in affected else (affected[0] if affected else "")
    form.tlp = version.tlp if version.tlp in ("CLEAR", "GREEN", "AMBER") else "AMBER"
    form.status = version.status if version.status in forms.TRAFFIC else "actual"
    return form


def _new_page(request: HttpRequest, form: forms.IncidentForm, *, status: int = 200) -> HttpResponse:
    members = forms.state_members()
    everyone = list(Member.objects.filter(active=True).order_by("code"))
    return render(
        request,
        "response/new.html",
        {
            "form": form,
            "errors": form.error_list(),
            "text_languages": forms.LANGUAGE_NAMES,
            "hazards": forms.hazard_choices(),
            "domains": hazards.DOMAINS,
            "members": members,
            "audience_members": [m for m in everyone if m.code != forms.SECRETARIAT],
            "region_groups": forms.region_groups(members),
            "audiences": forms.AUDIENCES,
            "tlps": [t for t in TLPS if t in ("CLEAR", "GREEN", "AMBER")],
            "traffic": forms.TRAFFIC,
            "from_alert": form.alert,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if not may_open(account):
        return _forbidden(request, _("Only focal points and Secretariat coordinators open incidents."))
    organisation = account.organisation
    own = organisation.member.code if organisation is not None else None
    if request.method != "POST":
        alert = request.GET.get("alert")
        form = _from_alert(_principal(request), alert, own) if alert else forms.IncidentForm()
        if not form.affected and own in {m.code for m in forms.state_members()}:
            form.affected, form.lead = [own], own
        return _new_page(request, form)
    form = forms.from_post(request.POST)
    if form.errors:
        return _new_page(request, form, status=400)
    try:
        version = actions.open_incident(
            title=form.title,
            summary=form.summary,
            hazard=form.hazard,
            domains=form.domains,
            affected_members=form.affected,
            regions=form.regions,
            lead_member=form.lead or None,
            audience=form.audience(),
            tlp=form.tlp,
            status=form.status,
            acting_user=account,
        )
    except ActionError as error:
        form.errors[error.field if error.field in forms.ANCHORS else "title"] = error.message
        return _new_page(request, form, status=error.status)
    messages.success(request, _("The incident is open, at level 0 (monitoring)."))
    linked = _link_alert(request, version.record_uuid, form.alert, account)
    if linked:
        messages.success(request, linked)
    return HttpResponseRedirect(reverse("incident", args=[version.record_uuid]))


def _link_alert(request: HttpRequest, incident_uuid: Any, alert_uuid: str, account: Account) -> str:
    """Link the alert the incident was opened from, and its IHR assessments."""
    if not alert_uuid:
        return ""
    principal = Principal.of(account)
    incident = queries.incident_for(principal, incident_uuid)
    try:
        alert = alert_queries.alert_for(principal, alert_uuid)
    except NotFound:
        return ""
    # Its IHR assessments: those that assess it, and the one it notifies (a signal's, say: epidemic.assessment).
    notified = AlertView.objects.filter(record=alert).values_list("assessment", flat=True).first()
    assessments = Record.objects.visible_to(principal).filter(
        Q(assessment_view__alert_record=alert.uuid) | Q(uuid=notified), kind="ihr_assessment"
    )
    targets = [alert.uuid, *dict.fromkeys(assessments.values_list("uuid", flat=True))]
    done = 0
    for target in targets:
        try:
            actions.link_record(incident, target=str(target), acting_user=account)
            done += 1
        except ActionError as error:
            messages.warning(request, error.message)
    return _("The alert it was opened from is linked.") if done else ""


# ---- the incident page -----------------------------------------------------------------------------------------


def region_rows(codes: list[str]) -> list[dict[str, str]]:
    table = reference.regions()
    return [{"code": code, "name": table[code].name if code in table else code} for code in codes]


def linked_alert_areas(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    """The areas of the alerts linked to the incident (their GeoJSON features, each once), for the map."""
    targets = [
        link.link_view.target_record
        for link in queries.links_for(principal, incident)
        if getattr(link, "link_view", None) is not None and link.link_view.target_kind == "alert"
    ]
    if not targets:
        return []
    features: list[dict[str, Any]] = []
    seen: set[str] = set()
    visible = Record.objects.visible_to(principal).filter(kind="alert", uuid__in=targets)
    for view in AlertView.objects.filter(record__in=visible):
        for feature in view.areas:
            key = repr(feature.get("geometry"))
            if key not in seen:
                seen.add(key)
                features.append(feature)
    return features


def detail_context(request: HttpRequest, record: Record) -> dict[str, Any]:
    principal = _principal(request)
    version = record.current_version
    assert version is not None
    body = version.body
    names = _names()
    view: Any = record.incident_view
    language = get_language()
    affected = list(body.get("affected_members", []))
    return {
        "record": record,
        "version": version,
        "view": view,
        "body": body,
        "title": pick(body.get("title"), language) or view.title,
        "titles": [{"lang": lang, "text": text} for lang, text in (body.get("title") or {}).items()],
        "summaries": [{"lang": lang, "text": text} for lang, text in (body.get("summary") or {}).items()],
        "hazard": hazards.label(dict(body.get("hazard") or {})),
        "hazard_codes": dict(body.get("hazard") or {}),
        "domains": [hazards.DOMAINS.get(d, d) for d in body.get("domains", [])],
        "affected": [{"code": code, "name": names.get(code, code)} for code in affected],
        "regions": region_rows(list(body.get("regions", []))),
        "lead": {"code": body.get("lead_member", ""), "name": names.get(body.get("lead_member", ""), "")},
        "origin_name": names.get(record.origin_member, record.origin_member),
        "level": int(body.get("level", 0)),
        "level_label": level_label(int(body.get("level", 0))),
        "status_label": STATUSES.get(str(body.get("status")), body.get("status")),
        "change": body.get("change") or {},
        "map_data": {
            "members": affected,
            "regions": region_rows(list(body.get("regions", []))),
            "areas": linked_alert_areas(principal, record),
        },
    }


def sitrep_section(principal: Principal, record: Record, account: Account) -> dict[str, Any]:
    from accord.response.sitrep_views import sitrep_section as section  # that module builds on this one

    return section(principal, record, account)


CONSENTS = {
    "given": gettext_lazy("Given"),
    "refused": gettext_lazy("Refused"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


def may_steer(record: Record, account: Account) -> bool:
    """Whether `account` may change the incident (level, close, reopen): the record core's own rule for issuing a
    record's next version (its origin node, the organisation that issued it, the kind's roles for its member)."""
    from accord.records.actions import check_successor, here

    version = record.current_version
    if version is None:
        return False
    try:
        check_successor(record, version, account, node_id=here().node_id)
    except ActionError:  # Forbidden among them; or this node has no identity yet
        return False
    return True


def level_section(principal: Principal, record: Record, account: Account, names: dict[str, str]) -> dict[str, Any]:
    """The level and consents panel (the timeline under it: `timeline_views.timeline_section`)."""
    board = queries.consent_board(principal, record)
    for row in board:
        row["name"] = names.get(row["member"], row["member"])
        row["label"] = CONSENTS.get(row["consent"] or "", "")
    organisation = account.organisation
    member = organisation.member.code if organisation is not None else ""
    roles = account.role_names()
    return {
        "consents": board,
        "may_consent": "focal_point" in roles and member in [row["member"] for row in board],
        "may_steer": may_steer(record, account),
        "consent_choices": CONSENTS,
    }


def render_incident(
    request: HttpRequest, record: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The incident page; `errors` (by form: task, decision, meeting, position, task-status) after a refused post."""
    context = detail_context(request, record)
    principal = _principal(request)
    account = _account(request)
    names = _names()
    version = record.current_version
    assert version is not None
    is_open = version.state == "active" and context["body"].get("status") == "open"
    roles = account.role_names()
    errors = errors or {}
    tasks = room.tasks_of(principal, record, names)
    for task in tasks:
        task["error"] = errors.get(f"task-{task['record'].uuid}", "")
    decisions = room.decisions_of(principal, record, names)
    for decision in decisions:
        decision["error"] = errors.get(f"position-{decision['record'].uuid}", "")
    context.update(
        {
            "tasks": tasks,
            "decisions": decisions,
            "meetings": room.meetings_of(principal, record),
            "is_open": is_open,
            "may_set_tasks": is_open and bool(roles & TASK_ROLES),
            "may_propose": is_open and bool(roles & PROPOSER_ROLES),
            "may_schedule": is_open and bool(roles & MEETING_ROLES),
            "assignees": room.assignee_choices(list(context["body"].get("affected_members", []))),
            "task_statuses": room.TASK_STATUSES,
            "task_priorities": room.TASK_PRIORITIES,
            "positions": room.POSITION_LABELS,
            "time_zones": room.TIME_ZONES,
            "participant_choices": [*context["body"].get("affected_members", []), forms.SECRETARIAT],
            "levels": LEVELS,
            **sitrep_section(principal, record, account),
            **level_section(principal, record, account, names),
            **timeline_section(request, principal, record, names),
            "errors": errors,
            "posted": request.POST if request.method == "POST" else None,
        }
    )
    return render(request, "response/detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def incident_detail(request: HttpRequest, record_uuid: str) -> HttpResponse:
    return render_incident(request, visible_incident(request, record_uuid))


def incidents_of(principal: Principal, target: Record) -> list[dict[str, Any]]:
    """The incidents a record (an alert, an assessment) is linked to, for that record's page."""
    language = get_language()
    rows = []
    for record in queries.incidents_of(principal, target):
        version = record.current_version
        assert version is not None
        view: Any = record.incident_view
        rows.append(
            {
                "url": reverse("incident", args=[record.uuid]),
                "title": pick(version.body.get("title"), language) or view.title,
                "level_label": level_label(view.level),
                "level": view.level,
                "status_label": STATUSES.get(view.status, view.status),
            }
        )
    return rows
