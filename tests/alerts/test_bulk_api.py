"""POST /api/v1/alerts/batch: many CAP documents a request, hostile ones among them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.alerts.models import AlertView
from accord.members import actions as member_actions
from accord.records.models import AuditEntry, Record, Version
from tests.alerts.support import cap_xml
from tests.alerts.test_bulk import LAUGHS, XXE
from tests.conftest import World

PATH = "/api/v1/alerts/batch"


def _alert(n: int, **extra: str) -> str:
    return cap_xml(identifier=f"KZ-MOH-API-{n:04d}", **extra).decode()


def _post(token: str, payload: Any, query: str = "") -> Any:
    return Client().post(
        PATH + query,
        data=json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def carol(world: World) -> str:
    return member_actions.create_token(world.carol, name="t", scope="write", acting_user=None)[1]


def _state() -> tuple[int, int, int, int]:
    return (Record.objects.count(), Version.objects.count(), AlertView.objects.count(), AuditEntry.objects.count())


def test_all_stored_is_200_with_one_audit_entry(carol: str) -> None:
    before = AuditEntry.objects.count()
    answer = _post(carol, {"alerts": [_alert(n) for n in range(5)]})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["stored"], body["duplicate"], body["invalid"]) == (5, 0, 0)
    assert [item["index"] for item in body["items"]] == [0, 1, 2, 3, 4]
    assert AuditEntry.objects.count() == before + 1
    again = _post(carol, {"alerts": [_alert(n) for n in range(5)]})
    assert again.status_code == 200 and again.json()["duplicate"] == 5


def test_hostile_mixed_with_valid_is_207_and_stores_exactly_the_valid_new(carol: str) -> None:
    _post(carol, {"alerts": [_alert(1)]})
    before = _state()
    huge = "<alert>" + "x" * (50 * 1024 * 1024) + "</alert>"
    alerts = [XXE.decode(), _alert(2), LAUGHS.decode(), huge, _alert(1), "<alert", "\ud800", _alert(3), _alert(3)]
    answer = _post(carol, {"alerts": alerts})
    assert answer.status_code == 207, answer.content
    items = answer.json()["items"]
    assert [i["outcome"] for i in items] == [
        "invalid", "stored", "invalid", "invalid", "duplicate", "invalid", "invalid", "stored", "duplicate",
    ]  # fmt: skip
    assert items[0]["rules"] == ["CAP-XML-DTD"] and items[3]["rules"] == ["CAP-SIZE"]
    assert _state()[1] == before[1] + 2 and _state()[3] == before[3] + 1


def test_nothing_storable_is_400_and_changes_nothing(carol: str) -> None:
    before = _state()
    answer = _post(carol, {"alerts": [XXE.decode(), "not xml", _alert(9, status="Nonsense")]})
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] == "nothing was stored: all 3 documents are invalid" and body["field"] == "alerts"
    assert [e["index"] for e in body["errors"]] == [0, 1, 2] and body["errors"][0]["rules"] == ["CAP-XML-DTD"]
    assert _state() == before


def test_limits_are_413_and_bad_bodies_4xx(carol: str, settings: Any) -> None:
    settings.ACCORD_ALERT_BATCH_MAX_ITEMS = 3
    assert _post(carol, {"alerts": [_alert(n) for n in range(4)]}).status_code == 413
    settings.ACCORD_ALERT_BATCH_MAX_BYTES = 1500
    too_big = _post(carol, {"alerts": [_alert(1), _alert(2), _alert(3)]})
    assert too_big.status_code == 413 and "1500" in too_big.json()["detail"]
    assert _post(carol, {"alerts": []}).status_code == 422
    assert _post(carol, {"alerts": "x"}).status_code == 422
    assert _post(carol, {"alerts": [_alert(1)]}, "?tlp=AMBER").status_code == 400
    assert Version.objects.count() == 0


def test_a_chosen_audience_and_a_read_only_token(world: World, carol: str) -> None:
    answer = _post(carol, {"alerts": [_alert(1)]}, "?audience=KZ,RU&tlp=AMBER")
    assert answer.status_code == 200
    version = Version.objects.get()
    assert version.tlp == "AMBER" and version.envelope()["audience"]["members"] == ["KZ", "RU"]
    reader = member_actions.create_token(world.carol, name="r", scope="read", acting_user=None)[1]
    assert _post(reader, {"alerts": [_alert(2)]}).status_code == 403


def _mutated(data: bytes, cuts: list[tuple[int, int, bytes]]) -> str:
    out = bytearray(data)
    for position, length, insert in cuts:
        at = position % max(len(out), 1)
        out[at : at + length] = insert
    return out.decode("utf-8", "replace")


_PIECES = st.sampled_from([b"<", b"&", b"]]>", b"<!ENTITY a 'b'>", b"<!DOCTYPE x>", b"\x00", b"&#1;", b"\xc2\x85", b""])
_DOCUMENTS = st.one_of(
    st.text(max_size=200),
    st.builds(
        _mutated,
        st.just(cap_xml(identifier="KZ-MOH-FUZZ")),
        st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 40), _PIECES), max_size=4),
    ),
    st.integers(0, 5).map(lambda n: _alert(100 + n)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=st.lists(_DOCUMENTS, min_size=1, max_size=6))
def test_any_batch_is_answered_4xx_or_2xx_and_stores_exactly_what_it_reports(carol: str, documents: list[str]) -> None:
    before = Version.objects.count()
    answer = _post(carol, {"alerts": documents})
    assert answer.status_code in (200, 207, 400), answer.content
    body = answer.json()
    items = body["items"] if answer.status_code != 400 else body["errors"]
    assert len(items) == len(documents)
    stored = sum(1 for item in items if item["outcome"] == "stored")
    assert Version.objects.count() == before + stored
    for item in items:
        if item["outcome"] == "invalid":
            assert item["rules"] and item["message"]
