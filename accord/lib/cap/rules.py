"""Rules beyond the XSD (OASIS CAP 1.2 text, Google cap-library's CapValidator), applied to the 1.2 model.

Each check yields ``Finding`` objects with a stable rule id (see ``report.RULES``) and an XPath-like path
such as ``/alert/info[2]/area[1]/polygon[1]``. Empty values are left to CAP-REQUIRED and the XSD.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import numpy

from accord.lib.cap.model import Alert, Area, Info, Resource
from accord.lib.cap.report import Finding, finding

# shapely ships no type information; it is used through this untyped handle.
_shapely: Any = importlib.import_module("shapely")

CAP_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$")
LANGUAGE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
ID_FORBIDDEN = re.compile(r"[\s,<&]")
NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)$")
_DECIMAL = r"[-+]?+(?>\d++(?:\.\d*+)?+|\.\d++)"
# A polygon as CAP writes it: whitespace-separated 'lat,lon' pairs of plain decimals (NUMBER, without anchors).
POLYGON = re.compile(rf"\s*+{_DECIMAL},{_DECIMAL}(?:\s++{_DECIMAL},{_DECIMAL})*+\s*+")
MIME = re.compile(r"^([A-Za-z0-9][\w!#$&^.+-]*)/[A-Za-z0-9][\w!#$&^.+-]*\s*(;.*)?$")
MIME_TOP = frozenset(
    [
        "application",
        "audio",
        "example",
        "font",
        "image",
        "message",
        "model",
        "multipart",
        "text",
        "video",
        "haptics",
        "chemical",
    ]
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
SPACE = re.compile(r"\s")  # the characters str.isspace() accepts
# C0 controls (CR, LF and tab included), DEL, C1 controls, and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_NAMES = {
    "\r": "a carriage return (CR)",
    "\n": "a line feed (LF)",
    "\t": "a tab",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}
HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?\s*>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")


def cap_date(text: str) -> datetime | None:
    """The date if it has the CAP 1.2 form and exists (no 'Z', no fractions), else None."""
    if not CAP_DATE.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def any_date(text: str | None) -> datetime | None:
    """A timezone-aware date in any ISO 8601 form Python reads, for comparisons; None if there is none."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def is_absolute_uri(text: str) -> bool:
    if not text or SPACE.search(text):
        return False
    parts = urlsplit(text)
    if not parts.scheme or not SCHEME.match(parts.scheme):
        return False
    if parts.scheme.lower() in {"http", "https", "ftp", "ftps"}:
        return bool(parts.netloc)
    return bool(parts.netloc or parts.path)


def check_alert(alert: Alert, prefix: str = "/alert") -> list[Finding]:
    """Every rule beyond the XSD for one alert."""
    return list(_alert(alert, prefix, {}))


def _date(text: str | None, path: str, what: str) -> Iterator[Finding]:
    if text and cap_date(text) is None:
        yield finding("CAP-DATE-FORM", path, f"{what} {text!r} is not a CAP date (YYYY-MM-DDThh:mm:ss±hh:mm)")


# The findings of each area object of an alert (by id: the alert holds them all while it is checked), with paths
# relative to the area, and of each list of them (by their ids), with paths relative to the <info>. The <info>
# blocks of an alert in several languages usually repeat the same areas, and the reader gives identical areas
# as one object: each is checked once.
_AreaMemo = dict[int | tuple[int, ...], tuple[Finding, ...]]


def _alert(alert: Alert, prefix: str, areas: _AreaMemo) -> Iterator[Finding]:
    for name, value in (("identifier", alert.identifier), ("sender", alert.sender)):
        if value and ID_FORBIDDEN.search(value):
            yield finding("CAP-ID-CHARS", f"{prefix}/{name}", f"{name} {value!r} contains whitespace, ',', '<' or '&'")
    yield from _date(alert.sent, f"{prefix}/sent", "sent")
    yield from _references(alert, prefix)
    if alert.restriction is not None and alert.scope != "Restricted":
        yield finding(
            "CAP-RESTRICTION-SCOPE", f"{prefix}/restriction", f"restriction is used with scope {alert.scope!r}"
        )
    if alert.scope == "Restricted" and not alert.restriction:
        yield finding("CAP-RESTRICTION-SCOPE", f"{prefix}/scope", "scope Restricted needs a <restriction>")
    if alert.scope == "Private" and not alert.addresses:
        yield finding("CAP-ADDRESSES-PRIVATE", f"{prefix}/scope", "scope Private needs <addresses>")
    if alert.msg_type in {"Alert", "Update"} and not alert.infos:
        yield finding("CAP-INFO-MISSING", prefix, f"a msgType {alert.msg_type} message without any <info>")
    yield from _html(alert.note, f"{prefix}/note")
    sent = any_date(alert.sent)
    for index, info in enumerate(alert.infos, 1):
        yield from _info(info, f"{prefix}/info[{index}]", sent, areas)
    yield from _info_sets(alert, prefix)


