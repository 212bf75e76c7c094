"""The surveillance pages: series browser and chart, signal inbox and review, uploads with progress, settings.

Every read goes through `accord.surveillance.queries` (the audience filter); every change through
`accord.surveillance.actions`. A signal or upload the reader may not see gets the same 404 as none at all.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accord.alerts import actions as alert_actions
from accord.alerts import drafts as alert_drafts
from accord.alerts import forms as alert_forms
from accord.alerts.views import can_compose
from accord.lib import detect, ihr
from accord.members.models import Account, Member
from accord.records.envelope import TLPS, Audience, parse_audience
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal
from accord.surveillance import actions, alert_draft, chart, detection, limits, parsers, queries, reference
from accord.surveillance.kinds import UPLOAD_ROLES
from accord.surveillance.models import DetectorSetting, Signal, Upload
from accord.surveillance.signal_incidents import section as incidents_section

SIGNAL_ROLES = frozenset({"analyst", "focal_point", "coordinator"})
CHART_WEEKS = 104
STATUS_FILTERS = {
    "open": gettext_lazy("Open"),
    "verified": gettext_lazy("Verified"),
    "dismissed": gettext_lazy("Dismissed"),
    "cleared": gettext_lazy("Cleared by a correction"),
    "all": gettext_lazy("All"),
}
QUESTIONS = {
    "serious_impact": gettext_lazy("Is the public health impact of the event serious?"),
    "unusual": gettext_lazy("Is the event unusual or unexpected?"),
    "international_spread": gettext_lazy("Is there a significant risk of international spread?"),
    "travel_trade": gettext_lazy("Is there a significant risk of international travel or trade restrictions?"),
}
OUTCOMES = {"notify": gettext_lazy("Notify"), "do_not_notify": gettext_lazy("Do not notify")}


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _principal(request: HttpRequest) -> Principal:
    return Principal.of(_account(request))


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "surveillance/forbidden.html", {"message": message}, status=403)


def _member(user: Account) -> str | None:
    return user.organisation.member.code if user.organisation is not None else None


def may_watch(user: Account) -> bool:
    return bool(user.role_names() & SIGNAL_ROLES)


def may_upload(user: Account) -> bool:
    return user.organisation is not None and bool(user.role_names() & UPLOAD_ROLES)


def _names() -> dict[str, str]:
    return {m.code: m.name for m in Member.objects.all()}


def disease_name(code: str) -> str:
    found = reference.diseases().get(code)
    return found.name if found else code


def region_name(code: str, names: dict[str, str] | None = None) -> str:
    found = reference.regions().get(code)
    if found is not None:
        return found.name
    return (names or _names()).get(code, code)


def _chart_labels(title: str) -> chart.Labels:
    return chart.Labels(
        title=title,
        observed=_("Cases per week"),
        threshold=_("Threshold"),
        alarm=_("Alarm"),
        missing=_("no count"),
    )


def _chart(
    principal: Principal, member: str, disease: str, region: str, *, highlight: set[str] | None = None
) -> tuple[Any, list[queries.ChartWeek]]:
    weeks = queries.weeks_for(principal, member, disease, region)[-CHART_WEEKS:]
    title = f"{disease_name(disease)} · {region_name(region)}"
    points = [
        chart.Point(w.start, w.label, w.observed, w.upperbound, w.alarm, w.label in (highlight or set())) for w in weeks
    ]
    return chart.render(points, _chart_labels(title)), weeks


# ---- series ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def series_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    members = list(Member.objects.filter(active=True, kind=Member.Kind.STATE))
    member = g.get("member") or None
    disease = g.get("disease") or None
    region = (g.get("region") or "").strip().upper() or None
    filters = {
        "member": member if member in {m.code for m in members} else None,
        "disease": disease if disease in reference.diseases() else None,
        "region": region if region and len(region) <= 12 else None,
    }
    rows = queries.series_for(
        _principal(request),
        queries.SeriesFilter(member=filters["member"], disease=filters["disease"], region=filters["region"]),
    )
    names = _names()
    items = [
        {
            "row": r,
            "disease_name": disease_name(r.disease),
            "region_name": region_name(r.region, names),
            "url": reverse("surveillance-series") + "?" + urlencode(_series_key(r.member, r.disease, r.region)),
            "first_week": reference.week_of(r.first).label,
            "last_week": reference.week_of(r.last).label,
        }
        for r in rows
    ]
    account = _account(request)
    return render(
        request,
        "surveillance/series_list.html",
        {
            "items": items,
            "filters": filters,
            "members": members,
            "diseases": sorted(reference.diseases().values(), key=lambda d: d.code),
            "regions": _regions_for(filters["member"]),
            "may_upload": may_upload(account),
            "may_watch": may_watch(account),
            "is_admin": "admin" in account.role_names(),
        },
    )


def _regions_for(member: str | None) -> list[reference.Region]:
    return sorted(
        (r for r in reference.regions().values() if member is None or r.member == member), key=lambda r: r.code
    )


def _series_key(member: str, disease: str, region: str) -> dict[str, str]:
    return {"member": member, "disease": disease, "region": region}


@login_required
@require_http_methods(["GET", "HEAD"])
def series_detail(request: HttpRequest) -> HttpResponse:
    g = request.GET
    member, disease, region = g.get("member", ""), g.get("disease", ""), g.get("region", "")
    principal = _principal(request)
    svg, weeks = _chart(principal, member, disease, region)
    if not weeks:
        raise Http404("no such series")
    setting = detection.setting_for(disease)
    signals = (
        queries.signals_for(principal)
        .filter(kind=Signal.Kind.SINGLE, member=member, disease=disease, region=region)
        .order_by("-week_start")[:20]
        if may_watch(_account(request))
        else []
    )
    return render(
        request,
        "surveillance/series_detail.html",
        {
            "member": member,
            "member_name": _names().get(member, member),
            "disease": disease,
            "disease_name": disease_name(disease),
            "region": region,
            "region_name": region_name(region),
            "chart": svg,
            "recent": list(reversed(weeks[-12:])),
            "setting": setting,
            "thresholds_shown": queries.whole_series_visible(principal, member, disease, region),
            "records": queries.series_records(principal, member, disease, region)[:20],
            "signals": signals,
        },
    )


# ---- signals ---------------------------------------------------------------------------------------


def _signal_row(signal: Signal, names: dict[str, str]) -> dict[str, Any]:
    return {
        "signal": signal,
        "disease_name": disease_name(signal.disease),
        "where": ", ".join(region_name(r, names) for r in signal.regions) or names.get(signal.member, signal.member),
        "exceedance": signal.exceedance,
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def signal_list(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if not may_watch(account):
        return _forbidden(request, _("Signals are for analysts, focal points and coordinators."))
    status = request.GET.get("status") or "open"
    if status not in STATUS_FILTERS:
        status = "open"
    rows = queries.signals_for(_principal(request))
    if status != "all":
        rows = rows.filter(status=status)
    names = _names()
    items = [_signal_row(s, names) for s in rows.order_by("-week_start", "-created_at")[:200]]
    return render(
        request,
        "surveillance/signal_list.html",
        {"items": items, "status": status, "statuses": STATUS_FILTERS},
    )


def _visible_signal(request: HttpRequest, signal_uuid: str) -> Signal:
    try:
        return queries.signal_for(_principal(request), signal_uuid)
    except NotFound:
        raise Http404("no such signal") from None


def _signal_page(
    request: HttpRequest, signal: Signal, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    account = _account(request)
    principal = _principal(request)
    names = _names()
    components = []
    charts = []
    if signal.kind == Signal.Kind.JOINT:
        for part in signal.components.order_by("member", "region"):
            components.append(_signal_row(part, names))
            svg, _weeks = _chart(principal, part.member, part.disease, part.region, highlight={part.period})
            charts.append({"title": f"{names.get(part.member, part.member)} · {region_name(part.region)}", "svg": svg})
        recent: list[queries.ChartWeek] = []
    else:
        svg, weeks = _chart(principal, signal.member, signal.disease, signal.region, highlight={signal.period})
        charts.append({"title": region_name(signal.region, names), "svg": svg})
        recent = list(reversed(weeks[-8:]))
    draft = signal.ihr_draft or {}
    answers = [
        {
            "key": key,
            "question": text,
            "answer": ((draft.get("answers") or {}).get(key) or {}).get("answer"),
            "evidence": ((draft.get("answers") or {}).get(key) or {}).get("evidence", ""),
        }
        for key, text in QUESTIONS.items()
    ]
    may_assess = (
        signal.status == Signal.Status.VERIFIED
        and signal.assessment is None
        and signal.kind == Signal.Kind.SINGLE
        and "focal_point" in account.role_names()
        and _member(account) == signal.member
    )
    return render(
        request,
        "surveillance/signal_detail.html",
        {
            "signal": signal,
            "row": _signal_row(signal, names),
            "member_name": names.get(signal.member, signal.member),
            "region_name": region_name(signal.region, names) if signal.region else "",
            "charts": charts,
            "recent": recent,
            "components": components,
            "may_review": signal.status == Signal.Status.OPEN and actions.may_review(account, signal),
            "can_compose": can_compose(account),
            "severity": alert_forms.SEVERITIES.get(actions.severity_for(signal), ""),
            "draft": draft,
            "answers": answers,
            "outcome_label": OUTCOMES.get(draft.get("outcome", ""), ""),
            "may_assess": may_assess,
            "series_url": reverse("surveillance-series")
            + "?"
            + urlencode(_series_key(signal.member, signal.disease, signal.region)),
            "errors": errors or {},
            "posted": request.POST if request.method == "POST" else None,
            **incidents_section(principal, account, signal),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def signal_detail(request: HttpRequest, signal_uuid: str) -> HttpResponse:
    if not may_watch(_account(request)):
        return _forbidden(request, _("Signals are for analysts, focal points and coordinators."))
    return _signal_page(request, _visible_signal(request, signal_uuid))


@login_required
@require_POST
def signal_verify(request: HttpRequest, signal_uuid: str) -> HttpResponse:
    signal = _visible_signal(request, signal_uuid)
    account = _account(request)
    try:
        signal = actions.verify_signal(signal, acting_user=account, note=request.POST.get("note", "")[:2000])
    except ActionError as error:
        return _signal_page(request, signal, errors={"review": error.message}, status=error.status)
    if can_compose(account):
        messages.success(request, _("The signal is verified. Check the draft alert, then publish it."))
        return _open_draft(request, signal, account)
    messages.success(request, _("The signal is verified. A focal point may now write the alert."))
    return HttpResponseRedirect(reverse("surveillance-signal", args=[signal.uuid]))


@login_required
@require_POST
def signal_dismiss(request: HttpRequest, signal_uuid: str) -> HttpResponse:
    signal = _visible_signal(request, signal_uuid)
    try:
        actions.dismiss_signal(signal, acting_user=_account(request), reason=request.POST.get("reason", "")[:2000])
    except ActionError as error:
        field = "reason" if error.field == "reason" else "review"
        return _signal_page(request, signal, errors={field: error.message}, status=error.status)
    messages.success(request, _("The signal is dismissed."))
    return HttpResponseRedirect(reverse("surveillance-signal", args=[signal.uuid]))


def _open_draft(request: HttpRequest, signal: Signal, account: Account) -> HttpResponse:
    """The account's saved draft alert for the signal (found, or saved now), in the composer."""
    try:
        record = alert_draft.write_draft(signal, account)
    except ActionError as error:  # the signal's draft does not pass the CAP rules: the composer says why
        messages.warning(request, error.message)
        return HttpResponseRedirect(alert_draft.draft_alert_url(signal, account))
    return HttpResponseRedirect(reverse("alert-draft", args=[record.uuid]))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def signal_alert(request: HttpRequest, signal_uuid: str) -> HttpResponse:
    """The draft alert of a verified signal, saved (POST) or found again, opened in the composer."""
    signal = _visible_signal(request, signal_uuid)
    account = _account(request)
    if signal.status != Signal.Status.VERIFIED:
        return _forbidden(request, _("Verify the signal before writing an alert about it."))
    if not can_compose(account):
        return _forbidden(request, _("Only focal points and coordinators publish alerts."))
    if request.method != "POST" and alert_draft.existing(signal, account) is None:
        return HttpResponseRedirect(reverse("surveillance-signal", args=[signal.uuid]))
    return _open_draft(request, signal, account)


