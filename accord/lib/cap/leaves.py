"""The leaves of a CAP alert: the multiset of (element path, stripped text) that a round trip must keep.

A leaf is an element without child elements; its path is the local names from the ``<alert>`` down
(``/alert/info/area/geocode/value``, no indexes, no namespaces) and its text is all its text (CDATA included,
comments and processing instructions left out) without surrounding whitespace, as the codec reads it. XML
signatures (``ds:Signature`` and everything inside) are left out: the codec neither verifies nor carries them.
Used by the conformance check (``scripts/cap_conformance.py``) and the round-trip tests.
"""

from __future__ import annotations

import json
from collections import Counter

from lxml import etree

from accord.lib.cap.codec import NS_12, parse_element, to_xml
from accord.lib.cap.jsonform import from_json, to_json
from accord.lib.cap.model import CapError
from accord.lib.cap.secure import parse_xml
from accord.lib.cap.xsd import xsd_check

NS_DSIG = "http://www.w3.org/2000/09/xmldsig#"
Leaf = tuple[str, str]


def leaves(alert: etree._Element) -> Counter[Leaf]:
    """The (path, stripped text) leaves of an ``<alert>`` element, counted."""
    found: Counter[Leaf] = Counter()
    _walk(alert, "", found)
    return found


def _walk(element: etree._Element, parent: str, found: Counter[Leaf]) -> None:
    qname = etree.QName(element)
    if qname.namespace == NS_DSIG:
        return
    path = f"{parent}/{qname.localname}"
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        found[(path, "".join(text for text in element.itertext() if isinstance(text, str)).strip())] += 1
        return
    for child in children:
        _walk(child, path, found)


def difference(before: Counter[Leaf], after: Counter[Leaf]) -> list[str]:
    """What a round trip lost (``-``) and gained (``+``), one line per leaf, sorted; empty when none."""
    lines = [f"- {path} {text!r}" + (f" ×{n}" if n > 1 else "") for (path, text), n in (before - after).items()]
    lines += [f"+ {path} {text!r}" + (f" ×{n}" if n > 1 else "") for (path, text), n in (after - before).items()]
    return sorted(lines, key=lambda line: (line[2:], line[0]))


def round_trip_changes(alert: etree._Element, max_bytes: int) -> list[str]:
    """What XML → JSON (through json.dumps/loads) → XML changes in the leaves of an ``<alert>`` (the root of its
    own document): ``difference`` of the leaves before and after, empty when every leaf is kept."""
    form = json.loads(json.dumps(to_json(parse_element(alert).alert)))
    again = parse_xml(to_xml(from_json(form)), max_bytes)
    return difference(leaves(alert), leaves(again))


def xsd_valid_alerts(data: bytes, max_bytes: int) -> list[etree._Element]:
    """Every CAP 1.2 ``<alert>`` of a document (the root, or alerts embedded in a feed) that the CAP 1.2 XSD
    accepts on its own, each as the root of a document of its own. None for a document that cannot be read."""
    try:
        root = parse_xml(data, max_bytes)
    except CapError:
        return []
    found = []
    for element in root.iter(f"{{{NS_12}}}alert"):
        own = parse_xml(etree.tostring(element), max_bytes)
        if xsd_check(own, "1.2", "/alert")[0]:
            found.append(own)
    return found
