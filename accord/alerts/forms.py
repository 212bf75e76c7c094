"""The alert composer's form: what the author typed, to CAP JSON (and back, to prefill an update).

The composer posts flat fields with numbered prefixes, because the author adds info blocks and
areas in the page (`info-0-event`, `area-2-polygon`, ...). Areas are written once and go into every
info block. Nothing here decides whether the alert is valid: the alert actions do (XSD and rules);
this module only turns the fields into CAP, reports fields it cannot read, and maps the validator's
findings (`/alert/info[2]/area[1]/polygon[1]`) back to the fields they are about.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from shapely.geometry import Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from accord.alerts import mapping
from accord.alerts.finding_words import in_words
from accord.records.envelope import TLPS, Audience

MAX_INFOS = 12
MAX_AREAS = 30
MAX_POLYGON_POINTS = 200
OUTLINES = Path(settings.PACKAGE_DIR) / "static" / "accord" / "members.geojson"

# CAP 1.2 enumerations, with labels in the reader's language.
CATEGORIES: dict[str, Promise] = {
    "Geo": _("Geophysical"),
    "Met": _("Meteorological"),
    "Safety": _("Public safety"),
    "Security": _("Security"),
    "Rescue": _("Rescue and recovery"),
    "Fire": _("Fire"),
    "Health": _("Health"),
    "Env": _("Environmental"),
    "Transport": _("Transport"),
    "Infra": _("Infrastructure"),
    "CBRNE": _("Chemical, biological, radiological, nuclear or explosive"),
    "Other": _("Other"),
}
URGENCIES: dict[str, Promise] = {
    "Immediate": _("Immediate"),
    "Expected": _("Expected"),
    "Future": _("Future"),
    "Past": _("Past"),
    "Unknown": _("Unknown urgency"),
}
SEVERITIES: dict[str, Promise] = {
    "Extreme": _("Extreme"),
    "Severe": _("Severe"),
    "Moderate": _("Moderate"),
    "Minor": _("Minor"),
    "Unknown": _("Unknown severity"),
}
CERTAINTIES: dict[str, Promise] = {
    "Observed": _("Observed"),
    "Likely": _("Likely"),
    "Possible": _("Possible"),
    "Unlikely": _("Unlikely"),
    "Unknown": _("Unknown certainty"),
}
STATUSES: dict[str, Promise] = {"actual": _("Actual"), "exercise": _("Exercise"), "test": _("Test")}
# Info block languages (BCP 47 / RFC 3066 tags), named in their own language.
LANGUAGES: dict[str, str] = {
    "en-US": "English",
    "zh-CN": "中文",
    "ru-RU": "Русский",
    "kk-KZ": "Қазақ тілі",
    "ky-KG": "Кыргызча",
    "tg-TJ": "Тоҷикӣ",
    "uz-UZ": "Oʻzbekcha",
    "hi-IN": "हिन्दी",
    "ur-PK": "اردو",
    "fa-IR": "فارسی",
    "be-BY": "Беларуская",
}
AREA_KINDS: dict[str, Promise] = {
    "polygon": _("Polygon"),
    "circle": _("Circle"),
    "member": _("Member state"),
    "geocode": _("Geocode"),
}
DISEASE_SYSTEMS = ("ICD-10", "ICD-11")

# What the composer edits in an info block; anything else of a prefilled message rides along in `keep`.
_INFO_FIELDS = ("language", "category", "event", "urgency", "severity", "certainty", "headline", "description")
_INFO_EDITED = {*_INFO_FIELDS, "instruction", "expires", "area"}
_INFO_KEEPABLE = {
    "responseType",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "senderName",
    "web",
    "contact",
    "parameter",
    "resource",
}
_ALERT_KEEPABLE = {"source", "code", "incidents", "incidentsText"}
_INDEX = re.compile(r"^(info|area)-(\d{1,3})-")


@dataclass
class InfoBlock:
    index: int = 0
    language: str = "en-US"
    categories: list[str] = field(default_factory=list)
    event: str = ""
    urgency: str = ""
    severity: str = ""
    certainty: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    expires: str = ""  # as the datetime-local input shows it, UTC: 2026-11-28T10:00
    keep: str = ""  # JSON of CAP info elements the composer does not edit (kept from the message updated)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def cap(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "language": self.language,
            "category": self.categories,
            "event": self.event,
            "urgency": self.urgency,
            "severity": self.severity,
            "certainty": self.certainty,
        }
        for key in ("headline", "description", "instruction"):
            value = getattr(self, key)
            if value:
                block[key] = value
        if self.expires:
            block["expires"] = cap_time_of_input(self.expires) or self.expires
        if self.keep:
            block.update(json.loads(self.keep))
        return block


@dataclass
class AreaRow:
    index: int = 0
    kind: str = "polygon"
    desc: str = ""
    polygon: str = ""  # CAP: "lat,lon lat,lon ..." (closed)
    lat: str = ""
    lon: str = ""
    radius: str = ""  # km
    member: str = ""
    geocode_name: str = ""
    geocode_value: str = ""
    errors: list[str] = field(default_factory=list)

    def cap(self) -> dict[str, Any] | None:
        """The CAP area, or None if the row cannot be read (its `errors` say why)."""
        area: dict[str, Any] = {"areaDesc": self.desc}
        if self.kind == "polygon":
            area["polygon"] = [" ".join(self.polygon.split())]
        elif self.kind == "circle":
            area["circle"] = [f"{self.lat.strip()},{self.lon.strip()} {self.radius.strip()}"]
        elif self.kind == "member":
            polygon = member_polygon(self.member)
            if polygon is None:
                return None
            area["polygon"] = [polygon]
        elif self.kind == "geocode":
            area["geocode"] = [{"valueName": self.geocode_name, "value": self.geocode_value}]
        return area


@dataclass
class Composition:
    """Everything the composer holds: CAP content, epidemic, audience and TLP."""

    status: str = "actual"
    infos: list[InfoBlock] = field(default_factory=list)
    areas: list[AreaRow] = field(default_factory=list)
    keep: str = ""  # JSON of alert-level CAP elements kept from the message updated
    disease_system: str = "ICD-10"
    disease_code: str = ""
    disease_name: str = ""
    cases: str = ""
    deaths: str = ""
    disease_assessment: str = ""
    audience_mode: str = "everyone"  # or "named"
    members: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)  # kept from the message updated
    persons: list[str] = field(default_factory=list)  # kept from the message updated
    tlp: str = "GREEN"
    problems: list[dict[str, str]] = field(default_factory=list)  # what the form itself cannot read
    section_errors: dict[str, list[str]] = field(default_factory=dict)  # status, tlp, audience, epidemic, top

    def problem(self, path: str, message: str) -> None:
        self.problems.append({"rule": "FORM", "severity": "error", "path": path, "message": message})

    def cap(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.keep) if self.keep else {}
        areas = [a for a in (row.cap() for row in self.areas) if a is not None]
        infos = []
        for info in self.infos:
            block = info.cap()
            if areas:
                block["area"] = [dict(a) for a in areas]
            infos.append(block)
        message["info"] = infos
        return message

    def audience(self) -> Audience:
        if self.audience_mode == "everyone":
            return Audience(everyone=True)
        return Audience.model_validate(
            {"members": self.members, "organisations": self.organisations, "persons": self.persons}
        )

    def epidemic(self) -> dict[str, Any] | None:
        if not (self.disease_code or self.disease_name):
            return None
        result: dict[str, Any] = {
            "disease": {"system": self.disease_system, "code": self.disease_code, "name": self.disease_name},
            "cases": _count(self.cases),
            "deaths": _count(self.deaths),
        }
        if self.disease_assessment:
            result["assessment"] = self.disease_assessment
        return result


def _count(text: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        return -1  # refused by the epidemic's own check, which names the field


def _check_epidemic(c: Composition) -> None:
    """The epidemic section's own problems, in words: counts are whole numbers, and a code is one of the list."""
    from accord.surveillance import reference

    for name, value, label in (("cases", c.cases, _("Cases")), ("deaths", c.deaths, _("Deaths"))):
        if value and not (value.isdigit() and int(value) <= 10**9):
            c.problem(f"/epidemic/{name}", str(_("%(field)s: enter a whole number, 0 or more.") % {"field": label}))
    if c.disease_code and reference.find_disease(c.disease_code) is None:
        c.problem(
            "/epidemic/disease/code",
            str(
                _(
                    "%(code)s is not the ICD code of a disease on the list: check the code, or leave it empty and "
                    "write the disease's name."
                )
                % {"code": c.disease_code}
            ),
        )


