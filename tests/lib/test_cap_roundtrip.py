"""CAP round trips keep every element exactly: absent stays absent, empty stays empty, lists keep their text.

For every XSD-valid alert, the multiset of (element path, stripped text) leaves is the same after
XML → JSON → XML (``accord.lib.cap.leaves``). Hypothesis writes CAP 1.2 documents in which every optional
element is absent, empty or filled (lists with odd whitespace and quotes, sizes such as ``+5`` or ``007``,
comments and CDATA inside text), and real files of the shared corpus are checked leaf by leaf too.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from accord.lib.canonical import check_signable
from accord.lib.cap import Alert, from_json, parse, to_json, to_xml
from accord.lib.cap import leaves as leaves_module
from accord.lib.cap.codec import text_of
from accord.lib.cap.leaves import difference, leaves, round_trip_changes, xsd_valid_alerts
from accord.lib.cap.secure import parse_xml
from accord.lib.cap.xsd import xsd_check
from tests.lib.test_cap_corpus import MANIFEST

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
MAX_BYTES = 4 * 1024 * 1024
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_DATE = st.builds(
    "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}".format,
    st.integers(1990, 2040),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["+00:00", "-00:00", "+05:00", "-03:30"]),
)
# Text XML can carry, with the odd spaces, quotes and line breaks that real senders write.
_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Cn"), exclude_characters="\ufffe\uffff") | st.sampled_from(
    [" ", "\n", "\t", '"', ",", "&", "<", "]", ">"]
)
_text = st.text(_CHARS, max_size=16)
_filled = _text.filter(str.strip)


@st.composite
def _content(draw: st.DrawFn, text: str) -> str:
    """``text`` as element content: escaped, in CDATA, or split by a comment, with whitespace around."""
    how = draw(st.sampled_from(["plain", "plain", "cdata", "comment"]))
    pad = draw(st.sampled_from(["", "", " ", "\n  "]))
    if how == "cdata" and "]]>" not in text:
        body = f"<![CDATA[{text}]]>"
    elif how == "comment" and len(text) > 1:
        body = f"{escape(text[:1])}<!-- a comment -->{escape(text[1:])}"
    else:
        body = escape(text)
    return f"{pad}{body}{pad}"


@st.composite
def _element(draw: st.DrawFn, name: str, values: st.SearchStrategy[str], *, empty: bool = True) -> str:
    """An optional element: absent, present but empty (when the XSD allows it), or holding a value."""
    choices = ["absent", "value"] + (["empty"] if empty else [])
    choice = draw(st.sampled_from(choices))
    if choice == "absent":
        return ""
    if choice == "empty":
        return draw(st.sampled_from([f"<{name}/>", f"<{name}></{name}>", f"<{name}>  </{name}>"]))
    return f"<{name}>{draw(_content(draw(values)))}</{name}>"


def _many(name: str, values: st.SearchStrategy[str], most: int = 2) -> st.SearchStrategy[str]:
    return st.lists(values, max_size=most).map(lambda items: "".join(f"<{name}>{escape(v)}</{name}>" for v in items))


_list_text = (
    st.lists(
        st.sampled_from(["a", "b,c,d", '"two words"', '"x"', '"', "  ", "\n", "\t", "sco@example.org", "KZ"]),
        max_size=6,
    ).map("".join)
    | _text
)
_category = st.sampled_from(["Health", "Met", "Safety", "Other"])
_size = st.sampled_from(["5", "+5", "007", "-0", "0", "9007199254740991", "12345678901234567890", " 42 "])
_pair = st.builds(
    lambda name, value: f"<valueName>{escape(name)}</valueName><value>{escape(value)}</value>", _text, _text
)


@st.composite
def _pairs(draw: st.DrawFn, name: str) -> str:
    return "".join(f"<{name}>{pair}</{name}>" for pair in draw(st.lists(_pair, max_size=2)))


@st.composite
def _resource(draw: st.DrawFn) -> str:
    return (
        "<resource>"
        f"<resourceDesc>{escape(draw(_text))}</resourceDesc><mimeType>{escape(draw(_text))}</mimeType>"
        + draw(_element("size", _size, empty=False))
        + draw(_element("uri", st.sampled_from(["https://example.org/a", "relative/b"])))
        + draw(_element("derefUri", _text))
        + draw(_element("digest", _text))
        + "</resource>"
    )


@st.composite
def _area(draw: st.DrawFn) -> str:
    return (
        f"<area><areaDesc>{draw(_content(draw(_text)))}</areaDesc>"
        + draw(_many("polygon", _text))
        + draw(_many("circle", _text))
        + draw(_pairs("geocode"))
        + draw(_element("altitude", st.sampled_from(["0", "100", "-5.5", " 12 "]), empty=False))
        + draw(_element("ceiling", st.sampled_from(["2000", "2000.5"]), empty=False))
        + "</area>"
    )


@st.composite
def _info(draw: st.DrawFn) -> str:
    return (
        "<info>"
        + draw(_element("language", st.sampled_from(["en-US", "ru", "zh-CN", "kk-Cyrl-KZ"]), empty=False))
        + "".join(f"<category>{c}</category>" for c in draw(st.lists(_category, min_size=1, max_size=2)))
        + f"<event>{draw(_content(draw(_text)))}</event>"
        + draw(_many("responseType", st.sampled_from(["Shelter", "Evacuate", "None"])))
        + "<urgency>Immediate</urgency><severity>Severe</severity><certainty>Likely</certainty>"
        + draw(_element("audience", _text))
        + draw(_pairs("eventCode"))
        + draw(_element("effective", _DATE, empty=False))
        + draw(_element("onset", _DATE, empty=False))
        + draw(_element("expires", _DATE, empty=False))
        + "".join(draw(_element(name, _text)) for name in ("senderName", "headline", "description", "instruction"))
        + draw(_element("web", st.sampled_from(["https://example.org/alert", "relative"])))
        + draw(_element("contact", _text))
        + draw(_pairs("parameter"))
        + "".join(draw(st.lists(_resource(), max_size=2)))
        + "".join(draw(st.lists(_area(), max_size=2)))
        + "</info>"
    )


_SIGNATURE = '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignatureValue>abc</SignatureValue></Signature>'


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A CAP 1.2 alert that the XSD accepts, with every optional element absent, empty or filled."""
    body = (
        f"<identifier>{escape(draw(_filled))}</identifier><sender>{escape(draw(_filled))}</sender>"
        f"<sent>{draw(_DATE)}</sent>"
        f"<status>{draw(st.sampled_from(['Actual', 'Exercise', 'System', 'Test', 'Draft']))}</status>"
        f"<msgType>{draw(st.sampled_from(['Alert', 'Update', 'Cancel', 'Ack', 'Error']))}</msgType>"
        + draw(_element("source", _text))
        + f"<scope>{draw(st.sampled_from(['Public', 'Restricted', 'Private']))}</scope>"
        + draw(_element("restriction", _text))
        + draw(_element("addresses", _list_text))
        + draw(_many("code", _text))
        + draw(_element("note", _text))
        + draw(_element("references", _list_text))
        + draw(_element("incidents", _list_text))
        + "".join(draw(st.lists(_info(), max_size=2)))
        + (_SIGNATURE if draw(st.booleans()) else "")
    )
    return f'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">{body}</alert>'.encode()


