"""Overdue tasks, escalated through notify.

Every node that stores a task (set here or received) schedules a check at its due time. If the task is then still
open or in progress, the node escalates it once per due time: a `TaskEscalation` row, an audit entry and e-mail
deliveries through notify (delivery rows and attempts, retried by the notify worker) to its own accounts who may
see the task: the assignee (the assigned person; the accounts of the assigned organisation; the focal points of
the assigned member), the account that set the task, and the Secretariat's coordinators. Each node tells the
people it hosts, so a task set on one node and assigned to a member hosted on another is escalated on both.
Exercise and test tasks are never escalated.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django_tasks import task

from accord.notify import messages
from accord.notify.keys import key_for, language_of_member
from accord.response.work_models import TaskEscalation, TaskView

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.notify.models import Delivery
    from accord.records.models import Record

TASK_OVERDUE = "task_overdue"  # data["escalation"] of an overdue task's deliveries
OPEN = frozenset({"open", "in_progress"})


def schedule(record_id: int, status: str, due: datetime | None, traffic: str) -> None:
    """Called from the task's projection (in the writing transaction): check the task at its due time."""
    if due is None or status not in OPEN or traffic != "actual":
        return
    transaction.on_commit(lambda: check_task_due.using(run_after=due).enqueue(record_id))


def _recipients(view: TaskView, author: Any) -> list[Account]:
    from accord.members.models import Account, Member

    if view.assignee_type == "member":
        assignee = Q(organisation__member__code=view.assignee, roles__role="focal_point")
    elif view.assignee_type == "organisation":
        assignee = Q(organisation__uuid=view.assignee)
    else:
        assignee = Q(uuid=view.assignee)
    secretariat = Q(organisation__member__kind=Member.Kind.SECRETARIAT, roles__role="coordinator")
    setter = Q(uuid=author) if author else Q(pk__in=[])
    return list(
        Account.objects.filter(is_active=True)
        .filter(assignee | secretariat | setter)
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )


def escalate(record: Record, now: datetime | None = None) -> list[Delivery]:
    """Escalate the task `record` if it is overdue and was not escalated for this due time (in one transaction:
    the escalation row, the audit entry and the deliveries). Returns the deliveries made."""
    from accord.notify import matching
    from accord.notify.models import Channel, Delivery
    from accord.records import audit
    from accord.records.principal import Principal

    now = now or timezone.now()
    view = TaskView.objects.filter(record=record).select_related("version").first()
    version = record.current_version
    if view is None or version is None or view.due is None:
        return []
    if view.status not in OPEN or view.due > now or view.traffic != "actual" or version.state != "active":
        return []
    made: list[Delivery] = []
    with transaction.atomic():
        escalation, created = TaskEscalation.objects.get_or_create(task=record, due=view.due)
        if not created:
            return []
        link = messages.record_link(record)
        assignee = view.assignee if view.assignee_type == "member" else f"{view.assignee_member} ({view.assignee_type})"
        for account in _recipients(view, version.author):
            if not matching.may_see(Principal.of(account), version.pk):
                continue
            address = account.email.lower()
            key = key_for(TASK_OVERDUE, record.origin_node, record.uuid, view.due.isoformat(), address)
            member = account.organisation.member.code if account.organisation is not None else None
            delivery, fresh = Delivery.objects.get_or_create(
                key=key,
                defaults={
                    "purpose": Delivery.Purpose.ESCALATION,
                    "kind": Channel.Kind.EMAIL,
                    "account": account,
                    "address": address,
                    "language": account.language or language_of_member(member),
                    "record": record,
                    "version": version,
                    "message_id": messages.message_id(key),
                    "data": {
                        "escalation": TASK_OVERDUE,
                        "title": view.title,
                        "due": view.due.isoformat(),
                        "assignee": assignee,
                        "link": link,
                    },
                },
            )
            if fresh:
                made.append(delivery)
        escalation.recipients = len(made)
        escalation.save(update_fields=["recipients"])
        audit.append(
            "task.overdue.escalate",
            actor=None,
            actor_name="worker",
            object_type="task",
            object_id=str(record.uuid),
            data={"due": view.due.isoformat(), "assignee": assignee, "recipients": len(made)},
        )
    return made


@task()
def check_task_due(record_id: int) -> int:
    """Run at a task's due time: escalate it if still unfinished; the e-mails are sent at once and the notify
    worker retries what fails. Returns how many were told."""
    from accord.notify import dispatch
    from accord.records.models import Record

    record = Record.objects.filter(pk=record_id).select_related("current_version").first()
    if record is None:
        return 0
    made = escalate(record)
    if made:
        dispatch.deliver([d.pk for d in made], worker="escalation")
    return len(made)


def render(delivery: Delivery) -> messages.Content:
    """The e-mail and webhook payload of an overdue task, in the recipient's language (notify calls it)."""
    data = delivery.data
    title, assignee, link = str(data.get("title", "")), str(data.get("assignee", "")), str(data.get("link", ""))
    due = str(data.get("due", ""))
    subject = "[Accord] " + _("Task overdue: %(title)s") % {"title": title}
    body = _(
        "The task %(title)s, assigned to %(assignee)s, was due at %(due)s and is not done. "
        "Please finish it or update its status in Accord."
    ) % {"title": title, "assignee": assignee, "due": due}
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {
        "type": "task.overdue",
        "data": {"title": title, "assignee": assignee, "due": due, "links": {"record": link}},
    }
    return messages.Content(subject, text, html, payload)


messages.register_escalation(TASK_OVERDUE, render)
