"""The common operating picture: everything current that the reader may see, as GeoJSON features
(`GET /api/v1/map.geojson`, the map page).

* **alerts** in force (active, not expired, not a Cancel), drawn by their CAP areas (polygons and circles), else at
  the capital of the member that sent them; `severity` from CAP;
* **incidents** open, at the capital of their lead member (each affected member is listed); `level` 0-3;
* **signals** of the detectors that are open or verified, at their region's administrative centre (a joint signal
  at its first region's), else at the member's capital;
* **deployments** under way (mobilising to operating), at their point, else their region's centre.

Each layer is read through its app's query, which applies the audience filter; a signal's visibility is that of its
case-count series. Every feature has `properties.kind` and `properties.record` (the record's uuid; a signal's own
uuid), a title, the member, a time, and the path of its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from accord.alerts import mapping
from accord.alerts.queries import AlertFilter, alerts_for
from accord.members.capitals import capital
from accord.records import kinds
from accord.records.principal import Principal
from accord.response.assist_queries import current_deployments, point_out
from accord.response.queries import IncidentFilter, incidents_for
from accord.surveillance import reference
from accord.surveillance.models import Signal
from accord.surveillance.queries import signals_for

LAYERS = ("alert", "incident", "signal", "deployment")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
MAX_FEATURES = 2000  # per layer; `truncated` says when a layer had more


@dataclass(frozen=True)
class MapFilter:
    layers: tuple[str, ...] = LAYERS
    hazard: str | None = None  # an alert's event or disease, an incident's hazard, a signal's disease (ICD-10)
    member: str | None = None
    severity: str | None = None  # alerts only
    since: datetime | None = None
    until: datetime | None = None


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}


def _member_point(member: str) -> dict[str, Any] | None:
    found = capital(member)
    return _point(found.lat, found.lon) if found is not None else None


def _region_point(code: str, member: str) -> dict[str, Any] | None:
    region = reference.regions().get(code) if code else None
    if region is not None and region.point is not None:
        return _point(*region.point)
    return _member_point(member)


def _feature(geometry: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any] | None:
    if geometry is None:
        return None
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _alert_geometry(areas: list[dict[str, Any]], member: str) -> dict[str, Any] | None:
    shapes = [a["geometry"] for a in areas if isinstance(a, dict) and isinstance(a.get("geometry"), dict)]
    polygons: list[Any] = []
    for shape in shapes:
        if shape.get("type") == "Polygon":
            polygons.append(shape["coordinates"])
        elif shape.get("type") == "MultiPolygon":
            polygons.extend(shape["coordinates"])
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    if polygons:
        return {"type": "MultiPolygon", "coordinates": polygons}
    return _member_point(member)


def _alerts(principal: Principal, where: MapFilter) -> list[dict[str, Any]]:
    rows = alerts_for(
        principal,
        AlertFilter(member=where.member, severity=where.severity, since=where.since, until=where.until, active=True),
    ).exclude(alert_view__msg_type="Cancel")
    if where.hazard:
        hazard = where.hazard.strip()
        rows = rows.filter(
            Q(alert_view__event__iexact=hazard)
            | Q(alert_view__disease_code__iexact=hazard)
            | Q(alert_view__categories__contains=f",{hazard},")
        )
    out: list[dict[str, Any]] = []
    language = get_language() or "en"
    for record in rows[:MAX_FEATURES]:
        view = record.alert_view
        info = mapping.info_in(
            (record.current_version.body.get("cap") or {}) if record.current_version else {}, language
        )
        feature = _feature(
            _alert_geometry(view.areas, view.member),
            {
                "kind": "alert",
                "record": str(record.uuid),
                "title": str(info.get("headline") or info.get("event") or view.headline or view.event),
                "member": view.member,
                "severity": view.severity or "Unknown",
                "urgency": view.urgency,
                "event": view.event,
                "hazard": view.disease_code or view.event,
                "time": view.sent_at.isoformat(),
                "expires": view.expires_at.isoformat() if view.expires_at else None,
                "status": record.current_version.status if record.current_version else "",
                "url": kinds.page_path("alert", record.uuid),
            },
        )
        if feature is not None:
            out.append(feature)
    return out


def _incidents(principal: Principal, where: MapFilter) -> list[dict[str, Any]]:
    rows = incidents_for(principal, IncidentFilter(status="open", hazard=where.hazard, member=where.member))
    rows = rows.filter(current_version__state="active")
    if where.since:
        rows = rows.filter(incident_view__updated_at__gte=where.since)
    if where.until:
        rows = rows.filter(incident_view__opened_at__lte=where.until)
    out: list[dict[str, Any]] = []
    for record in rows[:MAX_FEATURES]:
        view = record.incident_view
        affected = [code for code in view.affected.split(",") if code]
        feature = _feature(
            _member_point(view.lead or view.member) or next(filter(None, map(_member_point, affected)), None),
            {
                "kind": "incident",
                "record": str(record.uuid),
                "title": view.title,
                "member": view.member,
                "level": view.level,
                "hazard": view.hazard,
                "affected": affected,
                "time": view.updated_at.isoformat(),
                "status": record.current_version.status if record.current_version else "",
                "url": kinds.page_path("incident", record.uuid),
            },
        )
        if feature is not None:
            out.append(feature)
    return out


def _signals(principal: Principal, where: MapFilter) -> list[dict[str, Any]]:
    rows = signals_for(principal).filter(status__in=(Signal.Status.OPEN, Signal.Status.VERIFIED))
    if where.hazard:
        rows = rows.filter(disease__iexact=where.hazard.strip())
    if where.since:
        rows = rows.filter(week_start__gte=where.since.date())
    if where.until:
        rows = rows.filter(week_start__lte=where.until.date())
    out: list[dict[str, Any]] = []
    for signal in rows.order_by("-week_start", "-pk")[: MAX_FEATURES * 2]:
        if where.member and not signal.involves(where.member):
            continue
        if len(out) >= MAX_FEATURES:
            break
        region = signal.region or (signal.regions[0] if signal.regions else "")
        member = signal.member if signal.member != "SCO" else (signal.members[0] if signal.members else "SCO")
        disease = reference.diseases().get(signal.disease)
        feature = _feature(
            _region_point(region, member),
            {
                "kind": "signal",
                "record": str(signal.uuid),
                "title": f"{disease.name if disease else signal.disease}: {signal.observed}",
                "member": signal.member,
                "hazard": signal.disease,
                "region": region,
                "signal_status": signal.status,
                "observed": signal.observed,
                "threshold": signal.threshold,
                "time": signal.week_start.isoformat(),
                "url": reverse("surveillance-signal", kwargs={"signal_uuid": str(signal.uuid)}),
            },
        )
        if feature is not None:
            out.append(feature)
    return out


def _deployments(principal: Principal, where: MapFilter) -> list[dict[str, Any]]:
    rows = current_deployments(principal)
    if where.member:
        rows = rows.filter(deployment_view__member=where.member)
    if where.since:
        rows = rows.filter(deployment_view__updated_at__gte=where.since)
    if where.until:
        rows = rows.filter(deployment_view__updated_at__lte=where.until)
    out: list[dict[str, Any]] = []
    for record in rows[:MAX_FEATURES]:
        view = record.deployment_view
        body = record.current_version.body if record.current_version else {}
        point = point_out((body.get("location") or {}).get("point"))
        geometry = _point(point["lat"], point["lon"]) if point else _region_point(view.region, view.member)
        feature = _feature(
            geometry,
            {
                "kind": "deployment",
                "record": str(record.uuid),
                "title": f"{view.resource_type} × {view.quantity}",
                "member": view.member,
                "deployment_status": view.status,
                "region": view.region,
                "time": view.updated_at.isoformat(),
                "url": kinds.page_path("deployment", record.uuid),
            },
        )
        if feature is not None:
            out.append(feature)
    return out


READERS = {"alert": _alerts, "incident": _incidents, "signal": _signals, "deployment": _deployments}


def features(principal: Principal, where: MapFilter) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the layers asked for, with `counts` per layer and the layers `truncated`."""
    found: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    truncated: list[str] = []
    for layer in LAYERS:
        if layer not in where.layers:
            continue
        if layer != "alert" and where.severity:
            counts[layer] = 0  # severity is CAP's: only alerts have one
            continue
        rows = READERS[layer](principal, where)
        counts[layer] = len(rows)
        if len(rows) >= MAX_FEATURES:
            truncated.append(layer)
        found.extend(rows)
    return {
        "type": "FeatureCollection",
        "features": found,
        "counts": counts,
        "truncated": truncated,
        "generated_at": timezone.now().isoformat(),
    }
