"""The JSON form of an alert: CAP element names as keys, no nulls, no floats (it is signed with RFC 8785).

Absent optional values are left out (``language`` too: the CAP default is not written in); an element present but
empty is ``""``. Repeated elements are lists (left out when there are none). ``addresses``, ``references`` and
``incidents`` are lists of their items, ``[]`` when the element is present but empty, and left out when absent;
``references`` items are ``"sender,identifier,sent"`` strings. ``eventCode``, ``parameter`` and ``geocode`` are
lists of ``{"valueName": ..., "value": ...}``; ``resource.size`` is an integer; everything else is a string.
``addressesText``, ``referencesText``, ``incidentsText`` and ``resource.sizeText`` hold the exact text of the
element where writing its items (or size) back would not give it (see ``accord.lib.cap.model``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

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
    list_verbatim,
    references_verbatim,
    size_of,
    size_verbatim,
    split_list,
    split_references,
)

T = TypeVar("T")
JsonDict = dict[str, Any]
ListElement = tuple[tuple[T, ...] | None, str | None]
_MAX_SAFE_INT = 2**53 - 1
# Characters XML 1.0 cannot carry (and so a CAP document could never have held).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# Beside the CAP element names: the exact text of list (and size) elements, where it is needed.
TEXT_KEYS = {"addresses": "addressesText", "references": "referencesText", "incidents": "incidentsText"}
_ALERT_KEYS = [*ALERT_ELEMENTS, *TEXT_KEYS.values()]
_INFO_KEYS = list(INFO_ELEMENTS)
_RESOURCE_KEYS = [*RESOURCE_ELEMENTS, "sizeText"]
_AREA_KEYS = list(AREA_ELEMENTS)


def _put(target: JsonDict, key: str, value: object) -> None:
    if value is None or (isinstance(value, tuple | list) and not value):
        return
    target[key] = list(value) if isinstance(value, tuple) else value


def _pairs(pairs: tuple[NameValue, ...]) -> list[JsonDict]:
    return [{"valueName": pair.name, "value": pair.value} for pair in pairs]


def _put_list(target: JsonDict, key: str, items: tuple[str, ...] | None, verbatim: str | None) -> None:
    """A list element: left out when absent, ``[]`` when present but empty; its exact text when needed."""
    if items is not None:
        target[key] = list(items)
        if verbatim is not None:
            target[TEXT_KEYS[key]] = verbatim


def to_json(alert: Alert) -> JsonDict:
    """The alert as a JSON-ready dict (only str, int, list and dict values)."""
    result: JsonDict = {}
    for key, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", alert.sent),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("source", alert.source),
        ("scope", alert.scope),
        ("restriction", alert.restriction),
    ):
        _put(result, key, value)
    _put_list(result, "addresses", alert.addresses, alert.addresses_text)
    _put(result, "code", alert.codes)
    _put(result, "note", alert.note)
    references = None if alert.references is None else tuple(str(reference) for reference in alert.references)
    _put_list(result, "references", references, alert.references_text)
    _put_list(result, "incidents", alert.incidents, alert.incidents_text)
    _put(result, "info", tuple(_info_json(info) for info in alert.infos))
    return result


def _info_json(info: Info) -> JsonDict:
    result: JsonDict = {}
    for key, value in (
        ("language", info.language),
        ("category", info.categories),
        ("event", info.event),
        ("responseType", info.response_types),
        ("urgency", info.urgency),
        ("severity", info.severity),
        ("certainty", info.certainty),
        ("audience", info.audience),
        ("eventCode", _pairs(info.event_codes)),
        ("effective", info.effective),
        ("onset", info.onset),
        ("expires", info.expires),
        ("senderName", info.sender_name),
        ("headline", info.headline),
        ("description", info.description),
        ("instruction", info.instruction),
        ("web", info.web),
        ("contact", info.contact),
        ("parameter", _pairs(info.parameters)),
        ("resource", [_resource_json(resource) for resource in info.resources]),
        ("area", [_area_json(area) for area in info.areas]),
    ):
        _put(result, key, value)
    return result


def _resource_json(resource: Resource) -> JsonDict:
    result: JsonDict = {}
    for key, value in (
        ("resourceDesc", resource.resource_desc),
        ("mimeType", resource.mime_type),
        ("size", resource.size),
        ("sizeText", resource.size_text),
        ("uri", resource.uri),
        ("derefUri", resource.deref_uri),
        ("digest", resource.digest),
    ):
        _put(result, key, value)
    return result


def _area_json(area: Area) -> JsonDict:
    result: JsonDict = {}
    for key, value in (
        ("areaDesc", area.area_desc),
        ("polygon", area.polygons),
        ("circle", area.circles),
        ("geocode", _pairs(area.geocodes)),
        ("altitude", area.altitude),
        ("ceiling", area.ceiling),
    ):
        _put(result, key, value)
    return result


class _Object:
    """Typed access to one JSON object, naming the path of whatever is wrong."""

    def __init__(self, value: object, path: str, keys: list[str]) -> None:
        if not isinstance(value, dict):
            raise CapError("CAP-JSON", f"{path}: expected an object, got {type(value).__name__}")
        unknown = sorted(str(key) for key in value if key not in keys)
        if unknown:
            raise CapError("CAP-JSON", f"{path}: unknown key(s) {', '.join(unknown)}")
        self.value: dict[str, object] = value
        self.path = path

    def text(self, key: str) -> str:
        result = self.optional(key)
        if result is None:
            raise CapError("CAP-JSON", f"{self.path}.{key}: required")
        return result

    def optional(self, key: str) -> str | None:
        value = self.value.get(key)
        if value is None:
            if key in self.value:
                raise CapError("CAP-JSON", f"{self.path}.{key}: leave the key out instead of null")
            return None
        return _string(value, f"{self.path}.{key}")

    def items(self, key: str, read: Callable[[object, str], T]) -> tuple[T, ...]:
        value = self.value.get(key, [])
        if not isinstance(value, list):
            raise CapError("CAP-JSON", f"{self.path}.{key}: expected a list, got {type(value).__name__}")
        return tuple(read(item, f"{self.path}.{key}[{index}]") for index, item in enumerate(value))

    def strings(self, key: str) -> tuple[str, ...]:
        return self.items(key, _string)

    def listed(
        self, key: str, read: Callable[[object, str], T], split: Callable[[str], tuple[T, ...]]
    ) -> ListElement[T]:
        """A list element (``addresses``, ``references``, ``incidents``) and its exact text, which must hold
        the same items; the text is kept only where writing the items back would not give it."""
        text_key = TEXT_KEYS[key]
        text = self.optional(text_key)
        if key not in self.value:
            if text is not None:
                raise CapError("CAP-JSON", f"{self.path}.{text_key}: given without {key}")
            return None, None
        items = self.items(key, read)
        if text is None:
            return items, None
        if split(text) != items:
            raise CapError("CAP-JSON", f"{self.path}.{text_key}: does not hold the items of {key}")
        return items, text


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise CapError("CAP-JSON", f"{path}: expected a string, got {type(value).__name__}")
    if _NOT_XML.search(value):
        raise CapError("CAP-JSON", f"{path}: contains a character that XML cannot carry")
    return value.strip()


def _list_item(value: object, path: str) -> str:
    text = _string(value, path)
    if not text or '"' in text:
        raise CapError("CAP-JSON", f"{path}: items of a space-delimited list must be non-empty and hold no '\"'")
    return text


def _pair(value: object, path: str) -> NameValue:
    item = _Object(value, path, ["valueName", "value"])
    return NameValue(item.text("valueName"), item.text("value"))


def _reference(value: object, path: str) -> Reference:
    text = _string(value, path)
    if not text or any(char.isspace() for char in text):
        raise CapError("CAP-JSON", f"{path}: a reference is one 'sender,identifier,sent' string without spaces")
    return Reference.from_text(text)


def _resource(value: object, path: str) -> Resource:
    item = _Object(value, path, _RESOURCE_KEYS)
    size = item.value.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or abs(size) > _MAX_SAFE_INT):
        raise CapError("CAP-JSON", f"{path}.size: expected an integer number of bytes")
    size_text = item.optional("sizeText")
    if size_text is not None and size_of(size_text) != size:
        raise CapError("CAP-JSON", f"{path}.sizeText: does not give the size")
    return Resource(
        resource_desc=item.text("resourceDesc"),
        mime_type=item.text("mimeType"),
        size=size,
        size_text=size_verbatim(size_text, size),
        uri=item.optional("uri"),
        deref_uri=item.optional("derefUri"),
        digest=item.optional("digest"),
    )


def _area(value: object, path: str) -> Area:
    item = _Object(value, path, _AREA_KEYS)
    return Area(
        area_desc=item.text("areaDesc"),
        polygons=item.strings("polygon"),
        circles=item.strings("circle"),
        geocodes=item.items("geocode", _pair),
        altitude=item.optional("altitude"),
        ceiling=item.optional("ceiling"),
    )


def _info(value: object, path: str) -> Info:
    item = _Object(value, path, _INFO_KEYS)
    categories = item.strings("category")
    if not categories:
        raise CapError("CAP-JSON", f"{path}.category: at least one category is required")
    return Info(
        language=item.optional("language"),
        categories=categories,
        event=item.text("event"),
        response_types=item.strings("responseType"),
        urgency=item.text("urgency"),
        severity=item.text("severity"),
        certainty=item.text("certainty"),
        audience=item.optional("audience"),
        event_codes=item.items("eventCode", _pair),
        effective=item.optional("effective"),
        onset=item.optional("onset"),
        expires=item.optional("expires"),
        sender_name=item.optional("senderName"),
        headline=item.optional("headline"),
        description=item.optional("description"),
        instruction=item.optional("instruction"),
        web=item.optional("web"),
        contact=item.optional("contact"),
        parameters=item.items("parameter", _pair),
        resources=item.items("resource", _resource),
        areas=item.items("area", _area),
    )


def from_json(data: object) -> Alert:
    """Build an alert from its JSON form; raises ``CapError`` (rule CAP-JSON) naming the offending key."""
    item = _Object(data, "$", _ALERT_KEYS)
    addresses, addresses_text = item.listed("addresses", _list_item, split_list)
    references, references_text = item.listed("references", _reference, split_references)
    incidents, incidents_text = item.listed("incidents", _list_item, split_list)
    return Alert(
        identifier=item.text("identifier"),
        sender=item.text("sender"),
        sent=item.text("sent"),
        status=item.text("status"),
        msg_type=item.text("msgType"),
        source=item.optional("source"),
        scope=item.text("scope"),
        restriction=item.optional("restriction"),
        addresses=addresses,
        addresses_text=None if addresses_text is None else list_verbatim(addresses_text),
        codes=item.strings("code"),
        note=item.optional("note"),
        references=references,
        references_text=None if references_text is None else references_verbatim(references_text),
        incidents=incidents,
        incidents_text=None if incidents_text is None else list_verbatim(incidents_text),
        infos=item.items("info", _info),
    )
