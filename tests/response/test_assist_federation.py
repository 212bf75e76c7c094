"""Mutual assistance across four real nodes (tests/federation/nodes.py: each `accord serve` with its own PostgreSQL
database, peered over real HTTP): KZ opens an incident whose audience is KZ, CN and RU, and requests 10,000 PCR
tests; IN is a node outside the audience.

CN and RU offer 6,000 each on their own nodes at the same time; the offers reach KZ by federation, and are accepted
there with the ids they have everywhere. RU's node is killed once its offer has reached KZ, before any acceptance,
and restarted after them. An acceptance tried on CN's node, which is not the request's origin, is refused and
stores nothing. KZ accepts 6,000 from CN, is refused 6,000 from RU (409, 4,000 open), accepts 4,000 from RU; then
KZ, CN and RU (after its restart) show the same ledger (requested 10,000, accepted 10,000, gap 0) and hold the same
versions, and IN holds none of them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.federation.nodes import Answer, Client, RealNode, each, real_nodes, wait

# Like tests/response/test_multiprocess.py: four servers and their workers are costly; one pass is enough.
pytestmark = [pytest.mark.postgresql_pass, pytest.mark.xdist_group("assist-nodes")]

AUDIENCE = ["KZ", "CN", "RU"]
KINDS = ["incident", "assistance_request", "assistance_offer", "assistance_acceptance"]
TIMEOUT = 120.0
IN_KINDS = ", ".join("?" for _ in KINDS)


def _until(what: str, fetch: Callable[[], Answer], done: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
    """Fetch until `done` holds of a 200 answer's body; return that body."""
    found: list[Any] = []
    last: list[Answer] = []

    def check() -> bool:
        try:
            answer = fetch()
        except OSError:  # a node restarting
            return False
        last[:] = [answer]
        if answer.status == 200 and done(answer.body):
            found.append(answer.body)
            return True
        return False

    try:
        wait(what, check, timeout=timeout)
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; the last answer: {last}") from None
    return found[0]


def _created(answer: Answer) -> dict[str, Any]:
    assert answer.status == 201, (answer.status, answer.body)
    body: dict[str, Any] = answer.body
    return body


def _held(node: RealNode) -> set[tuple[str, int, str, str]]:
    """The versions of the kinds of this test a node stores: (record, seq, kind, content hash)."""
    query = f"SELECT record_uuid, seq, kind, content_hash FROM records_version WHERE kind IN ({IN_KINDS})"  # noqa: S608
    rows = node.node.sql(query, KINDS)
    return {(str(r), int(str(s)), str(k), str(h)) for r, s, k, h in rows}


def _holds(node: RealNode, expected: set[tuple[str, int, str, str]]) -> bool:
    return _held(node) == expected


def _ledger(body: dict[str, Any]) -> tuple[int, int, int, str, dict[str, int]]:
    offers = {o["member"]: o["accepted"] for o in body["offers"]}
    return body["requested"], body["accepted"], body["gap"], body["status"], offers


def _shown(body: dict[str, Any]) -> dict[str, Any]:
    """A request as a node shows it, its offers in id order: offers signed in the same second are listed in the
    order each node stored them (assist_queries.offers_of breaks ties by the local key), no part of the ledger."""
    return {**body, "offers": sorted(body["offers"], key=lambda o: str(o["id"]))}


def _pcr_code(api: Client) -> str:
    types = api.get("/api/v1/resource-types")
    assert types.status == 200, types.body
    found = [t for t in types.body if t["unit"] == "tests" and "PCR" in t["names"]["en"]]
    assert len(found) == 1, found
    code: str = found[0]["code"]
    return code


