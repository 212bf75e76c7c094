"""The response demo (`accord demo`): an open cross-border incident with its work, loaded once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accord.members.demo import load_demo
from accord.members.models import Account
from accord.records.models import Record
from accord.response import demo
from accord.response.assist_models import AssistanceRequestView
from accord.response.models import IncidentView
from accord.response.work_models import DecisionView, TaskView


@pytest.mark.django_db
def test_the_demo_opens_an_incident_at_level_two_with_tasks_a_meeting_and_an_adopted_decision() -> None:
    load_demo()
    view = IncidentView.objects.get()
    assert view.title == demo.TITLE["en"] and view.status == "open" and view.affected == ",KZ,KG,UZ,"
    assert view.level == 2 and Record.objects.filter(kind="consent").count() == 3
    assert Record.objects.filter(kind="sitrep").count() == 3 * 14  # two weeks, daily, of each member
    assert sorted(TaskView.objects.values_list("status", flat=True)) == ["done", "in_progress", "open"]
    assert Record.objects.filter(kind="meeting").count() == 1
    assert list(DecisionView.objects.values_list("state", flat=True)) == ["adopted"]
    ledger = AssistanceRequestView.objects.get(resource_type="pcr_tests")
    assert (ledger.requested, ledger.offered, ledger.accepted, ledger.delivered) == (5000, 3500, 3000, 2000)
    # the two of this demo, and Kyrgyzstan's request for an expert that the alliances' demo calls the roster for
    assert Record.objects.filter(kind="assistance_request").count() == 3
    assert Record.objects.filter(kind="deployment").count() == 1
    assert load_demo()[2] == 0  # once
    client = Client()
    client.force_login(Account.objects.get(username="kg.health"))
    page = client.get(reverse("incident", args=[view.record.uuid])).content.decode()
    assert "Crimean-Congo haemorrhagic fever" in page and "Adopted" in page and page.count('class="sitrep ') == 42
    board = client.get(reverse("assist-board", args=[view.record.uuid])).content.decode()
    assert "Rapid response team" in board and "Backpack acaricide sprayers" in board
    consolidated = client.get(reverse("incident-consolidated", args=[view.record.uuid])).content.decode()
    assert "missing-members" not in consolidated  # yesterday's period: every member reported
    assert "Active case finding" in client.get(reverse("my-tasks")).content.decode()
    client.force_login(Account.objects.get(username="cn.health"))  # China is not in the incident's audience
    assert client.get(reverse("incident", args=[view.record.uuid])).status_code == 404
