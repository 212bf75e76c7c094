"""Read CAP 1.0/1.1/1.2 XML into the model (upgrading to 1.2) and write CAP 1.2 XML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from lxml import etree

from accord.lib.cap.model import (
    Alert,
    Area,
    CapError,
    Info,
    NameValue,
    Reference,
    Resource,
    join_list,
    split_list,
)
from accord.lib.cap.secure import DEFAULT_MAX_BYTES, parse_xml

NS_12 = "urn:oasis:names:tc:emergency:cap:1.2"
NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"
NS_10 = "http://www.incident.com/cap/1.0"
NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
Version = Literal["1.2", "1.1", "1.0"]
VERSIONS: dict[str, Version] = {NS_12: "1.2", NS_11: "1.1", NS_10: "1.0"}
DEFAULT_LANGUAGE = "en-US"
DEFAULT_MIME = "application/octet-stream"
MAX_SIZE = 2**53 - 1
_INTEGER = re.compile(r"^[-+]?[0-9]+$")

_ALERT_CHILDREN = frozenset(
    [
        "identifier",
        "sender",
        "password",
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
    ]
)
_INFO_CHILDREN = frozenset(
    [
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
    ]
)
_RESOURCE_CHILDREN = frozenset(["resourceDesc", "mimeType", "size", "uri", "derefUri", "digest"])
_AREA_CHILDREN = frozenset(["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"])
_PAIR_CHILDREN = frozenset(("valueName", "value"))


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed alert, the CAP version it was written in, and what the upgrade to 1.2 changed."""

    alert: Alert
    version: Version
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that keeps a document from being read strictly (a required element is missing, ...)."""

    rule: str
    path: str
    message: str
    fatal: bool = True


@dataclass(slots=True)
class _Reader:
    """Builds the model from an element tree, leniently: problems are collected, not raised."""

    namespace: str | None
    version: Version
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def upgrade(self) -> str:
        return f"CAP {self.version} → 1.2"

    def _groups(self, element: etree._Element, known: frozenset[str], path: str) -> dict[str, list[etree._Element]]:
        groups: dict[str, list[etree._Element]] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if qname.namespace != self.namespace:
                if qname.namespace == NS_DSIG and qname.localname == "Signature":
                    self.notes.append(f"{path}/Signature: XML signature not verified and not carried over")
                else:
                    self.notes.append(f"{path}: element {child.tag} from another namespace ignored")
                continue
            if qname.localname not in known:
                self.notes.append(f"{path}: unknown element <{qname.localname}> ignored")
                continue
            groups.setdefault(qname.localname, []).append(child)
        return groups

    def _one(self, groups: dict[str, list[etree._Element]], name: str, path: str) -> str | None:
        elements = groups.get(name, [])
        if len(elements) > 1:
            self.notes.append(f"{path}/{name}: {len(elements) - 1} repeated <{name}> ignored (only one is allowed)")
        return text_of(elements[0]) if elements else None

    def _required(self, groups: dict[str, list[etree._Element]], name: str, path: str) -> str:
        value = self._one(groups, name, path)
        if value is None:
            self.problems.append(Problem("CAP-REQUIRED", f"{path}/{name}", f"required element <{name}> is missing"))
            return ""
        if not value:
            self.problems.append(Problem("CAP-REQUIRED", f"{path}/{name}", f"<{name}> is empty", fatal=False))
        return value

    def _many(self, groups: dict[str, list[etree._Element]], name: str) -> tuple[str, ...]:
        return tuple(text_of(element) for element in groups.get(name, []))

    def _pairs(self, groups: dict[str, list[etree._Element]], name: str, path: str) -> tuple[NameValue, ...]:
        pairs: list[NameValue] = []
        for index, element in enumerate(groups.get(name, []), 1):
            here = f"{path}/{name}[{index}]"
            inner = self._groups(element, _PAIR_CHILDREN, here)
            if not inner and self.version == "1.0":
                text = text_of(element)
                key, sep, value = text.partition("=")
                if sep:
                    self.notes.append(f"{self.upgrade}: {here} {text!r} → valueName {key!r}, value {value!r}")
                    pairs.append(NameValue(key.strip(), value.strip()))
                    continue
            value_name = self._required(inner, "valueName", here)
            pair_value = self._one(inner, "value", here)
            if pair_value is None:  # required, but (unlike valueName) it may be empty
                pair_value = self._required(inner, "value", here)
            pairs.append(NameValue(value_name, pair_value))
        return tuple(pairs)

    def alert(self, root: etree._Element) -> Alert:
        path = "/alert"
        if self.version != "1.2":
            self.notes.append(f"{self.upgrade}: namespace {self.namespace} → {NS_12}")
        groups = self._groups(root, _ALERT_CHILDREN, path)
        if "password" in groups:
            self.notes.append(f"{self.upgrade}: <password> dropped (removed in CAP 1.1)")
        # Read in document order, so that problems and notes come out in that order too.
        identifier = self._required(groups, "identifier", path)
        sender = self._required(groups, "sender", path)
        sent = self._required(groups, "sent", path)
        status = self._required(groups, "status", path)
        msg_type = self._required(groups, "msgType", path)
        source = self._one(groups, "source", path)
        scope = self._required(groups, "scope", path)
        restriction = self._one(groups, "restriction", path)
        addresses = self._one(groups, "addresses", path)
        note = self._one(groups, "note", path)
        references = self._one(groups, "references", path)
        incidents = self._one(groups, "incidents", path)
        return Alert(
            identifier=identifier,
            sender=sender,
            sent=sent,
            status=status,
            msg_type=msg_type,
            source=source,
            scope=scope,
            restriction=restriction,
            addresses=split_list(addresses) if addresses else (),
            codes=self._many(groups, "code"),
            note=note,
            references=tuple(Reference.from_text(item) for item in (references or "").split()),
            incidents=split_list(incidents) if incidents else (),
            infos=tuple(self.info(item, f"{path}/info[{i}]") for i, item in enumerate(groups.get("info", []), 1)),
        )

    def info(self, element: etree._Element, path: str) -> Info:
        groups = self._groups(element, _INFO_CHILDREN, path)
        language = self._one(groups, "language", path)
        categories = self._many(groups, "category")
        if not categories:
            self.problems.append(Problem("CAP-REQUIRED", f"{path}/category", "at least one <category> is required"))
        event = self._required(groups, "event", path)
        urgency = self._required(groups, "urgency", path)
        severity = self._required(groups, "severity", path)
        certainty = self._required(groups, "certainty", path)
        if certainty == "Very Likely" and self.version != "1.2":
            self.notes.append(f"{self.upgrade}: {path}/certainty 'Very Likely' → 'Likely'")
            certainty = "Likely"
        return Info(
            language=DEFAULT_LANGUAGE if language is None else language,
            categories=categories,
            event=event,
            response_types=self._many(groups, "responseType"),
            urgency=urgency,
            severity=severity,
            certainty=certainty,
            audience=self._one(groups, "audience", path),
            event_codes=self._pairs(groups, "eventCode", path),
            effective=self._one(groups, "effective", path),
            onset=self._one(groups, "onset", path),
            expires=self._one(groups, "expires", path),
            sender_name=self._one(groups, "senderName", path),
            headline=self._one(groups, "headline", path),
            description=self._one(groups, "description", path),
            instruction=self._one(groups, "instruction", path),
            web=self._one(groups, "web", path),
            contact=self._one(groups, "contact", path),
            parameters=self._pairs(groups, "parameter", path),
            resources=tuple(
                self.resource(item, f"{path}/resource[{i}]") for i, item in enumerate(groups.get("resource", []), 1)
            ),
            areas=tuple(self.area(item, f"{path}/area[{i}]") for i, item in enumerate(groups.get("area", []), 1)),
        )

    def resource(self, element: etree._Element, path: str) -> Resource:
        groups = self._groups(element, _RESOURCE_CHILDREN, path)
        found = self._one(groups, "mimeType", path)
        if found is None and self.version != "1.2":
            self.notes.append(f"{self.upgrade}: {path} has no <mimeType> (optional before 1.2) → {DEFAULT_MIME!r}")
            mime_type = DEFAULT_MIME
        else:
            mime_type = found if found is not None else self._required(groups, "mimeType", path)
        size_text = self._one(groups, "size", path)
        size: int | None = None
        if size_text is not None:
            size = int(size_text) if _INTEGER.match(size_text) and len(size_text) < 20 else None
            if size is None or abs(size) > MAX_SIZE:
                size = None
                message = f"size {size_text!r} is not an integer number of bytes; dropped"
                self.notes.append(f"{path}/size: {message}")
                self.problems.append(Problem("CAP-RESOURCE-SIZE", f"{path}/size", message, fatal=False))
        return Resource(
            resource_desc=self._required(groups, "resourceDesc", path),
            mime_type=mime_type,
            size=size,
            uri=self._one(groups, "uri", path),
            deref_uri=self._one(groups, "derefUri", path),
            digest=self._one(groups, "digest", path),
        )

    def area(self, element: etree._Element, path: str) -> Area:
        groups = self._groups(element, _AREA_CHILDREN, path)
        return Area(
            area_desc=self._required(groups, "areaDesc", path),
            polygons=self._many(groups, "polygon"),
            circles=self._many(groups, "circle"),
            geocodes=self._pairs(groups, "geocode", path),
            altitude=self._one(groups, "altitude", path),
            ceiling=self._one(groups, "ceiling", path),
        )


def text_of(element: etree._Element) -> str:
    """The text of a simple element (CDATA included, comments left out), without surrounding whitespace."""
    return "".join(text for text in element.itertext() if isinstance(text, str)).strip()


def cap_version(element: etree._Element) -> Version | None:
    """The CAP version of an ``<alert>`` element, or None when it is not a CAP alert in a known namespace."""
    if not isinstance(element.tag, str):
        return None
    qname = etree.QName(element)
    if qname.localname != "alert" or qname.namespace is None:
        return None
    return VERSIONS.get(qname.namespace)


def read_alert(
    element: etree._Element, fallback: Version | None = None
) -> tuple[Alert, Version, tuple[str, ...], tuple[Problem, ...]]:
    """Read an ``<alert>`` element leniently: (alert, version, upgrade notes, problems).

    An element outside the CAP namespaces raises CAP-NAMESPACE, unless ``fallback`` names the version to read
    its children as (they are then taken from the element's own namespace).
    """
    version = cap_version(element) or fallback
    if version is None or not isinstance(element.tag, str):
        raise CapError("CAP-NAMESPACE", f"root element {element.tag} is not a CAP 1.0, 1.1 or 1.2 <alert>")
    reader = _Reader(namespace=etree.QName(element).namespace, version=version)
    alert = reader.alert(element)
    return alert, version, tuple(reader.notes), tuple(reader.problems)


def parse_element(element: etree._Element) -> Parsed:
    """Read an ``<alert>`` element strictly: a missing required element raises ``CapError``."""
    alert, version, notes, problems = read_alert(element)
    for problem in problems:
        if problem.fatal:
            raise CapError(problem.rule, f"{problem.path}: {problem.message}")
    return Parsed(alert=alert, version=version, notes=notes)


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Parsed:
    """Parse a CAP 1.0, 1.1 or 1.2 document and upgrade it to the 1.2 model.

    Raises ``CapError`` for documents over ``max_bytes`` (CAP-SIZE), with a DTD or entities (CAP-XML-DTD),
    not well-formed (CAP-XML), whose root is not a CAP ``<alert>`` (CAP-NAMESPACE) or that lack a required
    element (CAP-REQUIRED). Unknown elements, repeated single elements and XML signatures are ignored and noted.
    """
    return parse_element(parse_xml(data, max_bytes))


def _add(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, f"{{{NS_12}}}{name}").text = value


def _add_pairs(parent: etree._Element, name: str, pairs: tuple[NameValue, ...]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, f"{{{NS_12}}}{name}")
        _add(element, "valueName", pair.name)
        _add(element, "value", pair.value)


def to_element(alert: Alert) -> etree._Element:
    """The alert as a CAP 1.2 ``<alert>`` element, children in the order of the XSD."""
    root = etree.Element(f"{{{NS_12}}}alert", nsmap=cast(Any, {None: NS_12}))
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", alert.sent)
    _add(root, "status", alert.status)
    _add(root, "msgType", alert.msg_type)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope)
    _add(root, "restriction", alert.restriction)
    if alert.addresses:
        _add(root, "addresses", join_list(alert.addresses))
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    if alert.references:
        _add(root, "references", " ".join(str(reference) for reference in alert.references))
    if alert.incidents:
        _add(root, "incidents", join_list(alert.incidents))
    for info in alert.infos:
        _info_element(root, info)
    return root


def _info_element(root: etree._Element, info: Info) -> None:
    element = etree.SubElement(root, f"{{{NS_12}}}info")
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category)
    _add(element, "event", info.event)
    for response_type in info.response_types:
        _add(element, "responseType", response_type)
    _add(element, "urgency", info.urgency)
    _add(element, "severity", info.severity)
    _add(element, "certainty", info.certainty)
    _add(element, "audience", info.audience)
    _add_pairs(element, "eventCode", info.event_codes)
    for name, value in (
        ("effective", info.effective),
        ("onset", info.onset),
        ("expires", info.expires),
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
    ):
        _add(element, name, value)
    _add_pairs(element, "parameter", info.parameters)
    for resource in info.resources:
        item = etree.SubElement(element, f"{{{NS_12}}}resource")
        _add(item, "resourceDesc", resource.resource_desc)
        _add(item, "mimeType", resource.mime_type)
        _add(item, "size", None if resource.size is None else str(resource.size))
        _add(item, "uri", resource.uri)
        _add(item, "derefUri", resource.deref_uri)
        _add(item, "digest", resource.digest)
    for area in info.areas:
        item = etree.SubElement(element, f"{{{NS_12}}}area")
        _add(item, "areaDesc", area.area_desc)
        for polygon in area.polygons:
            _add(item, "polygon", polygon)
        for circle in area.circles:
            _add(item, "circle", circle)
        _add_pairs(item, "geocode", area.geocodes)
        _add(item, "altitude", area.altitude)
        _add(item, "ceiling", area.ceiling)


def to_xml(alert: Alert) -> bytes:
    """The alert as a CAP 1.2 document: UTF-8 with an XML declaration, element order per the XSD."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        to_element(alert), encoding="UTF-8", pretty_print=True
    )
