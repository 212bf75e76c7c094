"""The record kind of shared counts: `case_counts`.

One record holds one series-year: the counts of one disease in one region of one member, weekly or daily, for
one year (the ISO year of a week, the calendar year of a day). A later upload that adds periods to that year or
corrects some of them issues the record's next version with every period of the year, so the record's current
version is always the whole year as its member now reports it, and the earlier versions show what was reported
before. Bounding a record to a year keeps each version small (at most 53 weeks or 366 days) and a correction
of an old year from touching the current one.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.records import kinds
from accord.records.models import Version
from accord.surveillance import reference
from accord.surveillance.models import CountPoint, SeriesView

logger = logging.getLogger("accord.surveillance")

KIND = "case_counts"
UPLOAD_ROLES = frozenset({"analyst", "focal_point"})
MAX_COUNT = 10**9


class DiseaseRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["ICD-10"]
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9.]+$")
    name: str = Field(min_length=1, max_length=200)


class CountRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(min_length=8, max_length=10)
    count: int = Field(ge=0, le=MAX_COUNT)


class CaseCountsBody(BaseModel):
    """The counts of one series for one year, as its member reports them now."""

    model_config = ConfigDict(extra="forbid")

    member: str = Field(min_length=2, max_length=8, pattern=r"^[A-Z0-9]+$")
    region: str = Field(min_length=2, max_length=12, pattern=r"^[A-Z0-9-]+$")
    disease: DiseaseRef
    resolution: Literal["week", "day"]
    year: int = Field(ge=1900, le=2999)
    counts: list[CountRow] = Field(min_length=1, max_length=366)

    @model_validator(mode="after")
    def _consistent(self) -> CaseCountsBody:
        if reference.member_of_region(self.region) != self.member:
            raise ValueError(f"region {self.region} is not a region of member {self.member}")
        known = reference.find_disease(self.disease.code)
        if known is None or known.code != self.disease.code:
            raise ValueError(f"disease {self.disease.code} is not a listed ICD-10 code")
        seen: set[str] = set()
        previous = ""
        for row in self.counts:
            try:
                period = reference.parse_period(row.period)
            except reference.PeriodError as error:
                raise ValueError(str(error)) from None
            if period.resolution != self.resolution or period.label != row.period:
                raise ValueError(f"period {row.period} is not a {self.resolution} written as {period.label}")
            if period.year != self.year:
                raise ValueError(f"period {row.period} is not in {self.year}")
            if row.period in seen:
                raise ValueError(f"period {row.period} appears twice")
            if row.period < previous:
                raise ValueError("counts must be in period order")
            seen.add(row.period)
            previous = row.period
        return self


def _title(body: dict[str, Any]) -> str:
    disease = body.get("disease") or {}
    step = {"week": "weekly", "day": "daily"}.get(str(body.get("resolution")), "")
    return f"{disease.get('name', disease.get('code', ''))}, {body.get('region', '')}, {body.get('year', '')} ({step})"


def _search(body: dict[str, Any]) -> str:
    disease = body.get("disease") or {}
    region = reference.regions().get(str(body.get("region", "")))
    parts = [str(disease.get("code", "")), str(disease.get("name", "")), str(body.get("region", ""))]
    if region is not None:
        parts += [region.name_en, region.name_ru, region.name_zh]
    return "\n".join(p for p in parts if p)


def _project(version: Version) -> None:
    """Keep SeriesView and CountPoint in step with the record's current version.

    Runs for received versions too, so it reads the body defensively: a peer's version that this node cannot
    read (an unknown resolution, a period it cannot parse) is stored as received but projects no points."""
    body = version.body
    CountPoint.objects.filter(record=version.record).delete()
    try:
        member = str(body["member"])
        region = str(body["region"])
        disease = str(body["disease"]["code"])
        resolution = str(body["resolution"])
        year = int(body["year"])
        rows = [(reference.parse_period(str(row["period"])), int(row["count"])) for row in body["counts"]]
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("case_counts %s#%s projects no counts: %s", version.record_uuid, version.seq, error)
        SeriesView.objects.filter(record=version.record).delete()
        return
    active = version.state == "active"
    SeriesView.objects.update_or_create(
        record=version.record,
        defaults={
            "version": version,
            "member": member[:8],
            "disease": disease[:20],
            "region": region[:12],
            "resolution": resolution[:4],
            "year": year,
            "status": version.status,
            "active": active,
        },
    )
    if not active:
        return  # a withdrawn series-year counts for nothing
    CountPoint.objects.bulk_create(
        [
            CountPoint(
                record=version.record,
                version=version,
                member=member[:8],
                disease=disease[:20],
                region=region[:12],
                resolution=period.resolution,
                period=period.label,
                period_start=period.start,
                count=max(0, count),
                status=version.status,
            )
            for period, count in rows
        ],
        ignore_conflicts=True,  # a peer's version listing a period twice keeps the first
    )


CASE_COUNTS = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Case counts"),
        body_model=CaseCountsBody,
        title=_title,
        search_text=_search,
        publish_roles=UPLOAD_ROLES,
        project=_project,
        speaks_for=lambda body: str(body["member"]),
        endpoint="POST /api/v1/surveillance/uploads",
    )
)
