"""The IHR (2005) Annex 2 decision instrument, as pure functions.

Annex 2 lists four diseases that are always notifiable, a set of diseases whose events must
always go through the algorithm, and four questions; an event is notified to WHO (and here,
to the SCO members) when it is always notifiable or when two or more answers are "yes". A State
must notify within 24 hours of assessing an event as notifiable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

NOTIFY_WITHIN = timedelta(hours=24)

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("serious_impact", "Is the public health impact of the event serious?"),
    ("unusual", "Is the event unusual or unexpected?"),
    ("international_spread", "Is there a significant risk of international spread?"),
    ("travel_trade", "Is there a significant risk of international travel or trade restrictions?"),
)

# A case of any of these is always notifiable (Annex 2, left box). Keys are ICD-10 codes;
# ICD-11 codes are mapped below. Names are for display.
ALWAYS_NOTIFIABLE: dict[str, str] = {
    "B03": "Smallpox",
    "A80.1": "Poliomyelitis due to wild-type poliovirus",
    "A80.2": "Poliomyelitis due to wild-type poliovirus",
    "J09": "Human influenza caused by a new subtype",
    "U04": "Severe acute respiratory syndrome (SARS)",
}
ALWAYS_NOTIFIABLE_ICD11: dict[str, str] = {
    "1E70": "Smallpox",
    "1C81": "Poliomyelitis due to wild-type poliovirus",
    "1E30": "Human influenza caused by a new subtype",
    "1D65": "Severe acute respiratory syndrome (SARS)",
}

# Events involving these always go through the algorithm (Annex 2, right box).
ALWAYS_ASSESSED: dict[str, str] = {
    "A00": "Cholera",
    "A20.2": "Pneumonic plague",
    "A95": "Yellow fever",
    "A98": "Viral haemorrhagic fever",
    "A98.3": "Marburg virus disease",
    "A98.4": "Ebola virus disease",
    "A96.2": "Lassa fever",
    "A92.3": "West Nile fever",
    "A90": "Dengue fever",
    "A91": "Dengue haemorrhagic fever",
    "A92.4": "Rift Valley fever",
    "A39": "Meningococcal disease",
}

Outcome = Literal["notify", "do_not_notify"]


@dataclass(frozen=True)
class Assessment:
    always_notifiable: bool
    always_assessed: bool
    yes_count: int
    outcome: Outcome
    reason: str


def _normalise(code: str) -> str:
    return code.strip().upper()


def is_always_notifiable(system: str, code: str) -> bool:
    code = _normalise(code)
    if system == "ICD-11":
        return any(code == c or code.startswith(c + ".") for c in ALWAYS_NOTIFIABLE_ICD11)
    return any(code == c or code.startswith(c + ".") for c in ALWAYS_NOTIFIABLE)


def is_always_assessed(system: str, code: str) -> bool:
    code = _normalise(code)
    if system != "ICD-10":
        return False
    return any(code == c or code.startswith(c + ".") for c in ALWAYS_ASSESSED)


def assess(answers: dict[str, bool], *, system: str | None = None, code: str | None = None) -> Assessment:
    """Decide by Annex 2. `answers` must answer all four questions."""
    missing = [key for key, _ in QUESTIONS if key not in answers]
    if missing:
        raise ValueError(f"unanswered Annex 2 questions: {', '.join(missing)}")
    unknown = sorted(set(answers) - {key for key, _ in QUESTIONS})
    if unknown:
        raise ValueError(f"not Annex 2 questions: {', '.join(unknown)}")
    yes = sum(1 for key, _ in QUESTIONS if answers[key])
    always = bool(system and code and is_always_notifiable(system, code))
    assessed = bool(system and code and is_always_assessed(system, code))
    if always:
        return Assessment(True, assessed, yes, "notify", "a case of this disease is always notifiable (IHR Annex 2)")
    if yes >= 2:
        return Assessment(False, assessed, yes, "notify", f"{yes} of the 4 Annex 2 questions answered yes")
    return Assessment(False, assessed, yes, "do_not_notify", f"only {yes} of the 4 Annex 2 questions answered yes")


ClockState = Literal["not_required", "pending", "overdue", "notified_in_time", "notified_late"]


def notification_of(assessed_at: datetime, sent: Iterable[datetime]) -> datetime | None:
    """The notification of an assessment among the times messages were sent: the first one sent at or after the
    assessment. A message sent before the assessment does not notify it (the clock runs from the assessment)."""
    after = [when for when in sent if when >= assessed_at]
    return min(after) if after else None


def check_order(assessed_at: datetime, notified_at: datetime) -> None:
    """Refuse a notification time before the assessment it notifies (ValueError naming both times)."""
    if notified_at < assessed_at:
        raise ValueError(
            f"the notification time {notified_at.isoformat()} is before the assessment it notifies "
            f"({assessed_at.isoformat()}); the 24-hour clock runs from the assessment to the notification"
        )


def clock(
    outcome: Outcome, assessed_at: datetime, notified_at: datetime | None, now: datetime
) -> tuple[ClockState, datetime | None]:
    """The 24-hour clock from assessment to notification: its state and its deadline.

    A notification time before the assessment is no notification of it: the clock is then still running."""
    if outcome != "notify":
        return "not_required", None
    deadline = assessed_at + NOTIFY_WITHIN
    if notified_at is not None and notified_at >= assessed_at:
        return ("notified_in_time" if notified_at <= deadline else "notified_late"), deadline
    return ("overdue" if now > deadline else "pending"), deadline
