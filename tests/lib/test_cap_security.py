"""Hostile XML is refused with CAP-XML-DTD (or CAP-SIZE), quickly, and nothing in it is ever expanded."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from accord.lib.cap import CapError, parse, secure, validate
from accord.lib.cap.secure import has_declarations, sniff_root

CAP = "urn:oasis:names:tc:emergency:cap:1.2"


def _alert(identifier: str, subset: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE alert [\n{subset}\n]>\n'
        f'<alert xmlns="{CAP}"><identifier>{identifier}</identifier><sender>s@example.org</sender>'
        "<sent>2026-11-27T10:00:00+05:00</sent><status>Test</status><msgType>Alert</msgType><scope>Public</scope>"
        "</alert>"
    ).encode()


XXE = _alert("&xxe;", '<!ENTITY xxe SYSTEM "file:///etc/passwd">')
XXE_PARAMETER = _alert(
    "x",
    '<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">\n%remote;\n<!ENTITY % file SYSTEM "file:///etc/passwd">',
)
LAUGHS = _alert(
    "&lol9;",
    '<!ENTITY lol "lol">\n'
    + "\n".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)),
)
QUADRATIC = _alert("&a;" * 20000, f'<!ENTITY a "{"x" * 50000}">')
EXTERNAL_DTD = (
    f'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd"><alert xmlns="{CAP}"/>'
).encode()
PLAIN_DTD = f'<?xml version="1.0"?><!DOCTYPE alert><alert xmlns="{CAP}"/>'.encode()

HOSTILE = {
    "xxe": XXE,
    "xxe-parameter-entity": XXE_PARAMETER,
    "billion-laughs": LAUGHS,
    "quadratic-blowup": QUADRATIC,
    "external-dtd": EXTERNAL_DTD,
    "plain-doctype": PLAIN_DTD,
    "utf-16-xxe": XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    .decode()
    .encode("utf-16"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_validate_refuses_hostile_documents(name: str) -> None:
    start = time.monotonic()
    report = validate(HOSTILE[name])
    assert time.monotonic() - start < 5
    assert report.kind == "alert"
    assert report.valid_xsd is False
    assert not report.valid
    assert report.alerts == ()
    assert [finding.rule for finding in report.errors] == ["CAP-XML-DTD"]
    text = repr(report)
    assert "root:" not in text and "lollol" not in text and "xxxxxxxxxx" not in text


@pytest.mark.parametrize("name", list(HOSTILE))
def test_parse_refuses_hostile_documents(name: str) -> None:
    with pytest.raises(CapError) as caught:
        parse(HOSTILE[name])
    assert caught.value.rule == "CAP-XML-DTD"
    assert "root:" not in str(caught.value)


def test_declarations_are_found_in_utf16_too() -> None:
    assert has_declarations(HOSTILE["utf-16-xxe"])
    assert not has_declarations(f'<alert xmlns="{CAP}"/>'.encode("utf-16"))


@pytest.mark.parametrize("name", ["xxe", "billion-laughs", "quadratic-blowup", "utf-16-xxe"])
def test_the_parser_itself_expands_nothing_even_past_the_byte_scan(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the byte scan missed the declarations: the hardened parser expands nothing and the tree check refuses.
    monkeypatch.setattr(secure, "has_declarations", lambda data: False)
    with pytest.raises(CapError) as caught:
        secure.parse_xml(HOSTILE[name])
    assert caught.value.rule in {"CAP-XML-DTD", "CAP-XML"}
    assert "root:" not in str(caught.value)
    try:
        root = etree.fromstring(HOSTILE[name], secure.make_parser())
    except etree.XMLSyntaxError:
        return  # libxml2 gave up (entity amplification limit): nothing was expanded either
    assert "root:" not in etree.tostring(root).decode()
    assert len(etree.tostring(root)) < 200_000


def test_sniffing_a_refused_document_reads_only_its_root() -> None:
    assert sniff_root(LAUGHS) == (CAP, "alert")
    assert sniff_root(XXE) == (CAP, "alert")
    assert sniff_root(b"<!DOCTYPE x [<!ENTITY a 'b'>]><cap:alert xmlns:cap='urn:x'>&a;") == ("urn:x", "alert")


def test_xinclude_and_schema_locations_are_not_followed() -> None:
    document = (
        f'<alert xmlns="{CAP}" xmlns:xi="http://www.w3.org/2001/XInclude"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://127.0.0.1:9/a.xsd">'
        '<xi:include href="file:///etc/passwd" parse="text"/>'
        "<identifier>x</identifier></alert>"
    ).encode()
    report = validate(document)
    assert "root:" not in repr(report)
    assert report.valid_xsd is False


def test_size_limit() -> None:
    document = f'<alert xmlns="{CAP}"><identifier>{"x" * 2000}</identifier></alert>'.encode()
    report = validate(document, max_bytes=1000)
    assert [finding.rule for finding in report.errors] == ["CAP-SIZE"]
    assert (report.kind, report.valid_xsd, report.valid) == ("alert", False, False)
    with pytest.raises(CapError) as caught:
        parse(document, max_bytes=1000)
    assert caught.value.rule == "CAP-SIZE"
    assert validate(b"<rss>" + b" " * 2000 + b"</rss>", max_bytes=1000).kind == "rss-feed"


def test_the_default_limit_is_one_mebibyte() -> None:
    document = f'<alert xmlns="{CAP}"><note>{"x" * 1_048_576}</note></alert>'.encode()
    assert [finding.rule for finding in validate(document).errors] == ["CAP-SIZE"]
