"""The record kinds of situation reports: `sitrep` and `sitrep_schedule`, their bodies and their rules.

A `sitrep` is one member's report on one incident for one period (start and end dates): figures (new and
cumulative cases and deaths, optionally hospitalised and tested, by first-level region of the member, by age band
and sex), the measures in force, needs, outlook and a narrative in any of zh, ru, en. One record per incident,
member and period: a second report of the same member and period is the record's next version (a correction).

Who files: focal points and analysts of an affected state member (analysts compile the figures in most
ministries; decisions about the incident itself stay with focal points). The Secretariat reports no figures.

The rules here run on every write path (`RecordKind.check`): the schema and what needs no other record (counts
whole and not negative, cumulative not below the period's new figures, regions of the reporting member, a
period of at most 31 days) everywhere, versions received from peers included; what depends on other records and
on the clock (the incident is here, open and affects the member, the period is not in the future and overlaps no
other report of the member, cumulative figures do not go down from one report to the next) when a version is
issued here. A received version is checked against its origin's state when it was signed, which this node may
not have yet (the incident may arrive after the report); the consolidation never counts a member that is not
affected, nor two overlapping reports of one member.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.models import Version
from accord.response.kinds import incident_roles
from accord.response.models import IncidentView
from accord.response.refs import RecordRef, check_texts, hang, signed_time
from accord.response.sitrep_models import ScheduleView, SitrepView
from accord.response.sitrep_periods import (
    DEFAULT_DEADLINE_HOURS,
    MAX_DEADLINE_HOURS,
    MAX_PERIOD_DAYS,
    Frequency,
    today_anywhere,
)
from accord.surveillance import reference

logger = logging.getLogger("accord.response")

KIND = "sitrep"
SCHEDULE_KIND = "sitrep_schedule"
FILING_ROLES = frozenset({"focal_point", "analyst"})
MAX_COUNT = 10**10
MEASURES = (
    "entry_screening",
    "quarantine",
    "isolation",
    "school_closure",
    "movement_restriction",
    "vaccination_campaign",
    "risk_communication",
    "other",
)
Measure = Literal[
    "entry_screening",
    "quarantine",
    "isolation",
    "school_closure",
    "movement_restriction",
    "vaccination_campaign",
    "risk_communication",
    "other",
]


def json_integer(value: Any) -> Any:
    """A count is a JSON number that is whole (JSON Schema's `integer`: 2.0 is one, 2.5 is not), never text or a
    boolean, which pydantic would otherwise convert."""
    if isinstance(value, str | bool):
        raise ValueError("not an integer")
    return value


# A count: a whole JSON number (never 2.5, "3" or true), not negative.
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), BeforeValidator(json_integer)]


def _iso_date(value: Any) -> Any:
    """A date is written YYYY-MM-DD (never a number of seconds, nor a date-time)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("not a date written YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
AGE_BAND = r"^(\d{1,3}-\d{1,3}|\d{1,3}\+|unknown)$"


class RegionFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=2, max_length=12, description="a first-level region (ISO 3166-2) of the member")
    new_cases: Count = 0
    new_deaths: Count = 0
    cumulative_cases: Count | None = None
    cumulative_deaths: Count | None = None
    new_hospitalised: Count | None = None
    new_tested: Count | None = None


class AgeSexFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    age: str = Field(default="unknown", pattern=AGE_BAND, description="an age band: 0-4, 65+ or unknown")
    sex: Literal["female", "male", "unknown"] = "unknown"
    new_cases: Count = 0
    new_deaths: Count = 0


class Figures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_cases: Count
    new_deaths: Count
    cumulative_cases: Count
    cumulative_deaths: Count
    new_hospitalised: Count | None = None
    cumulative_hospitalised: Count | None = None
    new_tested: Count | None = None
    cumulative_tested: Count | None = None
    by_region: list[RegionFigures] = Field(default_factory=list, max_length=500)
    by_age_sex: list[AgeSexFigures] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> Figures:
        for what in ("cases", "deaths", "hospitalised", "tested"):
            new, cumulative = getattr(self, f"new_{what}"), getattr(self, f"cumulative_{what}")
            if new is not None and cumulative is not None and cumulative < new:
                raise ValueError(f"cumulative_{what} ({cumulative}) is below new_{what} ({new})")
        regions = [row.region for row in self.by_region]
        if len(set(regions)) != len(regions):
            raise ValueError("by_region lists a region twice")
        bands = [(row.age, row.sex) for row in self.by_age_sex]
        if len(set(bands)) != len(bands):
            raise ValueError("by_age_sex lists an age band and sex twice")
        for part, rows in (("by_region", self.by_region), ("by_age_sex", self.by_age_sex)):
            for what in ("new_cases", "new_deaths"):
                total = sum(getattr(row, what) for row in rows)
                if total > getattr(self, what):
                    raise ValueError(
                        f"the {what} of {part} add up to {total}, more than {what} ({getattr(self, what)})"
                    )
        return self


class MeasureInForce(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Measure
    regions: list[str] = Field(default_factory=list, max_length=500, description="where (default: the member)")
    since: IsoDate | None = None
    note: dict[str, str] = Field(default_factory=dict, max_length=3)

    @field_validator("note")
    @classmethod
    def _note(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 2000, required=False)

    @model_validator(mode="after")
    def _other_explained(self) -> MeasureInForce:
        if self.type == "other" and not self.note:
            raise ValueError("a measure of type 'other' needs a note saying what it is")
        return self


class SitrepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    member: str = Field(min_length=2, max_length=8, pattern=r"^[A-Z0-9]+$")
    period_start: IsoDate
    period_end: IsoDate
    figures: Figures
    measures: list[MeasureInForce] = Field(default_factory=list, max_length=50)
    needs: dict[str, str] = Field(default_factory=dict, max_length=3)
    outlook: dict[str, str] = Field(default_factory=dict, max_length=3)
    narrative: dict[str, str] = Field(default_factory=dict, max_length=3)

    @field_validator("needs", "outlook")
    @classmethod
    def _short(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 5000, required=False)

    @field_validator("narrative")
    @classmethod
    def _narrative(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 50_000, required=False)

    @field_validator("measures")
    @classmethod
    def _measures(cls, value: list[MeasureInForce]) -> list[MeasureInForce]:
        kinds_seen = [m.type for m in value if m.type != "other"]
        if len(set(kinds_seen)) != len(kinds_seen):
            raise ValueError("lists a measure twice (name its regions in one entry)")
        return value


def refuse(field: str, message: str, error: type[ActionError] = ActionError) -> ActionError:
    """A broken rule, naming the request field at fault."""
    return error(f"{field}: {message}", field=field)


def _check_region(code: str, member: str, field: str) -> None:
    region = reference.regions().get(code)
    if region is None or region.whole_member:
        raise refuse(field, f"{code} is not a listed first-level region (ISO 3166-2)")
    if region.member != member:
        raise refuse(field, f"{code} is a region of {region.member}, not of the reporting member {member}")


def _incident_here(ref: dict[str, Any]) -> IncidentView | None:
    return (
        IncidentView.objects.filter(record__uuid=ref["record"], record__origin_node=ref["node"])
        .select_related("version")
        .first()
    )


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    member = body["member"]
    if Member.objects.filter(code=member, kind=Member.Kind.SECRETARIAT).exists():
        raise refuse(
            "member", "the Secretariat reports no figures; situation reports come from affected members", Forbidden
        )
    start, end = date.fromisoformat(body["period_start"]), date.fromisoformat(body["period_end"])
    if end < start:
        raise refuse("period_end", f"the period ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise refuse("period_end", f"a report covers at most {MAX_PERIOD_DAYS} days")
    figures = body["figures"]
    for index, row in enumerate(figures.get("by_region", [])):
        _check_region(row["region"], member, f"figures.by_region.{index}.region")
    for index, measure in enumerate(body.get("measures", [])):
        for code in measure.get("regions", []):
            _check_region(code, member, f"measures.{index}.regions")
    if not author.received:
        _context_rules(body, author, start, end)


def _context_rules(body: dict[str, Any], author: kinds.Author, start: date, end: date) -> None:
    """What depends on other records and on the clock: checked when a version is issued here."""
    if end > today_anywhere():
        raise refuse("period_end", f"{end} is in the future")
    incident = _incident_here(body["incident"])
    if incident is None:
        raise refuse("incident", "no such incident on this node", NotFound)
    member = body["member"]
    if f",{member}," not in incident.affected:
        raise refuse("member", f"{member} is not an affected member of this incident and files no reports", Forbidden)
    if incident.status != "open":
        raise refuse("incident", "the incident is closed; reopen it before filing reports", Conflict)
    if incident.version.status != author.status:
        raise refuse("status", f"a report on a {incident.version.status} incident is {incident.version.status} too")
    others = SitrepView.objects.filter(
        incident_record=body["incident"]["record"], member=member, active=True, traffic=author.status
    ).exclude(period_start=start, period_end=end)
    overlapping = others.filter(period_start__lte=end, period_end__gte=start).first()
    if overlapping is not None:
        raise refuse(
            "period_start",
            f"the period overlaps {member}'s report for {overlapping.period_start}..{overlapping.period_end}; "
            "correct that report (same period) or report a period that does not overlap it",
        )
    figures = body["figures"]
    before = others.filter(period_end__lt=start).order_by("-period_end").first()
    after = others.filter(period_start__gt=end).order_by("period_start").first()
    for what in ("cases", "deaths"):
        field = f"cumulative_{what}"
        value = figures[field]
        if before is not None and value < getattr(before, field):
            raise refuse(
                f"figures.{field}",
                f"{value} is below {getattr(before, field)}, the {field} of {member}'s previous report "
                f"({before.period_start}..{before.period_end}); correct that report if it was wrong",
            )
        if after is not None and value > getattr(after, field):
            raise refuse(
                f"figures.{field}",
                f"{value} is above {getattr(after, field)}, the {field} of {member}'s later report "
                f"({after.period_start}..{after.period_end})",
            )


def _title(body: dict[str, Any]) -> str:
    return f"{body.get('member', '')} {body.get('period_start', '')}..{body.get('period_end', '')}"


def _search(body: dict[str, Any]) -> str:
    parts = [str(body.get("member", ""))]
    for field in ("narrative", "needs", "outlook"):
        parts += list((body.get(field) or {}).values())
    return "\n".join(p for p in parts if p)


def _project(version: Version) -> None:
    """Keep SitrepView in step with the record's current version (received versions too: a body this node cannot
    read projects nothing rather than failing the ingest)."""
    body = version.body
    try:
        figures = dict(body["figures"])
        values = {
            "version": version,
            "seq": version.seq,
            "incident_node": uuid.UUID(str(body["incident"]["node"])),
            "incident_record": uuid.UUID(str(body["incident"]["record"])),
            "member": str(body["member"])[:8],
            "period_start": date.fromisoformat(str(body["period_start"])),
            "period_end": date.fromisoformat(str(body["period_end"])),
            "new_cases": int(figures["new_cases"]),
            "new_deaths": int(figures["new_deaths"]),
            "cumulative_cases": int(figures["cumulative_cases"]),
            "cumulative_deaths": int(figures["cumulative_deaths"]),
            "figures": figures,
            "traffic": version.status[:10],
            "active": version.state == "active",
            "reported_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("sitrep %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        SitrepView.objects.filter(record_id=version.record_id).delete()
        return
    first = SitrepView.objects.filter(record_id=version.record_id).values_list("first_reported_at", flat=True).first()
    values["first_reported_at"] = first or values["reported_at"]
    SitrepView.objects.update_or_create(record_id=version.record_id, defaults=values)
    hang(version, body["incident"])


SITREP = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Situation report"),
        body_model=SitrepBody,
        title=_title,
        search_text=_search,
        publish_roles=FILING_ROLES,
        project=_project,
        speaks_for=lambda body: str(body["member"]),
        rules=_rules,
        endpoint="POST /api/v1/incidents/{id}/sitreps",
    )
)


# ---- the reporting schedule -----------------------------------------------------------------------------------


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    frequency: Frequency = "by_level"
    deadline_hours: Annotated[int, BeforeValidator(json_integer)] = Field(
        default=DEFAULT_DEADLINE_HOURS, ge=0, le=MAX_DEADLINE_HOURS
    )


def _schedule_rules(body: dict[str, Any], author: kinds.Author) -> None:
    if author.received:
        return
    incident = _incident_here(body["incident"])
    if incident is None:
        raise refuse("incident", "no such incident on this node", NotFound)
    if incident.member != author.member:
        raise refuse("incident", f"the schedule is set by the incident's origin member, {incident.member}", Forbidden)


def _project_schedule(version: Version) -> None:
    body = version.body
    try:
        values = {
            "version": version,
            "incident_node": uuid.UUID(str(body["incident"]["node"])),
            "incident_record": uuid.UUID(str(body["incident"]["record"])),
            "frequency": str(body["frequency"])[:10],
            "deadline_hours": max(0, min(int(body["deadline_hours"]), MAX_DEADLINE_HOURS)),
            "set_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("sitrep_schedule %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        ScheduleView.objects.filter(record_id=version.record_id).delete()
        return
    ScheduleView.objects.update_or_create(record_id=version.record_id, defaults=values)
    hang(version, body["incident"])


SCHEDULE = kinds.register(
    kinds.RecordKind(
        name=SCHEDULE_KIND,
        label=_("Reporting schedule"),
        body_model=ScheduleBody,
        title=lambda body: f"{body.get('frequency', '')}, {body.get('deadline_hours', '')} h",
        search_text=lambda body: "",
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        project=_project_schedule,
        rules=_schedule_rules,
        endpoint="POST /api/v1/incidents/{id}/sitreps/schedule",
    )
)
