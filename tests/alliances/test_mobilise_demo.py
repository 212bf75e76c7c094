"""The mobilisation demo (`accord demo`): on the demo incident, Kyrgyzstan's request for an expert, the Secretariat's
roster call for it and one reply; loaded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accord.alliances import mobilise_demo, roster_actions
from accord.alliances.demo import DemoWorld
from accord.alliances.mobilise_models import RosterCallView, RosterReplyView
from accord.members.demo import load_demo
from accord.members.models import Account

pytestmark = pytest.mark.django_db


def test_the_demo_calls_the_roster_on_the_demo_incident_once() -> None:
    load_demo()
    if not RosterCallView.objects.exists():  # the roster's demo holds no expert to call: give it one
        today = timezone.now().date()
        roster_actions.put_own(
            Account.objects.get(username="kz.agri"),
            profile={
                "fields": ["veterinary_epidemiology", "one_health"],
                "languages": [{"code": "ru", "level": "native"}, {"code": "kk", "level": "native"}],
                "available": [{"from": today.isoformat(), "until": (today + timedelta(days=120)).isoformat()}],
                "deployable": True,
                "deploy_within_days": 3,
            },
            audience={"members": ["KZ", "KG", "SCO"]},
            tlp="AMBER",
        )
        assert mobilise_demo.load(DemoWorld()) == 3  # the request, the call, the reply
    call = RosterCallView.objects.get()
    assert (call.member, call.requester, call.called >= 1) == ("SCO", "KG", True)
    assert RosterReplyView.objects.filter(call_record=call.record.uuid, available=True).count() == 1
    assert mobilise_demo.load(DemoWorld()) == 0  # once
    client = Client()
    client.force_login(Account.objects.get(username="kg.health"))
    page = client.get(reverse("roster-call", args=[call.record.uuid])).content.decode()
    assert 'class="inline-form select-form"' in page  # kg.health may select the expert who replied