def test_offers_from_two_nodes_are_accepted_on_the_requesters_node_and_every_node_shows_one_ledger(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    with real_nodes(tmp_path, ("KZ", "CN", "RU", "IN"), web_workers=1) as nodes:
        clients = each(lambda node: node.account(f"fp-{node.member.lower()}", "focal_point"), nodes.values())
        api = dict(zip(nodes, clients, strict=True))
        kz, cn, ru = api["KZ"], api["CN"], api["RU"]
        # A KZ focal point with an account on CN's node: the right member, the wrong node.
        nodes["CN"].node.run("account", "add", "--username", "kz-at-cn", "--member", "KZ", "--role", "focal_point")
        kz_at_cn = Client(
            nodes["CN"].server.port, nodes["CN"].node.run("token", "create", "--username", "kz-at-cn").stdout.strip()
        )

        incident = _created(
            kz.post(
                "/api/v1/incidents",
                {
                    "title": {"en": "Measles outbreak in Almaty", "ru": "Вспышка кори в Алматы"},
                    "hazard": "B05",
                    "affected_members": ["KZ"],
                    "regions": ["KZ-75"],
                    "lead_member": "KZ",
                    "audience": {"members": AUDIENCE},
                    "tlp": "AMBER",
                },
            )
        )
        needed_by = (datetime.now(UTC).date() + timedelta(days=14)).isoformat()
        made = _created(
            kz.post(
                f"/api/v1/incidents/{incident['id']}/requests",
                {
                    "resource_type": _pcr_code(kz),
                    "quantity": 10_000,
                    "detail": "measles virus",
                    "needed_by": needed_by,
                    "region": "KZ-75",
                    "priority": "high",
                    "audience": {"members": AUDIENCE},
                    "tlp": "AMBER",
                },
            )
        )
        request_id = made["id"]
        assert (made["requested"], made["accepted"], made["gap"], made["status"]) == (10_000, 0, 10_000, "open")
        path = f"/api/v1/requests/{request_id}"
        for member in ("CN", "RU"):
            _until(f"the request on the {member} node", partial(api[member].get, path), lambda b: True)

        # CN and RU offer on their own nodes at the same time.
        barrier = threading.Barrier(2)

        def offer(client: Client) -> Answer:
            barrier.wait(timeout=30)
            payload = {"quantity": 6000, "available_from": needed_by, "note": "from the national reserve"}
            return client.post(f"{path}/offers", payload)

        offers = dict(zip(("CN", "RU"), (_created(a) for a in each(offer, [cn, ru])), strict=True))
        assert {m: (o["member"], o["quantity"], o["accepted"]) for m, o in offers.items()} == {
            "CN": ("CN", 6000, 0),
            "RU": ("RU", 6000, 0),
        }
        from_cn, from_ru = offers["CN"]["id"], offers["RU"]["id"]

        # Both offers reach KZ, the request's origin, by federation.
        at_kz = _until(
            "both offers on the KZ node",
            partial(kz.get, path),
            lambda b: len(b["offers"]) == 2 and b["offered"] == 12_000,
        )
        assert {o["id"] for o in at_kz["offers"]} == {from_cn, from_ru}
        assert (at_kz["offered"], at_kz["accepted"], at_kz["status"]) == (12_000, 0, "open")

        # RU's node dies after its offer has left it, before any acceptance; it misses what follows.
        nodes["RU"].server.kill()

        # An acceptance on CN's node is refused, whoever tries it, and stores nothing there.
        _until("RU's offer on the CN node", partial(cn.get, f"/api/v1/offers/{from_ru}"), lambda b: True)
        by_cn = cn.post(f"/api/v1/offers/{from_cn}/accept", {"quantity": 6000})
        assert by_cn.status == 403, by_cn.body
        assert "requesting member (KZ)" in by_cn.body["detail"] and by_cn.body["field"] == "offer"
        by_kz_on_cn = kz_at_cn.post(f"/api/v1/offers/{from_ru}/accept", {"quantity": 4000})
        assert by_kz_on_cn.status == 409, by_kz_on_cn.body
        assert "requesting member's node" in by_kz_on_cn.body["detail"]
        assert nodes["KZ"].info["node_id"].replace("-", "") in by_kz_on_cn.body["detail"].replace("-", "")
        assert by_kz_on_cn.body["field"] == "offer" and "open_quantity" not in by_kz_on_cn.body
        assert nodes["CN"].node.sql("SELECT count(*) FROM records_record WHERE kind = 'assistance_acceptance'") == [
            (0,)
        ]
        assert cn.get(path).body["accepted"] == 0

        # KZ accepts on its own node: 6,000 from CN; 6,000 more from RU is refused with what is still open.
        first = kz.post(f"/api/v1/offers/{from_cn}/accept", {"quantity": 6000})
        assert first.status == 200, first.body
        assert _ledger(first.body) == (10_000, 6000, 4000, "partly_covered", {"CN": 6000, "RU": 0})
        too_much = kz.post(f"/api/v1/offers/{from_ru}/accept", {"quantity": 6000})
        assert too_much.status == 409, too_much.body
        assert too_much.body["open_quantity"] == 4000 and too_much.body["field"] == "quantity"
        rest = kz.post(f"/api/v1/offers/{from_ru}/accept", {"quantity": 4000})
        assert rest.status == 200, rest.body
        final = rest.body
        assert _ledger(final) == (10_000, 10_000, 0, "covered", {"CN": 6000, "RU": 4000})
        assert final["offered"] == 12_000 and final["delivered"] == 0
        assert {o["id"] for o in final["offers"]} == {from_cn, from_ru}
        assert _ledger(kz.get(path).body) == _ledger(final)
        accepted_rows = nodes["KZ"].node.sql("SELECT count(*) FROM records_record WHERE kind = 'assistance_acceptance'")
        assert accepted_rows == [(2,)], "the refused acceptance stored nothing"

        # CN, up all along, shows the same ledger; RU, restarted, catches up to it.
        # A node may hold an acceptance before the offer it accepts (they come from different nodes): it counts the
        # acceptance at once and the offer when it arrives, so wait for the whole request to be the same.
        at_cn = _until("the ledger on the CN node", partial(cn.get, path), lambda b: _shown(b) == _shown(final))
        assert _shown(at_cn) == _shown(final)
        nodes["RU"].server.start()
        at_ru = _until(
            "the ledger on the restarted RU node", partial(ru.get, path), lambda b: _shown(b) == _shown(final)
        )
        assert _shown(at_ru) == _shown(final)
        for member in ("CN", "RU"):
            offer_at = api[member].get(f"/api/v1/offers/{offers[member]['id']}").body
            assert offer_at["accepted"] == {"CN": 6000, "RU": 4000}[member]

        # The three nodes of the audience hold the same versions of every record of this exchange.
        expected = _held(nodes["KZ"])
        assert {k for _, _, k, _ in expected} == set(KINDS)
        for member in ("CN", "RU"):
            wait(f"the same versions on the {member} node", partial(_holds, nodes[member], expected), TIMEOUT)
        for member in AUDIENCE:
            assert nodes[member].node.sql("SELECT count(*) FROM records_quarantinedversion") == [(0,)], member

        _assert_holds_nothing(nodes, api["IN"], {r for r, _, _, _ in expected}, incident["id"], request_id, offers)
    print(f"\nassistance across four nodes: {time.monotonic() - started:.0f} s")


def _assert_holds_nothing(
    nodes: dict[str, RealNode],
    api: Client,
    records: set[str],
    incident_id: str,
    request_id: str,
    offers: dict[str, dict[str, Any]],
) -> None:
    """IN, outside the audience, has pulled from every other node since all was written, and holds nothing of it:
    no version in its records list, no row of the response room's tables (assistance included), nothing through its
    API."""
    since = time.time()
    for member in AUDIENCE:
        wait(f"IN to pull from {member}", partial(nodes["IN"].pulled_since, member, since), timeout=TIMEOUT)
    listed = [json.loads(line) for line in nodes["IN"].node.run("records", "list", "--json").stdout.splitlines()]
    assert not [v for v in listed if v["record"] in records or v["kind"] in KINDS]
    node = nodes["IN"].node
    assert node.sql(f"SELECT count(*) FROM records_record WHERE kind IN ({IN_KINDS})", KINDS) == [(0,)]  # noqa: S608
    assert node.sql("SELECT count(*) FROM records_quarantinedversion") == [(0,)]
    tables = node.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE ?"
        if node.database_url
        else "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ?",
        ["response_%"],
    )
    assert ("response_assistancerequestview",) in tables, "the assistance tables are migrated"
    for (table,) in tables:
        assert node.sql(f'SELECT count(*) FROM "{table}"') == [(0,)], table  # noqa: S608
    paths = [
        f"/api/v1/incidents/{incident_id}",
        f"/api/v1/incidents/{incident_id}/requests",
        f"/api/v1/requests/{request_id}",
        *(f"/api/v1/offers/{o['id']}" for o in offers.values()),
    ]
    for path in paths:
        assert api.get(path).status == 404, path
    for kind in KINDS:
        page = api.get(f"/api/v1/records?kind={kind}")
        assert page.status == 200 and page.body["items"] == [], (kind, page.body)