def cap_time_of_input(text: str) -> str | None:
    """A datetime-local value (taken as UTC) as a CAP date."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return mapping.cap_time(moment)


def input_of_cap_time(text: str | None) -> str:
    moment = mapping.parse_cap_time(text)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _indexes(data: QueryDict, prefix: str) -> list[int]:
    found = set()
    for key in data:
        match = _INDEX.match(key)
        if match and match.group(1) == prefix:
            found.add(int(match.group(2)))
    return sorted(found)


def _keep_json(text: str, allowed: set[str]) -> tuple[str, str | None]:
    """Validated JSON of kept CAP elements (normalised), or an error."""
    if not text.strip():
        return "", None
    try:
        value = json.loads(text)
    except ValueError:
        return "", str(_("the kept elements are not JSON"))
    if not isinstance(value, dict) or not set(value) <= allowed:
        return "", str(_("the kept elements are not CAP elements the composer keeps"))
    return json.dumps(value, ensure_ascii=False, sort_keys=True), None


def from_post(data: QueryDict) -> Composition:
    """Read the composer's fields. Problems the fields themselves have go into `problems`."""
    c = Composition(
        status=data.get("status", "actual"),
        disease_system=data.get("disease-system", "ICD-10"),
        disease_code=data.get("disease-code", "").strip(),
        disease_name=data.get("disease-name", "").strip(),
        cases=data.get("disease-cases", "").strip(),
        deaths=data.get("disease-deaths", "").strip(),
        disease_assessment=data.get("disease-assessment", "").strip(),
        audience_mode="named" if data.get("audience") == "named" else "everyone",
        members=[m for m in data.getlist("members") if m],
        organisations=[o for o in data.getlist("organisations") if o],
        persons=[p for p in data.getlist("persons") if p],
        tlp=data.get("tlp", ""),
    )
    c.keep, error = _keep_json(data.get("keep", ""), _ALERT_KEEPABLE)
    if error:
        c.problem("/alert", error)
    if c.status not in STATUSES:
        c.problem("/alert/status", str(_("choose the status: actual, exercise or test")))
    if c.tlp not in TLPS:
        c.problem("/alert/tlp", str(_("choose a TLP label")))
    if c.disease_system not in DISEASE_SYSTEMS:
        c.problem("/epidemic/disease/system", str(_("choose ICD-10 or ICD-11")))
    _check_epidemic(c)
    infos = _indexes(data, "info")
    if not infos:
        c.problem("/alert/info", str(_("an alert needs at least one info block")))
    if len(infos) > MAX_INFOS:
        c.problem("/alert/info", str(_("at most %(count)d info blocks") % {"count": MAX_INFOS}))
    for number, index in enumerate(infos[:MAX_INFOS]):
        p = f"info-{index}-"
        info = InfoBlock(
            index=index,
            language=data.get(p + "language", "").strip(),
            categories=[v for v in data.getlist(p + "category") if v],
            event=data.get(p + "event", ""),
            urgency=data.get(p + "urgency", ""),
            severity=data.get(p + "severity", ""),
            certainty=data.get(p + "certainty", ""),
            headline=data.get(p + "headline", ""),
            description=data.get(p + "description", ""),
            instruction=data.get(p + "instruction", ""),
            expires=data.get(p + "expires", "").strip(),
        )
        path = f"/alert/info[{number + 1}]"
        info.keep, error = _keep_json(data.get(p + "keep", ""), _INFO_KEEPABLE)
        if error:
            c.problem(path, error)
        for name, allowed, message in (
            ("urgency", URGENCIES, _("choose the urgency")),
            ("severity", SEVERITIES, _("choose the severity")),
            ("certainty", CERTAINTIES, _("choose the certainty")),
        ):
            if getattr(info, name) not in allowed:
                c.problem(f"{path}/{name}", str(message))
        if not info.categories or not set(info.categories) <= set(CATEGORIES):
            c.problem(f"{path}/category", str(_("choose at least one category")))
        if info.expires and cap_time_of_input(info.expires) is None:
            c.problem(f"{path}/expires", str(_("the expiry is not a date and time")))
        c.infos.append(info)
    areas = _indexes(data, "area")
    if len(areas) > MAX_AREAS:
        c.problem("/alert/info[1]/area", str(_("at most %(count)d areas") % {"count": MAX_AREAS}))
    for number, index in enumerate(areas[:MAX_AREAS]):
        p = f"area-{index}-"
        row = AreaRow(
            index=index,
            kind=data.get(p + "kind", ""),
            desc=data.get(p + "desc", ""),
            polygon=data.get(p + "polygon", ""),
            lat=data.get(p + "lat", ""),
            lon=data.get(p + "lon", ""),
            radius=data.get(p + "radius", ""),
            member=data.get(p + "member", ""),
            geocode_name=data.get(p + "geocode-name", ""),
            geocode_value=data.get(p + "geocode-value", ""),
        )
        path = f"/alert/info[1]/area[{number + 1}]"
        if row.kind not in AREA_KINDS:
            c.problem(path, str(_("unknown kind of area")))
            row.kind = "polygon"
        elif row.kind == "member" and member_polygon(row.member) is None:
            c.problem(path, str(_("choose a member state")))
        c.areas.append(row)
    return c


