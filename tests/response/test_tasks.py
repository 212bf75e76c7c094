"""Tasks: set, "my tasks", status changes by the assignee (here and from a peer), comments, bad input, overdue
escalation through notify."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.records.models import AuditEntry, Record, Version
from accord.response import task_escalation
from accord.response.models import IncidentItem
from accord.response.task_actions import update_received
from accord.response.work_models import TaskEscalation, TaskView
from tests.response.conftest import Api, People, incident
from tests.response.peers import make_peer

pytestmark = pytest.mark.django_db


def _incident(api: Api, **changes: Any) -> dict[str, Any]:
    created = api.post("/api/v1/incidents", incident(**changes))
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def _due(hours: int = 48) -> str:
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def _task(api: Api, incident_id: str, **changes: Any) -> Any:
    payload: dict[str, Any] = {
        "title": {"en": "Send vaccine to Osh", "ru": "Направить вакцину в Ош"},
        "assignee": {"type": "member", "id": "KG"},
        "priority": "high",
        "due": _due(),
    }
    payload.update(changes)
    return api.post(f"/api/v1/incidents/{incident_id}/tasks", payload)


def test_set_a_task_and_the_assignee_finds_it_in_my_tasks(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    created = _task(carol, opened["id"])
    assert created.status_code == 201, created.content
    task = created.json()
    assert task["status"] == "open" and task["priority"] == "high" and task["seq"] == 1
    assert task["assignee"] == {"type": "member", "id": "KG", "member": "KG"}
    assert task["incident"] == {"node": opened["node"], "record": opened["id"]}
    assert kira.get(f"/api/v1/tasks/{task['id']}").json()["title"]["ru"] == "Направить вакцину в Ош"
    mine = kira.get("/api/v1/tasks", mine="true").json()
    assert [t["id"] for t in mine["items"]] == [task["id"]] and mine["count"] == 1
    assert carol.get("/api/v1/tasks", mine="true").json()["items"] == []
    assert [t["id"] for t in carol.get("/api/v1/tasks", incident=opened["id"]).json()["items"]] == [task["id"]]
    item = IncidentItem.objects.get(record__uuid=task["id"])
    assert str(item.incident_record) == opened["id"] and item.kind == "task"
    version = Version.objects.get(record_uuid=task["id"])
    assert version.tlp == "GREEN" and version.body["due"].endswith("Z")


def test_my_tasks_covers_my_person_my_organisation_and_my_member(people: People) -> None:
    world = people.world
    carol = Api(world.carol)
    opened = _incident(carol, audience={"members": ["KZ", "KG", "CN", "SCO"]})
    by_person = _task(carol, opened["id"], assignee={"type": "person", "id": str(world.dave.uuid)}).json()
    by_org = _task(carol, opened["id"], assignee={"type": "organisation", "id": str(world.kz_health.uuid)}).json()
    by_member = _task(carol, opened["id"], assignee={"type": "member", "id": "KZ"}).json()
    _task(carol, opened["id"])  # KG's
    assert by_org["assignee"]["member"] == "KZ" and by_person["assignee"]["member"] == "KZ"
    dave = {t["id"] for t in Api(world.dave).get("/api/v1/tasks", mine="true").json()["items"]}
    assert dave == {by_person["id"], by_org["id"], by_member["id"]}
    mine = {t["id"] for t in carol.get("/api/v1/tasks", mine="true").json()["items"]}
    assert mine == {by_org["id"], by_member["id"]}


def test_the_assignee_changes_the_status_and_anyone_who_sees_it_comments(people: People) -> None:
    world = people.world
    carol, kira, alice = Api(world.carol), Api(people.kira), Api(world.alice)
    task = _task(carol, _incident(carol)["id"]).json()
    started = kira.post(f"/api/v1/tasks/{task['id']}/status", {"status": "in_progress", "comment": "on its way"})
    assert started.status_code == 201, started.content
    result = started.json()
    assert result["applied"] is True and result["task"]["status"] == "in_progress" and result["task"]["seq"] == 2
    assert result["task"]["change"]["update"]["record"] == result["update"]
    update = result["task"]["updates"][0]
    assert update["member"] == "KG" and update["comment"] == "on its way" and update["applied"] is True
    # The task's version is issued by its own organisation (single writer); the update is KG's own record.
    task_versions = Version.objects.filter(record_uuid=task["id"]).order_by("seq")
    assert [v.origin_member for v in task_versions] == ["KZ", "KZ"]
    assert Version.objects.get(record_uuid=result["update"]).origin_member == "KG"
    refused = alice.post(f"/api/v1/tasks/{task['id']}/status", {"status": "done"})
    assert refused.status_code == 403 and refused.json()["field"] == "status"
    comment = alice.post(f"/api/v1/tasks/{task['id']}/status", {"comment": "CN can send more"})
    assert comment.status_code == 201 and comment.json()["applied"] is False
    assert comment.json()["task"]["status"] == "in_progress"
    assert kira.post(f"/api/v1/tasks/{task['id']}/status", {"status": "cancelled"}).status_code == 403
    done = kira.post(f"/api/v1/tasks/{task['id']}/status", {"status": "done"}).json()
    assert done["task"]["status"] == "done" and len(done["task"]["updates"]) == 3
    assert carol.post(f"/api/v1/tasks/{task['id']}/status", {"status": "done"}).status_code == 400
    assert kira.get("/api/v1/tasks", mine="true", status="done").json()["count"] == 1


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"due": "2020-01-01T00:00:00Z"}, "due", 400),
        ({"assignee": {"type": "member", "id": "ZZ"}}, "assignee", 400),
        ({"assignee": {"type": "organisation", "id": str(uuid.UUID(int=7))}}, "assignee", 400),
        ({"assignee": {"type": "person", "id": "not-a-uuid"}}, "assignee", 400),
        ({"assignee": {"type": "team", "id": "KG"}}, "assignee.type", 422),
        ({"title": {"en": "  "}}, "title", 400),
        ({"title": {"de": "Impfstoff"}}, "title", 400),
        ({"priority": "whenever"}, "priority", 422),
        ({"due": "tomorrow"}, "due", 422),
    ],
)
def test_bad_tasks_are_refused_naming_the_field_and_nothing_is_stored(
    people: People, changes: dict[str, Any], field: str, status: int
) -> None:
    carol = Api(people.world.carol)
    opened = _incident(carol)
    versions = Version.objects.count()
    refused = _task(carol, opened["id"], **changes)
    assert refused.status_code == status, refused.content
    assert refused.json()["field"] == field
    assert Version.objects.count() == versions and not Record.objects.filter(kind="task").exists()


def test_an_assignee_outside_the_audience_and_unseen_incidents_are_refused(people: People) -> None:
    carol = Api(people.world.carol)
    opened = _incident(carol, audience={"members": ["KZ", "KG"]}, tlp="AMBER")
    outside = _task(carol, opened["id"], assignee={"type": "member", "id": "CN"})
    assert outside.status_code == 400 and outside.json()["field"] == "assignee"
    assert _task(Api(people.ivan), opened["id"]).status_code == 404
    assert Api(people.kim).post(f"/api/v1/incidents/{opened['id']}/tasks", {}).status_code == 422
    viewer = _task(Api(people.kim), opened["id"])
    assert viewer.status_code == 403
    task = _task(carol, opened["id"]).json()
    assert Api(people.ivan).get(f"/api/v1/tasks/{task['id']}").status_code == 404
    bad = Api(people.kira).post(f"/api/v1/tasks/{task['id']}/status", {"status": "finished"})
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    assert Api(people.kira).post(f"/api/v1/tasks/{task['id']}/status", {}).json()["field"] == "status"


def test_a_status_change_made_on_a_peer_is_applied_by_the_tasks_origin(people: People) -> None:
    carol = Api(people.world.carol)
    task = _task(carol, _incident(carol)["id"]).json()
    kg, ru = make_peer("KG"), make_peer("RU")
    body = {"task": {"node": task["node"], "record": task["id"]}, "incident": task["incident"], "status": "done"}
    stranger = ru.ingest("task_update", body)
    update_received(stranger.pk)  # RU is not the assignee: stored, never applied
    assert Version.objects.filter(record_uuid=task["id"]).count() == 1
    assignee = kg.ingest("task_update", body)
    update_received(assignee.pk)
    current = Record.objects.get(uuid=task["id"]).current_version
    assert current is not None and current.seq == 2 and current.body["status"] == "done"
    assert current.body["change"]["update"] == {"node": str(kg.node_id), "record": str(assignee.record_uuid)}
    update_received(assignee.pk)  # applied once
    assert Version.objects.filter(record_uuid=task["id"]).count() == 2
    shown = carol.get(f"/api/v1/tasks/{task['id']}").json()
    assert [(u["member"], u["applied"]) for u in shown["updates"]] == [("RU", False), ("KG", True)]


def test_a_task_schedules_its_due_check_and_an_overdue_task_is_escalated_once(
    people: People, django_capture_on_commit_callbacks: Any
) -> None:
    world = people.world
    carol = Api(world.carol)
    with django_capture_on_commit_callbacks(execute=True):
        task = _task(carol, _incident(carol)["id"], due=_due(1)).json()
    scheduled = DBTaskResult.objects.filter(task_path__endswith="check_task_due")
    assert scheduled.count() == 1 and scheduled[0].run_after is not None
    record = Record.objects.get(uuid=task["id"])
    assert task_escalation.escalate(record) == []  # not due yet
    later = timezone.now() + timedelta(hours=2)
    made = task_escalation.escalate(record, now=later)
    told = {d.address for d in made}
    assert told == {"kira@example.org", "sam@example.org", "carol@example.org"}  # assignee, Secretariat, setter
    assert task_escalation.escalate(record, now=later) == []
    assert TaskEscalation.objects.get(task=record).recipients == 3
    assert AuditEntry.objects.filter(action="task.overdue.escalate", object_id=task["id"]).count() == 1
    from accord.notify import dispatch

    dispatch.deliver([d.pk for d in made], worker="test")
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address["sam@example.org"].subject == "[Accord] Task overdue: Send vaccine to Osh"
    assert by_address["kira@example.org"].subject == "[Accord] Просроченная задача: Send vaccine to Osh"
    assert "KG" in by_address["kira@example.org"].body
    assert Api(people.kira).get(f"/api/v1/tasks/{task['id']}").json()["overdue"] is False  # due in an hour


def test_a_finished_or_exercise_task_is_not_escalated(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    task = _task(carol, _incident(carol)["id"], due=_due(1)).json()
    kira.post(f"/api/v1/tasks/{task['id']}/status", {"status": "done"})
    later = timezone.now() + timedelta(hours=2)
    assert task_escalation.escalate(Record.objects.get(uuid=task["id"]), now=later) == []
    drill = _incident(carol, status="exercise")
    exercise = _task(carol, drill["id"], due=_due(1)).json()
    assert TaskView.objects.get(record__uuid=exercise["id"]).traffic == "exercise"
    assert task_escalation.escalate(Record.objects.get(uuid=exercise["id"]), now=later) == []
