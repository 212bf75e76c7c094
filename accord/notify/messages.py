"""What a delivery says: subject, plain text, HTML and the webhook payload, in the recipient's language.

Rendered by the worker just before sending (never stored), from the signed version and the
delivery's own data. Everything here reads the database; nothing sends.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

if TYPE_CHECKING:
    from accord.notify.models import Delivery
    from accord.records.models import Record, Version


@dataclass
class Content:
    subject: str
    text: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)  # the webhook's JSON ("type", "timestamp", "data")


def site_url() -> str:
    """The base of every link in a message: this node's public URL (accord/members/site.py)."""
    from accord.members import site

    return site.base_url()


def mail_domain() -> str:
    _, _, domain = str(settings.DEFAULT_FROM_EMAIL).rpartition("@")
    return domain.strip("<> ") or "accord.invalid"


def message_id(key: str) -> str:
    return f"<{key}@{mail_domain()}>"


def thread_message_id(record: Record, channel_uuid: str) -> str:
    """The Message-ID of the first e-mail of a record's thread on one channel: the same for every update."""
    digest = hashlib.sha256(f"{record.origin_node}|{record.uuid}|{channel_uuid}".encode()).hexdigest()[:32]
    return f"<thread_{digest}@{mail_domain()}>"


def record_link(record: Record) -> str:
    """The absolute address of the record's page: its kind's own page (an alert's, an incident's) or the generic
    one."""
    from accord.members.site import absolute_url
    from accord.records import kinds

    return absolute_url(kinds.page_path(record.kind, record.uuid))


def cap_link(record: Record) -> str | None:
    from django.urls import reverse

    from accord.members.site import absolute_url

    if record.kind != "alert":
        return None
    return absolute_url(reverse("api:alert_cap", kwargs={"record_uuid": record.uuid}))


def _severity_name(value: str) -> str:
    names = {
        "Extreme": _("Extreme"),
        "Severe": _("Severe"),
        "Moderate": _("Moderate"),
        "Minor": _("Minor"),
    }
    return names.get(value, value or "-")


def _status_mark(status: str) -> str:
    return {"exercise": _("Exercise"), "test": _("Test")}.get(status, "")


@dataclass
class _Summary:
    title: str
    kind_label: str
    severity: str
    urgency: str
    certainty: str
    areas: list[str]
    origin_member: str
    link: str
    cap: str | None
    reason: str


# Versions never change: what is drawn from one is computed once per language (a fan-out sends one version to
# many channels).
_summaries: OrderedDict[tuple[str, str, str], _Summary] = OrderedDict()
_summaries_lock = threading.Lock()


def _summary(version: Version) -> _Summary:
    key = (version.content_hash, translation.get_language() or "en", site_url())
    with _summaries_lock:
        found = _summaries.get(key)
    if found is None:
        found = _make_summary(version)
        with _summaries_lock:
            _summaries[key] = found
            while len(_summaries) > 256:
                _summaries.popitem(last=False)
    return found


def _make_summary(version: Version) -> _Summary:
    from accord.notify.matching import facts_of
    from accord.records import kinds

    facts = facts_of(version)
    kind = kinds.get(version.kind)
    envelope = version.envelope()
    cap = version.body.get("cap") if version.kind == "alert" else None
    info = (cap.get("info") or [{}])[0] if isinstance(cap, dict) else {}
    areas = []
    if isinstance(cap, dict):
        for block in cap.get("info", []) or []:
            areas += [str(a.get("areaDesc", "")) for a in block.get("area", []) or [] if a.get("areaDesc")]
    record = version.record
    return _Summary(
        title=facts.title or str(version.record_uuid),
        kind_label=str(kind.label) if kind is not None else version.kind,
        severity=facts.severity if facts.infos else "",
        urgency=str(info.get("urgency", "")),
        certainty=str(info.get("certainty", "")),
        areas=list(dict.fromkeys(areas)),
        origin_member=version.origin_member,
        link=record_link(record),
        cap=cap_link(record),
        reason=str(envelope.get("reason") or ""),
    )


_payloads: OrderedDict[str, dict[str, Any]] = OrderedDict()


def version_payload(version: Version) -> dict[str, Any]:
    """The signed version as the API shows it: envelope, hash and signature (anyone can verify it).

    Parsed once per version for a whole fan-out; callers must not change what they get."""
    with _summaries_lock:
        found = _payloads.get(version.content_hash)
    if found is None:
        found = {
            "envelope": version.envelope(),
            "content_hash": version.content_hash,
            "signature": {"alg": version.sig_alg, "kid": version.sig_kid, "value": version.signature},
        }
        with _summaries_lock:
            _payloads[version.content_hash] = found
            while len(_payloads) > 64:
                _payloads.popitem(last=False)
    return found


def _event_type(version: Version, follow_up: bool) -> str:
    if version.state == "withdrawn":
        return "record.withdrawn"
    return "record.updated" if follow_up else "record.published"


