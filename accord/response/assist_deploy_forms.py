"""The forms of the deployment pages: what the commit, deploy and status report forms post, read into the arguments
of the deployment actions (`assist_deploy`).

Only what a browser may send wrong is checked here (a number that is not a whole number, a blank contact name, an
e-mail address without @), naming the field; every other rule is the kind's and the actions', whose errors name
their field too and are moved onto the form's field here (`field_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.records.errors import ActionError
from accord.response import assist_forms, assist_points
from accord.response.assist_deploy_kind import STATUSES
from accord.response.assist_kinds import OutsideTerritory

STATUS_LABELS: dict[str, str | Promise] = {
    "mobilising": gettext_lazy("Mobilising"),
    "in_transit": gettext_lazy("In transit"),
    "arrived": gettext_lazy("Arrived"),
    "operating": gettext_lazy("Operating"),
    "demobilised": gettext_lazy("Demobilised (released)"),
    "returned": gettext_lazy("Returned"),
}
assert tuple(STATUS_LABELS) == STATUSES
# The deploy form's fields, in their order: where an error is shown and what the summary links to.
DEPLOY_FIELDS = (
    "quantity",
    "contact_name",
    "contact_phone",
    "contact_email",
    "region",
    "point",
    "place",
    "departure",
    "arrival",
    "status",
)
STATUS_FIELDS = ("status", "delivered", "note")


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def statuses_from(current: str) -> list[tuple[str, str]]:
    """The statuses a report may give: the current one (to report a delivery or a note) and those after it."""
    start = STATUSES.index(current) if current in STATUSES else 0
    return [(code, status_label(code)) for code in STATUSES[start:]]


@dataclass
class Form:
    """A posted form: the values as typed (shown again on an error) and the errors by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    fields: tuple[str, ...] = DEPLOY_FIELDS

    def error_list(self) -> list[dict[str, str]]:
        named = [(f, self.errors[f]) for f in self.fields if f in self.errors]
        rest = [(f, m) for f, m in self.errors.items() if f not in self.fields]
        return [{"anchor": _anchor(f, self.fields), "message": m} for f, m in named + rest]

    def refused(self, error: ActionError) -> None:
        """An action's refusal, on the field it names (a point outside the region's member said in the reader's
        language)."""
        message = assist_points.outside(error) if isinstance(error, OutsideTerritory) else error.message
        self.errors[field_of(error, self.fields)] = message


def _anchor(name: str, fields: tuple[str, ...]) -> str:
    if name == assist_points.FIELD and name in fields:
        return assist_points.ANCHOR
    return name if name in fields else fields[0]


def field_of(error: ActionError, fields: tuple[str, ...]) -> str:
    """The form field an action's error is about: `contact` and `location` name their part in the message."""
    head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".")
    parts = head.split(".")
    if error.field == "contact" or parts[0] == "contact":
        part = parts[1] if len(parts) > 1 and parts[0] == "contact" else "name"
        return f"contact_{part}" if f"contact_{part}" in fields else "contact_name"
    if error.field == "location" or parts[0] == "location":
        part = parts[1] if len(parts) > 1 and parts[0] == "location" else "region"
        if part == "point" and "point" in fields:
            return "point"
        return "place" if part == "place" else "region"
    if error.field == "when":
        return "status"
    return error.field if error.field in fields else fields[0]


def deploy_form(initial: dict[str, str]) -> Form:
    return Form(values={"status": "mobilising", **initial})


def deploy_from_post(data: QueryDict) -> tuple[Form, dict[str, Any]]:
    """The deploy form as posted, and the arguments of `assist_deploy.deploy` when the form has no error."""
    limits = {"place": 300, "contact_name": 200, "contact_phone": 50, "contact_email": 200}
    values = {name: data.get(name, "").strip()[: limits.get(name, 40)] for name in DEPLOY_FIELDS if name != "point"}
    posted = assist_points.from_post(data)
    values.update(point_lat=posted.lat, point_lon=posted.lon)
    form = Form(values=values)
    if posted.error:
        form.errors["point"] = posted.error
    wanted, message = assist_forms.quantity(data)
    if wanted is None:
        form.errors["quantity"] = message
    if not values["contact_name"]:
        form.errors["contact_name"] = _("Name the contact point: a person or a desk.")
    email = values["contact_email"]
    if email and ("@" not in email.strip("@") or any(c.isspace() for c in email)):
        form.errors["contact_email"] = _("Give an e-mail address such as name@example.org, or leave it blank.")
    if not values["region"]:
        form.errors["region"] = _("Choose the region it goes to.")
    if values["status"] not in STATUSES:
        form.errors["status"] = _("Choose a status.")
    contact = {"name": values["contact_name"], "phone": values["contact_phone"], "email": email}
    location: dict[str, Any] = {"region": values["region"], "place": values["place"]}
    if posted.point is not None:
        location["point"] = posted.point
    arguments: dict[str, Any] = {
        "quantity": wanted,
        "contact": contact,
        "location": location,
        "departure": values["departure"] or None,
        "arrival": values["arrival"] or None,
        "status": values["status"],
    }
    return form, arguments


def status_from_post(data: QueryDict) -> tuple[Form, dict[str, Any]]:
    """The status report form as posted, and the arguments of `assist_deploy.report_status`."""
    values = {
        "status": data.get("status", "").strip()[:20],
        "delivered": data.get("delivered", "").strip()[:20],
        "note": data.get("note", "").strip()[:2000],
    }
    form = Form(values=values, fields=STATUS_FIELDS)
    if values["status"] not in STATUSES:
        form.errors["status"] = _("Choose a status.")
    delivered: int | None = None
    if values["delivered"]:
        if not values["delivered"].isdigit():
            form.errors["delivered"] = _("Give the quantity delivered so far as a whole number.")
        else:
            delivered = int(values["delivered"])
    arguments: dict[str, Any] = {"status": values["status"], "delivered": delivered, "note": values["note"]}
    return form, arguments
