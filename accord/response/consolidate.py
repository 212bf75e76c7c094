"""The consolidated situation report: for a period, every affected member's latest figures merged into one picture.

For the period `[start, end]` (by default the scheduled period ending on `end`: that day, or the seven days up to
it) and each affected state member, among the reports that `principal` may see (the audience filter), active,
of the incident's traffic:

* a report counts toward the period it **ends** in; of overlapping reports of one member (possible only when
  filed on two nodes) the one with the latest period end, then the latest report time, counts and the others
  are listed as set aside. A correction is the same record's next version, so only its current figures count:
  nothing is ever counted twice;
* the member's new figures are the sums over its reports ending in the period; the days of the period that none
  of them covers are its gaps;
* its cumulative figures are those of its latest report ending on or before `end`, carried forward (and said
  so) when that report ended before the period;
* `missing_members` are the affected members with no report ending in the period.

The totals add the members' figures: new cases and deaths of the period, and the cumulative figures as of `end`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from accord.members.models import Member
from accord.records.errors import ActionError
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.sitrep_kinds import KIND
from accord.response.sitrep_models import SitrepView
from accord.response.sitrep_periods import MAX_PERIOD_DAYS, period_ending
from accord.response.sitreps import Schedule, schedule_of

MAX_SPAN_DAYS = 366
OPTIONAL = ("new_hospitalised", "new_tested")
_FIELDS = (
    "record_id",
    "record__uuid",
    "member",
    "seq",
    "period_start",
    "period_end",
    "new_cases",
    "new_deaths",
    "cumulative_cases",
    "cumulative_deaths",
    "figures",
    "first_reported_at",
    "reported_at",
)


@dataclass
class Report:
    record: str
    member: str
    seq: int
    period_start: date
    period_end: date
    new_cases: int
    new_deaths: int
    cumulative_cases: int
    cumulative_deaths: int
    figures: dict[str, Any]
    first_reported_at: datetime
    reported_at: datetime

    def overlaps(self, other: Report) -> bool:
        return self.period_start <= other.period_end and other.period_start <= self.period_end

    def brief(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "seq": self.seq,
            "corrected": self.seq > 1,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "new_cases": self.new_cases,
            "new_deaths": self.new_deaths,
            "cumulative_cases": self.cumulative_cases,
            "cumulative_deaths": self.cumulative_deaths,
            "first_reported_at": self.first_reported_at,
            "reported_at": self.reported_at,
        }


@dataclass
class MemberPicture:
    member: str
    reports: list[Report] = field(default_factory=list)  # ending in the period, latest first
    latest: Report | None = None  # the latest report ending on or before the period's end
    set_aside: list[Report] = field(default_factory=list)
    kept: list[Report] = field(default_factory=list)  # every report that counts, in or before the period


@dataclass
class Consolidated:
    incident: Record
    period_start: date
    period_end: date
    schedule: Schedule
    members: list[MemberPicture]


def _rows(principal: Principal, incident: Record, members: list[str], since: date, end: date) -> list[Report]:
    visible = Record.objects.visible_to(principal).filter(kind=KIND)
    current = incident.current_version
    assert current is not None
    rows = (
        SitrepView.objects.filter(
            incident_record=incident.uuid,
            incident_node=incident.origin_node,
            member__in=members,
            active=True,
            traffic=current.status,
            period_end__lte=end,
            period_end__gte=since,
            record__in=visible,
        )
        .order_by("member", "-period_end", "-reported_at")
        .values_list(*_FIELDS)
    )
    return [Report(str(row[1]), *row[2:]) for row in rows]


def _latest_before(principal: Principal, incident: Record, member: str, before: date) -> Report | None:
    """A member's latest report ending before `before` (for a member with none in or near the period)."""
    current = incident.current_version
    assert current is not None
    row = (
        SitrepView.objects.filter(
            incident_record=incident.uuid,
            incident_node=incident.origin_node,
            member=member,
            active=True,
            traffic=current.status,
            period_end__lt=before,
            record__in=Record.objects.visible_to(principal).filter(kind=KIND),
        )
        .order_by("-period_end", "-reported_at")
        .values_list(*_FIELDS)
        .first()
    )
    if row is None:
        return None
    return Report(str(row[1]), *row[2:])


def affected_states(incident: Record) -> list[str]:
    """The incident's affected members that report figures (the Secretariat does not)."""
    version = incident.current_version
    assert version is not None
    affected = [str(code) for code in version.body.get("affected_members", [])]
    secretariat = set(
        Member.objects.filter(code__in=affected, kind=Member.Kind.SECRETARIAT).values_list("code", flat=True)
    )
    return [code for code in affected if code not in secretariat]


