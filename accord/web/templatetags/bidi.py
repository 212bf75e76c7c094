"""Display safety: text that people or peers supply is shown bidi-isolated, so a right-to-left override (U+202E)
or an unbalanced embedding in a title cannot reorder the page around it.

Installed as a template builtin (settings.TEMPLATES), so every template can use it without `{% load %}`:

- `{{ value|bdi }}` in markup: the escaped value inside `<bdi>` (an isolating element; the browser also
  guesses its direction from its first strong character, so Arabic or Persian titles read correctly);
- `{{ value|isolate }}` in plain-text contexts where no element can go (`<title>`, attribute values such as
  `title=` or `aria-label=`, `<option>` text): the value between U+2068 FIRST STRONG ISOLATE and U+2069 POP
  DIRECTIONAL ISOLATE, the characters that do the same in plain text.

Blocks of several lines (descriptions, notes) go into an element with `dir="auto"`, which isolates too.
"""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

register = template.Library()

FSI = "\u2068"
PDI = "\u2069"


@register.filter(is_safe=True)
def bdi(value: object) -> SafeString | str:
    """`<bdi>value</bdi>`, the value escaped; nothing at all for an empty value."""
    if value is None or value == "":
        return ""
    return format_html("<bdi>{}</bdi>", value)


@register.filter(is_safe=True)
def isolate(value: object) -> SafeString | str:
    """The value between FSI and PDI (escaped), for text where an element cannot go."""
    if value is None or value == "":
        return ""
    text = value if isinstance(value, SafeString) else str(value)
    return SafeString(FSI + conditional_escape(text) + PDI)
