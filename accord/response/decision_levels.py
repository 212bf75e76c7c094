"""An adopted decision's level change, applied to its incident by the incident's level action
(`actions.set_level`, the one place of the level and consent rules).

The consent rule still holds: raising the level to 2 or 3 needs the given consent of every affected member. When it
is missing the decision stays adopted, and the refusal (with the members whose consent is missing) is recorded in
the decision's `effect`."""

from __future__ import annotations

from accord.records.models import Record, Version
from accord.response import actions, hanging
from accord.response.actions import MissingConsent
from accord.response.kinds import INCIDENT
from accord.response.refs import pick, ref_of

__all__ = ["MissingConsent", "decided_level"]


def decided_level(record: Record, *, level: int, decision: Record, text: dict[str, str]) -> Version | None:
    """Issue the incident's next version at `level`, caused by the adopted `decision`; None if it is there already.
    Raises MissingConsent when the consent rule is not met, ActionError (Conflict) when the incident is closed."""
    current = record.current_version
    assert current is not None
    if current.body.get("level") == level:
        return None
    change = {"action": "decision", "reason": f"decision: {pick(text)}"[:2000], "cause": ref_of(decision)}
    return actions.set_level(record, level=level, change=change, acting_user=hanging.steward(record, INCIDENT))
