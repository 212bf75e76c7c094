"""The alert pages: list, detail (map, thread, acknowledgements, IHR assessment), composer.

Every read goes through `accord.alerts.queries` (the audience filter); every change through
`accord.alerts.actions`. An alert the reader may not see gets the same 404 as no alert at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accord.alerts import actions, forms, mapping, queries
from accord.alerts.kinds import PUBLISHERS, may_acknowledge_for
from accord.alerts.models import AlertView
from accord.lib import ihr
from accord.members.identity import here
from accord.members.models import Account, Member
from accord.notify.views import may_read_logs
from accord.records.envelope import TLPS, Audience, parse_audience
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.records.queries import versions_for

PAGE_SIZE = 25
STATES = {"all": gettext_lazy("All"), "active": gettext_lazy("Active"), "ended": gettext_lazy("Expired or cancelled")}
QUESTIONS = {
    "serious_impact": gettext_lazy("Is the public health impact of the event serious?"),
    "unusual": gettext_lazy("Is the event unusual or unexpected?"),
    "international_spread": gettext_lazy("Is there a significant risk of international spread?"),
    "travel_trade": gettext_lazy("Is there a significant risk of international travel or trade restrictions?"),
}
OUTCOMES = {"notify": gettext_lazy("Notify"), "do_not_notify": gettext_lazy("Do not notify")}
CLOCK_STATES = {
    "not_required": gettext_lazy("No notification required"),
    "pending": gettext_lazy("Notification due"),
    "overdue": gettext_lazy("Notification overdue"),
    "notified_in_time": gettext_lazy("Notified within 24 hours"),
    "notified_late": gettext_lazy("Notified late"),
}
MSG_TYPES = {
    "Alert": pgettext_lazy("CAP msgType", "Alert"),
    "Update": pgettext_lazy("CAP msgType", "Update"),
    "Cancel": pgettext_lazy("CAP msgType", "Cancel"),
    "Ack": pgettext_lazy("CAP msgType", "Acknowledgement"),
    "Error": pgettext_lazy("CAP msgType", "Error"),
}
assert set(QUESTIONS) == {key for key, _text in ihr.QUESTIONS}


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _principal(request: HttpRequest) -> Principal:
    return Principal.of(_account(request))


def _member(user: Account) -> str | None:
    return user.organisation.member.code if user.organisation is not None else None


def can_compose(user: Account) -> bool:
    return user.organisation is not None and bool(user.role_names() & PUBLISHERS)


def _may_issue(user: Account, record: Record) -> bool:
    """May this user issue the next version (update, cancel) of the alert?"""
    version = record.current_version
    node = here()
    return (
        version is not None
        and version.state == "active"
        and node is not None
        and record.origin_node == node.node_id
        and user.organisation is not None
        and version.origin_organisation == user.organisation.uuid
        and can_compose(user)
    )


def _visible_alert(request: HttpRequest, record_uuid: str) -> Record:
    try:
        record = queries.alert_for(_principal(request), record_uuid)
    except NotFound:
        raise Http404("no such alert") from None
    if record.current_version is None or not AlertView.objects.filter(record=record).exists():
        raise Http404("no such alert")
    return record


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "alerts/forbidden.html", {"message": message}, status=403)


def _member_names() -> dict[str, str]:
    return {m.code: m.name for m in Member.objects.all()}


# ---- list ------------------------------------------------------------------------------------------


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    members = list(Member.objects.filter(active=True))
    status = g.get("status") or None
    severity = g.get("severity") or None
    category = g.get("category") or None
    member = g.get("member") or None
    state = g.get("state") or "all"
    filters = {
        "q": (g.get("q") or "").strip()[:200],
        "status": status if status in forms.STATUSES else None,
        "severity": severity if severity in forms.SEVERITIES else None,
        "category": category if category in forms.CATEGORIES else None,
        "member": member if member in {m.code for m in members} else None,
        "state": state if state in STATES else "all",
    }
    where = queries.AlertFilter(
        q=filters["q"] or None,
        status=filters["status"],
        severity=filters["severity"],
        category=filters["category"],
        member=filters["member"],
        active={"active": True, "ended": False}.get(filters["state"] or "all"),
    )
    rows = queries.alerts_for(_principal(request), where)
    cursor = g.get("cursor") or None
    try:
        page = queries.page(rows, PAGE_SIZE, cursor, columns=None)
    except ActionError:
        page = queries.page(rows, PAGE_SIZE, None, columns=None)  # a cursor edited by hand: the first page
        cursor = None
    names = {m.code: m.name for m in members}
    # An alert's address from one resolved URL (resolving one per row cost more than the rest of the row).
    placeholder = "00000000-0000-0000-0000-000000000000"
    url_head, url_tail = reverse("alert", args=[placeholder]).split(placeholder)
    items = []
    for record in page.rows:
        view: AlertView = record.alert_view  # reverse one-to-one, selected with the record
        assert record.current_version is not None
        info = reader_info(record.current_version.body.get("cap", {}))
        items.append(
            {
                "title": info.get("headline") or info.get("event") or view.headline or view.identifier,
                "event": info.get("event") if info.get("headline") else "",
                "record": record,
                "url": f"{url_head}{record.uuid}{url_tail}",
                "version": record.current_version,
                "view": view,
                "member_name": names.get(record.origin_member, record.origin_member),
                "severity": forms.SEVERITIES.get(view.severity, view.severity),
                "urgency": forms.URGENCIES.get(view.urgency, view.urgency),
                "certainty": forms.CERTAINTIES.get(view.certainty, view.certainty),
                "expired": view.is_expired(),
            }
        )
    return render(
        request,
        "alerts/list.html",
        {
            "page": page,
            "first_page": cursor is None,
            "items": items,
            "filters": filters,
            "statuses": forms.STATUSES,
            "severities": forms.SEVERITIES,
            "categories": forms.CATEGORIES,
            "states": STATES,
            "members": members,
            "can_compose": can_compose(_account(request)),
        },
    )


# ---- detail ----------------------------------------------------------------------------------------


def reader_info(cap: dict[str, Any]) -> dict[str, Any]:
    """The info block in the reader's language if the alert has one, else the first."""
    language = (get_language() or "en")[:2].lower()
    for info in cap.get("info", []):
        if str(info.get("language", "en-US")).lower().startswith(language):
            block: dict[str, Any] = info
            return block
    return mapping.first_info(cap)


