"""The work on an incident in its page (Django test client): set a task, its assignee finishes it from "my tasks",
propose a decision and adopt it by the positions of every participant, schedule a meeting; refusals are shown
on the form that caused them, nothing stored."""

from __future__ import annotations

import re

from django.urls import reverse

from accord.records.models import Record
from accord.response.work_models import DecisionView, TaskView
from tests.conftest import client_for
from tests.response.conftest import People, measles, text_of


def test_a_task_is_set_and_its_assignee_finishes_it(people: People) -> None:
    incident = measles(people)
    carol, kira = client_for(people.world.carol), client_for(people.kira)
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert 'value="member:KG"' in page and "No task yet." in page
    refused = carol.post(reverse("incident-task-new", args=[incident.uuid]), {"title": "", "assignee": "member:KG"})
    assert refused.status_code == 400 and 'id="task-error"' in text_of(refused)
    response = carol.post(
        reverse("incident-task-new", args=[incident.uuid]),
        {"title": "Trace contacts in Osh", "assignee": "member:KG", "priority": "high", "due": "2099-01-02T10:00"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#tasks")
    task = Record.objects.get(kind="task")
    assert TaskView.objects.get(record=task).due is not None

    mine = text_of(kira.get(reverse("my-tasks")))
    assert "Trace contacts in Osh" in mine and "Measles in the Fergana valley" in mine
    assert "Nothing is assigned to you." in text_of(carol.get(reverse("my-tasks")))  # KZ's, not assigned to KZ
    done = kira.post(reverse("task-status", args=[task.uuid]), {"status": "in_progress", "from": "mine"})
    assert done.status_code == 302 and done["Location"] == reverse("my-tasks")
    kira.post(reverse("task-status", args=[task.uuid]), {"status": "done", "comment": "42 contacts traced"})
    assert TaskView.objects.get(record=task).status == "done"
    assert "Nothing is assigned to you." in text_of(kira.get(reverse("my-tasks")))
    assert "Trace contacts in Osh" in text_of(kira.get(reverse("my-tasks"), {"show": "all"}))
    # A KG viewer may not change it: the refusal is shown on the task's row.
    refused = client_for(people.kim).post(reverse("task-status", args=[task.uuid]), {"status": "open"})
    assert refused.status_code == 403 and 'role="alert"' in text_of(refused)


def test_a_decision_is_adopted_when_every_participant_supports_it(people: People) -> None:
    incident = measles(people)
    carol, kira = client_for(people.world.carol), client_for(people.kira)
    response = carol.post(
        reverse("incident-decision-new", args=[incident.uuid]),
        {"text": "Joint vector control in the border districts", "participants": ["KZ", "KG"]},
    )
    assert response.status_code == 302
    decision = Record.objects.get(kind="decision")
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert "Open for positions" in page and page.count("Not stated yet") == 2
    assert kira.post(reverse("decision-position", args=[decision.uuid]), {"position": "support"}).status_code == 302
    assert DecisionView.objects.get(record=decision).state == "open"
    assert carol.post(reverse("decision-position", args=[decision.uuid]), {"position": "support"}).status_code == 302
    assert DecisionView.objects.get(record=decision).state == "adopted"
    page = text_of(kira.get(reverse("incident", args=[incident.uuid])))
    assert re.search(r"decision-adopted", page) and "Adopted" in page
    # A non-participant (the Secretariat here) is refused on the decision, nothing stored.
    sam = client_for(people.world.sam)
    refused = sam.post(reverse("decision-position", args=[decision.uuid]), {"position": "object"})
    assert refused.status_code in (403, 409) and 'role="alert"' in text_of(refused)
    assert not Record.objects.filter(kind="position", origin_member="SCO").exists()


def test_a_decision_without_text_is_refused_on_its_form(people: People) -> None:
    incident = measles(people)
    refused = client_for(people.world.carol).post(
        reverse("incident-decision-new", args=[incident.uuid]), {"text": " ", "participants": ["KZ"]}
    )
    assert refused.status_code == 400 and 'id="decision-error"' in text_of(refused)
    assert not Record.objects.filter(kind="decision").exists()


def test_a_meeting_is_scheduled_with_its_invitation(people: People) -> None:
    incident = measles(people)
    carol = client_for(people.world.carol)
    response = carol.post(
        reverse("incident-meeting-new", args=[incident.uuid]),
        {
            "title": "Weekly coordination call",
            "starts_at": "2099-03-01T15:00",
            "time_zone": "Asia/Tashkent",
            "duration": "45",
            "participants": ["KZ", "KG", "SCO"],
            "agenda": "Situation; vector control",
        },
    )
    assert response.status_code == 302
    meeting = Record.objects.get(kind="meeting")
    assert meeting.current_version is not None
    assert meeting.current_version.body["starts_at"] == "2099-03-01T10:00:00Z"  # Tashkent is UTC+5
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert "Weekly coordination call" in page and f"/api/v1/meetings/{meeting.uuid}.ics" in page
    refused = carol.post(
        reverse("incident-meeting-new", args=[incident.uuid]),
        {"title": "Call", "starts_at": "soon", "time_zone": "Asia/Almaty", "participants": ["KZ"]},
    )
    assert refused.status_code == 400 and 'id="meeting-error"' in text_of(refused)
    assert Record.objects.filter(kind="meeting").count() == 1