def consolidate(
    principal: Principal, incident: Record, period_end: date, period_start: date | None = None
) -> Consolidated:
    schedule = schedule_of(incident, principal)
    start = period_start or period_ending(period_end, schedule.length).start
    if start > period_end:
        raise ActionError(f"the period starts ({start}) after it ends ({period_end})", field="period_start")
    if (period_end - start).days + 1 > MAX_SPAN_DAYS:
        raise ActionError(f"a consolidated period covers at most {MAX_SPAN_DAYS} days", field="period_start")
    members = affected_states(incident)
    # Reports that end up to a report's length before the period can overlap those ending in it.
    since = start - timedelta(days=MAX_PERIOD_DAYS)
    pictures = {code: MemberPicture(code) for code in members}
    for report in _rows(principal, incident, members, since, period_end):
        picture = pictures[report.member]
        if any(report.overlaps(other) for other in picture.kept):
            if report.period_end >= start:
                picture.set_aside.append(report)
            continue
        picture.kept.append(report)
        if picture.latest is None:
            picture.latest = report
        if report.period_end >= start:
            picture.reports.append(report)
    for picture in pictures.values():
        if picture.latest is None:
            picture.latest = _latest_before(principal, incident, picture.member, since)
    return Consolidated(incident, start, period_end, schedule, [pictures[code] for code in members])


def gaps(picture: MemberPicture, start: date, end: date) -> list[dict[str, str]]:
    """The runs of days of `[start, end]` that none of the member's reports covers."""
    covered = sorted((max(r.period_start, start), r.period_end) for r in picture.reports)
    found: list[dict[str, str]] = []
    day = start
    for first, last in covered:
        if first > day:
            found.append({"start": day.isoformat(), "end": (first - timedelta(days=1)).isoformat()})
        day = max(day, last + timedelta(days=1))
    if day <= end:
        found.append({"start": day.isoformat(), "end": end.isoformat()})
    return found


def _by_region(picture: MemberPicture) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for report in picture.reports:
        for row in report.figures.get("by_region", []):
            into = merged.setdefault(
                str(row["region"]), {"region": str(row["region"]), "new_cases": 0, "new_deaths": 0}
            )
            into["new_cases"] += int(row.get("new_cases", 0))
            into["new_deaths"] += int(row.get("new_deaths", 0))
    if picture.latest is not None:
        for row in picture.latest.figures.get("by_region", []):
            found = merged.get(str(row["region"]))
            for name in ("cumulative_cases", "cumulative_deaths"):
                if found is not None and row.get(name) is not None:
                    found[name] = int(row[name])
    return [merged[code] for code in sorted(merged)]


def member_json(picture: MemberPicture, start: date, end: date) -> dict[str, Any]:
    latest = picture.latest
    holes = gaps(picture, start, end)
    status = "missing" if not picture.reports else ("partial" if holes else "reported")
    out: dict[str, Any] = {
        "member": picture.member,
        "status": status,
        "new_cases": sum(r.new_cases for r in picture.reports),
        "new_deaths": sum(r.new_deaths for r in picture.reports),
        "cumulative_cases": latest.cumulative_cases if latest else None,
        "cumulative_deaths": latest.cumulative_deaths if latest else None,
        "cumulative_as_of": latest.period_end.isoformat() if latest else None,
        "carried_forward": latest is not None and latest.period_end < start,
        "last_reported_at": max((r.reported_at for r in picture.reports), default=None),
        "reports": [r.brief() for r in picture.reports],
        "gaps": holes,
        "by_region": _by_region(picture),
        "set_aside": [r.brief() for r in picture.set_aside],
    }
    for name in OPTIONAL:
        given = [r.figures[name] for r in picture.reports if r.figures.get(name) is not None]
        out[name] = sum(given) if given else None
    return out


def as_json(result: Consolidated) -> dict[str, Any]:
    members = [member_json(p, result.period_start, result.period_end) for p in result.members]
    totals: dict[str, Any] = {
        name: sum(m[name] or 0 for m in members)
        for name in ("new_cases", "new_deaths", "cumulative_cases", "cumulative_deaths")
    }
    for name in OPTIONAL:
        given = [m[name] for m in members if m[name] is not None]
        totals[name] = sum(given) if given else None
    totals["carried_forward"] = [m["member"] for m in members if m["carried_forward"]]
    totals["reporting_members"] = sum(1 for m in members if m["status"] != "missing")
    return {
        "incident": result.incident.uuid,
        "period_start": result.period_start.isoformat(),
        "period_end": result.period_end.isoformat(),
        "schedule": result.schedule.as_json(),
        "members": members,
        "totals": totals,
        "missing_members": [m["member"] for m in members if m["status"] == "missing"],
    }