def _reason(body: dict[str, Any]) -> str:
    """The Annex 2 outcome's reason in the reader's language (the signed body holds it in English)."""
    answers = body.get("answers") or {}
    yes = sum(1 for key in QUESTIONS if (answers.get(key) or {}).get("answer"))
    if body.get("always_notifiable"):
        return _("a case of this disease is always notifiable (IHR Annex 2)")
    if body.get("outcome") == "notify":
        return ngettext(
            "%(yes)d of the 4 Annex 2 questions answered yes", "%(yes)d of the 4 Annex 2 questions answered yes", yes
        ) % {"yes": yes}
    return ngettext(
        "only %(yes)d of the 4 Annex 2 questions answered yes",
        "only %(yes)d of the 4 Annex 2 questions answered yes",
        yes,
    ) % {"yes": yes}


def _info_display(info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "category_labels": [forms.CATEGORIES.get(c, c) for c in info.get("category", [])],
        "urgency_label": forms.URGENCIES.get(info.get("urgency", ""), info.get("urgency", "")),
        "severity_label": forms.SEVERITIES.get(info.get("severity", ""), info.get("severity", "")),
        "certainty_label": forms.CERTAINTIES.get(info.get("certainty", ""), info.get("certainty", "")),
        "lang": info.get("language", "en-US"),
        # Alerts come from other nodes and importers too: link only web addresses, never javascript: or data:.
        "web_link": str(info.get("web", "")).lower().startswith(("https://", "http://")),
        "expires_at": mapping.parse_cap_time(info.get("expires")),
        "effective_at": mapping.parse_cap_time(info.get("effective")),
        "onset_at": mapping.parse_cap_time(info.get("onset")),
    }


def _title(info: dict[str, Any], view: AlertView) -> str:
    return str(info.get("headline") or info.get("event") or view.headline or view.event or view.identifier)