def from_message(
    cap: dict[str, Any], *, status: str, audience: dict[str, Any], tlp: str, epidemic: dict[str, Any] | None
) -> Composition:
    """A composition holding a stored message, to write its update."""
    c = Composition(status=status, tlp=tlp)
    c.keep = json.dumps({k: v for k, v in cap.items() if k in _ALERT_KEEPABLE}, ensure_ascii=False, sort_keys=True)
    if c.keep == "{}":
        c.keep = ""
    for index, info in enumerate(cap.get("info", [])):
        kept = {k: v for k, v in info.items() if k in _INFO_KEEPABLE}
        c.infos.append(
            InfoBlock(
                index=index,
                language=info.get("language", "en-US"),
                categories=list(info.get("category", [])),
                event=info.get("event", ""),
                urgency=info.get("urgency", ""),
                severity=info.get("severity", ""),
                certainty=info.get("certainty", ""),
                headline=info.get("headline", ""),
                description=info.get("description", ""),
                instruction=info.get("instruction", ""),
                expires=input_of_cap_time(info.get("expires")),
                keep=json.dumps(kept, ensure_ascii=False, sort_keys=True) if kept else "",
            )
        )
    first = mapping.first_info(cap)
    for area in first.get("area", []):
        desc = area.get("areaDesc", "")
        for polygon in area.get("polygon", []):
            c.areas.append(AreaRow(index=len(c.areas), kind="polygon", desc=desc, polygon=polygon))
        for circle in area.get("circle", []):
            centre, _sep, radius = circle.partition(" ")
            lat, _sep, lon = centre.partition(",")
            c.areas.append(AreaRow(index=len(c.areas), kind="circle", desc=desc, lat=lat, lon=lon, radius=radius))
        for code in area.get("geocode", []):
            c.areas.append(
                AreaRow(
                    index=len(c.areas),
                    kind="geocode",
                    desc=desc,
                    geocode_name=code.get("valueName", ""),
                    geocode_value=code.get("value", ""),
                )
            )
    if audience.get("everyone"):
        c.audience_mode = "everyone"
    else:
        c.audience_mode = "named"
        c.members = list(audience.get("members", []))
        c.organisations = [str(o) for o in audience.get("organisations", [])]
        c.persons = [str(p) for p in audience.get("persons", [])]
    if epidemic:
        disease = epidemic.get("disease") or {}
        c.disease_system = disease.get("system", "ICD-10")
        c.disease_code = disease.get("code", "")
        c.disease_name = disease.get("name", "")
        c.cases = str(epidemic.get("cases", ""))
        c.deaths = str(epidemic.get("deaths", ""))
        c.disease_assessment = str(epidemic.get("assessment") or "")
    return c