def _references(alert: Alert, prefix: str) -> Iterator[Finding]:
    path = f"{prefix}/references"
    if alert.msg_type in {"Update", "Cancel", "Ack", "Error"} and not alert.references:
        yield finding("CAP-REF-MISSING", path, f"a msgType {alert.msg_type} message should reference earlier ones")
    sent = any_date(alert.sent)
    seen: set[tuple[str, str]] = set()
    for index, reference in enumerate(alert.references or (), 1):
        label = f"entry {index} {str(reference)!r}"
        if not (reference.sender and reference.identifier and reference.sent):
            yield finding("CAP-REF-TRIPLET", path, f"{label} is not 'sender,identifier,sent'")
            continue
        yield from _date(reference.sent, path, f"{label}: sent")
        if reference.sender == alert.sender and reference.identifier == alert.identifier:
            yield finding("CAP-REF-SELF", path, f"{label} is this message itself")
        key = (reference.sender, reference.identifier)
        if key in seen:
            yield finding("CAP-REF-DUPLICATE", path, f"{label} is listed more than once")
        seen.add(key)
        referenced = any_date(reference.sent)
        if sent is not None and referenced is not None and referenced > sent:
            yield finding("CAP-REF-LATER", path, f"{label} is dated after this message ({alert.sent})")


def _html(text: str | None, path: str) -> Iterator[Finding]:
    if text:
        match = HTML.search(text)
        if match:
            yield finding("CAP-HTML", path, f"HTML markup {match.group(0)[:40]!r} in a text field")


def _info(info: Info, path: str, sent: datetime | None, areas: _AreaMemo) -> Iterator[Finding]:
    if info.language and not LANGUAGE.match(info.language):
        yield finding("CAP-LANGUAGE", f"{path}/language", f"{info.language!r} is not an RFC 3066 language tag")
    for name, value in (("effective", info.effective), ("onset", info.onset), ("expires", info.expires)):
        if value and cap_date(value) is None:
            yield from _date(value, f"{path}/{name}", name)
    effective, onset, expires = any_date(info.effective), any_date(info.onset), any_date(info.expires)
    if expires is not None:
        if effective is not None and effective > expires:
            yield finding(
                "CAP-EFFECTIVE-EXPIRES", f"{path}/effective", f"effective {info.effective} is after {info.expires}"
            )
        if onset is not None and onset > expires:
            yield finding("CAP-ONSET-EXPIRES", f"{path}/onset", f"onset {info.onset} is after {info.expires}")
        if sent is not None and sent > expires:
            yield finding("CAP-EXPIRED", f"{path}/expires", f"expires {info.expires} is before the message was sent")
    if info.headline and (control := CONTROL.search(info.headline)):
        # A headline is one line (a subject, a banner, a feed title): a line break in it can split a header.
        char = control.group(0)
        what = _CONTROL_NAMES.get(char, f"the control character U+{ord(char):04X}")
        yield finding(
            "CAP-HEADLINE-CONTROL",
            f"{path}/headline",
            f"the headline holds {what} at character {control.start() + 1}; write it on one line",
        )
    if info.web and not is_absolute_uri(info.web):
        yield finding("CAP-WEB-URI", f"{path}/web", f"web {info.web!r} is not an absolute URI")
    elif info.web and info.web.split(":", 1)[0].strip().lower() not in ("http", "https"):
        # An absolute URI, but not one a reader can safely follow (javascript:, data:, file:...).
        yield finding("CAP-WEB-SCHEME", f"{path}/web", f"web {info.web!r} is not an http or https address")
    for name, value in (
        ("event", info.event),
        ("audience", info.audience),
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("contact", info.contact),
    ):
        if value and HTML.search(value):
            yield from _html(value, f"{path}/{name}")
    for index, resource in enumerate(info.resources, 1):
        yield from _resource(resource, f"{path}/resource[{index}]")
    if info.areas:
        key = tuple(map(id, info.areas))
        found = areas.get(key)
        if found is None:
            found = areas[key] = tuple(_areas(info.areas, areas))
        for item in found:
            yield Finding(item.rule, item.severity, path + item.path, item.message)