@login_required
@require_POST
def signal_assess(request: HttpRequest, signal_uuid: str) -> HttpResponse:
    """Record the IHR Annex 2 assessment from the draft the verification made (the member's focal points)."""
    signal = _visible_signal(request, signal_uuid)
    account = _account(request)
    if signal.status != Signal.Status.VERIFIED or signal.assessment is not None:
        return _forbidden(request, _("This signal has no assessment draft to record."))
    answers: dict[str, dict[str, Any]] = {}
    for key in QUESTIONS:
        answer = request.POST.get(f"{key}-answer")
        if answer not in ("yes", "no"):
            return _signal_page(request, signal, errors={"assess": _("Answer all four questions.")}, status=400)
        answers[key] = {"answer": answer == "yes", "evidence": request.POST.get(f"{key}-evidence", "").strip()[:5000]}
    draft = signal.ihr_draft or {}
    try:
        with transaction.atomic():
            version = alert_actions.assess(
                event=str(draft.get("event") or actions.event_name(signal))[:500],
                answers=answers,
                acting_user=account,
                disease=draft.get("disease"),
            )
            actions.link_assessment(signal, version.record_uuid, acting_user=account)
            draft = alert_draft.existing(signal, account)
            if draft is not None:  # the assessor's draft alert of this signal notifies the assessment
                alert_drafts.set_assessment(draft, version.record_uuid, acting_user=account)
    except ActionError as error:
        return _signal_page(request, signal, errors={"assess": error.message}, status=error.status)
    messages.success(request, _("The IHR Annex 2 assessment is recorded."))
    return HttpResponseRedirect(reverse("surveillance-signal", args=[signal.uuid]))


