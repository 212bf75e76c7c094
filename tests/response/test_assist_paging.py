"""Mutual assistance lists a page at a time: an incident's requests, unsolicited offers and deployments page by
keyset with `limit` and `cursor` (the next page's URL in `next` for requests, and in the Link header of all three),
in one stable order; a bad cursor or limit is refused naming the parameter."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Wang Li"}
WHERE = {"region": "KZ-61", "place": "Kyzylorda regional laboratory"}


def _next(response: Any) -> str | None:
    """The URL of the Link header's rel="next", or None."""
    header = response.headers.get("Link")
    if not header:
        return None
    found = re.fullmatch(r'<([^>]+)>; rel="next"', header)
    assert found is not None, header
    return found.group(1)


def _walk(api: Api, path: str, limit: int, items: Any = lambda body: body, **params: str) -> list[list[str]]:
    """Every page of a list, following the Link header's next URL as it is: the ids of each page."""
    pages: list[list[str]] = []
    response = api.get(path, limit=limit, **params)
    while True:
        assert response.status_code == 200, response.content
        pages.append([item["id"] for item in items(response.json())])
        following = _next(response)
        if following is None:
            return pages
        query = {key: values[0] for key, values in parse_qs(urlsplit(following).query).items()}
        assert query["limit"] == str(limit)
        response = api.get(urlsplit(following).path, **query)


def test_requests_page_in_their_order_with_next_and_cursor(people: People) -> None:
    carol, umid = Api(people.world.carol), Api(people.umid)
    opened = open_incident(carol)
    made = [
        created_id(request(carol, opened["id"], priority=priority, needed_by=needed_by, quantity=quantity))
        for priority, needed_by, quantity in [
            ("low", "2026-05-01", 1),
            ("high", "2026-05-20", 2),
            ("medium", "2026-05-03", 3),
            ("high", "2026-05-10", 4),
            ("high", "2026-05-10", 5),  # the same urgency and date: ordered by id
            ("medium", "2026-05-02", 6),
            ("low", "2026-04-30", 7),
        ]
    ]
    path = f"/api/v1/incidents/{opened['id']}/requests"
    whole = umid.get(path, limit=200).json()
    assert whole["count"] == 7 and whole["next"] is None and whole["cursor"] is None
    order = [r["id"] for r in whole["items"]]
    assert sorted(order) == sorted(made)
    quantities = {r["id"]: r["quantity"] for r in whole["items"]}
    listed = [quantities[i] for i in order]
    assert listed[:2] in ([4, 5], [5, 4]) and listed[2:] == [2, 6, 3, 7, 1]
    assert order[:2] == sorted(order[:2])  # ties broken by the record id, the same on every node

    pages = _walk(umid, path, 3, lambda body: body["items"])
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == order
    first = umid.get(path, limit=3)
    body = first.json()
    assert body["count"] == 7 and body["next"] == _next(first) and body["cursor"]
    assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [body["cursor"]]
    second = umid.get(path, limit=3, cursor=body["cursor"]).json()
    assert [r["id"] for r in second["items"]] == order[3:6] and second["count"] == 7
    # The filter is kept in the next link, and counts what it matches.
    assert carol.post(f"/api/v1/requests/{made[0]}/close", {}).status_code == 200
    closed = umid.get(path, status="open", limit=2)
    assert closed.json()["count"] == 6 and "status=open" in closed.json()["next"]
    assert [i for p in _walk(umid, path, 2, lambda b: b["items"], status="open") for i in p] == [
        i for i in order if i != made[0]
    ]


def test_unsolicited_offers_and_deployments_page_by_the_link_header(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    offers = [
        created_id(
            alice.post(f"/api/v1/incidents/{opened['id']}/offers", {"resource_type": "ppe_gloves", "quantity": q})
        )
        for q in (100, 200, 300, 400, 500)
    ]
    path = f"/api/v1/incidents/{opened['id']}/offers"
    whole = carol.get(path)
    assert whole.status_code == 200 and _next(whole) is None
    assert isinstance(whole.json(), list)  # still a plain list, as before it paged
    order = [o["id"] for o in whole.json()]
    assert sorted(order) == sorted(offers)
    pages = _walk(carol, path, 2)
    assert [len(p) for p in pages] == [2, 2, 1] and [i for p in pages for i in p] == order
    assert [len(p) for p in _walk(carol, path, 5)] == [5]

    request_id = created_id(request(carol, opened["id"]))
    from_cn = created_id(offer(alice, request_id, 6000))
    assert accept(carol, from_cn, 6000).status_code == 200
    deployments = []
    for quantity in (1000, 1000, 1000, 1000):
        made = alice.post(
            f"/api/v1/offers/{from_cn}/deployments", {"quantity": quantity, "contact": CONTACT, "location": WHERE}
        )
        deployments.append(created_id(made))
    path = f"/api/v1/incidents/{opened['id']}/deployments"
    order = [d["id"] for d in carol.get(path).json()]
    assert sorted(order) == sorted(deployments)
    pages = _walk(carol, path, 3)
    assert [len(p) for p in pages] == [3, 1] and [i for p in pages for i in p] == order
    # Ordered by the last change (signed time, whole seconds), then id: a status report moves a deployment on (or
    # keeps it in place within the same second); walking the pages still gives each one once.
    moved = alice.post(f"/api/v1/deployments/{order[0]}/status", {"status": "in_transit"})
    assert moved.status_code == 200, moved.content
    listed = carol.get(path).json()
    assert [(d["updated_at"], d["id"]) for d in listed] == sorted((d["updated_at"], d["id"]) for d in listed)
    assert sorted(i for p in _walk(carol, path, 3) for i in p) == sorted(deployments)


@pytest.mark.parametrize("list_name", ["requests", "offers", "deployments"])
def test_a_bad_cursor_or_limit_is_refused_naming_it(people: People, list_name: str) -> None:
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    path = f"/api/v1/incidents/{opened['id']}/{list_name}"
    for cursor in ("nonsense", "W10", "WzEsMiwzXQ", "x" * 201, "WyIyMDI2LTA1LTAxVDAwOjAwOjAwIiwiYWJjIl0"):
        refused = carol.get(path, cursor=cursor)
        assert 400 <= refused.status_code < 500, (cursor, refused.content)
        assert refused.json()["field"] == "cursor", (cursor, refused.json())
    for limit in ("0", "201", "-1", "many"):
        refused = carol.get(path, limit=limit)
        assert refused.status_code == 422 and refused.json()["field"] == "limit", (limit, refused.json())
    assert Api(people.ivan).get(path).status_code == 404
