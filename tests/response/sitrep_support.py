"""Helpers of the situation report tests: an incident affecting KZ and KG, and reports of it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.response.conftest import Api, incident

# A fixed week well in the past, so that no test depends on today's date.
MONDAY = date(2026, 3, 2)


def day(offset: int) -> str:
    return (MONDAY + timedelta(days=offset)).isoformat()


def open_incident(api: Api, **changes: Any) -> str:
    created = api.post("/api/v1/incidents", incident(**changes))
    assert created.status_code == 201, created.content
    return str(created.json()["id"])


def report(
    start: str,
    end: str | None = None,
    *,
    new: int = 5,
    deaths: int = 0,
    cumulative: int = 5,
    cumulative_deaths: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "new_cases": new,
        "new_deaths": deaths,
        "cumulative_cases": cumulative,
        "cumulative_deaths": cumulative_deaths,
    }
    figures.update(extra.pop("figures", {}))
    return {"period_start": start, "period_end": end or start, "figures": figures, **extra}


def file(api: Api, incident_id: str, payload: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api.post(f"/api/v1/incidents/{incident_id}/sitreps", payload)
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    return body


def consolidated(api: Api, incident_id: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/incidents/{incident_id}/sitreps/consolidated", **params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body