def _version_lines(s: _Summary, version: Version) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [(_("Kind"), s.kind_label), (_("Member"), s.origin_member)]
    if s.severity:
        rows.append((_("Severity"), _severity_name(s.severity)))
    if s.urgency:
        rows.append((_("Urgency"), s.urgency))
    if s.certainty:
        rows.append((_("Certainty"), s.certainty))
    if s.areas:
        rows.append((_("Areas"), "; ".join(s.areas)))
    if version.state == "withdrawn" and s.reason:
        rows.append((_("Reason"), s.reason))
    return rows


def _render_match(delivery: Delivery) -> Content:
    version = delivery.version
    assert version is not None
    s = _summary(version)
    follow_up = bool(delivery.thread_root) and delivery.thread_root != delivery.message_id
    mark = _status_mark(version.status)
    prefix = f"[{mark.upper()}] " if mark else ""
    if version.state == "withdrawn":
        subject = _("Cancelled: %(title)s") % {"title": s.title}
    elif follow_up:
        subject = _("Update: %(title)s") % {"title": s.title}
    else:
        subject = s.title
    severity = f"{_severity_name(s.severity)}: " if s.severity and version.state != "withdrawn" else ""
    subject = f"[Accord] {prefix}{severity}{subject}"
    from accord.notify.models import Channel

    text = html = ""
    if delivery.kind == Channel.Kind.EMAIL:  # a webhook carries only the JSON below
        text, html = _match_bodies(delivery, s, version, mark)
    record = version.record
    payload = {
        "type": _event_type(version, follow_up),
        "data": {
            "thread": f"{record.origin_node}/{record.uuid}",
            "record": str(record.uuid),
            "origin_node": str(record.origin_node),
            "seq": version.seq,
            "kind": version.kind,
            "status": version.status,
            "state": version.state,
            "tlp": version.tlp,
            "title": s.title,
            "severity": s.severity or None,
            "links": {"record": s.link, "cap": s.cap},
            "subscription": str(delivery.subscription.uuid) if delivery.subscription else None,
            "version": version_payload(version),
        },
    }
    return Content(subject, text, html, payload)


def _match_bodies(delivery: Delivery, s: _Summary, version: Version, mark: str) -> tuple[str, str]:
    """The plain text and HTML of a matched version's e-mail."""
    rows = _version_lines(s, version)
    links = [(_("Open in Accord"), s.link)] + ([(_("CAP message"), s.cap)] if s.cap else [])
    why = _("You receive this because of your subscription %(name)s.") % {
        "name": (delivery.subscription.name if delivery.subscription else "") or str(delivery.subscription_id or "")
    }
    text = "\n".join(
        [s.title, "", *(f"{label}: {value}" for label, value in rows), "", *(f"{t}: {u}" for t, u in links), "", why]
    )
    html = (
        f"<h1>{escape(s.title)}</h1>"
        + (f"<p><strong>{escape(mark.upper())}</strong></p>" if mark else "")
        + "<table>"
        + "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows)
        + "</table><p>"
        + " | ".join(f'<a href="{escape(u)}">{escape(t)}</a>' for t, u in links)
        + f"</p><p><small>{escape(why)}</small></p>"
    )
    return text, html


def _render_digest(delivery: Delivery) -> Content:
    from accord.notify.models import Delivery as DeliveryModel

    items = list(
        DeliveryModel.objects.filter(digest=delivery)
        .select_related("version", "version__record")
        .order_by("version_id")
    )
    summaries = [(item.version, _summary(item.version)) for item in items if item.version is not None]
    count = len(summaries)
    subject = "[Accord] " + ngettext(
        "Digest: %(counter)s new notification", "Digest: %(counter)s new notifications", count
    ) % {"counter": count}
    lines: list[str] = []
    html_items: list[str] = []
    for version, s in summaries:
        mark = _status_mark(version.status)
        head = " ".join(
            part
            for part in (
                f"[{mark.upper()}]" if mark else "",
                f"{_severity_name(s.severity)}:" if s.severity else "",
                s.title,
                f"({_('Withdrawn')})" if version.state == "withdrawn" else "",
            )
            if part
        )
        lines += [f"- {head}", f"  {s.link}"]
        html_items.append(f'<li><a href="{escape(s.link)}">{escape(head)}</a></li>')
    text = "\n".join([subject.removeprefix("[Accord] "), "", *lines])
    html = f"<h1>{escape(subject)}</h1><ul>{''.join(html_items)}</ul>"
    payload = {
        "type": "digest",
        "data": {
            "count": count,
            "items": [
                {
                    "thread": f"{v.record.origin_node}/{v.record.uuid}",
                    "record": str(v.record_uuid),
                    "seq": v.seq,
                    "kind": v.kind,
                    "status": v.status,
                    "state": v.state,
                    "title": s.title,
                    "severity": s.severity or None,
                    "links": {"record": s.link, "cap": s.cap},
                }
                for v, s in summaries
            ],
        },
    }
    return Content(subject, text, html, payload)


