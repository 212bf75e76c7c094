"""Every validator rule fires on a small hand-written bad document, and none fires on the good ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from accord.lib.cap import RULES, Report, parse, validate

# A CAP 1.2 alert that uses nearly every element and breaks no rule (written for these tests).
GOOD_ALERT = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KZ-MOH-2026-0042</identifier>
  <sender>focal@moh.example.kz</sender>
  <sent>2026-11-27T10:00:00+05:00</sent>
  <status>Exercise</status>
  <msgType>Update</msgType>
  <source>Accord test</source>
  <scope>Public</scope>
  <code>exercise-2026</code>
  <note>Second update of the flood exercise</note>
  <references>focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T08:00:00+05:00</references>
  <incidents>FLOOD-7 "Flood exercise"</incidents>
  <info>
    <language>en-US</language>
    <category>Met</category>
    <category>Health</category>
    <event>Flood</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <audience>Residents of the river valley</audience>
    <eventCode>
      <valueName>SAME</valueName>
      <value>FLW</value>
    </eventCode>
    <effective>2026-11-27T10:00:00+05:00</effective>
    <onset>2026-11-27T12:00:00+05:00</onset>
    <expires>2026-11-28T10:00:00+05:00</expires>
    <senderName>Ministry of Health (exercise)</senderName>
    <headline>Flood warning for the river valley</headline>
    <description>The river is expected to leave its banks this afternoon.</description>
    <instruction>Move to higher ground.</instruction>
    <web>https://moh.example.kz/alerts/42</web>
    <contact>+7 700 000 0000</contact>
    <parameter>
      <valueName>waterLevel</valueName>
      <value>4.5 m</value>
    </parameter>
    <resource>
      <resourceDesc>Greeting</resourceDesc>
      <mimeType>text/plain</mimeType>
      <size>5</size>
      <uri>https://moh.example.kz/hello.txt</uri>
      <derefUri>aGVsbG8=</derefUri>
      <digest>aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d</digest>
    </resource>
    <area>
      <areaDesc>River valley</areaDesc>
      <polygon>43.0,76.0 43.0,77.0 44.0,77.0 44.0,76.0 43.0,76.0</polygon>
      <circle>43.25,76.95 10</circle>
      <geocode>
        <valueName>ISO3166-2</valueName>
        <value>KZ-75</value>
      </geocode>
      <altitude>100</altitude>
      <ceiling>2000.5</ceiling>
    </area>
  </info>
  <info>
    <language>ru</language>
    <category>Met</category>
    <category>Health</category>
    <event>Наводнение</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <eventCode>
      <valueName>SAME</valueName>
      <value>FLW</value>
    </eventCode>
    <expires>2026-11-28T10:00:00+05:00</expires>
    <headline>Предупреждение о наводнении в долине реки</headline>
    <description>Ожидается выход реки из берегов во второй половине дня.</description>
    <area>
      <areaDesc>Долина реки</areaDesc>
      <geocode>
        <valueName>ISO3166-2</valueName>
        <value>KZ-75</value>
      </geocode>
    </area>
  </info>
</alert>
"""
ALERT_BODY = GOOD_ALERT.split("\n", 1)[1]

GOOD_ATOM = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:uuid:0b6f1a52-feed</id>
  <title>Accord test alerts</title>
  <updated>2026-11-27T10:00:00+05:00</updated>
  <entry>
    <id>urn:uuid:0b6f1a52-0042</id>
    <title>Flood warning</title>
    <updated>2026-11-27T10:00:00+05:00</updated>
    <link rel="alternate" type="application/cap+xml" href="https://moh.example.kz/cap/42.xml"/>
    <content type="text/xml">{ALERT_BODY}</content>
  </entry>
  <entry>
    <id>urn:uuid:0b6f1a52-0041</id>
    <title>Earlier flood warning</title>
    <updated>2026-11-27T03:00:00Z</updated>
    <link href="https://moh.example.kz/cap/41.xml"/>
  </entry>
</feed>
"""

GOOD_RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Accord test alerts</title>
    <link>https://moh.example.kz/</link>
    <description>CAP index</description>
    <item>
      <title>Flood warning</title>
      <link>https://moh.example.kz/cap/42.xml</link>
      <guid>KZ-MOH-2026-0042</guid>
      <pubDate>Fri, 27 Nov 2026 05:00:00 GMT</pubDate>
    </item>
    <item>
      <description>Earlier flood warning</description>
      <link>https://moh.example.kz/cap/41.xml</link>
      <guid>KZ-MOH-2026-0041</guid>
      <pubDate>Fri, 27 Nov 2026 03:00:00 +0000</pubDate>
    </item>
  </channel>
</rss>
"""


