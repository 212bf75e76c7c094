"""The response room across three real nodes (tests/federation/nodes.py: each `accord serve` with its own
PostgreSQL database, peered over HTTP): CN opens an incident whose audience is CN and KZ; BY is a node outside it.

The incidents and all that hangs from them reach KZ and never BY; KZ's task update and KZ's position, filed on the
KZ node, are applied by the incident's origin (CN) and every node in the audience ends with the same state; a
situation report filed on the KZ node, and its correction, are counted (once) in the consolidated report on CN; a
consent given on the KZ node reaches CN and lets CN raise the level, which KZ then shows.
The tests of this module share the three nodes and run in order: the last checks that BY holds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.federation.nodes import Answer, Client, RealNode, each, real_nodes, wait

# Like tests/federation/test_multiprocess.py: three servers and their workers are costly; one pass is enough.
pytestmark = [pytest.mark.postgresql_pass, pytest.mark.xdist_group("response-nodes")]

RESPONSE_KINDS = (
    "incident",
    "consent",
    "incident_link",
    "task",
    "task_update",
    "meeting",
    "decision",
    "position",
    "sitrep",
    "sitrep_schedule",
)


class Room:
    """The three nodes and a focal point's client on each."""

    def __init__(self, nodes: dict[str, RealNode]) -> None:
        self.nodes = nodes
        clients = each(lambda node: node.account(f"fp-{node.member.lower()}", "focal_point"), nodes.values())
        self.api = dict(zip(nodes, clients, strict=True))
        self.paths: list[str] = []  # what the audience nodes show and BY must answer 404 to
        self.kinds: set[str] = set()  # the kinds of the records written so far


# Session-wide, not module-wide: the worker that runs this group may run other modules' tests between these,
# and a module fixture would then be torn down and built again, empty, before the last test (which checks what
# the earlier ones wrote).
@pytest.fixture(scope="session")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    with real_nodes(tmp_path_factory.mktemp("response-nodes"), ("CN", "KZ", "BY"), web_workers=1) as nodes:
        yield Room(nodes)


def _until(what: str, fetch: Callable[[], Answer], done: Callable[[Any], bool], timeout: float = 60) -> Any:
    """Fetch until `done` holds of a 200 answer's body; return that body."""
    found: list[Any] = []

    def check() -> bool:
        answer = fetch()
        if answer.status == 200 and done(answer.body):
            found.append(answer.body)
            return True
        return False

    wait(what, check, timeout=timeout)
    return found[0]


def _created(answer: Answer) -> dict[str, Any]:
    assert answer.status == 201, (answer.status, answer.body)
    body: dict[str, Any] = answer.body
    return body


def _open_incident(room: Room) -> dict[str, Any]:
    incident = _created(
        room.api["CN"].post(
            "/api/v1/incidents",
            {
                "title": {"en": "Crimean-Congo haemorrhagic fever", "zh": "克里米亚-刚果出血热"},
                "hazard": "A98.0",
                "affected_members": ["CN", "KZ"],
                "regions": ["CN-XJ", "KZ-19"],
                "lead_member": "CN",
                "audience": {"members": ["CN", "KZ"]},
                "tlp": "AMBER",
            },
        )
    )
    room.paths.append(f"/api/v1/incidents/{incident['id']}")
    room.kinds.add("incident")
    _until("the incident on the KZ node", lambda: room.api["KZ"].get(f"/api/v1/incidents/{incident['id']}"), bool)
    return incident