def _areas(items: tuple[Area, ...], areas: _AreaMemo) -> Iterator[Finding]:
    """The findings of a list of areas, with paths relative to the <info> that holds them."""
    for index, area in enumerate(items, 1):
        found = areas.get(id(area))
        if found is None:
            found = areas[id(area)] = tuple(_area(area, ""))
        for item in found:
            yield Finding(item.rule, item.severity, f"/area[{index}]{item.path}", item.message)


def _info_sets(alert: Alert, prefix: str) -> Iterator[Finding]:
    infos = alert.infos
    if len(infos) < 2:
        return
    first_categories = frozenset(infos[0].categories)
    first_codes = frozenset(infos[0].event_codes)
    for index, info in enumerate(infos[1:], 2):
        path = f"{prefix}/info[{index}]"
        if frozenset(info.categories) != first_categories:
            yield finding("CAP-INFO-CATEGORY-SET", path, "categories differ from those of info[1]")
        if frozenset(info.event_codes) != first_codes:
            yield finding("CAP-INFO-EVENTCODE-SET", path, "event codes differ from those of info[1]")
    events: dict[str, tuple[int, str]] = {}
    for index, info in enumerate(infos, 1):
        earlier = events.setdefault(info.language_or_default.lower(), (index, info.event))
        if earlier[1] != info.event:
            yield finding(
                "CAP-INFO-EVENT",
                f"{prefix}/info[{index}]/event",
                f"event {info.event!r} differs from {earlier[1]!r} of info[{earlier[0]}] in the same language",
            )
    for name in ("headline", "description", "instruction"):
        texts: dict[str, tuple[int, str]] = {}
        for index, info in enumerate(infos, 1):
            text = getattr(info, name)
            if not text:
                continue
            earlier = texts.setdefault(text, (index, info.language_or_default.lower()))
            if earlier[1] != info.language_or_default.lower():
                yield finding(
                    "CAP-INFO-TEXT-REPEAT",
                    f"{prefix}/info[{index}]/{name}",
                    f"the same {name} as info[{earlier[0]}], which is in another language",
                )


def _resource(resource: Resource, path: str) -> Iterator[Finding]:
    yield from _html(resource.resource_desc, f"{path}/resourceDesc")
    if resource.mime_type:
        match = MIME.match(resource.mime_type)
        top = match.group(1).lower() if match else ""
        if not match or not (top in MIME_TOP or top.startswith("x-")):
            yield finding(
                "CAP-RESOURCE-MIME", f"{path}/mimeType", f"{resource.mime_type!r} is not an RFC 2046 media type"
            )
    if resource.size is not None and resource.size < 0:
        yield finding("CAP-RESOURCE-SIZE", f"{path}/size", f"size {resource.size} is negative")
    uri = resource.uri
    relative_ok = resource.deref_uri is not None and uri is not None and not SPACE.search(uri)
    if uri is not None and not is_absolute_uri(uri) and not relative_ok:
        yield finding("CAP-RESOURCE-URI", f"{path}/uri", f"uri {uri!r} is not absolute (and there is no derefUri)")
    content: bytes | None = None
    if resource.deref_uri is not None:
        try:
            content = base64.b64decode("".join(resource.deref_uri.split()), validate=True)
        except (binascii.Error, ValueError):
            yield finding("CAP-RESOURCE-DEREF", f"{path}/derefUri", "derefUri is not base64 data")
    if resource.digest is not None:
        if not SHA1_HEX.match(resource.digest):
            yield finding(
                "CAP-RESOURCE-DIGEST", f"{path}/digest", f"digest {resource.digest!r} is not a SHA-1 hex digest"
            )
        elif content is not None and hashlib.sha1(content).hexdigest() != resource.digest.lower():  # noqa: S324
            yield finding("CAP-RESOURCE-DIGEST", f"{path}/digest", "digest does not match the derefUri content")


def _number(text: str) -> float | None:
    return float(text) if NUMBER.match(text) else None


