"""Findings, reports and the table of every rule the validator applies (id → severity, meaning)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from accord.lib.cap.model import Alert

Severity = Literal["error", "warning"]
Kind = Literal["alert", "atom-feed", "rss-feed", "other"]
CapVersion = Literal["1.2", "1.1", "1.0"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    meaning: str


_TABLE: tuple[tuple[str, Severity, str], ...] = (
    # Reading the document
    ("CAP-SIZE", "error", "the document is larger than the size limit (default 1 MiB); it is not parsed"),
    ("CAP-XML", "error", "not well-formed XML (or not XML at all, or bytes invalid for the declared encoding)"),
    ("CAP-XML-DTD", "error", "a DOCTYPE or ENTITY declaration (XXE, entity expansion); refused, nothing expanded"),
    ("CAP-ROOT", "error", "the root element is neither a CAP <alert> nor an Atom or RSS feed"),
    ("CAP-NAMESPACE", "error", "an <alert> root outside the CAP 1.0/1.1/1.2 namespaces (checked as 1.2 anyway)"),
    ("CAP-VERSION", "warning", "a CAP 1.0 or 1.1 document: upgraded to 1.2 and checked against the 1.2 rules"),
    ("CAP-XSD", "error", "the OASIS schema rejects the document (1.2 schema; 1.1 schema for CAP 1.1 documents)"),
    ("CAP-REQUIRED", "error", "a required element is missing or empty"),
    # Message
    ("CAP-ID-CHARS", "error", "identifier or sender contains whitespace, a comma, '<' or '&'"),
    ("CAP-DATE-FORM", "error", "a date is not YYYY-MM-DDThh:mm:ss±hh:mm (no 'Z', no fractional seconds) or no date"),
    ("CAP-REF-TRIPLET", "error", "a references entry is not 'sender,identifier,sent'"),
    ("CAP-REF-SELF", "error", "the message references itself"),
    ("CAP-REF-LATER", "warning", "a referenced message is dated after this message"),
    ("CAP-REF-DUPLICATE", "warning", "the same message is referenced twice"),
    ("CAP-REF-MISSING", "warning", "an Update, Cancel, Ack or Error message references no earlier message"),
    ("CAP-RESTRICTION-SCOPE", "error", "restriction is used without scope Restricted, or Restricted lacks it"),
    ("CAP-ADDRESSES-PRIVATE", "error", "scope Private without addresses"),
    ("CAP-INFO-MISSING", "warning", "an Alert or Update message without any <info>"),
    # Info blocks
    ("CAP-LANGUAGE", "error", "language is not an RFC 3066 tag"),
    ("CAP-INFO-CATEGORY-SET", "warning", "the <info> blocks do not all carry the same set of categories"),
    ("CAP-INFO-EVENTCODE-SET", "warning", "the <info> blocks do not all carry the same set of event codes"),
    ("CAP-INFO-EVENT", "warning", "<info> blocks in the same language name different events"),
    ("CAP-INFO-TEXT-REPEAT", "warning", "the same headline/description/instruction in blocks of different languages"),
    ("CAP-EFFECTIVE-EXPIRES", "error", "effective is after expires"),
    ("CAP-ONSET-EXPIRES", "warning", "onset is after expires"),
    ("CAP-EXPIRED", "warning", "the message expires before it was sent"),
    ("CAP-WEB-URI", "error", "web is not an absolute URI"),
    ("CAP-WEB-SCHEME", "warning", "web is an absolute URI but not http or https (javascript:, data:, file:...)"),
    ("CAP-HTML", "warning", "HTML tags or HTML entities inside a text field"),
    ("CAP-HEADLINE-CONTROL", "error", "the headline holds a line break or another control character (one line only)"),
    # Resources
    ("CAP-RESOURCE-MIME", "error", "mimeType is not an RFC 2046 type/subtype with a known top-level type"),
    ("CAP-RESOURCE-SIZE", "error", "size is not a non-negative integer number of bytes"),
    ("CAP-RESOURCE-URI", "error", "uri is not absolute (a relative uri needs a derefUri)"),
    ("CAP-RESOURCE-DEREF", "error", "derefUri is not base64"),
    ("CAP-RESOURCE-DIGEST", "error", "digest is not a SHA-1 hex digest, or does not match the derefUri content"),
    # Areas
    ("CAP-POLYGON-FORM", "error", "a polygon is not at least 4 whitespace-separated 'lat,lon' pairs"),
    ("CAP-POLYGON-CLOSED", "error", "a polygon's first and last points differ"),
    ("CAP-POLYGON-RANGE", "error", "a polygon point lies outside latitude [-90,90] or longitude [-180,180]"),
    ("CAP-POLYGON-SELF-INTERSECT", "error", "a polygon's edges intersect each other (checked with shapely)"),
    ("CAP-CIRCLE-FORM", "error", "a circle is not 'lat,lon radius' with a non-negative radius in km"),
    ("CAP-CIRCLE-RANGE", "error", "a circle centre lies outside latitude [-90,90] or longitude [-180,180]"),
    ("CAP-CIRCLE-ZERO", "warning", "a circle of radius 0 (discouraged: it covers no area)"),
    ("CAP-ALTITUDE-FORM", "error", "altitude or ceiling is not a decimal number (feet)"),
    ("CAP-CEILING-ALTITUDE", "error", "ceiling without altitude, or ceiling below altitude"),
    # Feeds
    ("FEED-ID", "error", "an Atom feed or entry without a non-empty <id>"),
    ("FEED-TITLE", "error", "an Atom feed or entry, or an RSS channel, without a non-empty <title>"),
    ("FEED-UPDATED", "error", "an Atom feed or entry without a non-empty <updated>"),
    ("FEED-DATE-FORM", "error", "an Atom date that is not RFC 3339, or an RSS date that is not RFC 822"),
    ("FEED-ENTRY-ID-UNIQUE", "error", "two entries (items) share one id (guid)"),
    ("FEED-ENTRY-CAP", "error", "an entry (item) neither embeds a CAP alert nor links to one"),
    ("FEED-FOREIGN-ALERT", "warning", "a CAP alert outside any entry: foreign markup, not read as an alert"),
    ("FEED-RSS-CHANNEL", "error", "an RSS document without a <channel>"),
    ("FEED-ITEM-TITLE", "error", "an RSS item with neither <title> nor <description>"),
    ("FEED-ITEM-GUID", "warning", "an RSS item without a <guid>"),
    ("FEED-ITEM-PUBDATE", "warning", "an RSS item without a <pubDate>"),
)

RULES: dict[str, Rule] = {rule_id: Rule(rule_id, severity, meaning) for rule_id, severity, meaning in _TABLE}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "path": self.path, "message": self.message}


def finding(rule: str, path: str, message: str) -> Finding:
    """A finding of a rule from the table, with the rule's severity."""
    return Finding(rule=rule, severity=RULES[rule].severity, path=path, message=message)


@dataclass(frozen=True, slots=True)
class Report:
    """What ``validate`` found.

    ``valid_xsd`` is the verdict of the CAP 1.2 XSD on the document as given (None for feeds and other roots);
    ``valid`` means no error-severity finding. ``alerts`` are the alerts that could be read (for a feed, the
    embedded ones), upgraded to 1.2; ``links`` the CAP URLs a feed points to (never fetched); ``notes`` what
    reading and upgrading changed.
    """

    kind: Kind
    version: CapVersion | None
    valid_xsd: bool | None
    valid: bool
    errors: tuple[Finding, ...]
    alerts: tuple[Alert, ...] = ()
    links: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The command's JSON contract (without the file name)."""
        return {
            "kind": self.kind,
            "version": self.version,
            "valid_xsd": self.valid_xsd,
            "valid": self.valid,
            "errors": [error.as_dict() for error in self.errors],
        }
