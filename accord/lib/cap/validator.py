"""``validate(data)``: what kind of document this is, whether the CAP 1.2 XSD accepts it, and every finding."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from accord.lib.cap.alertcheck import check_alert_element
from accord.lib.cap.codec import VERSIONS, Parsed, remember
from accord.lib.cap.feeds import ATOM, check_atom, check_rss
from accord.lib.cap.model import Alert, CapError
from accord.lib.cap.report import CapVersion, Finding, Kind, Report, finding
from accord.lib.cap.secure import DEFAULT_MAX_BYTES, parse_xml, sniff_root


def _kind(namespace: str | None, localname: str) -> Kind:
    if localname == "alert":
        return "alert"
    if localname == "feed" and namespace == ATOM:
        return "atom-feed"
    if localname == "rss" and namespace is None:
        return "rss-feed"
    return "other"


def _report(
    kind: Kind,
    version: CapVersion | None,
    valid_xsd: bool | None,
    findings: Sequence[Finding],
    *,
    alerts: Sequence[Alert] = (),
    links: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> Report:
    return Report(
        kind=kind,
        version=version,
        valid_xsd=valid_xsd,
        valid=not any(item.severity == "error" for item in findings),
        errors=tuple(findings),
        alerts=tuple(alerts),
        links=tuple(links),
        notes=tuple(notes),
    )


def _refused(data: bytes, error: CapError) -> Report:
    """A document that was not parsed (too large, or with a DTD): say what it seems to be, and refuse it."""
    sniffed = sniff_root(data[:65536])
    kind = _kind(*sniffed) if sniffed else "other"
    version = VERSIONS.get(sniffed[0] or "") if sniffed and kind == "alert" else None
    path = {"alert": "/alert", "atom-feed": "/feed", "rss-feed": "/rss"}.get(kind, "/")
    # A refused alert is not schema-valid as far as anyone relying on this report is concerned.
    return _report(kind, version, False if kind == "alert" else None, [finding(error.rule, path, error.message)])


def validate(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Report:
    """Validate a CAP alert or CAP index feed. Never raises for any input bytes; see ``Report``."""
    try:
        root = parse_xml(data, max_bytes)
    except CapError as error:
        if error.rule == "CAP-XML":
            return _report("other", None, None, [finding("CAP-XML", "/", error.message)])
        return _refused(data, error)
    if not isinstance(root.tag, str):
        return _report("other", None, None, [finding("CAP-ROOT", "/", "the document has no root element")])
    qname = etree.QName(root)
    kind = _kind(qname.namespace, qname.localname)
    if kind == "alert":
        result = check_alert_element(root)
        alerts = (result.alert,) if result.alert is not None else ()
        if result.alert is not None and result.version is not None:
            remember(data, Parsed(alert=result.alert, version=result.version, notes=result.notes))
        return _report(kind, result.version, result.valid_xsd, result.findings, alerts=alerts, notes=result.notes)
    if kind in ("atom-feed", "rss-feed"):
        feed = check_atom(root, max_bytes) if kind == "atom-feed" else check_rss(root, max_bytes)
        return _report(kind, None, None, feed.findings, alerts=feed.alerts, links=feed.links, notes=feed.notes)
    message = f"the root element {qname.localname!r} ({qname.namespace or 'no namespace'}) is not a CAP alert or feed"
    return _report("other", None, None, [finding("CAP-ROOT", f"/{qname.localname}", message)])
