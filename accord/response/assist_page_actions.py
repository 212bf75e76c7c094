"""What the pages of mutual assistance show about ending things and offering unprompted: the withdraw and close
forms of a request (the requesting member's focal points, or the Secretariat's coordinators for its own request),
the withdraw form of an offer (the offering member's), and the form of an unsolicited offer on an incident (a
member offering to an affected member), read into the arguments of `assist_actions`.

No reads or writes here: `dress` works on the dicts of `assist_queries` that `assist_views` already read through
the audience filter; the views (`assist_offer_views`) call the actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from accord.records import actions as record_actions
from accord.response import assist_catalogue
from accord.response.assist_forms import quantity

CLOSED = frozenset({"withdrawn", "closed"})
REASON_MAX = 2000
# The unsolicited offer form's fields, in their order: where an error is shown and what the summary links to.
OFFER_FIELDS = (
    "resource_type",
    "detail",
    "quantity",
    "to_member",
    "available_from",
    "available_until",
    "lead_time_days",
    "conditions",
    "costs_borne_by",
    "note",
)


def reason_of(data: QueryDict) -> tuple[str, str]:
    """The posted reason, or the message that names it (a reason is required)."""
    text = data.get("reason", "").strip()
    if not text:
        return "", _("Say why, in a few words.")
    if len(text) > REASON_MAX:
        return "", _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX}
    return text, ""


def dress(out: dict[str, Any], *, own: str, may_act: bool, errors: dict[str, str]) -> None:
    """Add to a request's dict (`assist_views`) whether its reader may withdraw or close it (`may_end`), the errors
    of those forms, and the reader's own active offers on it that it may withdraw here (`own_offers`)."""
    here = str(record_actions.here().node_id)
    live = out["status"] not in CLOSED and out["state"] == "active"
    out["may_end"] = live and may_act and own == out["member"] and str(out["node"]) == here
    out["end_errors"] = {"withdraw": errors.get("withdraw", ""), "close": errors.get("close", "")}
    out["own_offers"] = [
        o for o in out["offers"] if may_act and o["member"] == own and o["state"] == "active" and str(o["node"]) == here
    ]
    for offer in out["own_offers"]:
        offer["withdraw_error"] = errors.get(f"withdraw-offer-{offer['id']}", "")


def offer_targets(incident_body: dict[str, Any], own: str) -> list[str]:
    """The members an unsolicited offer may go to: the incident's affected members (and its lead), not the
    offering member itself."""
    lead = str(incident_body.get("lead_member") or "")
    affected = [str(m) for m in incident_body.get("affected_members", [])]
    return [m for m in dict.fromkeys([*affected, lead]) if m and m != own]


@dataclass
class UnsolicitedForm:
    resource_type: str = ""
    detail: str = ""
    quantity: str = ""
    to_member: str = ""
    available_from: str = ""
    available_until: str = ""
    lead_time_days: str = ""
    conditions: str = ""
    costs_borne_by: str = ""
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[dict[str, str]]:
        named = [(f, self.errors[f]) for f in OFFER_FIELDS if f in self.errors]
        rest = [(f, m) for f, m in self.errors.items() if f not in OFFER_FIELDS]
        return [{"anchor": f if f in OFFER_FIELDS else "resource_type", "message": m} for f, m in named + rest]

    def place(self, error_field: str | None, message: str) -> None:
        """An action's error on the field it names (the unit is the type's; the offering member is answered on
        `to_member`)."""
        where = {"unit": "resource_type", "member": "to_member"}.get(error_field or "", error_field or "")
        self.errors[where if where in OFFER_FIELDS else "resource_type"] = message


def unsolicited_from_post(data: QueryDict, targets: list[str]) -> UnsolicitedForm:
    form = UnsolicitedForm(
        resource_type=data.get("resource_type", "").strip()[:40],
        detail=data.get("detail", "").strip()[:500],
        quantity=data.get("quantity", "").strip()[:20],
        to_member=data.get("to_member", "").strip()[:8],
        available_from=data.get("available_from", "").strip()[:40],
        available_until=data.get("available_until", "").strip()[:40],
        lead_time_days=data.get("lead_time_days", "").strip()[:10],
        conditions=data.get("conditions", "").strip()[:5000],
        costs_borne_by=data.get("costs_borne_by", "").strip()[:200],
        note=data.get("note", "").strip()[:5000],
    )
    if assist_catalogue.get(form.resource_type) is None:
        form.errors["resource_type"] = _("Choose a resource type of the catalogue.")
    if quantity(data)[0] is None:
        form.errors["quantity"] = quantity(data)[1]
    if form.to_member not in targets:
        form.errors["to_member"] = _("Choose the affected member you offer it to.")
    if form.lead_time_days and not form.lead_time_days.isdigit():
        form.errors["lead_time_days"] = _("Give the lead time as a whole number of days.")
    return form
