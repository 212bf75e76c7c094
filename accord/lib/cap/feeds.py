"""CAP index feeds (Atom and RSS), as Google's CapFeedValidator and the IFRC Alert Hub read them.

Embedded alerts (an ``<alert>`` element inside an entry or item, or one escaped as text inside
``<content>``) are checked like documents of their own; links to CAP documents are listed, never fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from lxml import etree

from accord.lib.cap.alertcheck import check_alert_element
from accord.lib.cap.codec import VERSIONS, text_of
from accord.lib.cap.model import Alert, CapError
from accord.lib.cap.report import Finding, finding
from accord.lib.cap.secure import parse_xml
from accord.lib.cap.xsd import element_path

ATOM = "http://www.w3.org/2005/Atom"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[-+]\d{2}:\d{2})$")
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_XML_CONTENT = ("xml", "text/xml", "application/xml", "application/cap+xml")


@dataclass(slots=True)
class FeedCheck:
    findings: list[Finding] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _is_cap_alert(element: etree._Element) -> bool:
    if not isinstance(element.tag, str):
        return False
    qname = etree.QName(element)
    return qname.localname == "alert" and qname.namespace in VERSIONS


def _embedded(container: etree._Element, path: str, check: FeedCheck, max_bytes: int) -> bool:
    """Check the alerts inside an entry or item; whether there was at least one."""
    found = False
    for element in container.iter():
        if _is_cap_alert(element) and not any(_is_cap_alert(up) for up in element.iterancestors()):
            found = True
            _add_alert(element, element_path(element, container, path), check)
    if found:
        return True
    for content in container:
        if not isinstance(content.tag, str) or etree.QName(content).localname != "content" or len(content):
            continue
        text = (content.text or "").strip()
        if content.get("type", "").lower() in _XML_CONTENT and text.startswith("<"):
            here = element_path(content, container, path)
            try:  # the text is already decoded: drop an XML declaration naming another encoding
                root = parse_xml(_DECLARATION.sub("", text, count=1).encode("utf-8"), max_bytes)
            except CapError as error:
                check.findings.append(finding(error.rule, here, f"escaped XML content: {error.message}"))
                continue
            if _is_cap_alert(root):
                found = True
                _add_alert(root, f"{here}/alert", check)
    return found


def _add_alert(element: etree._Element, path: str, check: FeedCheck) -> None:
    result = check_alert_element(element, path)
    check.findings.extend(result.findings)
    check.notes.extend(f"{path}: {note}" for note in result.notes)
    if result.alert is not None:
        check.alerts.append(result.alert)


def _child(element: etree._Element, name: str, namespace: str | None) -> etree._Element | None:
    return element.find(f"{{{namespace}}}{name}" if namespace else name)


def _required_text(
    check: FeedCheck, element: etree._Element, name: str, rule: str, path: str, *, namespace: str | None = ATOM
) -> str | None:
    child = _child(element, name, namespace)
    text = text_of(child) if child is not None else ""
    if not text:
        check.findings.append(finding(rule, f"{path}/{name}", f"<{name}> is missing or empty"))
        return None
    return text


def _atom_date(element: etree._Element, path: str, check: FeedCheck) -> None:
    text = _required_text(check, element, "updated", "FEED-UPDATED", path)
    if text is not None and not RFC3339.match(text):
        check.findings.append(finding("FEED-DATE-FORM", f"{path}/updated", f"{text!r} is not an RFC 3339 date"))


def _atom_link(entry: etree._Element) -> str | None:
    """The entry's link to its CAP document: typed application/cap+xml first, else the alternate link."""
    links = [link for link in entry.findall(f"{{{ATOM}}}link") if link.get("href")]
    for link in links:
        if "cap" in link.get("type", "").lower():
            return link.get("href")
    for link in links:
        if link.get("rel", "alternate") == "alternate":
            return link.get("href")
    return None


