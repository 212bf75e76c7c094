"""Background work of situation reports: checking an incident's reporting deadlines and escalating missed ones."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def check_sitrep_deadlines(incident_id: int, due: str) -> int:
    """Run at an incident's reporting deadline: escalate the members whose report of the period just due is
    missing (accord.response.sitrep_deadlines), then queue the check of the next deadline. A task whose `due` is
    no longer the incident's clock was superseded (the schedule or level changed) and does nothing. Returns how
    many deliveries were made."""
    from django.db import transaction

    from accord.notify import dispatch
    from accord.records.models import Record
    from accord.response import sitrep_deadlines
    from accord.response.sitrep_models import SitrepClock

    when = datetime.fromisoformat(due)
    if not SitrepClock.objects.filter(incident_id=incident_id, due=when).exists():
        return 0
    incident = Record.objects.filter(pk=incident_id).select_related("current_version").first()
    if incident is None:
        return 0
    with transaction.atomic():
        deliveries = sitrep_deadlines.escalate(incident)
    if deliveries:
        dispatch.deliver([d.pk for d in deliveries], worker="escalation")
    sitrep_deadlines.arm(incident_id)
    return len(deliveries)


def incident_changed(version_id: int) -> None:
    """Listener of committed incident and schedule versions: (re)arm the incident's deadline clock."""
    from accord.records.models import Version
    from accord.response import sitrep_deadlines
    from accord.response.models import IncidentView
    from accord.response.sitrep_models import ScheduleView

    row = Version.objects.filter(pk=version_id).values_list("kind", "record_id").first()
    if row is None:
        return
    kind, record_id = row
    if kind != "incident":
        schedule = ScheduleView.objects.filter(record_id=record_id).first()
        found = (
            IncidentView.objects.filter(
                record__uuid=schedule.incident_record, record__origin_node=schedule.incident_node
            )
            .values_list("record_id", flat=True)
            .first()
            if schedule is not None
            else None
        )
        if found is None:
            return
        record_id = found
    sitrep_deadlines.arm(record_id)
