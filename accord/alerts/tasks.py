"""Background work of alerts: escalation of overdue acknowledgements."""

from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task

from accord.alerts.actions import escalate_overdue
from accord.alerts.models import AlertView
from accord.records.models import Record


@task()
def check_acknowledgements(record_id: int) -> int:
    """Run at an alert's acknowledgement deadline: escalate the members that have not acknowledged.

    Returns how many members were escalated."""
    record = Record.objects.filter(pk=record_id).select_related("current_version").first()
    if record is None:
        return 0
    escalated = escalate_overdue(record)
    view = AlertView.objects.filter(record=record).first()
    headline = view.headline or view.event if view else str(record.uuid)
    for member, recipients in escalated:
        if not recipients:
            continue
        send_mail(
            subject=f"[Accord] acknowledgement overdue: {member} has not acknowledged {headline!r}",
            message=(
                f"The alert {headline!r} (record {record.uuid}) addressed {member}, and its acknowledgement\n"
                f"deadline has passed without an acknowledgement. Please acknowledge it in Accord.\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return len(escalated)
