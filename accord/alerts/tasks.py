"""Background work of alerts: escalation of overdue acknowledgements."""

from __future__ import annotations

from django_tasks import task

from accord.alerts.actions import escalate_overdue
from accord.records.models import Record


@task()
def check_acknowledgements(record_id: int) -> int:
    """Run at an alert's acknowledgement deadline: escalate the members that have not acknowledged.

    The escalation, its audit entry and its delivery rows (accord.notify.escalation: the member's
    contacts and the Secretariat's coordinators who may see the alert) commit together; the e-mails
    are then sent at once, and the notify worker retries what fails. Returns how many members were
    escalated."""
    from django.db import transaction

    from accord.notify import dispatch, escalation

    record = Record.objects.filter(pk=record_id).select_related("current_version").first()
    if record is None:
        return 0
    with transaction.atomic():
        escalated = escalate_overdue(record)
        deliveries = escalation.queue(record, [member for member, _ in escalated])
    if deliveries:
        dispatch.deliver([d.pk for d in deliveries], worker="escalation")
    return len(escalated)


@task()
def check_acknowledgements_many(record_ids: list[int]) -> int:
    """check_acknowledgements for the alerts of a bulk import, in one task rather than one per alert: run at the
    earliest of their deadlines, it checks those whose deadline has passed and queues itself again, once, for the
    next deadline of the others. Returns how many members were escalated."""
    from django.utils import timezone

    from accord.alerts.models import AlertView

    now = timezone.now()
    deadlines = [
        (record_id, deadline)
        for record_id, deadline in AlertView.objects.filter(record_id__in=record_ids).values_list(
            "record_id", "ack_deadline"
        )
        if deadline is not None
    ]
    due = [record_id for record_id, deadline in deadlines if deadline <= now]
    later = sorted((deadline, record_id) for record_id, deadline in deadlines if deadline > now)
    escalated = sum(check_acknowledgements.call(record_id) for record_id in due)
    if later:
        check_acknowledgements_many.using(run_after=later[0][0]).enqueue([record_id for _, record_id in later])
    return escalated


@task()
def check_notification_clock(assessment_record_id: int) -> bool:
    """Run 24 hours after an assessment concluded "notify": if no alert was published, tell the
    assessor and the Secretariat's coordinators who may see the assessment, by e-mail through notify
    (delivery rows and attempts, each in the recipient's language; accord.notify.escalation). The audit
    entry and the deliveries commit together; the e-mails are then sent at once, and the notify worker
    retries what fails. Returns whether the notification is overdue."""
    from django.db import transaction
    from django.db.models import Q

    from accord.alerts.actions import notification_clock
    from accord.members.models import Account, Member
    from accord.notify import dispatch, escalation
    from accord.records import audit

    record = Record.objects.filter(pk=assessment_record_id).select_related("current_version").first()
    if record is None or record.current_version is None:
        return False
    version = record.current_version
    state, deadline, _ = notification_clock(version)
    if state != "overdue":
        return False
    recipients = list(
        Account.objects.filter(is_active=True)
        .filter(
            Q(uuid=version.author) | Q(organisation__member__kind=Member.Kind.SECRETARIAT, roles__role="coordinator")
        )
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )
    with transaction.atomic():
        deliveries = escalation.queue_ihr_overdue(record, recipients)
        audit.append(
            "ihr.notification.overdue",
            actor=None,
            actor_name="worker",
            object_type="ihr_assessment",
            object_id=str(record.uuid),
            data={"deadline": deadline.isoformat() if deadline else None, "recipients": len(deliveries)},
        )
    if deliveries:
        dispatch.deliver([d.pk for d in deliveries], worker="escalation")
    return True
