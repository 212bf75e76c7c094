"""POST/GET /api/v1/incidents: opening, reading, listing, bad input, the audience filter."""

from __future__ import annotations

from typing import Any

import pytest

from accord.records.models import AuditEntry, Record, Version
from accord.response.models import IncidentView
from tests.response.conftest import Api, People, incident

pytestmark = pytest.mark.django_db


def _open(api: Api, **changes: Any) -> dict[str, Any]:
    created = api.post("/api/v1/incidents", incident(**changes))
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def test_open_returns_level_0_open_and_reads_back(people: People) -> None:
    carol = Api(people.world.carol)
    created = _open(carol)
    assert created["level"] == 0 and created["status"] == "open"
    assert created["hazard"] == {"type": "disease", "icd10": "B05", "icd11": "1F03", "name": "Measles"}
    assert created["lead_member"] == "KZ" and created["origin_member"] == "KZ"
    assert created["change"] == {"action": "open", "reason": ""}
    read = carol.get(f"/api/v1/incidents/{created['id']}")
    assert read.status_code == 200 and read.json()["title"]["ru"] == "Корь в Ферганской долине"
    version = Version.objects.get(record_uuid=created["id"])
    assert version.kind == "incident" and version.seq == 1 and version.body["level"] == 0
    assert AuditEntry.objects.filter(action="record.publish", object_type="incident").count() == 1


def test_hazard_by_icd10_or_type_and_the_secretariat_opens(people: People) -> None:
    sam = Api(people.world.sam)
    flood = _open(sam, hazard="flood", title={"zh": "洪水"}, regions=[], domains=["human", "environment"])
    assert flood["hazard"]["type"] == "flood" and flood["lead_member"] == "SCO"
    assert flood["domains"] == ["human", "environment"]
    cchf = _open(Api(people.kira), hazard="A98.0")
    assert cchf["hazard"]["icd10"] == "A98.0" and cchf["hazard"]["icd11"] is None


def test_list_filters_and_pages(people: People) -> None:
    carol = Api(people.world.carol)
    measles = _open(carol)
    flood = _open(carol, hazard="flood", affected_members=["KZ"], regions=["KZ-19"])
    cholera = _open(Api(people.kira), hazard="A00", affected_members=["KG"], regions=[])
    listed = carol.get("/api/v1/incidents").json()
    assert [i["id"] for i in listed["items"]][:3] == [cholera["id"], flood["id"], measles["id"]]
    assert [i["id"] for i in carol.get("/api/v1/incidents", hazard="B05").json()["items"]] == [measles["id"]]
    assert [i["id"] for i in carol.get("/api/v1/incidents", hazard="1F03").json()["items"]] == [measles["id"]]
    assert [i["id"] for i in carol.get("/api/v1/incidents", hazard="flood").json()["items"]] == [flood["id"]]
    kg = carol.get("/api/v1/incidents", member="KG").json()["items"]
    assert {i["id"] for i in kg} == {measles["id"], cholera["id"]}
    assert carol.get("/api/v1/incidents", status="closed").json()["items"] == []
    assert len(carol.get("/api/v1/incidents", level=0).json()["items"]) == 3
    assert carol.get("/api/v1/incidents", level=1).json()["items"] == []
    first = carol.get("/api/v1/incidents", limit=2).json()
    assert len(first["items"]) == 2 and first["cursor"]
    second = carol.get("/api/v1/incidents", limit=2, cursor=first["cursor"]).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [cholera["id"], flood["id"], measles["id"]]
    assert second["next"] is None
    assert carol.get("/api/v1/incidents", level=4).status_code == 422
    assert carol.get("/api/v1/incidents", cursor="nonsense").json()["field"] == "cursor"


def test_outside_the_audience_sees_nothing(people: People) -> None:
    created = _open(Api(people.world.carol), audience={"members": ["KZ", "KG"]}, tlp="AMBER")
    ivan = Api(people.ivan)
    assert ivan.get("/api/v1/incidents").json()["items"] == []
    missing = ivan.get(f"/api/v1/incidents/{created['id']}")
    assert missing.status_code == 404 and missing.json()["detail"] == "no such incident"
    assert Api(people.kim).get(f"/api/v1/incidents/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": {}}, "title"),
        ({"title": {"en": "  "}}, "title"),
        ({"title": {"fr": "Rougeole"}}, "title"),
        ({"hazard": "Z99"}, "hazard"),
        ({"hazard": "volcano"}, "hazard"),
        ({"affected_members": ["KZ", "XX"]}, "affected_members"),
        ({"affected_members": []}, "affected_members"),
        ({"regions": ["UZ-FA"]}, "regions"),
        ({"regions": ["KZ-99"]}, "regions"),
        ({"lead_member": "CN"}, "lead_member"),
        ({"audience": {"members": ["KZ", "CN"]}}, "audience"),
        ({"tlp": "PURPLE"}, "tlp"),
        ({"level": 2}, "level"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(people: People, changes: dict[str, Any], field: str) -> None:
    answer = Api(people.world.carol).post("/api/v1/incidents", incident(**changes))
    assert 400 <= answer.status_code < 500, answer.content
    assert answer.json()["field"] == field, answer.json()
    assert not Record.objects.filter(kind="incident").exists() and not IncidentView.objects.exists()


def test_who_may_open(people: People) -> None:
    answer = Api(people.kim).post("/api/v1/incidents", incident())
    assert answer.status_code == 403
    assert Api(people.world.bob).post("/api/v1/incidents", incident()).status_code == 201  # CN focal point
    assert not Record.objects.filter(kind="incident", origin_member="KG").exists()
