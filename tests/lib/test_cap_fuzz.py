"""Property tests: ``validate`` never raises, and whatever it reads (or is built) round-trips exactly."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.lib.cap import (
    RULES,
    Alert,
    Area,
    Info,
    NameValue,
    Reference,
    Report,
    Resource,
    from_json,
    parse,
    to_json,
    to_xml,
    validate,
)
from tests.lib.test_cap_rules import GOOD_ALERT, GOOD_ATOM, GOOD_RSS

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
SEEDS = [GOOD_ALERT.encode(), GOOD_ATOM.encode(), GOOD_RSS.encode()] + [
    (DATA / name).read_bytes()
    for name in (
        "google-cap-library__thunderstorm.cap",
        "google-cap-library__earthquake.atom",
        "google-cap-library__amber.rss",
        "oasiscap-rs__v1dot0_appendix_adot4.xml",
        "oasiscap-rs__v1dot1_appendix_adot2.xml",
        "google-cap-library__xee.cap",
    )
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_report(report: Report) -> None:
    assert isinstance(report, Report)
    assert report.kind in {"alert", "atom-feed", "rss-feed", "other"}
    assert report.version in {"1.2", "1.1", "1.0", None}
    assert report.valid is not any(finding.severity == "error" for finding in report.errors)
    if report.kind != "alert":
        assert report.valid_xsd is None and report.version is None
    else:
        assert isinstance(report.valid_xsd, bool)
    for finding in report.errors:
        assert finding.severity == RULES[finding.rule].severity
        assert finding.path.startswith("/")
    for alert in report.alerts:
        assert parse(to_xml(alert)).alert == alert
        assert from_json(json.loads(json.dumps(to_json(alert)))) == alert


@FUZZ
@given(st.binary(max_size=2000))
def test_validate_never_raises_on_random_bytes(data: bytes) -> None:
    check_report(validate(data))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    document = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(document)))
        operation = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "markup"]))
        if operation == "delete":
            del document[position : position + draw(st.integers(1, 40))]
        elif operation == "insert":
            document[position:position] = draw(st.binary(min_size=1, max_size=20))
        elif operation == "replace" and position < len(document):
            document[position] = draw(st.integers(0, 255))
        elif operation == "duplicate":
            document[position:position] = document[position : position + draw(st.integers(1, 200))]
        else:
            document[position:position] = draw(
                st.sampled_from(
                    [b"<", b">", b"&amp;", b"&", b"]]>", b"<![CDATA[", b"<!--", b"</info>", b"<info>", b'"', b"\x00"]
                )
            )
    return bytes(document)


@FUZZ
@given(mutated())
def test_validate_never_raises_on_mutated_documents(data: bytes) -> None:
    check_report(validate(data))


_text = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn")), max_size=12).map(str.strip)
_word = st.from_regex(r"[A-Za-z0-9@.:+_-]{1,10}", fullmatch=True)
_item = _text.filter(lambda text: text and '"' not in text)
_optional = st.none() | _text
_pairs = st.lists(st.builds(NameValue, _text, _text), max_size=2).map(tuple)

areas = st.builds(
    Area,
    area_desc=_text,
    polygons=st.lists(_text, max_size=2).map(tuple),
    circles=st.lists(_text, max_size=2).map(tuple),
    geocodes=_pairs,
    altitude=_optional,
    ceiling=_optional,
)
resources = st.builds(
    Resource,
    resource_desc=_text,
    mime_type=_text,
    size=st.none() | st.integers(-(2**53) + 1, 2**53 - 1),
    uri=_optional,
    deref_uri=_optional,
    digest=_optional,
)
infos = st.builds(
    Info,
    language=_optional,
    categories=st.lists(_text, min_size=1, max_size=2).map(tuple),
    event=_text,
    response_types=st.lists(_text, max_size=2).map(tuple),
    urgency=_text,
    severity=_text,
    certainty=_text,
    audience=_optional,
    event_codes=_pairs,
    effective=_optional,
    headline=_optional,
    description=_optional,
    web=_optional,
    parameters=_pairs,
    resources=st.lists(resources, max_size=2).map(tuple),
    areas=st.lists(areas, max_size=2).map(tuple),
)
alerts = st.builds(
    Alert,
    identifier=_text,
    sender=_text,
    sent=_text,
    status=_text,
    msg_type=_text,
    source=_optional,
    scope=_text,
    restriction=_optional,
    addresses=st.none() | st.lists(_item, max_size=3).map(tuple),
    codes=st.lists(_text, max_size=2).map(tuple),
    note=_optional,
    references=st.none() | st.lists(st.builds(Reference, _word, _word, _word), max_size=2).map(tuple),
    incidents=st.none() | st.lists(_item, max_size=3).map(tuple),
    infos=st.lists(infos, max_size=2).map(tuple),
)


@FUZZ
@given(alerts)
def test_any_model_round_trips_through_xml_and_json(alert: Alert) -> None:
    assert parse(to_xml(alert)).alert == alert
    assert from_json(json.loads(json.dumps(to_json(alert)))) == alert
    check_report(validate(to_xml(alert)))
