"""CAP (Common Alerting Protocol) codec and validator. Pure Python: lxml and shapely, no Django.

* ``parse(data) -> Parsed``: CAP 1.0/1.1/1.2 XML to the 1.2 model (``Parsed.alert``), with upgrade notes.
* ``to_xml(alert) -> bytes``: CAP 1.2 XML. ``to_json(alert) -> dict`` / ``from_json(dict) -> Alert``: the JSON form.
* ``validate(data) -> Report``: alerts and Atom/RSS CAP index feeds, XSD plus the rules in ``RULES``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accord.lib.cap.codec import Parsed, parse, to_xml
    from accord.lib.cap.jsonform import from_json, to_json
    from accord.lib.cap.model import Alert, Area, CapError, Info, NameValue, Reference, Resource
    from accord.lib.cap.report import RULES, Finding, Report, Rule
    from accord.lib.cap.secure import DEFAULT_MAX_BYTES
    from accord.lib.cap.validator import validate

# Imported on first use: importing a submodule (e.g. the command-line table of `accord`) must not pay for
# the validator, its rules and numpy.
_HOME = {
    "Parsed": "codec", "parse": "codec", "to_xml": "codec",
    "from_json": "jsonform", "to_json": "jsonform",
    "Alert": "model", "Area": "model", "CapError": "model", "Info": "model", "NameValue": "model",
    "Reference": "model", "Resource": "model",
    "RULES": "report", "Finding": "report", "Report": "report", "Rule": "report",
    "DEFAULT_MAX_BYTES": "secure",
    "validate": "validator",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_MAX_BYTES",
    "RULES",
    "Alert",
    "Area",
    "CapError",
    "Finding",
    "Info",
    "NameValue",
    "Parsed",
    "Reference",
    "Report",
    "Resource",
    "Rule",
    "from_json",
    "parse",
    "to_json",
    "to_xml",
    "validate",
]
