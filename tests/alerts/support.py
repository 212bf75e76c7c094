"""CAP material for the alert tests."""

from __future__ import annotations

from typing import Any


def info(language: str = "en-US", **extra: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "language": language,
        "category": ["Health"],
        "event": "Cholera outbreak",
        "urgency": "Immediate",
        "severity": "Severe",
        "certainty": "Observed",
        "headline": "Cholera in Turkistan region",
        "description": "34 confirmed cases",
        "area": [{"areaDesc": "Turkistan region", "polygon": ["43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0"]}],
    }
    block.update(extra)
    return block


def cap(*infos: dict[str, Any]) -> dict[str, Any]:
    return {"info": list(infos) or [info()]}


CHOLERA = {"disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"}, "cases": 34, "deaths": 1}


def cap_xml(
    *,
    identifier: str = "KZ-MOH-2026-001",
    sender: str = "moh@gov.kz.example",
    sent: str = "2026-11-27T10:00:00+05:00",
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    extra: str = "",
    references: str = "",
    expires: str = "2099-01-01T00:00:00+05:00",
    namespace: str = "urn:oasis:names:tc:emergency:cap:1.2",
) -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{namespace}">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>{scope}</scope>{extra}{refs}
  <info>
    <category>Health</category>
    <event>Measles</event>
    <urgency>Expected</urgency>
    <severity>Moderate</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <headline>Measles cases in Shymkent</headline>
    <area>
      <areaDesc>Shymkent</areaDesc>
      <circle>42.3,69.6 25</circle>
    </area>
  </info>
</alert>
""".encode()
