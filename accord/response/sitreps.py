"""Filing situation reports and setting an incident's reporting schedule (the writes), and reading them (always
through the record core's audience filter).

A report is one record per incident, member and period on the node where it was filed: filing the same member
and period again issues that record's next version (a correction), never a second report.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet

from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response.refs import ref_of
from accord.response.sitrep_kinds import KIND, SCHEDULE_KIND
from accord.response.sitrep_models import ScheduleView, SitrepView
from accord.response.sitrep_periods import DEFAULT_DEADLINE_HOURS, Frequency, step

if TYPE_CHECKING:
    from accord.members.models import Account


def named(error: ActionError) -> ActionError:
    """The error of a body check, naming the request field at fault (`body.figures.new_cases: ...` ->
    `figures.new_cases`)."""
    if error.field != "body" or not error.message.startswith("body."):
        return error
    error.field = error.message.split(":", 1)[0].removeprefix("body.")
    return error


def _measures(measures: list[Any]) -> list[dict[str, Any]]:
    """Measures as the body states them: a bare name ("quarantine") is `{"type": "quarantine"}`."""
    return [{"type": m} if isinstance(m, str) else dict(m) for m in measures]


def _incident_body(incident: Record) -> tuple[Version, dict[str, Any]]:
    version = incident.current_version
    if version is None or incident.kind != "incident":
        raise ActionError("not an incident", field="incident")
    return version, version.body


def file_sitrep(
    incident: Record,
    *,
    acting_user: Account,
    period_start: str,
    period_end: str,
    figures: dict[str, Any],
    measures: list[Any] | None = None,
    needs: dict[str, str] | None = None,
    outlook: dict[str, str] | None = None,
    narrative: dict[str, str] | None = None,
) -> tuple[Version, bool]:
    """File the acting account's member's report on `incident` for a period; returns the version and whether it
    is a new report (False: a correction, the next version of the report already filed for that period).

    The report has the incident's audience, TLP and traffic (actual, exercise, test)."""
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and files no reports")
    member = organisation.member.code
    incident_version, _ = _incident_body(incident)
    body: dict[str, Any] = {
        "incident": ref_of(incident),
        "member": member,
        "period_start": period_start,
        "period_end": period_end,
        "figures": figures,
        "measures": _measures(measures or []),
        "needs": needs or {},
        "outlook": outlook or {},
        "narrative": narrative or {},
    }
    envelope = incident_version.envelope()
    node = record_actions.here().node_id
    try:
        with transaction.atomic():
            audit.lock()  # filings queue here, so two of one member and period never make two reports
            filed = list(
                SitrepView.objects.filter(
                    incident_record=incident.uuid,
                    incident_node=incident.origin_node,
                    member=member,
                    period_start=period_start,
                    period_end=period_end,
                    traffic=incident_version.status,
                    active=True,
                ).select_related("record")
            )
            own = [row for row in filed if row.record.origin_node == node]
            if filed and not own:
                raise Conflict(
                    f"{member}'s report for {period_start}..{period_end} was filed on another node; "
                    "correct it there (only the node that issued a record issues its versions)",
                    field="period_start",
                )
            if own:
                version = record_actions.revise(own[0].record, acting_user=acting_user, body=body)
                return version, False
            version = record_actions.publish(
                KIND,
                body,
                audience=Audience.model_validate(envelope["audience"]),
                tlp=incident_version.tlp,
                status=incident_version.status,
                acting_user=acting_user,
            )
            return version, True
    except ActionError as error:
        raise named(error) from None


def set_schedule(
    incident: Record, *, acting_user: Account, frequency: Frequency, deadline_hours: int = DEFAULT_DEADLINE_HOURS
) -> Version:
    """Set the reporting schedule of an incident: a `sitrep_schedule` record of the incident's origin (one per
    incident, revised when changed). Only the organisation that opened the incident sets it, on its node."""
    incident_version, _ = _incident_body(incident)
    organisation = acting_user.organisation
    if organisation is None or incident_version.origin_organisation != organisation.uuid:
        raise Forbidden("the reporting schedule is set by the organisation that opened the incident")
    body = {"incident": ref_of(incident), "frequency": frequency, "deadline_hours": deadline_hours}
    try:
        with transaction.atomic():
            audit.lock()
            existing = (
                ScheduleView.objects.filter(incident_record=incident.uuid, record__origin_node=incident.origin_node)
                .select_related("record")
                .first()
            )
            if existing is not None:
                return record_actions.revise(existing.record, acting_user=acting_user, body=body)
            envelope = incident_version.envelope()
            return record_actions.publish(
                SCHEDULE_KIND,
                body,
                audience=Audience.model_validate(envelope["audience"]),
                tlp=incident_version.tlp,
                status=incident_version.status,
                acting_user=acting_user,
            )
    except ActionError as error:
        raise named(error) from None


# ---- the read side ---------------------------------------------------------------------------------------------


def sitreps_for(principal: Principal, incident: Record) -> QuerySet[Record]:
    """The reports on `incident` that `principal` may see, latest period first."""
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=KIND,
            sitrep_view__incident_record=incident.uuid,
            sitrep_view__incident_node=incident.origin_node,
        )
        .select_related("current_version", "sitrep_view")
        .order_by("-sitrep_view__period_end", "sitrep_view__member", "-sitrep_view__reported_at", "pk")
    )


class Schedule:
    """An incident's reporting schedule as it applies now."""

    def __init__(self, frequency: Frequency, deadline_hours: int, level: int, record: Record | None) -> None:
        self.frequency = frequency
        self.deadline_hours = deadline_hours
        self.level = level
        self.record = record
        self.length = step(frequency, level)

    def as_json(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency,
            "period": self.length,
            "deadline_hours": self.deadline_hours,
            "record": str(self.record.uuid) if self.record is not None else None,
        }


def schedule_of(incident: Record, principal: Principal | None = None) -> Schedule:
    """The schedule set by the incident's origin (that the principal may see), else the default."""
    level = int(incident.current_version.body.get("level", 0)) if incident.current_version is not None else 0
    rows = Record.objects.filter(kind=SCHEDULE_KIND)
    if principal is not None:
        rows = rows.visible_to(principal)
    found = (
        rows.filter(
            schedule_view__incident_record=incident.uuid,
            schedule_view__incident_node=incident.origin_node,
            origin_node=incident.origin_node,
        )
        .select_related("schedule_view")
        .order_by("-schedule_view__set_at")
        .first()
    )
    if found is None:
        return Schedule("by_level", DEFAULT_DEADLINE_HOURS, level, None)
    view = found.schedule_view
    frequency: Frequency = view.frequency if view.frequency in ("daily", "weekly") else "by_level"  # type: ignore[assignment]
    return Schedule(frequency, view.deadline_hours, level, found)


def now() -> datetime:
    return datetime.now(UTC)
