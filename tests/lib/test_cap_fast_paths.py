"""The fast paths of the codec and validator give exactly what the straightforward ones give.

* The fast reader (``codec._fast_alert``) either gives up or reads what the full reader (``codec._Reader``)
  reads, and it only succeeds when the full reader has no problem to report and nothing to note but XML
  signatures.
* The polygon rule reads a whole polygon at once; it finds what a point-by-point reading finds.
* ``parse`` right after ``validate`` of the same bytes reuses what the validator read.
* Areas repeated across the ``<info>`` blocks of an alert are read and checked once, and reported for each.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from accord.lib.cap import CapError, codec, parse, rules, validate
from accord.lib.cap.secure import parse_xml
from tests.lib.test_cap_rules import GOOD_ALERT

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
CAP = "urn:oasis:names:tc:emergency:cap:1.2"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _full_read(root: etree._Element) -> tuple[Any, list[str], list[codec.Problem]]:
    reader = codec._Reader(namespace=etree.QName(root).namespace, version="1.2")
    return reader.alert(root), reader.notes, reader.problems


def _agree(root: etree._Element) -> bool:
    """Whether the fast reader read the alert (it must then agree with the full reader)."""
    alert, notes, problems = _full_read(root)
    try:
        fast, fast_notes = codec._fast_alert(root)
    except codec._Unusual:
        return False
    assert fast == alert
    assert list(fast_notes) == notes
    assert all("Signature" in note for note in notes)
    assert problems == []
    return True


def _cap_12_roots() -> list[etree._Element]:
    roots = []
    for path in sorted(DATA.iterdir()):
        try:
            root = parse_xml(path.read_bytes())
        except CapError:
            continue
        for element in root.iter(f"{{{CAP}}}alert"):
            roots.append(copy.deepcopy(element))
    return roots


def test_the_fast_reader_agrees_with_the_full_reader_on_the_corpus() -> None:
    roots = _cap_12_roots()
    read = [_agree(root) for root in roots]
    assert len(roots) >= 20
    assert sum(read) >= len(roots) // 2  # most real alerts take the fast path
    assert _agree(parse_xml(GOOD_ALERT.encode()))


def _mutated(data: st.DataObject) -> etree._Element:
    root = parse_xml(GOOD_ALERT.encode())
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        elements = [element for element in root.iter() if isinstance(element.tag, str)]
        target = data.draw(st.sampled_from(elements), label="target")
        action = data.draw(
            st.sampled_from(
                [
                    "remove",
                    "repeat",
                    "comment",
                    "cdata",
                    "empty",
                    "blank",
                    "unknown",
                    "foreign",
                    "swap",
                    "pi",
                    "signature",
                ]
            ),
            label="action",
        )
        parent = target.getparent()
        if action == "remove" and parent is not None:
            parent.remove(target)
        elif action == "repeat" and parent is not None:
            target.addnext(copy.deepcopy(target))
        elif action == "comment":
            target.insert(data.draw(st.integers(0, len(target))), etree.Comment("note"))
        elif action == "pi":
            target.insert(data.draw(st.integers(0, len(target))), etree.ProcessingInstruction("x", "y"))
        elif action == "cdata" and len(target) == 0:
            target.text = etree.CDATA(f"  {target.text or ''} ")
        elif action == "empty" and len(target) == 0:
            target.text = None
        elif action == "blank" and len(target) == 0:
            target.text = " \n\t "
        elif action == "unknown":
            etree.SubElement(target, f"{{{CAP}}}unknownThing").text = "x"
        elif action == "foreign":
            etree.SubElement(target, "{urn:example:other}thing").text = "x"
        elif action == "signature":
            etree.SubElement(target, "{http://www.w3.org/2000/09/xmldsig#}Signature").text = "x"
        elif action == "swap" and len(target) >= 2:
            first = target[0]
            target.remove(first)
            target.append(first)
    return parse_xml(etree.tostring(root))


@FUZZ
@given(st.data())
def test_the_fast_reader_agrees_with_the_full_reader_on_mutated_alerts(data: st.DataObject) -> None:
    _agree(_mutated(data))


# The polygon rule as it was first written: one point at a time, a regular expression per number.
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)$")


def _point(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2:
        return None
    numbers = [float(part.strip()) if _NUMBER.match(part.strip()) else None for part in parts]
    lat, lon = numbers
    return None if lat is None or lon is None else (lat, lon)


def _reference_polygon(text: str) -> list[tuple[str, str]]:
    tokens = text.split()
    points = [_point(token) for token in tokens]
    bad = [token for token, point in zip(tokens, points, strict=True) if point is None]
    if not tokens:
        return [("CAP-POLYGON-FORM", "the polygon is empty")]
    if bad:
        return [("CAP-POLYGON-FORM", f"{bad[0][:40]!r} is not a 'lat,lon' pair")]
    coordinates = [point for point in points if point is not None]
    if len(coordinates) < 4:
        return [("CAP-POLYGON-FORM", f"a polygon needs at least 4 points, this one has {len(coordinates)}")]
    found = []
    if coordinates[0] != coordinates[-1]:
        found.append(("CAP-POLYGON-CLOSED", "the first and last points differ"))
    outside = [point for point in coordinates if not (-90 <= point[0] <= 90 and -180 <= point[1] <= 180)]
    if outside:
        return [*found, ("CAP-POLYGON-RANGE", f"point {outside[0][0]},{outside[0][1]} is out of range")]
    ring = [(lon, lat) for lat, lon in coordinates]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    reason = str(shapely.is_valid_reason(shapely.Polygon(ring)))
    if reason != "Valid Geometry":
        found.append(("CAP-POLYGON-SELF-INTERSECT", f"the polygon is not simple: {reason}"))
    return found


def _polygon(text: str) -> list[tuple[str, str]]:
    found = list(rules._polygon(text, "/p"))
    assert all(item.path == "/p" for item in found)
    return [(item.rule, item.message) for item in found]


_numbers = st.one_of(
    st.floats(-200, 200, allow_nan=False).map(lambda value: f"{value:.{abs(int(value)) % 7}f}"),
    st.integers(-200, 200).map(str),
    st.sampled_from(["+0.", "-.5", ".5", "1e3", "nan", "inf", "", ".", "-", "+", "1.2.3", "1_0", "٣", "١.٥"]),
    st.just("9" * 400),
)
_points = st.one_of(
    st.tuples(_numbers, _numbers).map(",".join),
    st.tuples(_numbers, _numbers, _numbers).map(",".join),
    _numbers,
    st.tuples(_numbers, _numbers).map(", ".join),
)
_spaces = st.sampled_from([" ", " ", "\n", "\t", "  ", "\u00a0", "\u2003", ""])


@FUZZ
@given(st.lists(st.tuples(_points, _spaces), max_size=9), _spaces, st.booleans())
def test_the_polygon_rule_finds_what_a_point_by_point_reading_finds(
    points: list[tuple[str, str]], lead: str, close: bool
) -> None:
    if close and points:
        points = [*points, points[0]]
    text = lead + "".join(point + space for point, space in points)
    assert _polygon(text) == _reference_polygon(text)


@FUZZ
@given(st.lists(st.tuples(st.floats(-89, 89), st.floats(-179, 179)), min_size=3, max_size=9), st.booleans())
def test_the_polygon_rule_agrees_on_well_formed_polygons(points: list[tuple[float, float]], close: bool) -> None:
    if close:
        points = [*points, points[0]]
    text = " ".join(f"{lat},{lon}" for lat, lon in points)
    assert _polygon(text) == _reference_polygon(text)


def test_parse_after_validate_reuses_what_the_validator_read() -> None:
    data = GOOD_ALERT.encode()
    report = validate(data)
    parsed = parse(data)
    assert parsed.alert is report.alerts[0]
    assert parsed.version == report.version
    assert parsed.notes == report.notes
    assert parse(bytes(bytearray(data))).alert is report.alerts[0]  # equal bytes, another object
    with pytest.raises(CapError) as raised:  # the size limit still holds
        parse(data, max_bytes=100)
    assert raised.value.rule == "CAP-SIZE"
    for index in range(10):
        validate(data.replace(b"KZ-MOH-2026-0042", f"KZ-MOH-2026-{index:04}".encode()))
    assert len(codec._recent) <= codec._RECENT_SIZE
    fresh = parse(data)
    assert fresh.alert == report.alerts[0]
    assert fresh.alert is not report.alerts[0]


def test_an_invalid_alert_is_not_remembered() -> None:
    data = GOOD_ALERT.replace("<identifier>KZ-MOH-2026-0042</identifier>", "").encode()
    assert not validate(data).alerts
    with pytest.raises(CapError) as raised:
        parse(data)
    assert raised.value.rule == "CAP-REQUIRED"


def test_areas_repeated_across_info_blocks_are_read_once_and_reported_for_each() -> None:
    bowtie = "43.0,76.0 44.0,77.0 44.0,76.0 43.0,77.0 43.0,76.0"
    area = f"<area><areaDesc>Valley</areaDesc><polygon>{bowtie}</polygon></area>"
    document = GOOD_ALERT
    for language in ("en-US", "ru"):
        start = document.index(f"<language>{language}</language>")
        begin = document.index("<area>", start)
        end = document.index("</area>", begin) + len("</area>")
        document = document[:begin] + area + document[end:]
    report = validate(document.encode())
    first, second = report.alerts[0].infos
    assert first.areas[0] is second.areas[0]
    assert [(item.rule, item.path) for item in report.errors] == [
        ("CAP-POLYGON-SELF-INTERSECT", "/alert/info[1]/area[1]/polygon[1]"),
        ("CAP-POLYGON-SELF-INTERSECT", "/alert/info[2]/area[1]/polygon[1]"),
    ]
