"""The demo counts: a few series, one signal, loaded once."""

from __future__ import annotations

import pytest

from accord.members.demo import load_demo
from accord.records import kinds
from accord.records.models import Record
from accord.surveillance import demo
from accord.surveillance.models import SeriesView, Signal, Upload
from tests.surveillance.support import last_week


@pytest.mark.django_db
def test_the_demo_shares_weekly_counts_with_one_signal_and_loads_once() -> None:
    _accounts, _created, records = load_demo()
    # three notes, seven series-years per series, and the response demo (tests/response/test_demo.py): an incident,
    # 3 consents, 3 tasks with 3 status updates, a meeting, a decision and 3 positions, 42 situation reports; and
    # the assistance demo: 10 records (requests, offers, acceptances, a commitment and a deployment)
    # and the alliances' demo (tests/alliances/test_*_demo.py): its records, each of a kind of accord.alliances
    alliance_kinds = [k.name for k in kinds.all_kinds() if k.body_model.__module__.startswith("accord.alliances.")]
    alliances = Record.objects.filter(kind__in=alliance_kinds).count()
    assert alliances > 0
    # (the alliances' demo also makes a request for an expert: an assistance request, beside its own kinds), and the
    # alerts' demo two alerts (accord/alerts/demo.py)
    assert records == 3 + 8 + 7 * len(demo.SERIES) + 57 + 10 + 1 + alliances + 2  # 8 notes in members' languages
    assert SeriesView.objects.count() == 7 * len(demo.SERIES)
    assert Upload.objects.filter(status="done").count() == len(demo.SERIES)
    signal = Signal.objects.get()
    assert (signal.member, signal.region, signal.disease, signal.period) == ("KZ", "KZ-19", "B05", last_week().label)
    assert load_demo()[2] == 0
