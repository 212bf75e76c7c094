"""Every change to incidents: open, change the level, close, reopen.

Each builds the incident's whole body and hands it to the record core's actions, which check the kind's rules,
sign, store and audit it in one transaction. Only the origin node issues versions of an incident, and there
only accounts of the organisation that opened it (the record core's single-writer rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Forbidden
from accord.records.models import Record, Version
from accord.response import hazards
from accord.response.kinds import INCIDENT, KIND

if TYPE_CHECKING:
    from accord.members.models import Account

# Fields of the incident body that the API takes under the same name: a schema error in one of them is answered
# naming it, not "body".
_BODY_FIELDS = ("title", "summary", "hazard", "domains", "affected_members", "regions", "lead_member", "level")


def named(error: ActionError) -> ActionError:
    """The error of a body check, naming the request field at fault (`body.title.en: ...` -> field `title`)."""
    if error.field != "body":
        return error
    path = error.message.split(":", 1)[0].removeprefix("body").lstrip(".")
    head = path.split(".", 1)[0]
    if head in _BODY_FIELDS:
        error.field = head
    return error


def check_body(body: dict[str, Any], acting_user: Account, status: str) -> None:
    """The incident kind's rules, before any write, so that errors name the field the caller sent."""
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot open incidents")
    from accord.records.kinds import Author

    try:
        INCIDENT.check(body, Author(member=organisation.member.code, status=status))
    except ActionError as error:
        raise named(error) from None


def _audience_covers(audience: Audience, members: list[str]) -> None:
    """An incident's audience must reach the members it affects, or they could neither see it nor consent."""
    if audience.everyone or not audience.members:
        return
    outside = [code for code in members if code not in audience.members]
    if outside:
        raise ActionError(
            f"the audience names members but not the affected {', '.join(outside)}, who could not see the incident",
            field="audience",
        )


def open_incident(
    *,
    title: dict[str, str],
    hazard: str,
    affected_members: list[str],
    audience: Audience,
    tlp: str,
    acting_user: Account,
    summary: dict[str, str] | None = None,
    domains: list[str] | None = None,
    regions: list[str] | None = None,
    lead_member: str | None = None,
    status: str = "actual",
) -> Version:
    """Open an incident at level 0 (monitoring)."""
    try:
        resolved = hazards.resolve(hazard)
    except hazards.UnknownHazard as error:
        raise ActionError(str(error), field="hazard") from None
    organisation = acting_user.organisation
    own = organisation.member.code if organisation is not None else ""
    if lead_member is None:
        lead_member = own if own in affected_members or own == "SCO" else (affected_members or [""])[0]
    body: dict[str, Any] = {
        "title": title,
        "summary": summary or {},
        "hazard": resolved,
        "domains": domains or ["human"],
        "affected_members": affected_members,
        "regions": regions or [],
        "lead_member": lead_member,
        "level": 0,
        "status": "open",
        "change": {"action": "open"},
    }
    check_body(body, acting_user, status)
    _audience_covers(audience, affected_members)
    return record_actions.publish(KIND, body, audience=audience, tlp=tlp, status=status, acting_user=acting_user)


def current_body(record: Record) -> dict[str, Any]:
    version = record.current_version
    if version is None or record.kind != KIND:
        raise ActionError("not an incident")
    return dict(version.body)
