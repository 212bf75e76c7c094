"""The demo's activities: one per alliance (a training course in medicine, a comparative-law conference in law, a
joint One Health research project in agriculture), issued once, shown on their pages and in the calendars."""

from __future__ import annotations

import pytest
from django.test import Client
from icalendar import Calendar

from accord.alliances import work_demo
from accord.alliances.demo import _world
from accord.alliances.work_models import ActivityView
from accord.members.models import Account
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_one_activity_per_alliance_once() -> None:
    world = _world("accord-demo-2026")
    assert work_demo.load(world) == 3
    assert work_demo.load(world) == 0
    rows = {v.alliance: v for v in ActivityView.objects.all()}
    assert {a: (v.type, v.host_slug) for a, v in rows.items()} == {
        "medicine": ("training", "cn-demo-medical"),
        "law": ("conference", "ru-demo-law"),
        "agriculture": ("research", "kz-demo-agri"),
    }
    assert rows["agriculture"].state == "ongoing"
    public = Calendar.from_ical(Client().get("/alliances/law/calendar.ics").content)
    assert len(public.walk("VEVENT")) == 1  # the conference is public (TLP:CLEAR)
    reader = client_for(Account.objects.get(username="pk.vet"))
    page = reader.get(f"/activities/{rows['agriculture'].record.uuid}/").content.decode()
    assert "One Health research on brucellosis" in page and "Demo Agrarian University (Kazakhstan)" in page