def swap(document: str, old: str, new: str, occurrence: int = 1) -> str:
    """Replace the n-th occurrence of ``old`` (which must exist) with ``new``."""
    index = -1
    for _ in range(occurrence):
        index = document.find(old, index + 1)
        assert index >= 0, f"{old!r} not found {occurrence} times"
    return document[:index] + new + document[index + len(old) :]


def alert(old: str, new: str, occurrence: int = 1) -> str:
    return swap(GOOD_ALERT, old, new, occurrence)


def rules_of(report: Report) -> dict[str, str]:
    return {finding.rule: finding.severity for finding in report.errors}


MINIMAL = """<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>KZ-1</identifier><sender>focal@moh.example.kz</sender><sent>2026-11-27T10:00:00+05:00</sent>
  <status>Test</status><msgType>Alert</msgType><scope>Public</scope>
</alert>"""

REF = "focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T08:00:00+05:00"
POLYGON = "43.0,76.0 43.0,77.0 44.0,77.0 44.0,76.0 43.0,76.0"
ATOM_ENTRY_2 = "<id>urn:uuid:0b6f1a52-0041</id>"

# (rule, the bad document, validate keyword arguments)
CASES: list[tuple[str, str, dict[str, int]]] = [
    ("CAP-SIZE", GOOD_ALERT, {"max_bytes": 100}),
    ("CAP-XML", "this is not XML <", {}),
    ("CAP-XML", alert("</alert>", ""), {}),
    ("CAP-XML-DTD", alert("<alert ", '<!DOCTYPE alert SYSTEM "cap.dtd">\n<alert '), {}),
    ("CAP-ROOT", "<other/>", {}),
    ("CAP-NAMESPACE", alert("urn:oasis:names:tc:emergency:cap:1.2", "urn:example:alerts"), {}),
    ("CAP-NAMESPACE", alert(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', ""), {}),
    ("CAP-VERSION", alert("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1"), {}),
    ("CAP-XSD", alert("<msgType>Update</msgType>", "<msgType>Bogus</msgType>"), {}),
    ("CAP-XSD", alert("<scope>Public</scope>", "<scope>Public</scope><unknown>1</unknown>"), {}),
    ("CAP-REQUIRED", alert("<event>Flood</event>", ""), {}),
    ("CAP-REQUIRED", alert("<sender>focal@moh.example.kz</sender>", "<sender></sender>"), {}),
    ("CAP-ID-CHARS", alert("KZ-MOH-2026-0042", "KZ MOH,0042"), {}),
    ("CAP-ID-CHARS", alert("<sender>focal@moh.example.kz</sender>", "<sender>focal&amp;co</sender>"), {}),
    ("CAP-DATE-FORM", alert("<sent>2026-11-27T10:00:00+05:00</sent>", "<sent>2026-11-27T05:00:00Z</sent>"), {}),
    (
        "CAP-DATE-FORM",
        alert("<onset>2026-11-27T12:00:00+05:00</onset>", "<onset>2026-11-27T12:00:00.5+05:00</onset>"),
        {},
    ),
    ("CAP-DATE-FORM", alert(REF, "focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27"), {}),
    ("CAP-REF-TRIPLET", alert(REF, "focal@moh.example.kz"), {}),
    ("CAP-REF-SELF", alert(REF, "focal@moh.example.kz,KZ-MOH-2026-0042,2026-11-27T10:00:00+05:00"), {}),
    ("CAP-REF-LATER", alert(REF, "focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T11:00:00+05:00"), {}),
    ("CAP-REF-DUPLICATE", alert(REF, f"{REF} {REF}"), {}),
    ("CAP-REF-MISSING", alert(f"<references>{REF}</references>", ""), {}),
    (
        "CAP-RESTRICTION-SCOPE",
        alert("<scope>Public</scope>", "<scope>Public</scope><restriction>staff</restriction>"),
        {},
    ),
    ("CAP-RESTRICTION-SCOPE", alert("<scope>Public</scope>", "<scope>Restricted</scope>"), {}),
    ("CAP-ADDRESSES-PRIVATE", alert("<scope>Public</scope>", "<scope>Private</scope>"), {}),
    ("CAP-INFO-MISSING", MINIMAL, {}),
    ("CAP-LANGUAGE", alert("<language>ru</language>", "<language>ru_RU</language>"), {}),
    ("CAP-INFO-CATEGORY-SET", alert("<category>Health</category>", "", 2), {}),
    ("CAP-INFO-EVENTCODE-SET", alert("<value>FLW</value>", "<value>FFW</value>", 2), {}),
    ("CAP-INFO-EVENT", alert("<language>ru</language>", "<language>en-US</language>"), {}),
    (
        "CAP-INFO-TEXT-REPEAT",
        alert("Предупреждение о наводнении в долине реки", "Flood warning for the river valley"),
        {},
    ),
    (
        "CAP-EFFECTIVE-EXPIRES",
        alert("<effective>2026-11-27T10:00:00+05:00", "<effective>2026-11-29T10:00:00+05:00"),
        {},
    ),
    ("CAP-ONSET-EXPIRES", alert("<onset>2026-11-27T12:00:00+05:00", "<onset>2026-11-29T12:00:00+05:00"), {}),
    ("CAP-EXPIRED", alert("<expires>2026-11-28T10:00:00+05:00", "<expires>2026-11-27T09:00:00+05:00", 2), {}),
    ("CAP-WEB-URI", alert("<web>https://moh.example.kz/alerts/42</web>", "<web>moh.example.kz/alerts/42</web>"), {}),
    (
        "CAP-WEB-SCHEME",
        alert("<web>https://moh.example.kz/alerts/42</web>", "<web>javascript:alert(document.cookie)</web>"),
        {},
    ),
    ("CAP-HTML", alert("Move to higher ground.", "&lt;b&gt;Move&lt;/b&gt; to higher ground."), {}),
    ("CAP-HTML", alert("Residents of the river valley", "Residents&amp;nbsp;of the valley"), {}),
    (
        "CAP-HEADLINE-CONTROL",
        alert("Flood warning for the river valley", "Flood warning&#13;&#10;Bcc: x@example.org"),
        {},
    ),
    ("CAP-HEADLINE-CONTROL", alert("Flood warning for the river valley", "Flood warning\nfor the river valley"), {}),
    ("CAP-RESOURCE-MIME", alert("<mimeType>text/plain</mimeType>", "<mimeType>txt</mimeType>"), {}),
    ("CAP-RESOURCE-MIME", alert("<mimeType>text/plain</mimeType>", "<mimeType>bogus/plain</mimeType>"), {}),
    ("CAP-RESOURCE-SIZE", alert("<size>5</size>", "<size>-5</size>"), {}),
    ("CAP-RESOURCE-SIZE", alert("<size>5</size>", "<size>five</size>"), {}),
    (
        "CAP-RESOURCE-URI",
        alert(
            "<uri>https://moh.example.kz/hello.txt</uri>\n      <derefUri>aGVsbG8=</derefUri>", "<uri>hello.txt</uri>"
        ),
        {},
    ),
    ("CAP-RESOURCE-DEREF", alert("<derefUri>aGVsbG8=</derefUri>", "<derefUri>not base64!</derefUri>"), {}),
    ("CAP-RESOURCE-DIGEST", alert("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "0" * 40), {}),
    ("CAP-RESOURCE-DIGEST", alert("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "sha1-of-it"), {}),
    ("CAP-POLYGON-FORM", alert(POLYGON, "43.0,76.0 43.0,77.0 43.0,76.0"), {}),
    ("CAP-POLYGON-FORM", alert(POLYGON, "43.0;76.0 43.0,77.0 44.0,77.0 43.0;76.0"), {}),
    ("CAP-POLYGON-FORM", alert(f"<polygon>{POLYGON}</polygon>", "<polygon></polygon>"), {}),
    ("CAP-POLYGON-CLOSED", alert(POLYGON, "43.0,76.0 43.0,77.0 44.0,77.0 44.0,76.0 43.5,76.0"), {}),
    ("CAP-POLYGON-RANGE", alert(POLYGON, "43.0,76.0 43.0,77.0 94.0,77.0 44.0,76.0 43.0,76.0"), {}),
    ("CAP-POLYGON-RANGE", alert(POLYGON, "43.0,176.0 43.0,187.0 44.0,187.0 44.0,176.0 43.0,176.0"), {}),
    ("CAP-POLYGON-SELF-INTERSECT", alert(POLYGON, "43.0,76.0 44.0,77.0 43.0,77.0 44.0,76.0 43.0,76.0"), {}),
    ("CAP-CIRCLE-FORM", alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95</circle>"), {}),
    ("CAP-CIRCLE-FORM", alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 -1</circle>"), {}),
    ("CAP-CIRCLE-RANGE", alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,196.95 10</circle>"), {}),
    ("CAP-CIRCLE-ZERO", alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>"), {}),
    ("CAP-ALTITUDE-FORM", alert("<altitude>100</altitude>", "<altitude>high</altitude>"), {}),
    ("CAP-CEILING-ALTITUDE", alert("<ceiling>2000.5</ceiling>", "<ceiling>50</ceiling>"), {}),
    ("CAP-CEILING-ALTITUDE", alert("<altitude>100</altitude>", ""), {}),
    ("FEED-ID", swap(GOOD_ATOM, "<id>urn:uuid:0b6f1a52-feed</id>", ""), {}),
    ("FEED-ID", swap(GOOD_ATOM, ATOM_ENTRY_2, "<id> </id>"), {}),
    ("FEED-TITLE", swap(GOOD_ATOM, "<title>Earlier flood warning</title>", ""), {}),
    ("FEED-TITLE", swap(GOOD_RSS, "<title>Accord test alerts</title>", ""), {}),
    ("FEED-UPDATED", swap(GOOD_ATOM, "<updated>2026-11-27T03:00:00Z</updated>", ""), {}),
    ("FEED-DATE-FORM", swap(GOOD_ATOM, "2026-11-27T03:00:00Z", "27 Nov 2026"), {}),
    ("FEED-DATE-FORM", swap(GOOD_RSS, "Fri, 27 Nov 2026 05:00:00 GMT", "yesterday"), {}),
    ("FEED-ENTRY-ID-UNIQUE", swap(GOOD_ATOM, ATOM_ENTRY_2, "<id>urn:uuid:0b6f1a52-0042</id>"), {}),
    ("FEED-ENTRY-ID-UNIQUE", swap(GOOD_RSS, "KZ-MOH-2026-0041", "KZ-MOH-2026-0042"), {}),
    ("FEED-ENTRY-CAP", swap(GOOD_ATOM, '<link href="https://moh.example.kz/cap/41.xml"/>', ""), {}),
    ("FEED-ENTRY-CAP", swap(GOOD_RSS, "<link>https://moh.example.kz/cap/41.xml</link>", ""), {}),
    ("FEED-FOREIGN-ALERT", swap(GOOD_ATOM, "<entry>", f"{ALERT_BODY}<entry>"), {}),
    ("FEED-RSS-CHANNEL", '<rss version="2.0"><item><title>x</title></item></rss>', {}),
    ("FEED-ITEM-TITLE", swap(GOOD_RSS, "<title>Flood warning</title>", ""), {}),
    ("FEED-ITEM-GUID", swap(GOOD_RSS, "<guid>KZ-MOH-2026-0042</guid>", ""), {}),
    ("FEED-ITEM-PUBDATE", swap(GOOD_RSS, "<pubDate>Fri, 27 Nov 2026 05:00:00 GMT</pubDate>", ""), {}),
    # An alert embedded in a feed is checked too, with a path inside the feed.
    ("CAP-CIRCLE-ZERO", swap(GOOD_ATOM, "<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>"), {}),
]


@pytest.mark.parametrize("document", [GOOD_ALERT, GOOD_ATOM, GOOD_RSS], ids=["alert", "atom", "rss"])
def test_the_good_documents_break_no_rule(document: str) -> None:
    report = validate(document.encode())
    assert report.errors == ()
    assert report.valid


def test_the_good_alert_is_schema_valid_and_read() -> None:
    report = validate(GOOD_ALERT.encode())
    assert (report.kind, report.version, report.valid_xsd) == ("alert", "1.2", True)
    assert report.alerts == (parse(GOOD_ALERT.encode()).alert,)


def test_feeds_yield_their_embedded_alerts_and_links() -> None:
    atom = validate(GOOD_ATOM.encode())
    assert (atom.kind, atom.version, atom.valid_xsd) == ("atom-feed", None, None)
    assert atom.alerts == (parse(GOOD_ALERT.encode()).alert,)
    assert atom.links == ("https://moh.example.kz/cap/42.xml", "https://moh.example.kz/cap/41.xml")
    rss = validate(GOOD_RSS.encode())
    assert rss.kind == "rss-feed" and rss.alerts == ()
    assert rss.links == ("https://moh.example.kz/cap/42.xml", "https://moh.example.kz/cap/41.xml")


def test_an_alert_escaped_as_text_in_atom_content_is_read() -> None:
    document = swap(GOOD_ATOM, ALERT_BODY, escape(ALERT_BODY))
    report = validate(document.encode())
    assert report.valid
    assert report.alerts == (parse(GOOD_ALERT.encode()).alert,)


@pytest.mark.parametrize(("rule", "document", "options"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_fires_with_its_severity(rule: str, document: str, options: dict[str, int]) -> None:
    report = validate(document.encode(), **options)
    found = rules_of(report)
    assert rule in found, report.errors
    assert found[rule] == RULES[rule].severity
    assert report.valid is not any(item.severity == "error" for item in report.errors)
    if RULES[rule].severity == "error":
        assert not report.valid


@pytest.mark.parametrize(
    ("headline", "what"),
    [
        ("Flood warning&#13;&#10;Bcc: x@example.org", "a carriage return (CR) at character 14"),
        ("Flood warning\nfor the valley", "a line feed (LF) at character 14"),
        ("Flood\twarning", "a tab at character 6"),
        ("Flood warning\u2028for the valley", "a line separator (U+2028) at character 14"),
        ("Flood warning\u0085for the valley", "the control character U+0085 at character 14"),
    ],
)
def test_a_headline_with_a_line_break_or_control_character_is_refused(headline: str, what: str) -> None:
    report = validate(alert("Flood warning for the river valley", headline).encode())
    assert not report.valid
    [found] = [f for f in report.errors if f.rule == "CAP-HEADLINE-CONTROL"]
    assert (found.severity, found.path) == ("error", "/alert/info[1]/headline")
    assert found.message == f"the headline holds {what}; write it on one line"


def test_whitespace_around_a_headline_and_line_breaks_elsewhere_are_fine() -> None:
    # Pretty-printed XML puts line breaks around the text; they are not part of the headline.
    document = alert(
        "<headline>Flood warning for the river valley</headline>", "<headline>\n  Flood warning\n</headline>"
    )
    document = swap(document, "The river is expected", "The river is\nexpected")
    report = validate(document.encode())
    assert report.errors == () and report.valid


def test_every_rule_in_the_table_is_exercised() -> None:
    assert {case[0] for case in CASES} == set(RULES)


def test_paths_point_at_the_offending_element() -> None:
    report = validate(alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>").encode())
    assert [(f.rule, f.path) for f in report.errors] == [("CAP-CIRCLE-ZERO", "/alert/info[1]/area[1]/circle[1]")]
    feed = validate(swap(GOOD_ATOM, "<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>").encode())
    assert [f.path for f in feed.errors] == ["/feed/entry[1]/content/alert/info[1]/area[1]/circle[1]"]
    schema = validate(alert("<msgType>Update</msgType>", "<msgType>Bogus</msgType>").encode())
    assert ("CAP-XSD", "/alert/msgType") in [(f.rule, f.path) for f in schema.errors]


def test_a_missing_required_element_keeps_the_alert_out_of_the_report() -> None:
    report = validate(alert("<event>Flood</event>", "").encode())
    assert report.alerts == ()
    assert ("CAP-REQUIRED", "/alert/info[1]/event") in [(f.rule, f.path) for f in report.errors]


CheckReport = Callable[[Report], bool]


@pytest.mark.parametrize(
    ("document", "check"),
    [
        (alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>"), lambda r: r.valid),
        (alert(REF, "focal@moh.example.kz,KZ-MOH-2026-0041,2026-11-27T11:00:00+05:00"), lambda r: r.valid),
        (
            alert("<scope>Public</scope>", '<scope>Private</scope><addresses>a@b "Ops Room"</addresses>'),
            lambda r: r.valid,
        ),
    ],
    ids=["zero-circle-is-a-warning", "later-reference-is-a-warning", "private-with-addresses"],
)
def test_warnings_do_not_make_a_document_invalid(document: str, check: CheckReport) -> None:
    assert check(validate(document.encode()))


def test_the_documentation_lists_every_rule_with_its_severity() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "cap.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity} |" in page, rule.id