def info_language(ui_language: str | None) -> str:
    """The info block language that goes with a page language: zh-hans -> zh-CN, ru -> ru-RU, else en-US."""
    prefix = (ui_language or "en")[:2].lower()
    return next((code for code in LANGUAGES if code.lower().startswith(prefix)), "en-US")


def blank(member: str | None, language: str = "en-US") -> Composition:
    """A new alert: one info block in the author's language; everyone, or the author's member, as audience."""
    return Composition(infos=[InfoBlock(language=language, categories=["Health"])], members=[member] if member else [])


# ---- member outlines -------------------------------------------------------------------------------


@cache
def member_outlines() -> dict[str, BaseGeometry]:
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return {f["properties"]["code"]: shape(f["geometry"]) for f in data["features"]}


@cache
def member_polygon(code: str) -> str | None:
    """A CAP polygon for a member state: the largest part of its bundled outline, at most 200 points.

    The ring is simplified until it has at most MAX_POLYGON_POINTS points (the first repeated last)
    and stays a simple ring after rounding to three decimals (about 100 m)."""
    outline = member_outlines().get(code)
    if outline is None:
        return None
    # The bundled outlines run east of the antimeridian (Russia's Chukotka, to ~190°); CAP stops at 180.
    clipped = outline.intersection(box(-180, -90, 180, 90))
    parts = [p for p in getattr(clipped, "geoms", [clipped]) if isinstance(p, Polygon)]
    if not parts:
        return None
    largest = Polygon(max(parts, key=lambda p: p.area).exterior)
    tolerance = 0.0
    while True:
        simplified = largest.simplify(tolerance, preserve_topology=True) if tolerance else largest
        points = [(round(lon, 3), round(lat, 3)) for lon, lat in simplified.exterior.coords]
        if len(points) <= MAX_POLYGON_POINTS and Polygon(points).is_valid and points[0] == points[-1]:
            return " ".join(f"{lat},{lon}" for lon, lat in points)
        tolerance = tolerance * 1.4 if tolerance else 0.02


