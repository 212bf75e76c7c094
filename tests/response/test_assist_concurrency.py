"""The ledger rule under concurrency: two focal points of the requesting member accept at the same moment, in
threads with their own database connections; together they would exceed the request, so one succeeds and the
other gets 409 with the quantity still open. On PostgreSQL, and on SQLite when the test database is a file
(ACCORD_TEST_SQLITE_NAME): an in-memory SQLite database shared between threads fails at once on a lock ("database
table is locked") instead of waiting for it, so there the test is skipped."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

import pytest
from django.db import connections

from accord.response.assist_models import AssistanceAcceptanceView, AssistanceRequestView, DeploymentView
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People, _account

ROUNDS = 4


def _race(calls: list[Any]) -> list[Any]:
    """Run the calls at once (a barrier releases them together); their responses, in order."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        try:
            start.wait(timeout=60)
            results[index] = calls[index]()
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_acceptances_never_exceed_the_request(people: People) -> None:
    connection = connections["default"]
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip("threads cannot wait for each other's locks on an in-memory SQLite database")
    carol = Api(people.world.carol)
    colleague = Api(_account("karlygash", "KZ", "focal_point"))  # another focal point of KZ
    alice, umid = Api(people.world.alice), Api(people.umid)
    opened = open_incident(carol)
    for _ in range(ROUNDS):
        request_id = created_id(request(carol, opened["id"]))
        from_cn = created_id(offer(alice, request_id, 6000))
        from_uz = created_id(offer(umid, request_id, 6000))
        results = _race([partial(accept, carol, from_cn, 6000), partial(accept, colleague, from_uz, 6000)])
        assert not any(isinstance(r, Exception) for r in results), results
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 409], [r.content for r in results]
        refused = next(r for r in results if r.status_code == 409).json()
        assert refused["open_quantity"] == 4000
        ledger = AssistanceRequestView.objects.get(record__uuid=request_id)
        assert (ledger.accepted, ledger.gap, ledger.status) == (6000, 4000, "partly_covered")
        assert AssistanceAcceptanceView.objects.filter(request_record=request_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_deployments_never_exceed_what_was_accepted(people: People) -> None:
    connection = connections["default"]
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip("threads cannot wait for each other's locks on an in-memory SQLite database")
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    colleague = Api(_account("li", "CN", "focal_point"))  # another focal point of CN, same organisation
    opened = open_incident(carol)
    for _ in range(ROUNDS):
        request_id = created_id(request(carol, opened["id"]))
        from_cn = created_id(offer(alice, request_id, 6000))
        assert accept(carol, from_cn, 6000).status_code == 200
        payload = {"quantity": 4000, "contact": {"name": "Wang Li"}, "location": {"region": "KZ-61"}}
        path = f"/api/v1/offers/{from_cn}/deployments"
        results = _race([partial(alice.post, path, payload), partial(colleague.post, path, payload)])
        assert not any(isinstance(r, Exception) for r in results), results
        assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
        assert DeploymentView.objects.filter(offer_record=from_cn).count() == 1
