"""The mobilisation demo (`accord demo`): on the demo incident, Kyrgyzstan's request for an expert, the Secretariat's
roster call for it and one reply, whatever the day (the roster's demo windows start from the day it is loaded);
loaded once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accord.alliances import mobilise_demo
from accord.alliances.demo import DemoWorld
from accord.alliances.mobilise_models import RosterCallView, RosterReplyView
from accord.members.demo import load_demo
from accord.members.models import Account

pytestmark = pytest.mark.django_db


def test_the_demo_calls_the_roster_on_the_demo_incident_once() -> None:
    load_demo()
    call = RosterCallView.objects.get()
    assert (call.member, call.requester, call.called >= 1) == ("SCO", "KG", True)
    assert RosterReplyView.objects.filter(call_record=call.record.uuid, available=True).count() == 1
    assert mobilise_demo.load(DemoWorld()) == 0  # once
    client = Client()
    client.force_login(Account.objects.get(username="kg.health"))
    page = client.get(reverse("roster-call", args=[call.record.uuid])).content.decode()
    assert 'class="inline-form select-form"' in page  # kg.health may select the expert who replied
