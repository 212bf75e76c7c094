"""The IHR Annex 2 decision instrument (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.lib import ihr

NO = dict.fromkeys(("serious_impact", "unusual", "international_spread", "travel_trade"), False)


@pytest.mark.parametrize(
    ("system", "code"),
    [("ICD-10", "B03"), ("ICD-10", "A80.1"), ("ICD-10", "J09.X1"), ("ICD-10", "U04.9"), ("ICD-11", "1E70")],
)
def test_the_four_always_notifiable_diseases(system: str, code: str) -> None:
    decision = ihr.assess(NO, system=system, code=code)
    assert decision.always_notifiable and decision.outcome == "notify"


def test_vaccine_associated_polio_goes_through_the_algorithm() -> None:
    assert ihr.assess(NO, system="ICD-10", code="A80.0").outcome == "do_not_notify"


@pytest.mark.parametrize(("yes", "outcome"), [(0, "do_not_notify"), (1, "do_not_notify"), (2, "notify"), (4, "notify")])
def test_two_yes_answers_make_an_event_notifiable(yes: int, outcome: str) -> None:
    answers = {key: index < yes for index, (key, _) in enumerate(ihr.QUESTIONS)}
    decision = ihr.assess(answers, system="ICD-10", code="A00")
    assert decision.outcome == outcome and decision.yes_count == yes and decision.always_assessed


def test_answers_must_be_exactly_the_four_questions() -> None:
    with pytest.raises(ValueError, match="unanswered"):
        ihr.assess({"unusual": True})
    with pytest.raises(ValueError, match="not Annex 2 questions: mood"):
        ihr.assess({**NO, "mood": True})


def test_the_24_hour_clock() -> None:
    t0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
    assert ihr.clock("do_not_notify", t0, None, t0) == ("not_required", None)
    assert ihr.clock("notify", t0, None, t0 + timedelta(hours=23)) == ("pending", t0 + timedelta(hours=24))
    assert ihr.clock("notify", t0, None, t0 + timedelta(hours=25))[0] == "overdue"
    assert ihr.clock("notify", t0, t0 + timedelta(hours=24), t0)[0] == "notified_in_time"
    assert ihr.clock("notify", t0, t0 + timedelta(hours=30), t0)[0] == "notified_late"


def test_the_clock_runs_from_the_assessment_to_the_notification() -> None:
    t0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
    earlier, later = t0 - timedelta(hours=2), t0 + timedelta(hours=3)
    # A message sent before the assessment notifies nothing: the clock is still running, then overdue.
    assert ihr.clock("notify", t0, earlier, t0 + timedelta(hours=1))[0] == "pending"
    assert ihr.clock("notify", t0, earlier, t0 + timedelta(hours=25))[0] == "overdue"
    assert ihr.notification_of(t0, [earlier, later, t0 + timedelta(hours=5)]) == later
    assert ihr.notification_of(t0, [earlier]) is None
    assert ihr.notification_of(t0, [t0]) == t0
    with pytest.raises(ValueError, match="is before the assessment it notifies"):
        ihr.check_order(t0, earlier)
    ihr.check_order(t0, t0)
