"""The CAP 1.2 data model: frozen dataclasses mirroring the OASIS elements.

Every scalar is kept as the string the sender wrote (dates too, e.g. "2026-11-27T10:00:00+05:00"), with
leading and trailing whitespace removed; only ``Resource.size`` is an integer. Repeated elements are tuples,
optional elements are ``None`` when absent and ``""`` (or ``()`` for a list element) when present but empty, so
that an alert is written back with exactly the elements it was read with. ``Info.language`` is ``None`` when the
element is absent: the CAP default (``en-US``) is applied when reading it (``Info.language_or_default``), never
written. The ``*_text`` fields keep the exact text of a list (or ``size``) element when writing its items back
would not give the same text (extra whitespace, quotes around a one-word item, a ``size`` of ``007``); they are
``None`` otherwise. Documents in CAP 1.0 and 1.1 are upgraded to this model when read (see
``accord.lib.cap.codec``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_LANGUAGE = "en-US"
MAX_SIZE = 2**53 - 1  # the largest integer that JSON readers all keep exactly
_INTEGER = re.compile(r"^[-+]?[0-9]+$")


class CapError(ValueError):
    """A document or JSON value that cannot be read as CAP. ``rule`` is a stable rule id such as ``CAP-XML``."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


# The CAP 1.2 elements of each block, in the order of the XSD (also the keys of the JSON form).
ALERT_ELEMENTS = (
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
)
INFO_ELEMENTS = (
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
)
RESOURCE_ELEMENTS = ("resourceDesc", "mimeType", "size", "uri", "derefUri", "digest")
AREA_ELEMENTS = ("areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling")


@dataclass(frozen=True, slots=True)
class NameValue:
    """A ``valueName``/``value`` pair (eventCode, parameter, geocode)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of ``<references>``: ``sender,identifier,sent``.

    An entry that is not a comma-separated triplet is kept whole in ``sender`` with empty ``identifier`` and
    ``sent``, so that the alert can still be read and written back unchanged (the validator flags it).
    """

    sender: str
    identifier: str
    sent: str

    def __str__(self) -> str:
        if not self.identifier and not self.sent:
            return self.sender
        return f"{self.sender},{self.identifier},{self.sent}"

    @classmethod
    def from_text(cls, text: str) -> Reference:
        parts = text.split(",")
        if len(parts) == 3:
            return cls(parts[0], parts[1], parts[2])
        return cls(text, "", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    resource_desc: str
    mime_type: str
    size: int | None = None
    size_text: str | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Area:
    area_desc: str
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()
    geocodes: tuple[NameValue, ...] = ()
    altitude: str | None = None
    ceiling: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Info:
    language: str | None = None
    categories: tuple[str, ...] = ()
    event: str
    response_types: tuple[str, ...] = ()
    urgency: str
    severity: str
    certainty: str
    audience: str | None = None
    event_codes: tuple[NameValue, ...] = ()
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[NameValue, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()

    @property
    def language_or_default(self) -> str:
        """The language of the block: its ``<language>``, or the CAP default ``en-US`` when absent."""
        return DEFAULT_LANGUAGE if self.language is None else self.language


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    source: str | None = None
    scope: str
    restriction: str | None = None
    addresses: tuple[str, ...] | None = None
    addresses_text: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[Reference, ...] | None = None
    references_text: str | None = None
    incidents: tuple[str, ...] | None = None
    incidents_text: str | None = None
    infos: tuple[Info, ...] = ()


def split_list(text: str) -> tuple[str, ...]:
    """Split a CAP space-delimited list; a "quoted name" stays one item (without its quotes)."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for char in text:
        if char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                items.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        items.append("".join(current))
    return tuple(stripped for item in items if (stripped := item.strip()))


def join_list(items: tuple[str, ...]) -> str:
    """The inverse of ``split_list``: items holding whitespace are written in double quotes."""
    return " ".join(f'"{item}"' if any(c.isspace() for c in item) or not item else item for item in items)


def split_references(text: str) -> tuple[Reference, ...]:
    """The entries of a ``<references>`` list (split at whitespace)."""
    return tuple(Reference.from_text(item) for item in text.split())


def join_references(references: tuple[Reference, ...]) -> str:
    return " ".join(str(reference) for reference in references)


def list_verbatim(text: str) -> str | None:
    """``text`` when writing its items back (``join_list(split_list(text))``) would change it, else None."""
    return None if join_list(split_list(text)) == text else text


def references_verbatim(text: str) -> str | None:
    """``text`` when writing its references back would change it, else None."""
    return None if join_references(split_references(text)) == text else text


def size_of(text: str | None) -> int | None:
    """The number of bytes of a ``<size>``, or None when absent or not an integer within ±(2^53-1)."""
    if text is None or not (_INTEGER.match(text) and len(text) < 20):
        return None
    size = int(text)
    return size if abs(size) <= MAX_SIZE else None


def size_verbatim(text: str | None, size: int | None) -> str | None:
    """The exact text of a ``<size>`` when ``str(size)`` would not give it back (``+5``, ``007``, ``abc``)."""
    return None if text is None or (size is not None and str(size) == text) else text