def _thread(principal: Principal, record: Record) -> list[dict[str, Any]]:
    rows = []
    for version in versions_for(principal, record):
        cap = version.body.get("cap", {})
        rows.append(
            {
                "seq": version.seq,
                "msg_type": MSG_TYPES.get(cap.get("msgType", ""), cap.get("msgType", "")),
                "sent": mapping.parse_cap_time(cap.get("sent")),
                "identifier": cap.get("identifier", ""),
                "state": version.state,
                "reason": version.envelope().get("reason"),
            }
        )
    return rows


def _assessments(principal: Principal, record: Record) -> list[dict[str, Any]]:
    found = (
        Record.objects.visible_to(principal)
        .filter(kind="ihr_assessment", assessment_view__alert_record=record.uuid)
        .select_related("current_version")
        .order_by("-current_version_id")
    )
    rows = []
    for item in found:
        version = item.current_version
        assert version is not None
        body = version.body
        state, deadline, notified = actions.notification_clock(version)
        rows.append(
            {
                "record": item,
                "version": version,
                "event": body.get("event", ""),
                "outcome": body.get("outcome", ""),
                "outcome_label": OUTCOMES.get(body.get("outcome", ""), body.get("outcome", "")),
                "reason": _reason(body),
                "always_notifiable": body.get("always_notifiable", False),
                "disease": body.get("disease"),
                "assessed_at": mapping.parse_cap_time(body.get("assessed_at")),
                "answers": [
                    {
                        "question": QUESTIONS[key],
                        "answer": (body.get("answers", {}).get(key) or {}).get("answer"),
                        "evidence": (body.get("answers", {}).get(key) or {}).get("evidence", ""),
                    }
                    for key in QUESTIONS
                ],
                "clock": state,
                "clock_label": CLOCK_STATES.get(state, state),
                "deadline": deadline,
                "notified_at": notified,
            }
        )
    return rows


