"""Read CAP 1.0/1.1/1.2 XML into the model (upgrading to 1.2) and write CAP 1.2 XML."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from lxml import etree

from accord.lib.cap.model import (
    ALERT_ELEMENTS,
    AREA_ELEMENTS,
    INFO_ELEMENTS,
    RESOURCE_ELEMENTS,
    Alert,
    Area,
    CapError,
    Info,
    NameValue,
    Reference,
    Resource,
    join_list,
    join_references,
    list_verbatim,
    references_verbatim,
    size_of,
    size_verbatim,
    split_list,
    split_references,
)
from accord.lib.cap.secure import DEFAULT_MAX_BYTES, check_size, parse_xml

NS_12 = "urn:oasis:names:tc:emergency:cap:1.2"
NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"
NS_10 = "http://www.incident.com/cap/1.0"
NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
Version = Literal["1.2", "1.1", "1.0"]
VERSIONS: dict[str, Version] = {NS_12: "1.2", NS_11: "1.1", NS_10: "1.0"}
DEFAULT_MIME = "application/octet-stream"

# CAP 1.0's <password> is read (and dropped, with a note) when upgrading.
_ALERT_CHILDREN = frozenset((*ALERT_ELEMENTS, "password"))
_INFO_CHILDREN = frozenset(INFO_ELEMENTS)
_RESOURCE_CHILDREN = frozenset(RESOURCE_ELEMENTS)
_AREA_CHILDREN = frozenset(AREA_ELEMENTS)
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
        names = _tag_names(self.namespace, known)
        for child in element:
            tag = child.tag
            name = names.get(tag)
            if name is None:
                if isinstance(tag, str):
                    self._ignored(child, known, path)
                continue
            group = groups.get(name)
            if group is None:
                groups[name] = [child]
            else:
                group.append(child)
        return groups

    def _ignored(self, child: etree._Element, known: frozenset[str], path: str) -> None:
        """Note why a child element is not read (another namespace, or an unknown name)."""
        qname = etree.QName(child)
        if qname.namespace != self.namespace:
            if qname.namespace == NS_DSIG and qname.localname == "Signature":
                self.notes.append(f"{path}/Signature: XML signature not verified and not carried over")
            else:
                self.notes.append(f"{path}: element {child.tag} from another namespace ignored")
        elif qname.localname not in known:
            self.notes.append(f"{path}: unknown element <{qname.localname}> ignored")

    def _one(self, groups: dict[str, list[etree._Element]], name: str, path: str) -> str | None:
        elements = groups.get(name)
        if not elements:
            return None
        if len(elements) > 1:
            self.notes.append(f"{path}/{name}: {len(elements) - 1} repeated <{name}> ignored (only one is allowed)")
        return text_of(elements[0])

    def _required(self, groups: dict[str, list[etree._Element]], name: str, path: str) -> str:
        value = self._one(groups, name, path)
        if value is None:
            self.problems.append(Problem("CAP-REQUIRED", f"{path}/{name}", f"required element <{name}> is missing"))
            return ""
        if not value:
            self.problems.append(Problem("CAP-REQUIRED", f"{path}/{name}", f"<{name}> is empty", fatal=False))
        return value

    def _many(self, groups: dict[str, list[etree._Element]], name: str) -> tuple[str, ...]:
        elements = groups.get(name)
        return tuple(map(text_of, elements)) if elements else ()

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
            **_lists(addresses, references, incidents),
            codes=self._many(groups, "code"),
            note=note,
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
            language=language,
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
        size = size_of(size_text)
        if size_text is not None and size is None:
            message = f"size {size_text!r} is not an integer number of bytes; kept as text"
            self.notes.append(f"{path}/size: {message}")
            self.problems.append(Problem("CAP-RESOURCE-SIZE", f"{path}/size", message, fatal=False))
        return Resource(
            resource_desc=self._required(groups, "resourceDesc", path),
            mime_type=mime_type,
            size=size,
            size_text=size_verbatim(size_text, size),
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


def _lists(addresses: str | None, references: str | None, incidents: str | None) -> dict[str, Any]:
    """The model fields of the three list elements of an alert: absent (None), empty (()) or items, and their
    exact text where writing the items back would not give it."""
    return {
        "addresses": None if addresses is None else split_list(addresses),
        "addresses_text": None if addresses is None else list_verbatim(addresses),
        "references": None if references is None else split_references(references),
        "references_text": None if references is None else references_verbatim(references),
        "incidents": None if incidents is None else split_list(incidents),
        "incidents_text": None if incidents is None else list_verbatim(incidents),
    }


def text_of(element: etree._Element) -> str:
    """The text of a simple element (CDATA included, comments left out), without surrounding whitespace."""
    if not len(element):  # no child nodes (comments and processing instructions count): the text is all of it
        text = element.text
        return text.strip() if text else ""
    return "".join(text for text in element.itertext() if isinstance(text, str)).strip()


@functools.lru_cache(maxsize=64)
def _tag_names(namespace: str | None, known: frozenset[str]) -> dict[object, str]:
    """Element tags (``{namespace}name``) of the known names in a namespace, to their local names."""
    return {(f"{{{namespace}}}{name}" if namespace else name): name for name in known}


class _Unusual(Exception):
    """Raised by the fast reader when a document needs a note or a problem: the full reader then reads it."""


# The fast reader: one pass over each element's children, for CAP 1.2 documents that read cleanly (no problem,
# nothing to note but XML signatures of the alert). It gives up (``_Unusual``) on anything else (a missing,
# empty or repeated element, an unknown or foreign one, a pair whose children are not just valueName, value),
# and ``_Reader`` then reads the document from the start, so the result never depends on which reader read it.
# tests/lib/test_cap_fast_paths.py holds the two readers to that.
_SINGLE, _TEXTS, _ELEMENTS = 0, 1, 2


def _kinds(*table: tuple[str, int]) -> dict[object, tuple[str, int]]:
    """CAP 1.2 element tags to (local name, kind)."""
    return {f"{{{NS_12}}}{name}": (name, kind) for name, kind in table}


_ALERT_KINDS = _kinds(
    *((name, _SINGLE) for name in ("identifier", "sender", "password", "sent", "status", "msgType", "source")),
    *((name, _SINGLE) for name in ("scope", "restriction", "addresses", "note", "references", "incidents")),
    ("code", _TEXTS),
    ("info", _ELEMENTS),
)
_ALERT_KINDS[f"{{{NS_DSIG}}}Signature"] = ("Signature", _ELEMENTS)  # noted, not read
_SIGNATURE_NOTE = "/alert/Signature: XML signature not verified and not carried over"
_INFO_KINDS = _kinds(
    *((name, _SINGLE) for name in ("language", "event", "urgency", "severity", "certainty", "audience")),
    *((name, _SINGLE) for name in ("effective", "onset", "expires", "senderName", "headline", "description")),
    *((name, _SINGLE) for name in ("instruction", "web", "contact")),
    ("category", _TEXTS),
    ("responseType", _TEXTS),
    *((name, _ELEMENTS) for name in ("eventCode", "parameter", "resource", "area")),
)
_RESOURCE_KINDS = _kinds(
    *((name, _SINGLE) for name in ("resourceDesc", "mimeType", "size", "uri", "derefUri", "digest")),
)
_AREA_KINDS = _kinds(
    *((name, _SINGLE) for name in ("areaDesc", "altitude", "ceiling")),
    ("polygon", _TEXTS),
    ("circle", _TEXTS),
    ("geocode", _ELEMENTS),
)
_VALUE_NAME, _VALUE = f"{{{NS_12}}}valueName", f"{{{NS_12}}}value"


def _scan(element: etree._Element, kinds: dict[object, tuple[str, int]]) -> dict[str, Any]:
    """The children of an element by local name: the text of single ones, lists of texts or of elements."""
    found: dict[str, Any] = {}
    for child in element:
        tag = child.tag
        entry = kinds.get(tag)
        if entry is None:
            if isinstance(tag, str):
                raise _Unusual
            continue  # a comment or processing instruction
        name, kind = entry
        if kind == _ELEMENTS:
            group = found.get(name)
            if group is None:
                found[name] = [child]
            else:
                group.append(child)
            continue
        text = child.text
        if len(child):
            text = text_of(child)
        elif text:
            text = text.strip()
        else:
            text = ""
        if kind == _SINGLE:
            if name in found:
                raise _Unusual
            found[name] = text
        else:
            group = found.get(name)
            if group is None:
                found[name] = [text]
            else:
                group.append(text)
    return found


def _filled(found: dict[str, Any], name: str) -> str:
    value: str | None = found.get(name)
    if not value:
        raise _Unusual
    return value


def _texts(found: dict[str, Any], name: str) -> tuple[str, ...]:
    values: list[str] | None = found.get(name)
    return tuple(values) if values else ()


def _fast_pairs(elements: list[etree._Element] | None) -> tuple[NameValue, ...]:
    if not elements:
        return ()
    pairs: list[NameValue] = []
    for element in elements:
        if len(element) != 2:
            raise _Unusual
        name_element, value_element = element
        if name_element.tag != _VALUE_NAME or value_element.tag != _VALUE:
            raise _Unusual
        if len(name_element) or len(value_element):
            name, value = text_of(name_element), text_of(value_element)
        else:  # text_of, inline
            name_text, value_text = name_element.text, value_element.text
            name, value = (name_text.strip() if name_text else ""), (value_text.strip() if value_text else "")
        if not name:
            raise _Unusual
        pairs.append(NameValue(name, value))
    return tuple(pairs)


def _fast_alert(root: etree._Element) -> tuple[Alert, tuple[str, ...]]:
    """The alert, and the notes on it (only its XML signatures can be noted here)."""
    found = _scan(root, _ALERT_KINDS)
    notes = (_SIGNATURE_NOTE,) * len(found.get("Signature", ()))
    if "password" in found:
        raise _Unusual
    addresses, references, incidents = found.get("addresses"), found.get("references"), found.get("incidents")
    infos: list[etree._Element] = found.get("info", [])
    # Alerts in several languages usually repeat the same areas in each <info>: read each distinct one once.
    areas: dict[bytes, Area] | None = {} if len(infos) > 1 else None
    alert = Alert(
        identifier=_filled(found, "identifier"),
        sender=_filled(found, "sender"),
        sent=_filled(found, "sent"),
        status=_filled(found, "status"),
        msg_type=_filled(found, "msgType"),
        source=found.get("source"),
        scope=_filled(found, "scope"),
        restriction=found.get("restriction"),
        **_lists(addresses, references, incidents),
        codes=_texts(found, "code"),
        note=found.get("note"),
        infos=tuple(_fast_info(item, areas) for item in infos),
    )
    return alert, notes


def _fast_info(element: etree._Element, areas: dict[bytes, Area] | None) -> Info:
    found = _scan(element, _INFO_KINDS)
    language = found.get("language")
    categories = _texts(found, "category")
    if not categories:
        raise _Unusual
    return Info(
        language=language,
        categories=categories,
        event=_filled(found, "event"),
        response_types=_texts(found, "responseType"),
        urgency=_filled(found, "urgency"),
        severity=_filled(found, "severity"),
        certainty=_filled(found, "certainty"),
        audience=found.get("audience"),
        event_codes=_fast_pairs(found.get("eventCode")),
        effective=found.get("effective"),
        onset=found.get("onset"),
        expires=found.get("expires"),
        sender_name=found.get("senderName"),
        headline=found.get("headline"),
        description=found.get("description"),
        instruction=found.get("instruction"),
        web=found.get("web"),
        contact=found.get("contact"),
        parameters=_fast_pairs(found.get("parameter")),
        resources=tuple(_fast_resource(item) for item in found.get("resource", ())),
        areas=tuple(_fast_area(item, areas) for item in found.get("area", ())),
    )


def _fast_resource(element: etree._Element) -> Resource:
    found = _scan(element, _RESOURCE_KINDS)
    mime_type = found.get("mimeType")
    if mime_type is None:
        raise _Unusual
    size_text = found.get("size")
    size = size_of(size_text)
    if size_text is not None and size is None:
        raise _Unusual
    return Resource(
        resource_desc=_filled(found, "resourceDesc"),
        mime_type=mime_type,
        size=size,
        size_text=size_verbatim(size_text, size),
        uri=found.get("uri"),
        deref_uri=found.get("derefUri"),
        digest=found.get("digest"),
    )


def _fast_area(element: etree._Element, areas: dict[bytes, Area] | None) -> Area:
    if areas is not None:
        # The same markup (namespaces, text, comments) reads as the same area.
        key = etree.tostring(element, with_tail=False)
        area = areas.get(key)
        if area is None:
            area = areas[key] = _fast_area(element, None)
        return area
    found = _scan(element, _AREA_KINDS)
    return Area(
        area_desc=_filled(found, "areaDesc"),
        polygons=_texts(found, "polygon"),
        circles=_texts(found, "circle"),
        geocodes=_fast_pairs(found.get("geocode")),
        altitude=found.get("altitude"),
        ceiling=found.get("ceiling"),
    )


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
    namespace = etree.QName(element).namespace
    if namespace == NS_12:
        try:
            alert, notes = _fast_alert(element)
            return alert, version, notes, ()
        except _Unusual:
            pass
    reader = _Reader(namespace=namespace, version=version)
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
    check_size(data, max_bytes)
    if type(data) is bytes:
        for known, recalled in _recent:
            if known is data or known == data:
                return recalled
    parsed = parse_element(parse_xml(data, max_bytes))
    remember(data, parsed)
    return parsed


# What the last few documents read as, so that ``parse`` right after ``validate`` of the same bytes (the usual
# way in) does not read the document a second time. The model is immutable, so sharing it is safe.
_RECENT_SIZE = 4
_recent: tuple[tuple[bytes, Parsed], ...] = ()
_recent_lock = threading.Lock()


def remember(data: bytes, parsed: Parsed) -> None:
    """Note that ``data`` parses as ``parsed`` (called by ``validate`` when it could read the alert)."""
    global _recent  # noqa: PLW0603 - replaced whole, so that readers need no lock
    if type(data) is not bytes or len(data) > DEFAULT_MAX_BYTES:
        return
    with _recent_lock:
        _recent = ((data, parsed), *_recent[: _RECENT_SIZE - 1])


def _add(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, f"{{{NS_12}}}{name}").text = value


def _add_pairs(parent: etree._Element, name: str, pairs: tuple[NameValue, ...]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, f"{{{NS_12}}}{name}")
        _add(element, "valueName", pair.name)
        _add(element, "value", pair.value)


def list_text(items: tuple[str, ...] | None, verbatim: str | None) -> str | None:
    """The text of ``<addresses>`` or ``<incidents>``: the exact text read, unless the items changed since."""
    if items is None:
        return None
    if verbatim is not None and split_list(verbatim) == items:
        return verbatim
    return join_list(items)


def references_text(references: tuple[Reference, ...] | None, verbatim: str | None) -> str | None:
    """The text of ``<references>``: the exact text read, unless the references changed since."""
    if references is None:
        return None
    if verbatim is not None and split_references(verbatim) == references:
        return verbatim
    return join_references(references)


def size_text(size: int | None, verbatim: str | None) -> str | None:
    """The text of ``<size>``: the exact text read, unless the size changed since."""
    if verbatim is not None and size_of(verbatim) == size:
        return verbatim
    return None if size is None else str(size)


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
    _add(root, "addresses", list_text(alert.addresses, alert.addresses_text))
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    _add(root, "references", references_text(alert.references, alert.references_text))
    _add(root, "incidents", list_text(alert.incidents, alert.incidents_text))
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
        _add(item, "size", size_text(resource.size, resource.size_text))
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
