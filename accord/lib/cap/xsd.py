"""The bundled OASIS CAP schemas (1.2 and 1.1) and XPath-like paths for their findings."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Literal, cast

from lxml import etree

from accord.lib.cap.report import Finding, finding
from accord.lib.cap.secure import make_parser

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
SCHEMA_FILES = {"1.2": SCHEMA_DIR / "cap-1.2.xsd", "1.1": SCHEMA_DIR / "cap-1.1.xsd"}
# Element names that may repeat, so their paths always carry an index.
REPEATING = frozenset(
    [
        "info",
        "code",
        "category",
        "responseType",
        "eventCode",
        "parameter",
        "resource",
        "area",
        "polygon",
        "circle",
        "geocode",
    ]
)
_NAMESPACE_NAMES = {
    "{urn:oasis:names:tc:emergency:cap:1.2}": "cap:",
    "{urn:oasis:names:tc:emergency:cap:1.1}": "cap:",
    "{http://www.w3.org/2000/09/xmldsig#}": "ds:",
}

# An XMLSchema object keeps its error log on itself, so each thread gets its own.
_local = threading.local()


def schema(version: Literal["1.2", "1.1"]) -> etree.XMLSchema:
    cache: dict[str, etree.XMLSchema] | None = getattr(_local, "schemas", None)
    if cache is None:
        cache = {}
        _local.schemas = cache
    if version not in cache:
        document = etree.parse(str(SCHEMA_FILES[version]), make_parser())
        cache[version] = etree.XMLSchema(document)
    return cache[version]


def element_path(element: etree._Element, top: etree._Element, prefix: str) -> str:
    """The path of ``element`` below ``top`` (whose own path is ``prefix``), by local names."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None and current is not top:
        parent = current.getparent()
        name = etree.QName(current).localname if isinstance(current.tag, str) else "node()"
        if parent is None:
            steps.append(name)
            break
        siblings = [child for child in parent if isinstance(child.tag, str) and child.tag == current.tag]
        if name in REPEATING or len(siblings) > 1:
            name = f"{name}[{siblings.index(current) + 1}]"
        steps.append(name)
        current = parent
    return "/".join([prefix, *reversed(steps)]) if steps else prefix


def _shorten(message: str) -> str:
    for namespace, short in _NAMESPACE_NAMES.items():
        message = message.replace(namespace, short)
    return message


def xsd_check(
    root: etree._Element, version: Literal["1.2", "1.1"], prefix: str, label: str = ""
) -> tuple[bool, list[Finding]]:
    """Validate ``root`` (the root of its own document) against a bundled schema; CAP-XSD findings."""
    checker = schema(version)
    valid = bool(checker.validate(root.getroottree()))
    findings: list[Finding] = []
    errors: list[Any] = list(cast(Any, checker.error_log))
    for error in errors:
        path = prefix
        if error.path:
            try:
                found = root.getroottree().xpath(error.path)
            except etree.XPathError:
                found = None
            if isinstance(found, list) and found and isinstance(found[0], etree._Element):
                path = element_path(found[0], root, prefix)
        where = f"line {error.line}: " if error.line else ""
        findings.append(finding("CAP-XSD", path, f"{label}{where}{_shorten(error.message)}"))
    return valid, findings