def region_choices(*, outlined_only: bool = False) -> list[dict[str, str]]:
    """The members' first-level regions (ISO 3166-2), by member then name, in the active language: the composer's and
    the subscription form's region choosers (`outlined_only`: those with a bundled outline)."""
    from accord.members import outlines
    from accord.surveillance import reference

    drawn = outlines.region_codes() if outlined_only else None
    found = [r for r in reference.regions().values() if not r.whole_member and (drawn is None or r.code in drawn)]
    return [
        {"code": r.code, "name": r.name, "member": r.member} for r in sorted(found, key=lambda r: (r.member, r.name))
    ]


# ---- findings, back to the fields ------------------------------------------------------------------

SECTIONS = ("epidemic", "status", "tlp", "audience")
_PATH = re.compile(r"^/alert(?:/info\[(\d+)\](?:/(area)\[(\d+)\]|/([A-Za-z]+))?)?")


def attach(c: Composition, findings: list[dict[str, str]]) -> list[dict[str, str]]:
    """Put each finding's message on the field it is about; return the findings, with `anchor`, deduplicated.

    Areas are the same in every info block, so a finding about area 2 of info 1 and of info 3 is one finding."""
    shown: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for finding in findings:
        path = finding.get("path", "")
        words = in_words(finding)
        anchor = ""
        key = path
        match = _PATH.match(path)
        if match and match.group(1):
            info_number = int(match.group(1))
            if match.group(2) and match.group(3):
                area_number = int(match.group(3))
                key = re.sub(r"^/alert/info\[\d+\]", "/alert/info[*]", path)
                if area_number <= len(c.areas):
                    row = c.areas[area_number - 1]
                    anchor = f"area-{row.index}"
                    if (finding["rule"], key, finding["message"]) not in seen:
                        row.errors.append(words)
            elif info_number <= len(c.infos):
                info = c.infos[info_number - 1]
                name = match.group(4) or ""
                if name not in _INFO_EDITED:
                    name = "block"
                anchor = f"info-{info.index}-{name}" if name != "block" else f"info-{info.index}"
                if (finding["rule"], key, finding["message"]) not in seen:
                    info.errors.setdefault(name, []).append(words)
        elif path.startswith("/epidemic"):
            anchor = "epidemic"
        elif path in ("/alert/status", "/alert/tlp"):
            anchor = path.rsplit("/", 1)[1]
        elif path in ("/alert/scope", "/alert/addresses", "/alert/restriction"):
            anchor = "audience"
        if anchor in SECTIONS and (finding["rule"], key, finding["message"]) not in seen:
            c.section_errors.setdefault(anchor, []).append(words)
        if (finding["rule"], key, finding["message"]) in seen:
            continue
        seen.add((finding["rule"], key, finding["message"]))
        shown.append({**finding, "anchor": anchor, "words": words})
    return shown
