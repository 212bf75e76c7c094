"""The API of the alliances' joint work: create, read, list (filters, pages), change (a new version, the state moving
forward only), cancel and withdraw an activity; who may; bad input answered with the field at fault and nothing
stored; what one may not see is a 404 and missing from every list and count."""

from __future__ import annotations

from typing import Any

import pytest

from accord.alliances.models import Alliance
from accord.alliances.work_models import ActivityView
from accord.records.models import Record, Version
from tests.alliances.work_support import ACTIVITY_KIND, Api, activity, on_council
from tests.conftest import World

pytestmark = pytest.mark.django_db

BASE = "/api/v1/alliances/medicine/activities"


def _stored() -> int:
    return Version.objects.filter(kind=ACTIVITY_KIND).count()


def _create(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.post(BASE, activity(**changes))
    assert response.status_code == 201, response.content
    out: dict[str, Any] = response.json()
    return out


def test_council_creates_an_activity_everyone_reads(world: World) -> None:
    on_council(world)
    out = _create(Api(world.alice))
    assert out["id"] and out["seq"] == 1 and out["state"] == "planned"
    assert out["host"] == {"slug": "cn-health", "member": "CN", "name": "cn-health"}
    assert out["alliance"] == "medicine" and out["type"] == "training" and out["tlp"] == "GREEN"
    assert out["participants"]["persons"] == [
        {"name": "Aliya Serikova", "organisation": {"slug": "kz-health", "member": "KZ"}}
    ]
    record = Record.objects.get(uuid=out["id"])
    assert record.origin_member == "CN" and record.kind == ACTIVITY_KIND
    view = ActivityView.objects.get(record=record)
    assert (view.alliance, view.type, view.state, str(view.starts), str(view.ends)) == (
        "medicine", "training", "planned", "2026-09-14", "2026-09-25"
    )  # fmt: skip
    carol = Api(world.carol)
    read = carol.get(f"/api/v1/activities/{out['id']}")
    assert read.status_code == 200 and read.json()["title"]["ru"] == "Курс полевой эпидемиологии"
    listed = carol.get(BASE).json()
    assert listed["count"] == 1 and [i["id"] for i in listed["items"]] == [out["id"]]
    assert carol.get("/api/v1/alliances/law/activities").json()["count"] == 0


def test_secretariat_coordinator_creates_for_the_secretariat(world: World) -> None:
    out = _create(Api(world.sam), type="conference")
    assert out["host"]["member"] == "SCO" and out["host"]["slug"] == "sco-secretariat"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts": "2026-09-25", "ends": "2026-09-14"}, "ends"),
        ({"type": "picnic"}, "type"),
        ({"title": {}}, "title"),
        ({"title": {"fr": "Cours"}}, "title"),
        ({"starts": "14.09.2026"}, "starts"),
        ({"rd": True}, "rd"),
        ({"state": "cancelled"}, "state"),
        ({"participants": {"organisations": [{"slug": "x", "member": "ZZ"}]}}, "participants"),
        ({"outputs": [{"title": "Slides", "url": "javascript:alert(1)"}]}, "outputs"),
        ({"fields": ["astrology"]}, "fields"),
        ({"host": "nowhere"}, "host"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(world: World, changes: dict[str, Any], field: str) -> None:
    on_council(world)
    response = Api(world.alice).post(BASE, activity(**changes))
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field, response.json()
    assert _stored() == 0 and ActivityView.objects.count() == 0


def test_unknown_alliance_is_404(world: World) -> None:
    on_council(world)
    response = Api(world.alice).post("/api/v1/alliances/astronomy/activities", activity())
    assert response.status_code == 404
    assert Api(world.alice).get("/api/v1/alliances/astronomy/activities").status_code == 404
    assert _stored() == 0


def test_who_may_not_is_403(world: World) -> None:
    on_council(world)
    for account in (world.carol, world.dave, world.bob):  # not on the council; a viewer; another CN organisation
        response = Api(account).post(BASE, activity())
        assert response.status_code == 403, (account.username, response.content)
        assert response.json()["field"] == "alliance"
    Alliance.objects.get(slug="medicine").council.add(world.kz_health)
    response = Api(world.dave).post(BASE, activity())  # a viewer acts for no one, on the council or not
    assert response.status_code == 403
    read_only = Api(world.alice, scope="read").post(BASE, activity())
    assert read_only.status_code == 403
    assert _stored() == 0


def test_a_host_of_another_member_is_refused(world: World) -> None:
    on_council(world)
    response = Api(world.alice).post(BASE, activity(host="kz-health"))
    assert response.status_code == 403 and response.json()["field"] == "host"
    same_member = Api(world.alice).post(BASE, activity(host="cn-emergency"))
    assert same_member.status_code == 201 and same_member.json()["host"]["slug"] == "cn-emergency"


def test_put_issues_a_new_version_and_state_moves_forward_only(world: World) -> None:
    on_council(world)
    api = Api(world.alice)
    out = _create(api)
    path = f"/api/v1/activities/{out['id']}"
    changed = api.put(path, activity(state="ongoing", place="Astana", expected_seq=1))
    assert changed.status_code == 200, changed.content
    assert (changed.json()["seq"], changed.json()["state"], changed.json()["place"]) == (2, "ongoing", "Astana")
    back = api.put(path, activity(state="planned"))
    assert back.status_code == 409 and back.json()["field"] == "state"
    stale = api.put(path, activity(state="ongoing", expected_seq=1))
    assert stale.status_code == 409
    wrong = api.put(path, activity(state="completed", ends="2026-01-01"))
    assert wrong.status_code == 400 and wrong.json()["field"] == "ends"
    done = api.put(path, activity(state="completed", outputs=[{"title": "Report"}]))
    assert done.status_code == 200 and done.json()["outputs"] == [{"title": "Report", "url": None, "document": None}]
    assert api.post(f"{path}/cancel", {}).status_code == 409  # completed is final
    assert Record.objects.get(uuid=out["id"]).current_seq == 3
    assert ActivityView.objects.get(record__uuid=out["id"]).state == "completed"


def test_only_the_host_organisation_changes_it(world: World) -> None:
    on_council(world)
    out = _create(Api(world.alice))
    Alliance.objects.get(slug="medicine").council.add(world.cn_emergency, world.kz_health)
    for account in (world.bob, world.carol, world.sam):
        response = Api(account).put(f"/api/v1/activities/{out['id']}", activity(state="ongoing"))
        assert response.status_code == 403, (account.username, response.content)
    assert Record.objects.get(uuid=out["id"]).current_seq == 1


def test_cancel_keeps_it_listed_withdraw_removes_it(world: World) -> None:
    on_council(world)
    api = Api(world.alice)
    first, second = _create(api), _create(api, title={"en": "Second"})
    cancelled = api.post(f"/api/v1/activities/{first['id']}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    no_reason = api.post(f"/api/v1/activities/{second['id']}/withdraw", {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    withdrawn = api.post(f"/api/v1/activities/{second['id']}/withdraw", {"reason": "recorded twice"})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawn"] is True and withdrawn.json()["reason"] == "recorded twice"
    listed = Api(world.carol).get(BASE).json()
    assert [(i["id"], i["state"]) for i in listed["items"]] == [(first["id"], "cancelled")]
    again = api.post(f"/api/v1/activities/{second['id']}/withdraw", {"reason": "again"})
    assert again.status_code == 409
    assert api.put(f"/api/v1/activities/{second['id']}", activity()).status_code == 409


def test_a_restricted_activity_is_invisible_outside_its_audience(world: World) -> None:
    on_council(world)
    api = Api(world.alice)
    _create(api)
    secret = _create(api, title={"en": "Closed meeting"}, audience={"members": ["CN", "RU"]}, tlp="AMBER")
    carol = Api(world.carol)
    assert carol.get(f"/api/v1/activities/{secret['id']}").status_code == 404
    assert (
        carol.get(f"/api/v1/activities/{secret['id']}").json()
        == carol.get("/api/v1/activities/00000000-0000-0000-0000-000000000000").json()
    )
    assert carol.get(BASE).json()["count"] == 1
    assert Api(world.bob).get(BASE).json()["count"] == 2  # CN
    assert carol.post(f"/api/v1/activities/{secret['id']}/withdraw", {"reason": "x"}).status_code == 404


def test_filters_and_pages(world: World) -> None:
    on_council(world)
    api = Api(world.alice)
    _create(api, title={"en": "A"}, starts="2026-03-01", ends="2026-03-05")
    _create(api, title={"en": "B"}, type="conference", starts="2026-05-10", ends="2026-05-12")
    _create(api, title={"en": "C"}, type="research", rd=True, starts="2026-01-01", ends="2027-12-31")

    def titles(**params: Any) -> list[str]:
        response = api.get(BASE, **params)
        assert response.status_code == 200, response.content
        return [i["title"]["en"] for i in response.json()["items"]]

    assert titles() == ["C", "A", "B"]
    assert titles(type="conference") == ["B"]
    assert titles(**{"from": "2026-04-01"}) == ["C", "B"]
    assert titles(until="2026-03-01") == ["C", "A"]
    assert titles(**{"from": "2026-03-06", "until": "2026-05-09"}) == ["C"]
    first = api.get(BASE, limit=2).json()
    assert first["count"] == 3 and first["next_offset"] == 2 and len(first["items"]) == 2
    assert api.get(BASE, limit=2, offset=2).json()["next_offset"] is None
    bad = api.get(BASE, type="picnic")
    assert bad.status_code == 400 and bad.json()["field"] == "type"
    backwards = api.get(BASE, **{"from": "2026-05-01", "until": "2026-04-01"})
    assert backwards.status_code == 400 and backwards.json()["field"] == "until"
    assert api.get(BASE, **{"from": "May"}).status_code == 422
