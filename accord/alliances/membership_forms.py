"""What the alliances' pages show of membership, in the reader's language: the states and events of a membership,
the messages of a refusal, and the dicts the templates read (`dress_membership`, `history_of`).

No reads or writes here beyond the names of members and organisations: `membership_views` reads through
`membership_queries` (the audience filter) and writes through `membership_actions`.
"""

from __future__ import annotations

import heapq
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.alliances.membership_actions import OwnApplication
from accord.alliances.membership_models import Membership
from accord.records.errors import ActionError

STATES = {
    "pending": gettext_lazy("Application pending"),
    "member": gettext_lazy("Member"),
    "declined": gettext_lazy("Declined"),
    "left": gettext_lazy("Left"),
}
REASON_MAX = 2000
MOTIVATION_MAX = 5000


def event_text(event: dict[str, Any]) -> str:
    kind = event.get("event")
    if kind == "applied":
        return _("applied again") if event.get("rejoin") else _("applied to join")
    if kind == "accepted":
        return _("application accepted")
    if kind == "declined":
        return _("application declined")
    if kind == "left":
        return _("left the alliance")
    return str(kind)


def organisation_names() -> dict[tuple[str, str], str]:
    """The names of the organisations this node holds, in the reader's language, by (slug, member)."""
    from accord.members.models import Organisation

    return {(o.slug, o.member.code): o.name for o in Organisation.objects.select_related("member")}


def dress_membership(
    membership: Membership, names: dict[tuple[str, str], str], members: dict[str, str]
) -> dict[str, Any]:
    """A membership row as the page shows it."""
    return {
        "organisation": membership.organisation,
        "member": membership.member,
        "name": names.get((membership.organisation, membership.member)) or membership.name or membership.organisation,
        "member_name": members.get(membership.member, membership.member),
        "state": membership.state,
        "state_label": STATES.get(membership.state, membership.state),
        "since": membership.since,
        "reason": membership.reason,
        "application": str(membership.application.uuid),
        "motivation": _motivation(membership),
    }


def _motivation(membership: Membership) -> str:
    for event in reversed(membership.history):
        if event.get("event") == "applied":
            return str(event.get("reason") or "")
    return ""


def history_of(
    rows: list[Membership], names: dict[tuple[str, str], str], members: dict[str, str]
) -> list[dict[str, Any]]:
    """Every organisation's chain of events, merged by time (each chain keeps its own order), newest last."""
    chains = []
    for row in rows:
        name = names.get((row.organisation, row.member)) or row.name or row.organisation
        chain = []
        for event in row.history:
            chain.append(
                {
                    **event,
                    "at": parse_datetime(str(event["at"])),
                    "organisation_name": name,
                    "organisation_member": row.member,
                    "by": members.get(str(event.get("member")), str(event.get("member"))),
                    "text": event_text(event),
                }
            )
        chains.append(chain)
    return list(heapq.merge(*chains, key=lambda e: e["at"]))


def refusal(action: str, error: ActionError) -> str:
    """A refusal of an action (`apply`, `decide`, `leave`), in the reader's language where it is a known one."""
    if isinstance(error, OwnApplication):
        return _("An organisation does not decide its own application.")
    if error.status == 403:
        if action == "decide":
            return _("Only the alliance's council or a coordinator of the Secretariat decides applications.")
        return _("Only an expert, focal point or coordinator of an organisation acts for it in an alliance.")
    if action == "apply" and error.status == 409:
        return _("Your organisation is a member of this alliance already, or its application is pending.")
    if action == "decide" and error.status == 409:
        return _("This application is decided already.")
    if action == "decide" and error.field == "reason":
        return _("Give the reason of the decision.")
    if action == "decide" and error.field == "decision":
        return _("Choose to accept or to decline.")
    if action == "leave" and error.status == 409:
        return _("Your organisation is not a member of this alliance.")
    if action == "leave" and error.field == "confirm":
        return _("Confirm that your organisation leaves the alliance.")
    return error.message