def test_task_updates_and_positions_from_a_peer_are_applied_by_the_origin(room: Room) -> None:
    cn, kz = room.api["CN"], room.api["KZ"]
    incident = _open_incident(room)
    incident_id = incident["id"]
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    task = _created(
        cn.post(
            f"/api/v1/incidents/{incident_id}/tasks",
            {
                "title": {"en": "Tick survey along the border"},
                "assignee": {"type": "member", "id": "KZ"},
                "priority": "high",
                "due": due,
            },
        )
    )
    decision = _created(
        cn.post(
            f"/api/v1/incidents/{incident_id}/decisions",
            {"text": {"en": "Share case data daily"}, "participants": ["CN", "KZ"], "sets_level": 1},
        )
    )
    assert _created(cn.post(f"/api/v1/decisions/{decision['id']}/positions", {"position": "support"}))["counted"]

    room.paths += [f"/api/v1/tasks/{task['id']}", f"/api/v1/decisions/{decision['id']}"]
    room.kinds |= {"task", "task_update", "decision", "position"}

    # The incident reaches KZ, the other member of its audience, with its task and its decision.
    seen = kz.get(f"/api/v1/incidents/{incident_id}").body
    assert seen["origin_member"] == "CN" and seen["level"] == 0
    kz_tasks = _until("the task in KZ's tasks", lambda: kz.get("/api/v1/tasks?mine=true"), lambda b: b["count"] == 1)
    assert kz_tasks["items"][0]["id"] == task["id"]
    _until("the decision on the KZ node", lambda: kz.get(f"/api/v1/decisions/{decision['id']}"), lambda b: True)

    # KZ works on the task and states its position on its own node: it issues records of its own, not the CN
    # records' versions (single writer).
    update = _created(kz.post(f"/api/v1/tasks/{task['id']}/status", {"status": "in_progress", "comment": "teams out"}))
    assert update["applied"] is False
    position = _created(kz.post(f"/api/v1/decisions/{decision['id']}/positions", {"position": "support"}))
    assert position["counted"] is False

    # CN, the origin, receives them and applies them: the task's next version, the decision adopted and the level
    # it sets applied to the incident; KZ receives those versions and shows the same.
    def same_everywhere(path: str, done: Callable[[Any], bool]) -> dict[str, Any]:
        at_cn = _until(f"{path} on the CN node", lambda: cn.get(path), done)
        at_kz = _until(f"{path} on the KZ node", lambda: kz.get(path), lambda b: b.get("seq") == at_cn["seq"])
        return {"CN": at_cn, "KZ": at_kz}

    tasks = same_everywhere(f"/api/v1/tasks/{task['id']}", lambda b: b["status"] == "in_progress")
    for shown in tasks.values():
        assert shown["status"] == "in_progress" and shown["seq"] == 2 and shown["origin_member"] == "CN"
        assert [(u["member"], u["status"], u["applied"]) for u in shown["updates"]] == [("KZ", "in_progress", True)]
    decisions = same_everywhere(f"/api/v1/decisions/{decision['id']}", lambda b: b["state"] == "adopted")
    for shown in decisions.values():
        assert shown["state"] == "adopted" and shown["waiting_for"] == []
        assert {(p["member"], p["position"], p["counted"]) for p in shown["positions"]} == {
            ("CN", "support", True),
            ("KZ", "support", True),
        }
        assert shown["effect"]["applied"] is True and shown["effect"]["level"] == 1
    incidents = same_everywhere(f"/api/v1/incidents/{incident_id}", lambda b: b["level"] == 1)
    assert incidents["CN"] == incidents["KZ"]
    assert incidents["KZ"]["change"]["action"] == "decision"
    assert incidents["KZ"]["change"]["cause"]["record"] == decision["id"]


def test_a_sitrep_filed_on_the_kz_node_is_counted_once_in_the_consolidated_report_on_cn(room: Room) -> None:
    cn, kz = room.api["CN"], room.api["KZ"]
    incident_id = _open_incident(room)["id"]
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()

    def report(new: int, cumulative: int, region: str) -> dict[str, Any]:
        return {
            "period_start": yesterday,
            "period_end": yesterday,
            "figures": {
                "new_cases": new,
                "new_deaths": 0,
                "cumulative_cases": cumulative,
                "cumulative_deaths": 0,
                "by_region": [{"region": region, "new_cases": new, "new_deaths": 0}],
            },
            "measures": ["isolation"],
        }

    filed = _created(kz.post(f"/api/v1/incidents/{incident_id}/sitreps", report(7, 20, "KZ-19")))
    assert filed["member"] == "KZ" and filed["seq"] == 1
    _created(cn.post(f"/api/v1/incidents/{incident_id}/sitreps", report(3, 3, "CN-XJ")))
    path = f"/api/v1/incidents/{incident_id}/sitreps/consolidated?period_start={yesterday}&period_end={yesterday}"

    def kz_counted(seq: int) -> Callable[[Any], bool]:
        def check(body: Any) -> bool:
            kz_row = next(m for m in body["members"] if m["member"] == "KZ")
            return bool(kz_row["reports"]) and kz_row["reports"][0]["seq"] == seq

        return check

    merged = _until("KZ's report in the consolidated report on CN", lambda: cn.get(path), kz_counted(1))
    assert merged["missing_members"] == []
    assert merged["totals"]["new_cases"] == 10 and merged["totals"]["cumulative_cases"] == 23

    # A correction on the KZ node is the same record's next version: CN counts it instead, not beside it.
    corrected = kz.post(f"/api/v1/incidents/{incident_id}/sitreps", report(9, 22, "KZ-19"))
    assert corrected.status == 200 and corrected.body["id"] == filed["id"] and corrected.body["seq"] == 2
    merged = _until("KZ's correction in the consolidated report on CN", lambda: cn.get(path), kz_counted(2))
    kz_row = next(m for m in merged["members"] if m["member"] == "KZ")
    assert len(kz_row["reports"]) == 1 and kz_row["new_cases"] == 9 and kz_row["cumulative_cases"] == 22
    assert merged["totals"]["new_cases"] == 12 and merged["totals"]["cumulative_cases"] == 25
    # KZ's own node consolidates the same picture once CN's report has reached it.
    at_kz = _until(
        "the same consolidated report on KZ", lambda: kz.get(path), lambda b: b["totals"] == merged["totals"]
    )
    assert at_kz["members"] == merged["members"]
    room.paths.append(f"/api/v1/incidents/{incident_id}/sitreps")
    room.kinds.add("sitrep")


