"""The codec: reading 1.0/1.1/1.2 (with upgrade notes), writing 1.2, the JSON form and its round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from lxml import etree

from accord.lib.canonical import canonical_bytes
from accord.lib.cap import Alert, CapError, NameValue, Reference, from_json, parse, to_json, to_xml, validate
from accord.lib.cap.model import join_list, split_list
from accord.lib.cap.xsd import schema
from tests.lib.test_cap_rules import GOOD_ALERT, MINIMAL, alert

NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"
NS_10 = "http://www.incident.com/cap/1.0"


def round_trip(value: Alert) -> Alert:
    return parse(to_xml(from_json(json.loads(json.dumps(to_json(value)))))).alert


def test_parse_reads_every_field() -> None:
    parsed = parse(GOOD_ALERT.encode())
    assert parsed.version == "1.2" and parsed.notes == ()
    value = parsed.alert
    assert (value.identifier, value.sent, value.msg_type, value.scope) == (
        "KZ-MOH-2026-0042",
        "2026-11-27T10:00:00+05:00",
        "Update",
        "Public",
    )
    assert value.references == (Reference("focal@moh.example.kz", "KZ-MOH-2026-0041", "2026-11-27T08:00:00+05:00"),)
    assert value.incidents == ("FLOOD-7", "Flood exercise")
    assert value.codes == ("exercise-2026",)
    info = value.infos[0]
    assert info.categories == ("Met", "Health") and info.response_types == ("Evacuate",)
    assert info.event_codes == (NameValue("SAME", "FLW"),)
    assert info.parameters == (NameValue("waterLevel", "4.5 m"),)
    resource = info.resources[0]
    assert (resource.mime_type, resource.size, resource.deref_uri) == ("text/plain", 5, "aGVsbG8=")
    area = info.areas[0]
    assert area.circles == ("43.25,76.95 10",) and area.altitude == "100" and area.ceiling == "2000.5"
    assert value.infos[1].language == "ru" and value.infos[1].web is None


def test_absent_language_reads_as_en_us_but_is_never_written() -> None:
    document = alert("<language>en-US</language>", "")
    info = parse(document.encode()).alert.infos[0]
    assert info.language is None and info.language_or_default == "en-US"
    assert "language" not in to_json(parse(document.encode()).alert)["info"][0]
    data = to_xml(parse(document.encode()).alert)
    assert b"<language>en-US</language>" not in data and parse(data).alert == parse(document.encode()).alert


def test_to_xml_writes_schema_valid_cap_12_in_schema_order() -> None:
    value = parse(GOOD_ALERT.encode()).alert
    data = to_xml(value)
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
    )
    assert schema("1.2").validate(etree.fromstring(data).getroottree())
    assert parse(data).alert == value


def test_to_xml_reorders_elements_given_out_of_order() -> None:
    document = alert("<status>Exercise</status>", "").replace(
        "<scope>Public</scope>", "<scope>Public</scope><status>Exercise</status>"
    )
    report = validate(document.encode())
    assert not report.valid_xsd
    fixed = to_xml(report.alerts[0])
    assert validate(fixed).valid_xsd is True


def test_json_form_uses_cap_names_and_omits_absent_values() -> None:
    form = to_json(parse(GOOD_ALERT.encode()).alert)
    assert form["msgType"] == "Update"
    assert form["references"] == ["focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T08:00:00+05:00"]
    assert form["code"] == ["exercise-2026"] and form["incidents"] == ["FLOOD-7", "Flood exercise"]
    assert "restriction" not in form and "addresses" not in form
    info = form["info"][0]
    assert info["eventCode"] == [{"valueName": "SAME", "value": "FLW"}]
    assert info["resource"][0]["size"] == 5
    assert info["area"][0]["altitude"] == "100" and info["area"][0]["ceiling"] == "2000.5"
    second = form["info"][1]
    assert "web" not in second and "responseType" not in second and "resource" not in second
    assert "null" not in json.dumps(form)
    canonical_bytes(form)  # signable: no floats


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _values(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _values(item)]
    return [value]


def test_json_form_has_only_strings_and_integers() -> None:
    form = to_json(parse(GOOD_ALERT.encode()).alert)
    assert {type(leaf) for leaf in _values(form)} == {str, int}


def test_round_trip_of_the_good_alert_and_a_minimal_one() -> None:
    for document in (GOOD_ALERT, MINIMAL):
        value = parse(document.encode()).alert
        assert round_trip(value) == value


def test_quoted_list_items_survive() -> None:
    assert split_list('a@b.org "Ops Room" c  "x y z"') == ("a@b.org", "Ops Room", "c", "x y z")
    assert join_list(("a@b.org", "Ops Room")) == 'a@b.org "Ops Room"'
    document = alert("<scope>Public</scope>", '<scope>Private</scope><addresses>a@b.org "Ops Room"</addresses>')
    value = parse(document.encode()).alert
    assert value.addresses == ("a@b.org", "Ops Room")
    assert round_trip(value) == value


def test_a_malformed_reference_is_kept_whole() -> None:
    document = alert(
        "focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T08:00:00+05:00",
        "eq-alerts@example.org a,b,c,d",
    )
    value = parse(document.encode()).alert
    assert value.references == (Reference("eq-alerts@example.org", "", ""), Reference("a,b,c,d", "", ""))
    assert to_json(value)["references"] == ["eq-alerts@example.org", "a,b,c,d"]
    assert round_trip(value) == value


def test_cap_11_is_upgraded_with_notes() -> None:
    document = (
        alert("urn:oasis:names:tc:emergency:cap:1.2", NS_11)
        .replace("<certainty>Likely</certainty>", "<certainty>Very Likely</certainty>", 1)
        .replace("<mimeType>text/plain</mimeType>", "")
    )
    parsed = parse(document.encode())
    assert parsed.version == "1.1"
    assert parsed.alert.infos[0].certainty == "Likely"
    assert parsed.alert.infos[0].resources[0].mime_type == "application/octet-stream"
    assert any("namespace" in note and "1.1" in note for note in parsed.notes)
    assert any("Very Likely" in note for note in parsed.notes)
    assert any("mimeType" in note for note in parsed.notes)
    assert parse(to_xml(parsed.alert)).version == "1.2"


def test_cap_10_is_upgraded_with_notes() -> None:
    document = f"""<alert xmlns="{NS_10}">
      <identifier>KAR0-1</identifier><sender>karo@example.org</sender><password>secret</password>
      <sent>2003-06-11T22:39:00-07:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
      <info><category>Rescue</category><event>Child Abduction</event><urgency>Immediate</urgency>
        <severity>Severe</severity><certainty>Very Likely</certainty><eventCode>same=CAE</eventCode>
        <area><areaDesc>Los Angeles County</areaDesc><geocode>fips6=006037</geocode></area></info>
    </alert>"""
    parsed = parse(document.encode())
    assert parsed.version == "1.0"
    info = parsed.alert.infos[0]
    assert info.certainty == "Likely"
    assert info.event_codes == (NameValue("same", "CAE"),)
    assert info.areas[0].geocodes == (NameValue("fips6", "006037"),)
    assert any("<password> dropped" in note for note in parsed.notes)
    assert b"secret" not in to_xml(parsed.alert)
    report = validate(document.encode())
    assert (report.version, report.valid_xsd, report.valid) == ("1.0", False, True)
    assert [finding.rule for finding in report.errors] == ["CAP-VERSION"]


def test_cap_11_document_reports_the_12_schema_verdict_and_checks_the_11_schema() -> None:
    document = alert("urn:oasis:names:tc:emergency:cap:1.2", NS_11)
    report = validate(document.encode())
    assert (report.version, report.valid_xsd, report.valid) == ("1.1", False, True)
    broken = validate(document.replace("<msgType>Update</msgType>", "<msgType>Bogus</msgType>").encode())
    assert any(f.rule == "CAP-XSD" and "CAP 1.1 schema" in f.message for f in broken.errors)


def test_unknown_elements_and_signatures_are_noted_not_kept() -> None:
    document = alert(
        "</alert>",
        '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></alert>',
    ).replace("<scope>Public</scope>", "<scope>Public</scope><reference>x</reference>")
    parsed = parse(document.encode())
    assert any("Signature" in note for note in parsed.notes)
    assert any("<reference>" in note for note in parsed.notes)
    assert b"Signature" not in to_xml(parsed.alert)


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (b"", "CAP-XML"),
        (b"\xff\xfe<not", "CAP-XML"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "CAP-NAMESPACE"),
        (b"<alert/>", "CAP-NAMESPACE"),
        (MINIMAL.replace("<identifier>KZ-1</identifier>", "").encode(), "CAP-REQUIRED"),
    ],
)
def test_parse_errors_name_their_rule(document: bytes, rule: str) -> None:
    with pytest.raises(CapError) as caught:
        parse(document)
    assert caught.value.rule == rule
    assert caught.value.message


def _form() -> dict[str, Any]:
    return to_json(parse(GOOD_ALERT.encode()).alert)


def _with(path: list[str | int], value: object) -> dict[str, Any]:
    form = _form()
    target: Any = form
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return form


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([], "expected an object"),
        (_with(["identifier"], KeyError), "$.identifier: required"),
        (_with(["identifier"], 42), "$.identifier: expected a string"),
        (_with(["note"], None), "leave the key out"),
        (_with(["bogus"], "x"), "unknown key(s) bogus"),
        (_with(["info", 0, "resource", 0, "size"], 5.0), "$.info[0].resource[0].size"),
        (_with(["info", 0, "resource", 0, "size"], True), "$.info[0].resource[0].size"),
        (_with(["info", 0, "resource", 0, "size"], 2**60), "$.info[0].resource[0].size"),
        (_with(["info", 0, "area", 0, "polygon"], "43,76"), "expected a list"),
        (_with(["info", 0, "eventCode", 0], {"valueName": "SAME"}), "$.info[0].eventCode[0].value: required"),
        (_with(["info", 0, "area", 0, "altitude"], 100), "expected a string"),
        (_with(["addresses"], ["two words", 'a"b']), "$.addresses[1]"),
        (_with(["references"], ["a,b,c d,e,f"]), "$.references[0]"),
        (_with(["note"], "bell\x07"), "XML cannot carry"),
        (_with(["incidentsText"], "FLOOD-8"), "$.incidentsText: does not hold the items of incidents"),
        (_with(["addressesText"], "a  b"), "$.addressesText: given without addresses"),
        (_with(["info", 0, "resource", 0, "sizeText"], "6"), "$.info[0].resource[0].sizeText: does not give"),
        (_with(["info", 0, "language"], None), "leave the key out"),
    ],
)
def test_from_json_rejects_bad_input_clearly(value: object, fragment: str) -> None:
    with pytest.raises(CapError) as caught:
        from_json(value)
    assert caught.value.rule == "CAP-JSON"
    assert fragment in caught.value.message


def test_from_json_accepts_a_minimal_form_and_leaves_the_language_absent() -> None:
    value = from_json(
        {
            "identifier": "x",
            "sender": "s@example.org",
            "sent": "2026-11-27T10:00:00+05:00",
            "status": "Test",
            "msgType": "Alert",
            "scope": "Public",
            "info": [
                {
                    "category": ["Health"],
                    "event": "E",
                    "urgency": "Future",
                    "severity": "Minor",
                    "certainty": "Possible",
                }
            ],
        }
    )
    assert value.infos[0].language is None and value.infos[0].language_or_default == "en-US"
    assert validate(to_xml(value)).valid


def test_models_are_frozen_and_comparable() -> None:
    value = parse(GOOD_ALERT.encode()).alert
    with pytest.raises(AttributeError):
        value.identifier = "other"  # type: ignore[misc]
    assert replace(value, identifier="other") != value
    assert hash(value.infos[0].areas[0]) == hash(parse(GOOD_ALERT.encode()).alert.infos[0].areas[0])
