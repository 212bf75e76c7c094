"""My desk: every item that waits for an account, its organisation or its member, with its clock.

Each source below reads through its app's queries or the record core's audience filter (an item about a record
the account may not see is never shown), and gives `Item`s. The desk (`GET /api/v1/desk`, the home page) lists them
grouped, each group ordered by deadline (overdue first, then the soonest; those without a deadline last).

The sources, their kinds and their clocks are listed in docs/desk.md: acknowledgements due, IHR notification clocks
and assessments to make, open signals, missed situation reports, tasks, assistance requests without an offer of the
member and offers awaiting acceptance, roster calls without a reply, decisions without the member's position, and
deliveries that failed on the account's channels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.alerts import mapping
from accord.alerts.actions import addressed_members, notification_clock
from accord.alerts.models import AcknowledgementView, AlertView
from accord.alliances.mobilise_models import RosterCalled, RosterReplyView
from accord.alliances.mobilise_queries import visible_calls
from accord.members.models import Account
from accord.notify.models import Delivery
from accord.records import kinds
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.assist_models import AssistanceOfferView, AssistanceRequestView
from accord.response.queries import IncidentFilter, incidents_for
from accord.response.sitrep_deadlines import overdue as sitreps_overdue
from accord.response.work_models import DecisionView, PositionView
from accord.response.work_queries import TaskFilter, tasks_for
from accord.surveillance.models import Signal
from accord.surveillance.queries import signals_for

RECENT = timedelta(days=30)  # an alert, assessment or call older than this no longer waits on a desk
FAILED_DELIVERIES = timedelta(days=14)
MAX_PER_SOURCE = 200


@dataclass
class Item:
    group: str
    kind: str
    record: str
    title: str
    url: str
    due: datetime | None = None
    action: str | Promise = ""  # what to do there, for a person to read
    post: str = ""  # when the action is one click: the URL the button posts to (the web page's own form's)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.now()


GROUPS: dict[str, str | Promise] = {
    "acknowledgements": _("Acknowledgements"),
    "ihr": _("IHR clocks"),
    "signals": _("Signals to verify"),
    "sitreps": _("Situation reports due"),
    "tasks": _("Tasks"),
    "assistance": _("Assistance"),
    "roster": _("Roster calls"),
    "decisions": _("Decisions"),
    "deliveries": _("Failed deliveries"),
}


def _title(record: Record) -> str:
    kind = kinds.get(record.kind)
    version = record.current_version
    if kind is None or version is None:
        return record.kind
    return kind.title(version.body)


def _acknowledgements(principal: Principal, account: Account) -> Iterator[Item]:
    member = principal.member
    if not member:
        return
    from accord.alerts.kinds import may_acknowledge_for

    one_click = may_acknowledge_for(account)
    now = timezone.now()
    views = (
        AlertView.objects.filter(
            record__in=Record.objects.visible_to(principal).filter(kind="alert"),
            ack_deadline__isnull=False,
            first_sent_at__gte=now - RECENT,
            record__current_version__status="actual",
            record__current_version__state="active",
        )
        .exclude(member=member)
        .exclude(msg_type="Cancel")
        .exclude(record__uuid__in=AcknowledgementView.objects.filter(member=member).values("alert_record"))
        .select_related("record__current_version")
        .order_by("ack_deadline")
    )
    for view in views[:MAX_PER_SOURCE]:
        record = view.record
        assert record.current_version is not None
        if member not in addressed_members(record.current_version):
            continue
        info = mapping.info_in((record.current_version.body.get("cap") or {}), get_language() or "en")
        yield Item(
            "acknowledgements",
            "acknowledgement",
            str(record.uuid),
            str(info.get("headline") or info.get("event") or view.headline or view.event),
            kinds.page_path("alert", record.uuid),
            due=view.ack_deadline,
            action=_("Acknowledge receipt"),
            post=reverse("alert-acknowledge", kwargs={"record_uuid": str(record.uuid)}) if one_click else "",
            detail={"severity": view.severity, "member": view.member},
        )


def _ihr(principal: Principal, account: Account) -> Iterator[Item]:
    if principal.organisation is None:
        return
    since = timezone.now() - RECENT
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind="ihr_assessment", current_version__origin_organisation=principal.organisation)
        .filter(assessment_view__outcome="notify", assessment_view__assessed_at__gte=since)
        .select_related("current_version", "assessment_view")
    )
    for record in rows[:MAX_PER_SOURCE]:
        assert record.current_version is not None
        state, deadline, _notified = notification_clock(record.current_version)
        if state not in ("pending", "overdue"):
            continue
        yield Item(
            "ihr",
            "ihr_notification",
            str(record.uuid),
            _title(record),
            reverse("record", kwargs={"record_uuid": str(record.uuid)}),
            due=deadline,
            action=_("Notify WHO within 24 hours: publish the alert"),
        )


def _my_signals(principal: Principal) -> list[Signal]:
    """The open and verified signals of the principal's member (a joint one that names it too); for the
    Secretariat, the joint signals. Read once, narrowed by member before the audience checks."""
    rows = signals_for(principal).filter(status__in=(Signal.Status.OPEN, Signal.Status.VERIFIED))
    if principal.member == "SCO":
        rows = rows.filter(kind=Signal.Kind.JOINT)
    else:
        rows = rows.filter(Q(member=principal.member) | Q(kind=Signal.Kind.JOINT))
    found = rows.order_by("-week_start", "-pk")[: MAX_PER_SOURCE * 2]
    return [s for s in found if principal.member == "SCO" or s.involves(principal.member or "")]


def _signal_title(signal: Signal) -> str:
    from accord.surveillance import reference

    disease = reference.diseases().get(signal.disease)
    name = disease.name if disease is not None else signal.disease
    place = signal.region or ", ".join(signal.regions or signal.members or [])
    return f"{name} · {place} · {signal.week_start.isoformat()}: {signal.observed}"


def _signals(principal: Principal, account: Account) -> Iterator[Item]:
    """Open signals to verify, and verified ones that still wait for their IHR assessment (in the IHR group)."""
    if not principal.member:
        return
    for signal in _my_signals(principal):
        verified = signal.status == Signal.Status.VERIFIED
        if verified and signal.assessment is not None:
            continue
        yield Item(
            "ihr" if verified else "signals",
            "ihr_assessment" if verified else "signal",
            str(signal.uuid),
            _signal_title(signal),
            reverse("surveillance-signal", kwargs={"signal_uuid": str(signal.uuid)}),
            action=_("Assess under IHR Annex 2") if verified else _("Verify or dismiss"),
        )


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def _sitreps(principal: Principal, account: Account) -> Iterator[Item]:
    member = principal.member
    if not member:
        return
    rows = incidents_for(principal, IncidentFilter(status="open", member=member)).filter(
        current_version__state="active"
    )
    for incident in rows[:MAX_PER_SOURCE]:
        missed = sitreps_overdue(incident, principal).get(member, [])
        if not missed:
            continue
        latest = missed[0]
        yield Item(
            "sitreps",
            "sitrep",
            str(incident.uuid),
            _title(incident),
            kinds.page_path("incident", incident.uuid),
            due=_end_of(latest.end),
            action=_("Report the situation"),
            detail={"missed_periods": len(missed), "period_end": latest.end.isoformat()},
        )


def _tasks(principal: Principal, account: Account) -> Iterator[Item]:
    rows = tasks_for(principal, TaskFilter(mine=True)).filter(task_view__status__in=("open", "in_progress"))
    for record in rows.filter(current_version__state="active")[:MAX_PER_SOURCE]:
        view = record.task_view
        yield Item(
            "tasks",
            "task",
            str(record.uuid),
            view.title,
            kinds.page_path("task", record.uuid),
            due=view.due,
            action=_("Update the task"),
            detail={"priority": view.priority, "status": view.status},
        )


def _assistance(principal: Principal, account: Account) -> Iterator[Item]:
    member = principal.member
    if not member:
        return
    visible = Record.objects.visible_to(principal)
    offered = AssistanceOfferView.objects.filter(member=member, active=True).values("request_record")
    requests = (
        AssistanceRequestView.objects.filter(record__in=visible, status__in=("open", "partly_covered"))
        .exclude(member=member)
        .exclude(record__uuid__in=offered)
        .select_related("record")
        .order_by("needed_by")
    )
    for view in requests[:MAX_PER_SOURCE]:
        yield Item(
            "assistance",
            "assistance_request",
            str(view.record.uuid),
            f"{view.resource_type}: {view.gap} {view.unit}".strip(),
            kinds.page_path("assistance_request", view.record.uuid),
            due=view.needed_by,
            action=_("Offer assistance or pass"),
            detail={"member": view.member, "priority": view.priority},
        )
    offers = (
        AssistanceOfferView.objects.filter(record__in=visible, to_member=member, active=True, accepted=0)
        .exclude(member=member)
        .select_related("record")
        .order_by("updated_at")
    )
    for offer in offers[:MAX_PER_SOURCE]:
        yield Item(
            "assistance",
            "assistance_offer",
            str(offer.record.uuid),
            f"{offer.resource_type} × {offer.quantity} ({offer.member})",
            kinds.page_path("assistance_offer", offer.record.uuid),
            action=_("Accept or decline the offer"),
            detail={"member": offer.member},
        )


def _roster(principal: Principal, account: Account) -> Iterator[Item]:
    mine = Q(account=account.uuid)
    if account.organisation is not None:
        mine |= Q(account__isnull=True, organisation=account.organisation.uuid)
    called = RosterCalled.objects.filter(mine).select_related("call")
    calls = {
        c.pk: c for c in visible_calls(principal).filter(pk__in=called.values("call_id"), roster_call__active=True)
    }
    replied = set(
        RosterReplyView.objects.filter(call_record__in=[c.uuid for c in calls.values()], active=True).values_list(
            "call_record", "profile_record"
        )
    )
    today = timezone.now().date()
    for row in called[: MAX_PER_SOURCE * 2]:
        call = calls.get(row.call_id)
        if call is None:
            continue
        view = call.roster_call
        if view.until < today or (call.uuid, row.profile_record) in replied:
            continue
        yield Item(
            "roster",
            "roster_call",
            str(call.uuid),
            _title(call),
            kinds.page_path(call.kind, call.uuid),
            due=datetime.combine(view.start, time.min, tzinfo=UTC),
            action=_("Reply: available or not"),
            detail={"field": view.field, "member": view.member, "profile": str(row.profile_record)},
        )


def _decisions(principal: Principal, account: Account) -> Iterator[Item]:
    member = principal.member
    if not member:
        return
    stated = PositionView.objects.filter(member=member, active=True).values("decision_record")
    rows = (
        DecisionView.objects.filter(
            record__in=Record.objects.visible_to(principal), state="open", participants__contains=f",{member},"
        )
        .exclude(record__uuid__in=stated)
        .select_related("record__current_version")
    )
    for view in rows[:MAX_PER_SOURCE]:
        yield Item(
            "decisions",
            "decision",
            str(view.record.uuid),
            _title(view.record),
            kinds.page_path("decision", view.record.uuid),
            action=_("State your member's position"),
        )


def _deliveries(principal: Principal, account: Account) -> Iterator[Item]:
    since = timezone.now() - FAILED_DELIVERIES
    mine = Q(channel__account=account)
    if account.organisation is not None and account.has_role("admin"):
        mine |= Q(channel__organisation=account.organisation)
    rows = (
        Delivery.objects.filter(mine, status=Delivery.Status.FAILED, created_at__gte=since)
        .select_related("channel", "record")
        .order_by("-created_at")
    )
    for delivery in rows[:MAX_PER_SOURCE]:
        channel = delivery.channel
        assert channel is not None
        yield Item(
            "deliveries",
            "delivery",
            str(delivery.record.uuid) if delivery.record is not None else str(channel.uuid),
            f"{channel.name or channel.target}: {delivery.last_error or delivery.status}",
            reverse("notify-subscriptions"),
            action=_("Check the channel"),
            detail={"channel": str(channel.uuid), "failed_at": delivery.created_at.isoformat()},
        )


SOURCES: tuple[Callable[[Principal, Account], Iterator[Item]], ...] = (
    _acknowledgements,
    _ihr,
    _signals,
    _sitreps,
    _tasks,
    _assistance,
    _roster,
    _decisions,
    _deliveries,
)


def _order(item: Item) -> tuple[int, datetime]:
    far = datetime.max.replace(tzinfo=UTC)
    return (0 if item.overdue else 1 if item.due is not None else 2, item.due or far)


def desk_of(account: Account) -> list[Item]:
    """Every item waiting for the account, grouped (in GROUPS order), each group by deadline."""
    principal = Principal.of(account)
    if principal.is_anonymous:
        return []
    items: list[Item] = []
    for source in SOURCES:
        items.extend(source(principal, account))
    groups = list(GROUPS)
    return sorted(items, key=lambda item: (groups.index(item.group), *_order(item)))


def counts(items: list[Item]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in items:
        found[item.group] = found.get(item.group, 0) + 1
    return found


def item_out(item: Item) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "group": item.group,
        "record": item.record,
        "title": item.title,
        "due": item.due.isoformat() if item.due else None,
        "overdue": item.overdue,
        "url": item.url,
        "action": str(item.action),
        "detail": item.detail,
    }