def check_atom(root: etree._Element, max_bytes: int) -> FeedCheck:
    check = FeedCheck()
    path = "/feed"
    _required_text(check, root, "id", "FEED-ID", path)
    _required_text(check, root, "title", "FEED-TITLE", path)
    _atom_date(root, path, check)
    ids: dict[str, int] = {}
    entries = root.findall(f"{{{ATOM}}}entry")
    for index, entry in enumerate(entries, 1):
        here = f"{path}/entry[{index}]"
        entry_id = _required_text(check, entry, "id", "FEED-ID", here)
        if entry_id is not None:
            if entry_id in ids:
                check.findings.append(
                    finding("FEED-ENTRY-ID-UNIQUE", f"{here}/id", f"the same id as entry[{ids[entry_id]}]")
                )
            ids.setdefault(entry_id, index)
        _required_text(check, entry, "title", "FEED-TITLE", here)
        _atom_date(entry, here, check)
        embedded = _embedded(entry, here, check, max_bytes)
        link = _atom_link(entry)
        if link is not None:
            check.links.append(link)
        elif not embedded:
            check.findings.append(finding("FEED-ENTRY-CAP", here, "the entry neither embeds CAP nor links to it"))
    _foreign(root, path, check, f"{{{ATOM}}}entry")
    return check


def _foreign(root: etree._Element, path: str, check: FeedCheck, entry_tag: str) -> None:
    for element in root.iter():
        if _is_cap_alert(element) and not any(up.tag == entry_tag for up in element.iterancestors()):
            check.findings.append(
                finding(
                    "FEED-FOREIGN-ALERT",
                    element_path(element, root, path),
                    "a CAP alert outside any entry is foreign markup and is not read",
                )
            )


def check_rss(root: etree._Element, max_bytes: int) -> FeedCheck:
    check = FeedCheck()
    channel = root.find("channel")
    if channel is None:
        check.findings.append(finding("FEED-RSS-CHANNEL", "/rss", "an RSS feed needs a <channel>"))
        return check
    path = "/rss/channel"
    _required_text(check, channel, "title", "FEED-TITLE", path, namespace=None)
    guids: dict[str, int] = {}
    for index, item in enumerate(channel.findall("item"), 1):
        here = f"{path}/item[{index}]"
        title, description = item.find("title"), item.find("description")
        if not any(node is not None and text_of(node) for node in (title, description)):
            check.findings.append(finding("FEED-ITEM-TITLE", here, "an item needs a <title> or a <description>"))
        guid = item.find("guid")
        if guid is None or not text_of(guid):
            check.findings.append(finding("FEED-ITEM-GUID", here, "an item should have a <guid>"))
        else:
            text = text_of(guid)
            if text in guids:
                check.findings.append(
                    finding("FEED-ENTRY-ID-UNIQUE", f"{here}/guid", f"the same guid as item[{guids[text]}]")
                )
            guids.setdefault(text, index)
        pub_date = item.find("pubDate")
        if pub_date is None or not text_of(pub_date):
            check.findings.append(finding("FEED-ITEM-PUBDATE", here, "an item should have a <pubDate>"))
        else:
            try:
                parsedate_to_datetime(text_of(pub_date))
            except (TypeError, ValueError, IndexError, OverflowError):
                check.findings.append(
                    finding("FEED-DATE-FORM", f"{here}/pubDate", f"{text_of(pub_date)!r} is not an RFC 822 date")
                )
        embedded = _embedded(item, here, check, max_bytes)
        link = item.find("link")
        enclosure = item.find("enclosure")
        if link is not None and text_of(link):
            check.links.append(text_of(link))
        elif enclosure is not None and enclosure.get("url"):
            check.links.append(enclosure.get("url", ""))
        elif not embedded:
            check.findings.append(finding("FEED-ENTRY-CAP", here, "the item neither embeds CAP nor links to it"))
    _foreign(root, "/rss", check, "item")
    return check
