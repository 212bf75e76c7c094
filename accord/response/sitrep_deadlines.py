"""Reporting deadlines: which affected members' reports are overdue on an incident (the flag on the incident), and
their escalation through notify.

A scheduled period (accord.response.sitrep_periods) of an affected state member is reported when one of its
reports that this node holds covers the period's last day; otherwise, once the period's deadline has passed, it
is overdue. Periods count from the one the incident was opened in; a closed incident has none due. The schedule
in force now applies to every period (a level change that makes reporting daily applies from then on, and
the days before it were weekly: only their weeks' last days are asked for).

Each node checks the incidents it holds, at their deadlines (one chain of tasks per incident, `SitrepClock`),
and escalates each member's missed report of the latest due period once, by e-mail to the accounts here that
may see the incident: the late member's focal points and analysts, and the Secretariat's coordinators. A report
filed on another node and not yet received here counts as not received.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from accord.notify import messages
from accord.records import audit
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.consolidate import affected_states
from accord.response.models import IncidentView
from accord.response.sitrep_kinds import KIND
from accord.response.sitrep_models import SitrepClock, SitrepEscalation, SitrepView
from accord.response.sitrep_periods import Period, deadline, last_due_period, next_deadline, period_containing
from accord.response.sitreps import Schedule, schedule_of

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.notify.models import Delivery

logger = logging.getLogger("accord.response")

SITREP_OVERDUE = "sitrep_overdue"  # data["escalation"] of the deliveries (rendered by `render` below)

SHOWN_PERIODS = 14  # the overdue periods listed per member (the latest)


def _due_periods(incident: Record, schedule: Schedule, now: datetime) -> list[Period]:
    """The scheduled periods whose deadline has passed, from the one the incident was opened in, latest first."""
    view = IncidentView.objects.filter(record=incident).first()
    if view is None or view.status != "open":
        return []
    first = period_containing(view.opened_at.date(), schedule.length)
    period = last_due_period(now, schedule.length, schedule.deadline_hours)
    found: list[Period] = []
    while period.end >= first.start and len(found) < 400:
        found.append(period)
        period = period_containing(period.start - timedelta(days=1), schedule.length)
    return found


def _covered(incident: Record, principal: Principal | None, since: date) -> dict[str, list[tuple[date, date]]]:
    """Per member, the periods of its reports held here (visible to `principal`, if given) ending from `since`."""
    current = incident.current_version
    assert current is not None
    rows = SitrepView.objects.filter(
        incident_record=incident.uuid,
        incident_node=incident.origin_node,
        active=True,
        traffic=current.status,
        period_end__gte=since,
    )
    if principal is not None:
        rows = rows.filter(record__in=Record.objects.visible_to(principal).filter(kind=KIND))
    found: dict[str, list[tuple[date, date]]] = {}
    for member, start, end in rows.values_list("member", "period_start", "period_end"):
        found.setdefault(member, []).append((start, end))
    return found


def overdue(
    incident: Record, principal: Principal | None = None, now: datetime | None = None
) -> dict[str, list[Period]]:
    """Per affected member, its overdue periods (latest first)."""
    moment = now or timezone.now()
    schedule = schedule_of(incident, principal)
    periods = _due_periods(incident, schedule, moment)
    if not periods:
        return {}
    covered = _covered(incident, principal, periods[-1].start)
    result: dict[str, list[Period]] = {}
    for member in affected_states(incident):
        spans = covered.get(member, [])
        missed = [p for p in periods if not any(start <= p.end <= end for start, end in spans)]
        if missed:
            result[member] = missed
    return result


def status_json(principal: Principal, incident: Record, now: datetime | None = None) -> dict[str, Any]:
    """The schedule and, per affected member, its latest report and its overdue periods: the flag on the
    incident."""
    moment = now or timezone.now()
    schedule = schedule_of(incident, principal)
    late = overdue(incident, principal, moment)
    escalated = set(SitrepEscalation.objects.filter(incident=incident).values_list("member", "period_end"))
    current = incident.current_version
    assert current is not None
    members = []
    for member in affected_states(incident):
        last = (
            SitrepView.objects.filter(
                incident_record=incident.uuid,
                incident_node=incident.origin_node,
                member=member,
                active=True,
                traffic=current.status,
                record__in=Record.objects.visible_to(principal).filter(kind=KIND),
            )
            .order_by("-period_end", "-reported_at")
            .values("period_start", "period_end", "reported_at")
            .first()
        )
        missed = late.get(member, [])
        members.append(
            {
                "member": member,
                "last_period_end": last["period_end"].isoformat() if last else None,
                "last_reported_at": last["reported_at"] if last else None,
                "overdue_count": len(missed),
                "overdue": [
                    {
                        "period_start": p.start.isoformat(),
                        "period_end": p.end.isoformat(),
                        "deadline": deadline(p, schedule.deadline_hours),
                        "escalated": (member, p.end) in escalated,
                    }
                    for p in missed[:SHOWN_PERIODS]
                ],
            }
        )
    view = IncidentView.objects.filter(record=incident).first()
    is_open = view is not None and view.status == "open"
    return {
        **schedule.as_json(),
        "next_deadline": next_deadline(moment, schedule.length, schedule.deadline_hours) if is_open else None,
        "members": members,
        "overdue_members": [m["member"] for m in members if m["overdue_count"]],
    }


# ---- escalation --------------------------------------------------------------------------------------------------


def _recipients(member: str) -> list[Account]:
    from accord.members.models import Account, Member

    return list(
        Account.objects.filter(is_active=True)
        .filter(
            Q(organisation__member__code=member, roles__role__in=["focal_point", "analyst"])
            | Q(organisation__member__kind=Member.Kind.SECRETARIAT, roles__role="coordinator")
        )
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )


def escalate(incident: Record, now: datetime | None = None) -> list[Delivery]:
    """Escalate every affected member whose report of the latest due period is missing, once per member and
    period; returns the deliveries made (in the caller's transaction)."""
    from accord.notify import matching
    from accord.notify.keys import key_for, language_of_member
    from accord.notify.models import Channel, Delivery

    version = incident.current_version
    if version is None or version.state != "active" or version.status != "actual":
        return []  # exercise and test traffic is never escalated as actual
    moment = now or timezone.now()
    schedule = schedule_of(incident)
    made: list[Delivery] = []
    title = str(IncidentView.objects.filter(record=incident).values_list("title", flat=True).first() or "")
    link = messages.record_link(incident)
    for member, missed in sorted(overdue(incident, None, moment).items()):
        period = missed[0]
        if period != last_due_period(moment, schedule.length, schedule.deadline_hours):
            continue
        if SitrepEscalation.objects.filter(incident=incident, member=member, period_end=period.end).exists():
            continue
        due = deadline(period, schedule.deadline_hours)
        told = 0
        for account in _recipients(member):
            if not matching.may_see(Principal.of(account), version.pk):
                continue
            address = account.email.lower()
            key = key_for(SITREP_OVERDUE, incident.origin_node, incident.uuid, member, period.end, address)
            delivery, created = Delivery.objects.get_or_create(
                key=key,
                defaults={
                    "purpose": Delivery.Purpose.ESCALATION,
                    "kind": Channel.Kind.EMAIL,
                    "account": account,
                    "address": address,
                    "language": language_of_member(account.member_code),
                    "record": incident,
                    "version": version,
                    "message_id": messages.message_id(key),
                    "data": {
                        "escalation": SITREP_OVERDUE,
                        "members": [member],
                        "title": title,
                        "period_start": period.start.isoformat(),
                        "period_end": period.end.isoformat(),
                        "deadline": due.isoformat(),
                        "link": link,
                    },
                },
            )
            if created:
                made.append(delivery)
                told += 1
        SitrepEscalation.objects.create(
            incident=incident,
            member=member,
            period_start=period.start,
            period_end=period.end,
            deadline=due,
            recipients=told,
        )
        audit.append(
            "sitrep.overdue.escalate",
            actor=None,
            actor_name="worker",
            object_type="incident",
            object_id=str(incident.uuid),
            data={"member": member, "period_end": period.end.isoformat(), "recipients": told},
        )
    return made


def arm(incident_id: int, now: datetime | None = None) -> datetime | None:
    """Queue the check of an incident's next deadline, unless it is queued already (or the incident is closed)."""
    from accord.response.sitrep_tasks import check_sitrep_deadlines

    incident = Record.objects.filter(pk=incident_id).select_related("current_version").first()
    view = IncidentView.objects.filter(record_id=incident_id).first()
    if incident is None or view is None or view.status != "open":
        SitrepClock.objects.filter(incident_id=incident_id).delete()
        return None
    schedule = schedule_of(incident)
    due = next_deadline(now or timezone.now(), schedule.length, schedule.deadline_hours)
    with transaction.atomic():
        clock = SitrepClock.objects.select_for_update().filter(incident_id=incident_id).first()
        if clock is not None and clock.due == due:
            return due
        SitrepClock.objects.update_or_create(incident_id=incident_id, defaults={"due": due})
        transaction.on_commit(lambda: check_sitrep_deadlines.using(run_after=due).enqueue(incident_id, due.isoformat()))
    return due


def render(delivery: Delivery) -> messages.Content:
    """The e-mail (and payload) of an overdue-report escalation, in the delivery's language (notify calls it)."""
    data = delivery.data
    title = str(data.get("title", ""))
    members = ", ".join(str(m) for m in data.get("members", []))
    period = f"{data.get('period_start', '')}..{data.get('period_end', '')}"
    link = str(data.get("link", ""))
    subject = "[Accord] " + _("Situation report overdue (%(members)s): %(title)s") % {
        "members": members,
        "title": title,
    }
    body = _(
        "The situation report of %(members)s on the incident %(title)s for %(period)s was due by %(deadline)s and "
        "has not been received. Please file it in Accord."
    ) % {"members": members, "title": title, "period": period, "deadline": data.get("deadline", "")}
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {
        "type": "sitrep.overdue",
        "data": {
            "members": list(data.get("members", [])),
            "title": title,
            "period_start": data.get("period_start"),
            "period_end": data.get("period_end"),
            "deadline": data.get("deadline"),
            "links": {"record": link},
        },
    }
    return messages.Content(subject, text, html, payload)


messages.register_escalation(SITREP_OVERDUE, render)