@PROPERTY
@given(documents())
def test_every_leaf_survives_xml_json_xml(data: bytes) -> None:
    root = parse_xml(data, MAX_BYTES)
    valid, findings = xsd_check(root, "1.2", "/alert")
    assert valid, findings  # the generator writes only XSD-valid alerts, so the property is about all of them
    assert round_trip_changes(root, MAX_BYTES) == []
    alert = parse(data).alert
    form = to_json(alert)
    check_signable(form)
    assert from_json(json.loads(json.dumps(form))) == alert
    assert to_json(from_json(form)) == form
    assert parse(to_xml(alert)).alert == alert


@PROPERTY
@given(documents())
def test_absent_and_empty_list_elements_stay_so_in_the_json_form(data: bytes) -> None:
    root = parse_xml(data, MAX_BYTES)
    form = to_json(parse(data).alert)
    for name in ("addresses", "references", "incidents"):
        element = root.find(f"{{urn:oasis:names:tc:emergency:cap:1.2}}{name}")
        if element is None:
            assert name not in form
        elif not text_of(element):
            assert form[name] == []
    languages = [info.find("{urn:oasis:names:tc:emergency:cap:1.2}language") for info in root.iter("{*}info")]
    assert [language is not None for language in languages] == ["language" in info for info in form.get("info", [])]