def _point(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _number(parts[0].strip()), _number(parts[1].strip())
    return None if lat is None or lon is None else (lat, lon)


def _in_range(point: tuple[float, float]) -> bool:
    return -90 <= point[0] <= 90 and -180 <= point[1] <= 180


_NOT_PUNCTUATION = str.maketrans("", "", "0123456789.+-")


def _coordinates(text: str) -> list[float] | None:
    """The numbers of a polygon that is whitespace-separated 'lat,lon' pairs of plain decimals, else None."""
    tokens = text.split()
    normal = " ".join(tokens)
    # Quick check for ASCII decimals: without digits, dots and signs, the pairs must leave just ", , ... ,".
    if tokens and normal.translate(_NOT_PUNCTUATION) == ", " * (len(tokens) - 1) + ",":
        try:  # over these characters float() accepts exactly what NUMBER matches (an empty one fails)
            return list(map(float, normal.replace(",", " ").split(" ")))
        except ValueError:
            return None
    if POLYGON.fullmatch(text):  # other decimal digits, or not a polygon at all
        return list(map(float, text.replace(",", " ").split()))
    return None


def _polygon(text: str, path: str) -> Iterator[Finding]:
    values = _coordinates(text)
    if values is None:
        yield from _bad_polygon(text, path)
        return
    lats, lons = values[0::2], values[1::2]
    if len(lats) < 4:
        yield finding("CAP-POLYGON-FORM", path, f"a polygon needs at least 4 points, this one has {len(lats)}")
        return
    closed = lats[0] == lats[-1] and lons[0] == lons[-1]
    if not closed:
        yield finding("CAP-POLYGON-CLOSED", path, "the first and last points differ")
    if min(lats) < -90 or max(lats) > 90 or min(lons) < -180 or max(lons) > 180:
        lat, lon = next(point for point in zip(lats, lons, strict=True) if not _in_range(point))
        yield finding("CAP-POLYGON-RANGE", path, f"point {lat},{lon} is out of range")
        return
    ring = numpy.array(values).reshape(-1, 2)[:, ::-1]  # (lon, lat) rows
    if not closed:
        ring = numpy.vstack((ring, ring[:1]))
    polygon = _shapely.polygons(ring)
    if not _shapely.is_valid(polygon):
        reason = _shapely.is_valid_reason(polygon)
        yield finding("CAP-POLYGON-SELF-INTERSECT", path, f"the polygon is not simple: {reason}")


def _bad_polygon(text: str, path: str) -> Iterator[Finding]:
    """The finding for a polygon that is not a whitespace-separated list of 'lat,lon' pairs."""
    tokens = text.split()
    if not tokens:
        yield finding("CAP-POLYGON-FORM", path, "the polygon is empty")
        return
    bad = next((token for token in tokens if _point(token) is None), tokens[0])
    yield finding("CAP-POLYGON-FORM", path, f"{bad[:40]!r} is not a 'lat,lon' pair")


def _circle(text: str, path: str) -> Iterator[Finding]:
    parts = text.split()
    point = _point(parts[0]) if len(parts) == 2 else None
    radius = _number(parts[1]) if len(parts) == 2 else None
    if point is None or radius is None or radius < 0:
        yield finding("CAP-CIRCLE-FORM", path, f"{text[:60]!r} is not 'lat,lon radius' (radius in km, >= 0)")
        return
    if not _in_range(point):
        yield finding("CAP-CIRCLE-RANGE", path, f"centre {point[0]},{point[1]} is out of range")
    if radius == 0:
        yield finding("CAP-CIRCLE-ZERO", path, "a circle of radius 0 covers no area")


def _decimal(text: str) -> Decimal | None:
    if not NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _area(area: Area, path: str) -> Iterator[Finding]:
    yield from _html(area.area_desc, f"{path}/areaDesc")
    for index, polygon in enumerate(area.polygons, 1):
        yield from _polygon(polygon, f"{path}/polygon[{index}]")
    for index, circle in enumerate(area.circles, 1):
        yield from _circle(circle, f"{path}/circle[{index}]")
    altitude = ceiling = None
    for name, value in (("altitude", area.altitude), ("ceiling", area.ceiling)):
        if value:
            number = _decimal(value)
            if number is None:
                yield finding("CAP-ALTITUDE-FORM", f"{path}/{name}", f"{name} {value!r} is not a decimal number")
            elif name == "altitude":
                altitude = number
            else:
                ceiling = number
    if area.ceiling and not area.altitude:
        yield finding("CAP-CEILING-ALTITUDE", f"{path}/ceiling", "ceiling is given without altitude")
    elif altitude is not None and ceiling is not None and ceiling < altitude:
        yield finding("CAP-CEILING-ALTITUDE", f"{path}/ceiling", f"ceiling {ceiling} is below altitude {altitude}")
