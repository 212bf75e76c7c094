"""A CAP finding in words, for the person composing the alert: which block and field, and what to do, in their
language. The validator's rule code and path stay beside it (smaller) for whoever knows CAP; a rule without words of
its own keeps the validator's message."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FIELDS: dict[str, str | Promise] = {
    "event": gettext_lazy("Event"),
    "headline": gettext_lazy("Headline"),
    "description": gettext_lazy("Description"),
    "instruction": gettext_lazy("Instruction"),
    "urgency": gettext_lazy("Urgency"),
    "severity": gettext_lazy("Severity"),
    "certainty": gettext_lazy("Certainty"),
    "category": gettext_lazy("Category"),
    "senderName": gettext_lazy("Sender's name"),
    "web": gettext_lazy("Web page"),
    "contact": gettext_lazy("Contact"),
    "expires": gettext_lazy("Expires"),
    "effective": gettext_lazy("Takes effect"),
    "onset": gettext_lazy("Onset"),
    "language": gettext_lazy("Language"),
    "areaDesc": gettext_lazy("Area description"),
    "polygon": gettext_lazy("Polygon"),
    "circle": gettext_lazy("Circle"),
    "scope": gettext_lazy("Who it is for"),
    "addresses": gettext_lazy("Who it is for"),
    "status": gettext_lazy("Status"),
    "sent": gettext_lazy("Sent"),
}

RULES: dict[str, str | Promise] = {
    "CAP-REQUIRED": gettext_lazy("%(field)s is required."),
    "CAP-XSD": gettext_lazy("%(field)s is not in the form CAP 1.2 requires."),
    "CAP-ADDRESSES-PRIVATE": gettext_lazy(
        "Choose the members the alert is for: an alert for named members must name them."
    ),
    "CAP-RESTRICTION-SCOPE": gettext_lazy("Choose who the alert is for again: the restriction does not match it."),
    "CAP-LANGUAGE": gettext_lazy("%(field)s is not a language code such as ru-RU or zh-CN."),
    "CAP-DATE-FORM": gettext_lazy("%(field)s is not a valid date and time."),
    "CAP-EFFECTIVE-EXPIRES": gettext_lazy("The alert would expire before it takes effect: move the expiry later."),
    "CAP-ONSET-EXPIRES": gettext_lazy("The event would begin after the alert expires: check the two times."),
    "CAP-EXPIRED": gettext_lazy("The expiry time has already passed."),
    "CAP-WEB-URI": gettext_lazy("The web page must be a full address beginning with https://."),
    "CAP-WEB-SCHEME": gettext_lazy("The web page should begin with https:// or http://."),
    "CAP-HTML": gettext_lazy("%(field)s holds HTML: write plain text."),
    "CAP-HEADLINE-CONTROL": gettext_lazy("The headline must be a single line."),
    "CAP-INFO-TEXT-REPEAT": gettext_lazy("The same text is in blocks of different languages: translate it."),
    "CAP-INFO-EVENT": gettext_lazy("Blocks in the same language name different events."),
    "CAP-INFO-CATEGORY-SET": gettext_lazy("The blocks do not all have the same categories."),
    "CAP-INFO-EVENTCODE-SET": gettext_lazy("The blocks do not all have the same event codes."),
    "CAP-POLYGON-FORM": gettext_lazy("A polygon needs at least four points, each written latitude,longitude."),
    "CAP-POLYGON-CLOSED": gettext_lazy("A polygon must end at the point where it starts."),
    "CAP-POLYGON-RANGE": gettext_lazy("A point is outside the world: latitude -90 to 90, longitude -180 to 180."),
    "CAP-POLYGON-SELF-INTERSECT": gettext_lazy("The polygon's edges cross each other: draw it without crossings."),
    "CAP-CIRCLE-FORM": gettext_lazy("A circle is written latitude,longitude then its radius in kilometres."),
    "CAP-CIRCLE-RANGE": gettext_lazy(
        "The circle's centre is outside the world: latitude -90 to 90, longitude -180 to 180."
    ),
    "CAP-CIRCLE-ZERO": gettext_lazy("The circle's radius is 0: it covers no area."),
    "CAP-REF-MISSING": gettext_lazy("This message refers to no earlier message."),
}

_STEP = re.compile(r"([A-Za-z]+)(?:\[(\d+)\])?")


def place(path: str) -> tuple[str, str]:
    """(where, field) of a finding's path: "Info block 2, area 1" and the label of its last element."""
    where: list[str] = []
    last = ""
    for name, number in _STEP.findall(path):
        if name == "info" and number:
            where.append(_("Info block %(number)s") % {"number": number})
        elif name == "area" and number:
            where.append(_("area %(number)s") % {"number": number})
        last = name
    label = FIELDS.get(last)
    return ", ".join(where), str(label) if label is not None else last


def in_words(finding: dict[str, str]) -> str:
    """The finding as a sentence for a person, with where it is; the form's own problems are already so."""
    if finding.get("rule") == "FORM":
        return finding.get("message", "")
    where, field = place(finding.get("path", ""))
    template = RULES.get(finding.get("rule", ""))
    text = str(template) % {"field": field} if template is not None else finding.get("message", "")
    return f"{where}: {text}" if where else text