def test_a_consent_given_on_the_kz_node_lets_the_origin_raise_the_level(room: Room) -> None:
    cn, kz = room.api["CN"], room.api["KZ"]
    incident_id = _open_incident(room)["id"]
    assert _created(cn.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given"}))["member"] == "CN"
    # Without KZ's consent the origin refuses level 2, naming KZ.
    refused = cn.post(f"/api/v1/incidents/{incident_id}/level", {"level": 2, "reason": "cases on both sides"})
    assert refused.status == 409 and refused.body["missing_consent"] == ["KZ"], refused.body
    # KZ gives its consent on its own node, which is not the incident's origin: it issues no incident version.
    given = _created(kz.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given", "condition": "KZ-19"}))
    assert given["member"] == "KZ" and given["incident_level"] == 0
    room.paths.append(f"/api/v1/incidents/{incident_id}/consents")
    room.kinds.add("consent")

    def both_given(rows: Any) -> bool:
        return {r["member"]: r["consent"] for r in rows} == {"CN": "given", "KZ": "given"}

    board = _until(
        "KZ's consent on the CN node", lambda: cn.get(f"/api/v1/incidents/{incident_id}/consents"), both_given
    )
    assert next(r for r in board if r["member"] == "KZ")["condition"] == "KZ-19"
    raised = cn.post(f"/api/v1/incidents/{incident_id}/level", {"level": 2, "reason": "cases on both sides"})
    assert raised.status == 200, raised.body
    assert raised.body["level"] == 2 and {c["member"] for c in raised.body["consents"]} == {"CN", "KZ"}
    at_kz = _until(
        "level 2 on the KZ node", lambda: kz.get(f"/api/v1/incidents/{incident_id}"), lambda b: b["level"] == 2
    )
    assert at_kz["seq"] == raised.body["seq"] and at_kz["origin_member"] == "CN"
    assert at_kz["consents"] == raised.body["consents"]
    # The timeline on KZ shows both consents and the level change, each from the node that issued it.
    items = kz.get(f"/api/v1/incidents/{incident_id}/timeline").body["items"]
    consents = {(i["origin"], i["node"]) for i in items if i["kind"] == "consent"}
    assert consents == {("CN", room.nodes["CN"].info["node_id"]), ("KZ", room.nodes["KZ"].info["node_id"])}
    assert [i["details"]["level"] for i in items if i["kind"] == "incident"] == [0, 2]
    room.paths.append(f"/api/v1/incidents/{incident_id}/timeline")


def test_the_node_outside_the_audience_holds_nothing(room: Room) -> None:
    """BY has pulled from CN and KZ since everything above was written, and stores none of it."""
    since = time.time()
    for member in ("CN", "KZ"):
        wait(f"BY to pull from {member}", partial(room.nodes["BY"].pulled_since, member, since), timeout=60)
    _assert_holds_nothing(room.nodes["BY"], room.api["BY"], room.paths)
    # The same questions find it all on KZ, inside the audience.
    held = room.nodes["KZ"].node.sql(
        "SELECT DISTINCT kind FROM records_record WHERE kind = ANY(?)", [list(RESPONSE_KINDS)]
    )
    assert {kind for (kind,) in held} >= room.kinds
    assert all(room.api["KZ"].get(path).status == 200 for path in room.paths)


def _assert_holds_nothing(node: RealNode, api: Client, paths: list[str]) -> None:
    """No record, no version, no quarantined version, no row of the response room's tables, nothing listed."""
    kinds = list(RESPONSE_KINDS)
    assert node.node.sql("SELECT count(*) FROM records_record WHERE kind = ANY(?)", [kinds]) == [(0,)]
    assert node.node.sql("SELECT count(*) FROM records_version WHERE kind = ANY(?)", [kinds]) == [(0,)]
    assert node.node.sql("SELECT count(*) FROM records_quarantinedversion") == [(0,)]
    tables = node.node.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE ?", ["response_%"]
    )
    assert tables, "the response room's tables are migrated"
    for (table,) in tables:
        assert node.node.sql(f'SELECT count(*) FROM "{table}"') == [(0,)], table  # noqa: S608
    assert api.get("/api/v1/incidents").body["items"] == []
    assert api.get("/api/v1/tasks").body["count"] == 0
    for path in paths:
        assert api.get(path).status == 404, path