# ---- uploads ---------------------------------------------------------------------------------------


def _upload_page(
    request: HttpRequest, *, errors: dict[str, str] | None = None, status: int = 200, posted: Any = None
) -> HttpResponse:
    account = _account(request)
    member = _member(account)
    return render(
        request,
        "surveillance/upload.html",
        {
            "members": list(Member.objects.filter(active=True)),
            "home": member,
            "tlps": list(TLPS),
            "errors": errors or {},
            "posted": posted,
            "chosen": set(posted.getlist("members")) if posted is not None else {member, actions.SECRETARIAT},
            "tlp": posted.get("tlp") if posted is not None else "AMBER",
            "audience_mode": posted.get("audience") if posted is not None else "named",
            "recent": queries.uploads_for(_principal(request)).defer("data", "errors")[:10],
            "max_rows": _max_rows(),
        },
        status=status,
    )


def _max_rows() -> int:
    from django.conf import settings

    value: int = settings.ACCORD_SURVEILLANCE_MAX_ROWS
    return value


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if not may_upload(account):
        return _forbidden(request, _("Counts are uploaded by analysts and focal points of a member state."))
    if request.method != "POST":
        return _upload_page(request)
    post = request.POST
    file = request.FILES.get("file")
    if file is None:
        return _upload_page(request, errors={"file": _("Choose a file to upload.")}, status=400, posted=post)
    try:
        audience: Audience = parse_audience(
            {"everyone": True} if post.get("audience") == "everyone" else {"members": post.getlist("members")}
        )
        data = file.read()
        created = actions.submit_upload(
            data,
            acting_user=account,
            audience=audience,
            tlp=post.get("tlp", ""),
            filename=file.name or "",
            fmt=post.get("format") or None,
        )
    except ActionError as error:
        return _upload_page(request, errors={error.field or "top": error.message}, status=error.status, posted=post)
    return HttpResponseRedirect(reverse("surveillance-upload-detail", args=[created.uuid]))


