"""The audit log for the node's administrators: every entry, newest first, filtered by action, actor or object.

Read-only: the log is append-only and hash-chained (accord/records/audit.py); `accord audit verify` checks the chain.
Other accounts get 403."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accord.members.models import Account, Role
from accord.records.models import AuditEntry

PER_PAGE = 50


@login_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    account = request.user
    if not isinstance(account, Account) or not account.has_role(Role.ADMIN):
        return render(
            request,
            "members/forbidden.html",
            {"message": _("Only the administrators of this node read its audit log.")},
            status=403,
        )
    action = (request.GET.get("action") or "").strip()[:60]
    actor = (request.GET.get("actor") or "").strip()[:150]
    target = (request.GET.get("object") or "").strip()[:100]
    rows = AuditEntry.objects.order_by("-seq")
    if action:
        rows = rows.filter(action__startswith=action)
    if actor:
        rows = rows.filter(actor_name=actor)
    if target:
        rows = rows.filter(object_id__startswith=target)  # a record's entries name it as uuid#seq
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    entries = [
        {"entry": entry, "data": json.dumps(entry.data, ensure_ascii=False, sort_keys=True)[:500]}
        for entry in page.object_list
    ]
    actions = list(AuditEntry.objects.order_by().values_list("action", flat=True).distinct()[:300])
    return render(
        request,
        "web/audit.html",
        {
            "page": page,
            "entries": entries,
            "action": action,
            "actor": actor,
            "target": target,
            "actions": sorted(actions),
        },
    )