def test_the_issue_cases_keep_their_elements() -> None:
    """An <info> without <language> gains none; empty <references>, <incidents/> and <addresses> are kept."""
    data = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier><sender>s</sender>'
        b"<sent>2026-11-27T10:00:00+05:00</sent><status>Test</status><msgType>Alert</msgType><scope>Public</scope>"
        b"<addresses></addresses><references></references><incidents/>"
        b"<info><category>Health</category><event>E</event><urgency>Future</urgency><severity>Minor</severity>"
        b"<certainty>Possible</certainty><resource><resourceDesc>r</resourceDesc><mimeType>text/plain</mimeType>"
        b"<size>007</size></resource></info></alert>"
    )
    alert = parse(data).alert
    assert (alert.addresses, alert.references, alert.incidents) == ((), (), ())
    assert alert.infos[0].language is None and alert.infos[0].language_or_default == "en-US"
    form = to_json(alert)
    assert (form["addresses"], form["references"], form["incidents"]) == ([], [], [])
    assert "language" not in form["info"][0]
    assert form["info"][0]["resource"][0] == {
        "resourceDesc": "r",
        "mimeType": "text/plain",
        "size": 7,
        "sizeText": "007",
    }
    written = to_xml(from_json(form))
    assert b"<language>" not in written and b"<size>007</size>" in written
    assert round_trip_changes(parse_xml(data, MAX_BYTES), MAX_BYTES) == []


def test_lists_keep_their_exact_text_and_items_edited_later_are_written_afresh() -> None:
    data = (
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier><sender>s</sender>'
        b"<sent>2026-11-27T10:00:00+05:00</sent><status>Test</status><msgType>Alert</msgType><scope>Private</scope>"
        b'<addresses>KZ   "RU"\n CN</addresses><references>a,b,2026-11-27T09:00:00+05:00  c,d,e</references>'
        b'<incidents>"one"</incidents></alert>'
    )
    alert = parse(data).alert
    assert alert.addresses == ("KZ", "RU", "CN") and alert.addresses_text == 'KZ   "RU"\n CN'
    assert alert.incidents == ("one",) and alert.incidents_text == '"one"'
    form = to_json(alert)
    assert form["addresses"] == ["KZ", "RU", "CN"] and form["addressesText"] == 'KZ   "RU"\n CN'
    assert form["referencesText"] == "a,b,2026-11-27T09:00:00+05:00  c,d,e"
    assert b'<addresses>KZ   "RU"\n CN</addresses>' in to_xml(alert)
    # The exact text is used only while it still holds the items.
    edited = replace(alert, addresses=("KZ", "RU"))
    assert b"<addresses>KZ RU</addresses>" in to_xml(edited)


def test_json_written_before_these_keys_existed_still_reads() -> None:
    """Stored forms never had the *Text keys and always carried a language: they read as they did."""
    old = {
        "identifier": "x",
        "sender": "s",
        "sent": "2026-11-27T10:00:00+05:00",
        "status": "Test",
        "msgType": "Alert",
        "scope": "Private",
        "addresses": ["KZ", "RU"],
        "info": [
            {"language": "en-US", "category": ["Health"], "event": "E"}
            | {"urgency": "Future", "severity": "Minor", "certainty": "Possible"}
        ],
    }
    alert = from_json(old)
    assert alert.addresses == ("KZ", "RU") and alert.references is None and alert.incidents is None
    assert alert.infos[0].language == "en-US"
    assert to_json(alert) == old


def test_the_leaf_difference_names_what_was_lost_and_gained() -> None:
    before = leaves(etree.fromstring(b"<alert><note> a </note><info><language>ru</language></info></alert>"))
    after = leaves(etree.fromstring(b"<alert><info><language>ru</language><x/></info></alert>"))
    assert before == Counter({("/alert/note", "a"): 1, ("/alert/info/language", "ru"): 1})
    assert difference(before, after) == ["+ /alert/info/x ''", "- /alert/note 'a'"]
    signed = etree.fromstring(f"<alert><note>n</note>{_SIGNATURE}</alert>".encode())
    assert leaves(signed) == Counter({("/alert/note", "n"): 1})


@pytest.mark.parametrize("row", MANIFEST, ids=[row["file"] for row in MANIFEST])
def test_every_xsd_valid_alert_of_the_corpus_subset_keeps_every_leaf(row: dict[str, str]) -> None:
    for alert in xsd_valid_alerts((DATA / row["file"]).read_bytes(), MAX_BYTES):
        assert round_trip_changes(alert, MAX_BYTES) == []


def test_the_leaf_check_catches_a_writer_that_loses_an_element(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: a writer that drops an empty <incidents/> (as Accord's once did) is caught."""
    data = (DATA / "google-cap-library__canada_signed.cap").read_bytes()
    (alert,) = xsd_valid_alerts(data, MAX_BYTES)
    assert round_trip_changes(alert, MAX_BYTES) == []

    def lossy(value: Alert) -> bytes:
        return to_xml(replace(value, incidents=None))

    monkeypatch.setattr(leaves_module, "to_xml", lossy)
    assert round_trip_changes(alert, MAX_BYTES) == ["- /alert/incidents ''"]
