"""Template helpers of the web shell."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import gettext, gettext_lazy, ngettext

register = template.Library()


@register.filter
def rfc3339(value: str) -> datetime | str:
    """The signed RFC 3339 text as a datetime, so templates can show it in the reader's language."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value


TLP_MEANINGS = {
    "CLEAR": gettext_lazy("TLP:CLEAR: no limit on passing it on"),
    "GREEN": gettext_lazy("TLP:GREEN: may be passed on within the SCO community"),
    "AMBER": gettext_lazy("TLP:AMBER: the members named only"),
    "AMBER+STRICT": gettext_lazy("TLP:AMBER+STRICT: the organisations named only"),
    "RED": gettext_lazy("TLP:RED: the persons named only"),
}


@register.simple_tag
def shared_with(version: Any) -> str:
    """Who a version was shared with, in words: "Kazakhstan, Russia · TLP:AMBER: the members named only"."""
    from accord.members.models import Member, Organisation

    audience = version.envelope().get("audience") or {}
    parts: list[str] = []
    if audience.get("everyone"):
        parts.append(str(gettext("every member")))
    codes = [str(code) for code in audience.get("members") or []]
    if codes:
        names = {m.code: m.name for m in Member.objects.filter(code__in=codes)}
        parts.extend(names.get(code, code) for code in codes)
    organisations = [str(value) for value in audience.get("organisations") or []]
    if organisations:
        found = {str(o.uuid): o.name for o in Organisation.objects.filter(uuid__in=organisations)}
        parts.extend(found.get(value, value) for value in organisations)
    persons = len(audience.get("persons") or [])
    if persons:
        parts.append(ngettext("%(count)d person", "%(count)d persons", persons) % {"count": persons})
    tlp = str(TLP_MEANINGS.get(version.tlp, f"TLP:{version.tlp}"))
    whom = ", ".join(parts) or str(gettext("its organisation only"))
    return str(gettext("Shared with %(whom)s · %(tlp)s") % {"whom": whom, "tlp": tlp})
