"""Hardened XML reading: no DTDs, no entities, no network, no huge trees, a size limit.

CAP arrives from outside: a document with a DOCTYPE or ENTITY declaration is refused outright (XXE,
"billion laughs" and quadratic blow-up all need one), before and after parsing. The parser itself is also
configured never to resolve entities, load a DTD or touch the network, so nothing is expanded even if a
declaration slipped past the byte scan (for instance in a UTF-16 document).
"""

from __future__ import annotations

import re

from lxml import etree

from accord.lib.cap.model import CapError

DEFAULT_MAX_BYTES = 1_048_576

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)  # ASCII case folding, as bytes.upper()
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)>")
_XMLNS = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']""")


def make_parser() -> etree.XMLParser:
    """A new hardened parser (lxml parsers are not thread-safe, so one per call)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=False,
        collect_ids=False,
    )


def _encodings_of(data: bytes) -> list[bytes]:
    """The raw bytes plus, for UTF-16/32 looking input, a UTF-8 rendering to scan."""
    views = [data]
    head = data[:4]
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"<\x00?\x00", "utf-16-le"),
        (b"\x00<\x00?", "utf-16-be"),
    ):
        if head.startswith(bom):
            views.append(data.decode(codec, errors="ignore").encode("utf-8"))
            break
    return views


def has_declarations(data: bytes) -> bool:
    """Whether the bytes contain a DOCTYPE or ENTITY declaration (any case, UTF-8/16/32)."""
    return any(_declares(view) for view in _encodings_of(data))


def _declares(view: bytes) -> bool:
    # Look at each "!" (a fast byte search; "<!" is a slow one) and at what surrounds it. Text with many "!"
    # is left to the regular expression.
    end = view.find(b"!")
    for _ in range(64):
        if end < 0:
            return False
        if view[end - 1 : end] == b"<" and view[end + 1 : end + 8].upper().startswith((b"DOCTYPE", b"ENTITY")):
            return True
        end = view.find(b"!", end + 1)
    return _DECLARATION.search(view) is not None


def check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise CapError("CAP-SIZE", f"document is {len(data)} bytes, more than the limit of {max_bytes}")


def parse_xml(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise ``CapError`` (CAP-SIZE, CAP-XML-DTD, CAP-XML)."""
    check_size(data, max_bytes)
    if has_declarations(data):
        raise CapError("CAP-XML-DTD", "document type or entity declarations are not accepted (nothing was expanded)")
    try:
        root = etree.fromstring(data, make_parser())
    except etree.XMLSyntaxError as error:
        raise CapError("CAP-XML", f"not well-formed XML: {error}") from None
    except (ValueError, LookupError) as error:  # e.g. an unknown encoding
        raise CapError("CAP-XML", f"cannot read the document: {error}") from None
    if root is None:
        raise CapError("CAP-XML", "empty document")
    tree = root.getroottree()
    if tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None or tree.docinfo.doctype:
        raise CapError("CAP-XML-DTD", "document type declarations are not accepted (nothing was expanded)")
    if any(True for _ in root.iter(etree.Entity)):
        raise CapError("CAP-XML-DTD", "entity references are not accepted (nothing was expanded)")
    return root


def sniff_root(data: bytes) -> tuple[str | None, str] | None:
    """The (namespace, local name) of the root element of a refused document, read without expanding anything.

    Used only to say what kind of document was refused. The hardened parser is tried first (it expands nothing
    and stops on entity amplification); if it gives up, a textual scan after the document type declaration
    finds the first start tag.
    """
    try:
        root = etree.fromstring(data, make_parser())
    except (etree.XMLSyntaxError, ValueError, LookupError):
        root = None
    if root is not None and isinstance(root.tag, str):
        qname = etree.QName(root)
        return qname.namespace, qname.localname
    view = _encodings_of(data)[-1]
    start = view.upper().find(b"<!DOCTYPE")
    if start >= 0:
        end = view.find(b"]>", start)
        start = end + 2 if end >= 0 else view.find(b">", start) + 1
    for match in _ROOT_TAG.finditer(view, max(start, 0)):
        prefix = (match.group(1) or b"")[:-1]
        namespaces = {(m.group(1) or b""): m.group(2) for m in _XMLNS.finditer(match.group(3))}
        namespace = namespaces.get(prefix)
        return (namespace.decode("utf-8", "replace") if namespace is not None else None), match.group(2).decode()
    return None
