"""What the tests of mutual assistance share: an incident KZ and KG are affected by, seen by CN, UZ and the
Secretariat too, and short ways to request, offer and accept through the API."""

from __future__ import annotations

import re
from typing import Any

from tests.response.conftest import Api, incident

AUDIENCE = {"members": ["KZ", "KG", "CN", "UZ", "SCO"]}


def open_incident(api: Api, **changes: Any) -> dict[str, Any]:
    created = api.post("/api/v1/incidents", incident(**{"audience": AUDIENCE, **changes}))
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def request_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "resource_type": "pcr_tests",
        "quantity": 10_000,
        "needed_by": "2026-05-10",
        "region": "KZ-61",
        "priority": "high",
        "audience": AUDIENCE,
        "tlp": "GREEN",
    }
    payload.update(changes)
    return payload


def request(api: Api, incident_id: str, **changes: Any) -> Any:
    return api.post(f"/api/v1/incidents/{incident_id}/requests", request_payload(**changes))


def offer(api: Api, request_id: str, quantity: int, **changes: Any) -> Any:
    payload: dict[str, Any] = {"quantity": quantity, "available_from": "2026-05-03", "note": "from the reserve"}
    payload.update(changes)
    return api.post(f"/api/v1/requests/{request_id}/offers", payload)


def accept(api: Api, offer_id: str, quantity: int, **changes: Any) -> Any:
    return api.post(f"/api/v1/offers/{offer_id}/accept", {"quantity": quantity, **changes})


def created_id(response: Any) -> str:
    assert response.status_code == 201, response.content
    ident: str = response.json()["id"]
    return ident


def page_ledger(page: str) -> dict[str, str]:
    """The ledger a request page shows: {"requested": "10000", "gap": …} from its `ledger-<name>` cells."""
    return {k: v for k, v in re.findall(r'id="ledger-(\w+)">([^<]*)<', page) if k != "title"}
