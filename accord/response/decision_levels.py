"""An adopted decision's level change, applied to its incident through the incident's level rules.

The consent rule still holds: raising the level to 2 or 3 needs the given consent of every affected member. When it
is missing the decision stays adopted, and the refusal (with the members whose consent is missing) is recorded in
the decision's `effect`."""

from __future__ import annotations

from typing import Any

from accord.records import actions as record_actions
from accord.records.errors import Conflict
from accord.records.models import Record, Version
from accord.response import hanging
from accord.response.consents import states as consents_states
from accord.response.kinds import CONSENT_LEVELS, INCIDENT
from accord.response.refs import pick, ref_of


class MissingConsent(Conflict):
    def __init__(self, members: list[str]) -> None:
        super().__init__(f"the consent of {', '.join(members)} is missing")
        self.members = members


def decided_level(record: Record, *, level: int, decision: Record, text: dict[str, str]) -> Version | None:
    """Issue the incident's next version at `level`, caused by the adopted `decision`; None if it is there already.
    Raises MissingConsent when the consent rule is not met."""
    current = record.current_version
    assert current is not None
    body: dict[str, Any] = dict(current.body)
    if body.get("level") == level:
        return None
    consents: list[dict[str, Any]] = []
    if level in CONSENT_LEVELS:
        # Each member's latest consent of the incident's traffic: the one rule of consents.states.
        latest = consents_states(record, current.status)
        given = {member: row for member, row in latest.items() if row.consent == "given"}
        missing = [code for code in body["affected_members"] if code not in given]
        if missing:
            raise MissingConsent(missing)
        consents = [
            {
                "member": code,
                "node": str(given[code].version.origin_node),
                "record": str(given[code].version.record_uuid),
                "seq": given[code].version.seq,
            }
            for code in body["affected_members"]
        ]
    body["change"] = {
        "action": "decision",
        "reason": f"decision: {pick(text)}"[:2000],
        "from_level": body.get("level"),
        "cause": ref_of(decision),
    }
    body["level"] = level
    body["consents"] = consents
    return record_actions.revise(record, acting_user=hanging.steward(record, INCIDENT), body=body)
