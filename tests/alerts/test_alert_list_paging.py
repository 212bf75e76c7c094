"""GET /api/v1/alerts pages with an opaque cursor (keyset, never OFFSET), a `next` link and a capped count."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accord.alerts import actions, queries
from accord.records.envelope import Audience
from tests.alerts.support import cap, info
from tests.conftest import World


def _publish(world: World, n: int, members: list[str] | None = None, by: Any = None) -> None:
    actions.publish_alert(
        cap(info(headline=f"Alert number {n}")),
        audience=Audience(members=members) if members else Audience(everyone=True),
        tlp="AMBER" if members else "GREEN",
        status="actual",
        acting_user=by or world.carol,
    )


def _get(url: str, token: str, **params: Any) -> Any:
    return Client().get(url, params, headers={"Authorization": f"Bearer {token}"})


def test_pages_follow_the_next_link_to_the_end_without_gaps_or_repeats(
    world: World, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(7):
        _publish(world, n)
    _publish(world, 99, members=["CN"], by=world.alice)  # not for Carol (KZ): never counted, never listed
    token = token_for(world.carol)
    monkeypatch.setattr(queries, "COUNT_CAP", 5)
    response = _get("/api/v1/alerts", token, limit=3)
    seen: list[str] = []
    pages = 0
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages += 1
        seen += [item["headline"] for item in body["items"]]
        assert body["count"] == 5 and body["count_exact"] is False  # 7 match: more than the cap
        if body["next"] is None:
            assert body["cursor"] is None and "Link" not in response
            break
        assert response["Link"] == f'<{body["next"]}>; rel="next"'
        assert body["next"].startswith("http") and "limit=3" in body["next"]
        response = Client().get(body["next"], headers={"Authorization": f"Bearer {token}"})
    assert pages == 3
    assert seen == [f"Alert number {n}" for n in reversed(range(7))]


def test_a_small_result_is_counted_exactly(world: World, token_for: Any) -> None:
    for n in range(2):
        _publish(world, n)
    body = _get("/api/v1/alerts", token_for(world.carol)).json()
    assert body["count"] == 2 and body["count_exact"] is True and body["next"] is None


@pytest.mark.parametrize("cursor", ["nonsense!", "bm9uc2Vuc2U", "MjAyNi0wMS0wMXxh", "x" * 201])
def test_a_cursor_the_list_did_not_give_is_a_clear_4xx(world: World, token_for: Any, cursor: str) -> None:
    response = _get("/api/v1/alerts", token_for(world.carol), cursor=cursor)
    assert response.status_code in (400, 422), response.content
    assert "cursor" in response.content.decode()