def _distinct(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The areas once each: info blocks in several languages usually repeat the same areas."""
    seen: set[str] = set()
    kept = []
    for feature in features:
        key = json.dumps(feature.get("geometry"), sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(feature)
    return kept


def _incidents(principal: Principal, record: Record) -> list[dict[str, Any]]:
    from accord.response.views import incidents_of

    return incidents_of(principal, record)


def _may_open_incident(account: Account) -> bool:
    from accord.response.views import may_open

    return may_open(account)


def _detail(
    request: HttpRequest, record: Record, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    principal = _principal(request)
    account = _account(request)
    version = record.current_version
    assert version is not None
    view = AlertView.objects.get(record=record)
    body = version.body
    cap = body.get("cap", {})
    names = _member_names()
    board = actions.ack_board(version)
    for row in board:
        row["name"] = names.get(row["member"], row["member"])
    member = _member(account)
    acknowledged = {row["member"] for row in board if row["acknowledged_at"] is not None}
    addressed = {row["member"] for row in board}
    roles = account.role_names()
    active = version.state == "active"
    epidemic = body.get("epidemic")
    assessments = _assessments(principal, record)
    categories = {c for info in cap.get("info", []) for c in info.get("category", [])}
    posted = request.POST if request.method == "POST" else None
    return render(
        request,
        "alerts/detail.html",
        {
            "record": record,
            "version": version,
            "view": view,
            "cap": cap,
            "infos": [_info_display(info) for info in cap.get("info", [])],
            "title": _title(reader_info(cap), view),
            "event": reader_info(cap).get("event") or view.event,
            "epidemic": epidemic,
            "expired": view.is_expired(),
            "msg_type": MSG_TYPES.get(view.msg_type, view.msg_type),
            "reason": version.envelope().get("reason"),
            "origin_name": names.get(record.origin_member, record.origin_member),
            "thread": _thread(principal, record),
            "board": board,
            "ack_deadline": view.ack_deadline,
            "can_acknowledge": active
            and may_acknowledge_for(account)
            and member in addressed
            and member not in acknowledged,
            "assessments": assessments,
            "show_assessment": bool(epidemic or assessments or "Health" in categories),
            "can_assess": active and "focal_point" in roles and member == record.origin_member,
            "questions": [{"key": key, "text": text} for key, text in QUESTIONS.items()],
            "may_issue": _may_issue(account, record),
            # The delivery log is for those the notification pages let read it (coordinators, admins).
            "delivery_log_url": reverse("notify-delivery-log", args=[record.uuid]) if may_read_logs(account) else None,
            "areas": _distinct(view.areas),
            "bbox": [view.bbox_west, view.bbox_south, view.bbox_east, view.bbox_north]
            if view.bbox_west is not None
            else None,
            "errors": errors or {},
            "posted": posted,
            "now": timezone.now(),
            "incidents": _incidents(principal, record),
            "may_open_incident": _may_open_incident(account),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def alert_detail(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_alert(request, record_uuid)
    current = record.current_version
    if current is not None and current.status == "draft" and current.state == "active" and "draft" in current.body:
        return HttpResponseRedirect(reverse("alert-draft", args=[record.uuid]))  # a saved draft: in its composer
    return _detail(request, record)


def _back(record: Record) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("alert", args=[record.uuid]))


@login_required
@require_POST
def acknowledge(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_alert(request, record_uuid)
    try:
        actions.acknowledge(record, acting_user=_account(request), note=request.POST.get("note", "")[:2000])
    except ActionError as error:
        return _detail(request, record, errors={"acknowledge": error.message}, status=error.status)
    messages.success(request, _("Your member's acknowledgement is recorded."))
    return _back(record)


@login_required
@require_POST
def cancel(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_alert(request, record_uuid)
    try:
        actions.cancel_alert(record, acting_user=_account(request), reason=request.POST.get("reason", "")[:2000])
    except ActionError as error:
        return _detail(request, record, errors={"cancel": error.message}, status=error.status)
    messages.success(request, _("The alert is cancelled."))
    return _back(record)


@login_required
@require_POST
def assess(request: HttpRequest, record_uuid: str) -> HttpResponse:
    record = _visible_alert(request, record_uuid)
    version = record.current_version
    assert version is not None
    account = _account(request)
    if "focal_point" not in account.role_names() or _member(account) != record.origin_member:
        return _forbidden(request, _("Only the focal points of the member that sent the alert assess it."))
    post = request.POST
    answers: dict[str, dict[str, Any]] = {}
    for key in QUESTIONS:
        answer = post.get(f"{key}-answer")
        if answer not in ("yes", "no"):
            return _detail(request, record, errors={"assess": _("Answer all four questions.")}, status=400)
        answers[key] = {"answer": answer == "yes", "evidence": post.get(f"{key}-evidence", "").strip()[:5000]}
    epidemic = version.body.get("epidemic") or {}
    event = post.get("event", "").strip()[:500] or AlertView.objects.get(record=record).event or _("Event")
    try:
        actions.assess(
            event=event,
            answers=answers,
            acting_user=account,
            alert=record,
            disease=epidemic.get("disease"),
            status=version.status,
        )
    except ActionError as error:
        return _detail(request, record, errors={"assess": error.message}, status=error.status)
    messages.success(request, _("The IHR Annex 2 assessment is recorded."))
    return _back(record)


# ---- composer --------------------------------------------------------------------------------------


class _DryRun(Exception):  # control flow, not an error
    def __init__(self, warnings: list[dict[str, str]]) -> None:
        super().__init__("dry run")
        self.warnings = warnings


def dry_run(issue: Callable[[], actions.Published]) -> list[dict[str, str]]:
    """Run an alert action to the end, then roll everything back: its warnings, or its exception.

    The check is the publishing itself (CAP XSD and rules, audience and TLP, roles, body), so
    Check can never pass what Publish then refuses; nothing it wrote survives the rollback,
    and the side effects it queued on commit are dropped with it."""
    try:
        with transaction.atomic():
            raise _DryRun(issue().warnings)
    except _DryRun as done:
        return done.warnings


def _compose_page(
    request: HttpRequest,
    composition: forms.Composition,
    *,
    record: Record | None,
    findings: list[dict[str, str]] | None = None,
    checked: bool = False,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    shown = forms.attach(composition, findings or [])
    members = list(Member.objects.filter(active=True))
    outlines = forms.member_outlines()
    return render(
        request,
        "alerts/compose.html",
        {
            "c": composition,
            "record": record,
            "status_label": forms.STATUSES.get(composition.status, composition.status),
            "errors": [f for f in shown if f["severity"] == "error"],
            "warnings": [f for f in shown if f["severity"] != "error"],
            "checked": checked,
            "members": members,
            "outline_members": [m for m in members if m.code in outlines],
            "statuses": forms.STATUSES,
            "tlps": ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"],
            "info_languages": forms.LANGUAGES,
            "categories": forms.CATEGORIES,
            "urgencies": forms.URGENCIES,
            "severities": forms.SEVERITIES,
            "certainties": forms.CERTAINTIES,
            "disease_systems": forms.DISEASE_SYSTEMS,
            "blank_info": forms.InfoBlock(index=-1, language="", categories=[]),
            "blank_areas": {
                kind: forms.AreaRow(index=-1, kind=kind) for kind in ("polygon", "circle", "member", "geocode")
            },
            "regions": forms.region_choices(),
            **(extra or {}),
        },
        status=status,
    )


def prefilled(data: QueryDict, member: str | None, language: str | None) -> forms.Composition:
    """A new alert pre-filled from the composer's own field names in the query string (`?prefill=1&info-0-event=...`),
    so another page (a verified surveillance signal) can open a draft for the author to check and publish.
    Nothing is stored until the author publishes; what the fields cannot say is reported on Check."""
    composition = forms.from_post(data)
    composition.problems = []
    if not composition.infos:
        composition.infos = forms.blank(member, forms.info_language(language)).infos
    if composition.tlp not in TLPS:
        composition.tlp = "GREEN"
    if composition.status not in forms.STATUSES:
        composition.status = "actual"
    return composition


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def compose(request: HttpRequest, record_uuid: str | None = None) -> HttpResponse:
    account = _account(request)
    record = _visible_alert(request, record_uuid) if record_uuid else None
    if record is None and not can_compose(account):
        return _forbidden(request, _("Only focal points and coordinators publish alerts."))
    if record is not None and not _may_issue(account, record):
        return _forbidden(
            request, _("Only the organisation that published this alert may update it, while it is active.")
        )
    current: Version | None = record.current_version if record else None
    if request.method != "POST":
        if current is None and request.GET.get("prefill") == "1":
            composition = prefilled(request.GET, _member(account), get_language())
        elif current is None:
            composition = forms.blank(_member(account), forms.info_language(get_language()))
        else:
            composition = forms.from_message(
                current.body["cap"],
                status=current.status,
                audience=current.envelope()["audience"],
                tlp=current.tlp,
                epidemic=current.body.get("epidemic"),
            )
        return _compose_page(request, composition, record=record)

    composition = forms.from_post(request.POST)
    if current is not None:
        composition.status = current.status  # an update keeps the status of its thread
        composition.problems = [p for p in composition.problems if p["path"] != "/alert/status"]
    publishing = request.POST.get("action") == "publish"
    refused = 400 if publishing else 200  # a check that finds errors has done its job
    if composition.problems:
        return _compose_page(request, composition, record=record, findings=composition.problems, status=refused)
    try:
        audience: Audience = parse_audience(
            {"everyone": True}
            if composition.audience_mode == "everyone"
            else {
                "members": composition.members,
                "organisations": composition.organisations,
                "persons": composition.persons,
            }
        )

        def issue() -> actions.Published:
            if record is None:
                return actions.publish_alert(
                    composition.cap(),
                    audience=audience,
                    tlp=composition.tlp,
                    status=composition.status,
                    acting_user=account,
                    epidemic=composition.epidemic(),
                )
            return actions.update_alert(
                record,
                composition.cap(),
                acting_user=account,
                audience=audience,
                tlp=composition.tlp,
                epidemic=composition.epidemic(),
            )

        if not publishing:
            warnings = dry_run(issue)
            return _compose_page(request, composition, record=record, findings=warnings, checked=True)
        result = issue()
    except actions.CapRejected as rejected:
        return _compose_page(request, composition, record=record, findings=rejected.findings, status=refused)
    except ActionError as error:
        section = error.field if error.field in ("audience", "tlp", "status") else "top"
        if error.message.startswith("body.epidemic"):
            section = "epidemic"
        composition.section_errors.setdefault(section, []).append(error.message)
        return _compose_page(request, composition, record=record, status=error.status if publishing else 200)
    published = Record.objects.get(pk=result.version.record_id)
    messages.success(request, _("The alert is published.") if record is None else _("The update is published."))
    for warning in result.warnings:
        messages.warning(request, f"{warning['rule']} {warning['path']}: {warning['message']}")
    return HttpResponseRedirect(reverse("alert", args=[published.uuid]))
