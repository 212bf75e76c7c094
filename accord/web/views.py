"""The web shell: login, the records list and a record's page, and the health check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch
from django.utils import timezone
from django.views.decorators.http import require_GET

from accord.records import kinds
from accord.records.errors import NotFound
from accord.records.models import Record, Status, Tlp, WorkerHeartbeat
from accord.records.principal import Principal
from accord.records.queries import RecordFilter, record_for, records_for, versions_for


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers and a worker has beaten recently; 503 otherwise, saying which."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001  (any failure means: not healthy)
        checks["database"] = f"error: {type(error).__name__}"
        return JsonResponse({"status": "error", **checks, "workers": "unknown"}, status=503)
    fresh = timezone.now() - timedelta(seconds=settings.ACCORD_WORKER_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=fresh).count()
    checks["workers"] = "ok" if alive else "no worker has reported recently"
    ok = alive > 0
    return JsonResponse({"status": "ok" if ok else "error", **checks, "worker_count": alive}, status=200 if ok else 503)


@login_required
def records(request: HttpRequest) -> HttpResponse:
    principal = Principal.of(request.user)
    status = request.GET.get("status") or None
    if status not in Status.values:
        status = None
    tlp = request.GET.get("tlp") or None
    if tlp not in Tlp.values:
        tlp = None
    listed = {k.name: k.label for k in kinds.all_kinds() if k.reader is None}
    kind_name = request.GET.get("kind") or None
    if kind_name not in listed:
        kind_name = None
    where = RecordFilter(kind=kind_name, status=status, tlp=tlp, q=(request.GET.get("q") or "").strip()[:200] or None)
    rows = records_for(principal, where)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    items = []
    for record in page.object_list:
        version = record.current_version
        assert version is not None
        kind = kinds.get(record.kind)
        body = version.body
        items.append(
            {
                "record": record,
                "version": version,
                "title": kind.title(body) if kind else record.kind,
                "kind_label": kind.label if kind else record.kind,
            }
        )
    return render(
        request,
        "web/records.html",
        {
            "page": page,
            "items": items,
            "filters": where,
            "statuses": Status.choices,
            "tlps": Tlp.choices,
            "kinds": sorted(listed.items(), key=lambda pair: str(pair[1])),
            "filtered": bool(where.q or where.kind or where.status or where.tlp),
        },
    )


@login_required
def record_detail(request: HttpRequest, record_uuid: str) -> HttpResponse:
    principal = Principal.of(request.user)
    try:
        record = record_for(principal, record_uuid)
    except NotFound:
        raise Http404("no such record") from None
    version = record.current_version
    assert version is not None
    kind = kinds.get(record.kind)
    body = version.body
    return render(
        request,
        "web/record_detail.html",
        {
            "record": record,
            "version": version,
            "envelope": version.envelope(),
            "body": body,
            "title": kind.title(body) if kind else record.kind,
            "kind_label": kind.label if kind else record.kind,
            "versions": versions_for(principal, record),
            "incidents": _incidents(principal, record),
            "own_page": _own_page(record, body),
        },
    )


def _own_page(record: Record, body: dict[str, Any]) -> str:
    """Where the record is shown in full, when that is not this generic page: its kind's own page, or for an
    acknowledgement or an IHR assessment the page of the alert it is about."""
    kind = kinds.get(record.kind)
    if kind is not None and kind.page is not None:
        return kinds.page_path(record.kind, record.uuid)
    if record.kind == "case_counts" and isinstance(body.get("disease"), dict):
        from urllib.parse import urlencode

        from django.urls import reverse

        key = {
            "member": body.get("member", ""),
            "disease": body["disease"].get("code", ""),
            "region": body.get("region", ""),
        }
        return reverse("surveillance-series") + "?" + urlencode(key)
    alert = body.get("alert")
    target = alert.get("record") if isinstance(alert, dict) else alert
    if record.kind in ("acknowledgement", "ihr_assessment") and isinstance(target, str):
        try:
            return kinds.page_path("alert", target)
        except NoReverseMatch:  # a reference no page path can hold (a slash in it) shows no link
            return ""
    return ""


def _incidents(principal: Principal, record: Record) -> list[dict[str, Any]]:
    """The incidents the record is linked to (an IHR assessment, a note, another incident), as the reader sees
    them: both ends of each link visible."""
    from accord.response.views import incidents_of

    return incidents_of(principal, record)
