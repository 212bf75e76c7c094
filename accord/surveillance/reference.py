"""The built-in reference tables of surveillance, and periods (ISO weeks and days).

The tables are data files in `accord/surveillance/data/` (documented in docs/surveillance.md):

* `diseases.json`: notifiable diseases by ICD-10 code (the key of a series), with the ICD-11 code where the two
  match one to one, and names in English, Russian and Chinese;
* `regions.json`: first-level regions (ISO 3166-2) of the members, each with its administrative centre (`centre`,
  `lat`, `lon`: the regional capital, from GeoNames); a member code alone stands for the member as a whole;
* `adjacency.json`: pairs of regions of neighbouring members that share a border (cross-border signals).

No Django models here; the functions are pure apart from reading the files once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from django.utils.translation import get_language

DATA = Path(__file__).resolve().parent / "data"

Resolution = Literal["week", "day"]


@dataclass(frozen=True)
class Disease:
    code: str  # ICD-10, the key of every series
    icd11: str | None
    name_en: str
    name_ru: str
    name_zh: str

    @property
    def name(self) -> str:
        return _localised(self.name_en, self.name_ru, self.name_zh)


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2 ("KZ-19"), or a member code for the member as a whole ("KZ")
    member: str
    name_en: str
    name_ru: str
    name_zh: str
    # The administrative centre (the regional capital), WGS 84 degrees; None for a member as a whole.
    centre: str = ""
    lat: float | None = None
    lon: float | None = None

    @property
    def name(self) -> str:
        return _localised(self.name_en, self.name_ru, self.name_zh)

    @property
    def point(self) -> tuple[float, float] | None:
        """The administrative centre as (latitude, longitude), when known."""
        return (self.lat, self.lon) if self.lat is not None and self.lon is not None else None

    @property
    def whole_member(self) -> bool:
        return self.code == self.member


def _localised(en: str, ru: str, zh: str) -> str:
    language = (get_language() or "en").lower()
    if language.startswith("zh") and zh:
        return zh
    if language.startswith("ru") and ru:
        return ru
    return en


@cache
def diseases() -> dict[str, Disease]:
    raw = json.loads((DATA / "diseases.json").read_text(encoding="utf-8"))
    return {
        d["icd10"]: Disease(code=d["icd10"], icd11=d.get("icd11"), name_en=d["en"], name_ru=d["ru"], name_zh=d["zh"])
        for d in raw["diseases"]
    }


@cache
def _icd11() -> dict[str, str]:
    return {d.icd11: d.code for d in diseases().values() if d.icd11}


def find_disease(code: str) -> Disease | None:
    """The listed disease a code names: an ICD-10 or ICD-11 code of the list, or a subcode of one (A15.0 -> A15)."""
    text = code.strip().upper()
    if not text:
        return None
    table = diseases()
    by_icd11 = _icd11()
    candidate = text
    while True:
        if candidate in table:
            return table[candidate]
        if candidate in by_icd11:
            return table[by_icd11[candidate]]
        if "." in candidate:
            # Drop the last character after the dot (A98.05 -> A98.0 -> A98), so subcodes find their entry.
            candidate = candidate[:-1].rstrip(".")
            continue
        return None


def system_of(code: str) -> Literal["ICD-10", "ICD-11"]:
    """ICD-10 codes are a letter and two digits (A00, U07.1); ICD-11 codes have a letter second (1A00, RA01.0)."""
    return "ICD-10" if re.match(r"^[A-Z]\d\d", code.upper()) else "ICD-11"


@cache
def regions() -> dict[str, Region]:
    raw = json.loads((DATA / "regions.json").read_text(encoding="utf-8"))
    table: dict[str, Region] = {}
    for r in raw["regions"]:
        member = r["code"].split("-", 1)[0]
        table[r["code"]] = Region(
            code=r["code"],
            member=member,
            name_en=r["en"],
            name_ru=r["ru"],
            name_zh=r["zh"],
            centre=r.get("centre", ""),
            lat=float(r["lat"]) if "lat" in r else None,
            lon=float(r["lon"]) if "lon" in r else None,
        )
    return table


def find_region(code: str, member_names: dict[str, tuple[str, str, str]] | None = None) -> Region | None:
    """A listed region, or a member code (the member as a whole) when `member_names` knows that member."""
    text = code.strip().upper()
    found = regions().get(text)
    if found is not None:
        return found
    if member_names is not None and text in member_names:
        en, ru, zh = member_names[text]
        return Region(code=text, member=text, name_en=en, name_ru=ru, name_zh=zh)
    return None


def member_of_region(code: str) -> str:
    return code.split("-", 1)[0]


@cache
def adjacency() -> dict[str, frozenset[str]]:
    raw = json.loads((DATA / "adjacency.json").read_text(encoding="utf-8"))
    pairs: dict[str, set[str]] = {}
    for a, b in raw["pairs"]:
        pairs.setdefault(a, set()).add(b)
        pairs.setdefault(b, set()).add(a)
    return {code: frozenset(others) for code, others in pairs.items()}


def adjacent(a: str, b: str) -> bool:
    return b in adjacency().get(a, frozenset())


# ---- periods ---------------------------------------------------------------------------------------

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DHIS2_WEEK = re.compile(r"^(\d{4})W(\d{1,2})$")
_DHIS2_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    """An ISO week (`2026-W07`, Monday to Sunday) or a day (`2026-02-14`)."""

    start: date
    resolution: Resolution

    @property
    def label(self) -> str:
        if self.resolution == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return self.start.isoformat()

    @property
    def year(self) -> int:
        """The year whose record holds this period: the ISO year of a week, the calendar year of a day."""
        return self.start.isocalendar()[0] if self.resolution == "week" else self.start.year

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6 if self.resolution == "week" else 0)

    def week(self) -> Period:
        """The ISO week this period lies in."""
        return week_of(self.start)


class PeriodError(ValueError):
    pass


def week_of(day: date) -> Period:
    return Period(day - timedelta(days=day.weekday()), "week")


def iso_week(year: int, week: int) -> Period:
    if not 1 <= week <= 53:
        raise PeriodError(f"week {week} does not exist (weeks are 1 to 53)")
    try:
        start = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"{year} has no ISO week {week}") from None
    return Period(start, "week")


def _day(year: str, month: str, day: str) -> Period:
    try:
        return Period(date(int(year), int(month), int(day)), "day")
    except ValueError:
        raise PeriodError(f"{year}-{month}-{day} is not a date") from None


def parse_period(text: str) -> Period:
    """`2026-W07` (also `2026-W7`, `2026W07`) or `2026-02-14`; PeriodError says why not."""
    value = text.strip()
    if match := _WEEK.match(value.upper()):
        return iso_week(int(match.group(1)), int(match.group(2)))
    if match := _DAY.match(value):
        return _day(*match.groups())
    raise PeriodError(f"{value!r} is neither an ISO week (2026-W07) nor a day (2026-02-14)")


def parse_dhis2_period(text: str) -> Period:
    """DHIS2 weekly (`2026W7`, ISO weeks starting on Monday) and daily (`20260214`) periods."""
    value = text.strip()
    if match := _DHIS2_WEEK.match(value):
        return iso_week(int(match.group(1)), int(match.group(2)))
    if match := _DHIS2_DAY.match(value):
        return _day(*match.groups())
    raise PeriodError(
        f"DHIS2 period {value!r} is not weekly (2026W7) or daily (20260214); other period types are not accepted"
    )


def is_future(period: Period, today: date) -> bool:
    """A week is in the future when it starts after today; a day when it is after tomorrow (time zones:
    a member east of UTC is a day ahead)."""
    if period.resolution == "week":
        return period.start > today
    return period.start > today + timedelta(days=1)