def _visible_upload(request: HttpRequest, upload_uuid: str) -> Upload:
    try:
        return queries.upload_for(_principal(request), upload_uuid)
    except NotFound:
        raise Http404("no such upload") from None


def upload_state(item: Upload) -> dict[str, Any]:
    return {
        "uuid": str(item.uuid),
        "status": item.status,
        "status_label": str(Upload.Status(item.status).label),
        "processed": item.processed,
        "total": item.total,
        "errors": limits.bound_report(item.errors),
        "error_count": limits.error_count(item.errors, item.summary),
        "summary": item.summary,
        "finished": item.status in (Upload.Status.DONE, Upload.Status.FAILED),
    }


@login_required
@require_http_methods(["GET", "HEAD"])
def upload_detail(request: HttpRequest, upload_uuid: str) -> HttpResponse:
    item = _visible_upload(request, upload_uuid)
    raised = []
    if item.status == Upload.Status.DONE and item.summary.get("signals"):
        raised = list(
            queries.signals_for(_principal(request)).filter(
                created_at__gte=item.created_at, created_at__lte=item.finished_at or timezone.now()
            )[:50]
        )
    return render(
        request,
        "surveillance/upload_detail.html",
        {"upload": item, "state": upload_state(item), "signals": raised, "names": _names()},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def upload_status(request: HttpRequest, upload_uuid: str) -> JsonResponse:
    return JsonResponse(upload_state(_visible_upload(request, upload_uuid)))


@login_required
@require_http_methods(["GET", "HEAD"])
def template_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(parsers.csv_template(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="accord-counts-template.csv"'
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def template_xlsx(request: HttpRequest) -> HttpResponse:
    data = parsers.xlsx_template(_member(_account(request)), actions.member_names())
    response = HttpResponse(data, content_type=parsers.XLSX_MEDIA_TYPE)
    response["Content-Disposition"] = 'attachment; filename="accord-counts-template.xlsx"'
    return response


# ---- settings --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if "admin" not in account.role_names():
        return _forbidden(request, _("Only this node's administrators change the surveillance settings."))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        try:
            if post.get("action") == "mapping":
                actions.set_dhis2_mapping(post.get("mapping", "")[:100_000], acting_user=account)
                messages.success(request, _("The DHIS2 mapping is saved."))
            elif post.get("action") == "reset":
                actions.reset_detector(post.get("disease", ""), acting_user=account)
                messages.success(request, _("The disease is watched with the default algorithm again."))
            else:
                try:
                    control = json.loads(post.get("control", "") or "{}")
                except ValueError:
                    raise ActionError(_("The control is not JSON."), field="control") from None
                actions.set_detector(
                    post.get("disease", ""),
                    algorithm=post.get("algorithm", ""),
                    control=control,
                    enabled=post.get("enabled") == "on",
                    acting_user=account,
                )
                messages.success(request, _("The detector setting is saved."))
            return HttpResponseRedirect(reverse("surveillance-settings"))
        except ActionError as error:
            errors[error.field or "top"] = error.message
            status = error.status
    configured = {s.disease: s for s in DetectorSetting.objects.all()}
    rows = [
        {
            "disease": d,
            "setting": configured.get(d.code),
            "control": json.dumps(configured[d.code].control) if d.code in configured else "{}",
        }
        for d in sorted(reference.diseases().values(), key=lambda d: d.code)
    ]
    return render(
        request,
        "surveillance/settings.html",
        {
            "rows": rows,
            "algorithms": detect.ALGORITHMS,
            "default_algorithm": detection.DEFAULT_ALGORITHM,
            "defaults": json.dumps(detection.FARRINGTON_FLEXIBLE_DEFAULTS),
            "mapping": request.POST.get("mapping") if errors.get("mapping") else actions.dhis2_mapping_text(),
            "errors": errors,
            "posted": request.POST if request.method == "POST" else None,
            "monitor_weeks": _setting("ACCORD_SURVEILLANCE_MONITOR_WEEKS"),
            "joint_weeks": _setting("ACCORD_SURVEILLANCE_JOINT_WEEKS"),
            "ihr_always": sorted(ihr.ALWAYS_NOTIFIABLE),
        },
        status=status,
    )


def _setting(name: str) -> int:
    from django.conf import settings

    value: int = getattr(settings, name)
    return value
