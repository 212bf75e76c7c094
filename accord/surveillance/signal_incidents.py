"""What a surveillance signal turned into, for its page: the alerts published from it and the incidents they (or
the signal's IHR assessment) belong to, with "open an incident" from its alert.

A signal is a node-local row, not a record, so no incident links it directly: it belongs to the incidents its
records are linked to. Its records are its IHR assessment (`Signal.assessment`), the alerts that notify that
assessment (`epidemic.assessment`) or that it assesses, and the alerts the reader published from their own draft of
the signal (a draft names its signal, and its withdrawal on publishing names the alert). Every read goes through
the audience filter; the incidents come from the response app (`accord.response.views.incidents_of`), imported
where used, as the alert page does.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import reverse

from accord.alerts.drafts import published_alert
from accord.members.models import Account
from accord.records.models import Record
from accord.records.principal import Principal
from accord.surveillance.models import Signal


def _published_from_drafts(principal: Principal, signal: Signal) -> list[uuid.UUID]:
    """The alerts the reader published from their drafts of `signal` (only the author sees a draft)."""
    if principal.account is None:
        return []
    drafts = Record.objects.visible_to(principal).filter(
        kind="alert",
        current_version__status="draft",
        current_version__state="withdrawn",
        current_version__author=principal.account,
    )
    found = []
    for record in drafts.select_related("current_version"):
        version = record.current_version
        assert version is not None
        if (version.body.get("draft") or {}).get("signal") != str(signal.uuid):
            continue
        published = published_alert(str(version.envelope().get("reason") or ""))
        if published is not None:
            found.append(published)
    return found


def records_of(principal: Principal, signal: Signal) -> tuple[list[Record], Record | None]:
    """The published alerts made from `signal` that the reader may see (newest first) and its IHR assessment."""
    visible = Record.objects.visible_to(principal)
    assessment = None
    wanted: set[uuid.UUID] = set(_published_from_drafts(principal, signal))
    if signal.assessment is not None:
        assessment = (
            visible.filter(kind="ihr_assessment", uuid=signal.assessment).select_related("assessment_view").first()
        )
        wanted |= set(
            visible.filter(kind="alert", alert_view__assessment=signal.assessment).values_list("uuid", flat=True)
        )
        if assessment is not None:
            named = getattr(getattr(assessment, "assessment_view", None), "alert_record", None)
            if named is not None:
                wanted.add(named)
    alerts = list(
        visible.filter(kind="alert", uuid__in=wanted)
        .exclude(current_version__status="draft")
        .select_related("current_version", "alert_view")
        .order_by("-alert_view__sent_at")
    )
    return alerts, assessment


def section(principal: Principal, account: Account, signal: Signal) -> dict[str, Any]:
    """The signal page's "alerts and incidents" panel: each alert (link, headline), the incidents, and the link that
    opens an incident from the newest active alert, for those who may open one."""
    from accord.response.views import incidents_of, may_open

    alerts, assessment = records_of(principal, signal)
    incidents: dict[str, dict[str, Any]] = {}
    for record in [*alerts, *([assessment] if assessment is not None else [])]:
        for row in incidents_of(principal, record):
            incidents.setdefault(row["url"], row)
    rows = []
    for record in alerts:
        view: Any = getattr(record, "alert_view", None)
        version = record.current_version
        assert version is not None
        rows.append(
            {
                "url": reverse("alert", args=[record.uuid]),
                "headline": (view.headline or view.event) if view is not None else str(record.uuid),
                "sent_at": view.sent_at if view is not None else None,
                "active": version.state == "active",
                "uuid": str(record.uuid),
            }
        )
    source = next((row for row in rows if row["active"]), None)
    return {
        "signal_alerts": rows,
        "signal_incidents": list(incidents.values()),
        "open_incident_url": (
            reverse("incident-new") + f"?alert={source['uuid']}" if source is not None and may_open(account) else ""
        ),
    }