IHR_OVERDUE = "ihr_notification_overdue"  # data["escalation"] of the IHR 24-hour clock's deliveries
INCIDENT_LEVEL_DROPPED = "incident_level_dropped"  # an incident back at level 1: a consent was withdrawn

# The escalations other apps define (an overdue task: accord.response.task_escalation), by data["escalation"];
# each app registers its renderer at start-up, so notify imports none of them.
ESCALATIONS: dict[str, Callable[[Delivery], Content]] = {}


def register_escalation(name: str, renderer: Callable[[Delivery], Content]) -> None:
    ESCALATIONS[name] = renderer


def _render_escalation(delivery: Delivery) -> Content:
    data = delivery.data
    if data.get("escalation") == IHR_OVERDUE:
        return _render_ihr_overdue(delivery)
    if data.get("escalation") == INCIDENT_LEVEL_DROPPED:
        return _render_incident_level_dropped(delivery)
    renderer = ESCALATIONS.get(str(data.get("escalation", "")))
    if renderer is not None:
        return renderer(delivery)
    title = str(data.get("title", ""))
    members = ", ".join(str(m) for m in data.get("members", []))
    link = str(data.get("link", ""))
    subject = "[Accord] " + _("Acknowledgement overdue (%(members)s): %(title)s") % {"members": members, "title": title}
    body = _(
        "The alert %(title)s addressed %(members)s, and its acknowledgement deadline has passed without an "
        "acknowledgement from them. Please make sure it is acknowledged in Accord."
    ) % {"title": title, "members": members}
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {
        "type": "alert.escalation",
        "data": {"members": list(data.get("members", [])), "title": title, "links": {"record": link}},
    }
    return Content(subject, text, html, payload)


def _render_ihr_overdue(delivery: Delivery) -> Content:
    data = delivery.data
    event = str(data.get("event", ""))
    link = str(data.get("link", ""))
    subject = "[Accord] " + _("IHR notification overdue: %(event)s") % {"event": event}
    body = _(
        "An event assessed as notifiable under IHR Annex 2 (%(event)s) has not been notified within 24 hours. "
        "Publish the alert now, linking the assessment."
    ) % {"event": event}
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {"type": "ihr.notification_overdue", "data": {"event": event, "links": {"record": link}}}
    return Content(subject, text, html, payload)


def _render_incident_level_dropped(delivery: Delivery) -> Content:
    data = delivery.data
    titles = data.get("titles") or {}
    language = (delivery.language or "en")[:2]
    title = str(titles.get(language) or titles.get("en") or next(iter(titles.values()), ""))
    member, link = str(data.get("member", "")), str(data.get("link", ""))
    values = {"title": title, "member": member, "level": data.get("from_level")}
    subject = "[Accord] " + _("Incident back at level 1: %(title)s") % values
    body = (
        _(
            "%(member)s no longer consents to the joint response to the incident %(title)s, so the incident went back "
            "from level %(level)s to level 1 (information sharing). Raising it again needs the consent of every "
            "affected member."
        )
        % values
    )
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {
        "type": "incident.level_dropped",
        "data": {
            "title": title,
            "member": member,
            "level": 1,
            "from_level": data.get("from_level"),
            "links": {"record": link},
        },
    }
    return Content(subject, text, html, payload)


def _render_notice(delivery: Delivery) -> Content:
    data = delivery.data
    if data.get("notice") == "account_locked":
        from accord.members.notices import render_account_locked

        subject, body = render_account_locked(data)
        return Content(subject, body + "\n", f"<p>{escape(body)}</p>", {"type": "account.locked", "data": dict(data)})
    target = str(data.get("target", ""))
    reason = str(data.get("reason", ""))
    subject = "[Accord] " + _("Your webhook was disabled")
    body = _(
        "Accord stopped sending to the webhook %(target)s after repeated permanent failures. The last error "
        "was: %(reason)s. Fix the receiver, then enable the channel again."
    ) % {"target": target, "reason": reason}
    return Content(subject, body + "\n", f"<p>{escape(body)}</p>", {"type": "notice", "data": dict(data)})


def _render_test(delivery: Delivery) -> Content:
    subject = "[Accord] " + _("Test notification")
    body = _("This is a test notification from Accord. Your channel works.")
    return Content(subject, body + "\n", f"<p>{escape(body)}</p>", {"type": "test", "data": {}})


def render(delivery: Delivery) -> Content:
    """The content of a delivery in its language; adds the payload's `timestamp`-free envelope fields."""
    renderers = {
        "match": _render_match,
        "digest": _render_digest,
        "escalation": _render_escalation,
        "notice": _render_notice,
        "test": _render_test,
    }
    with translation.override(delivery.language or "en"):
        content = renderers[delivery.purpose](delivery)
    # A subject is one line, whatever a headline holds (a line break would be a header injection; Django refuses it).
    content.subject = " ".join(content.subject.split())[:500]
    content.payload.setdefault("data", {})["delivery"] = delivery.key
    return content


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
