"""What the mobilisation pages share: the choices of the call form, its presets from a request or an incident, who
may call, and the messages a person reads for the actions' refusals (in their language)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from accord.alliances import vocab
from accord.members.models import Member
from accord.records.errors import ActionError
from accord.response.kinds import incident_roles

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.records.models import Record

WINDOW_DAYS = 30  # a call's window, preset: from the day the experts are needed, for this many days


def field_choices() -> list[tuple[str, str]]:
    return sorted(((t.code, t.name) for t in vocab.FIELDS), key=lambda c: c[1])


def language_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in vocab.LANGUAGES]


def field_of(detail: str) -> str:
    """The field of expertise a request's free `detail` names (a code, or a name in zh, ru or en), else ""."""
    text = detail.strip().casefold()
    for term in vocab.FIELDS:
        if text in (term.code, term.en.casefold(), term.ru.casefold(), term.zh.casefold()):
            return term.code
    return ""


def presets(record: Record) -> dict[str, str]:
    """The call form's values for a request (its field, from the day it is needed) or an incident (from today)."""
    body = record.current_version.body if record.current_version is not None else {}
    start = date.today()
    if record.kind == "assistance_request":
        with contextlib.suppress(ValueError):
            start = max(date.fromisoformat(str(body.get("needed_by", ""))[:10]), start)
    return {
        "field": field_of(str(body.get("detail", ""))) if record.kind == "assistance_request" else "",
        "language": "",
        "from": start.isoformat(),
        "until": (start + timedelta(days=WINDOW_DAYS)).isoformat(),
        "region": "",
        "message": "",
    }


def may_call(account: Account, record: Record) -> bool:
    """Who sees the call form: on an open request for experts, a focal point of the requesting member or a
    coordinator (or focal point) of the Secretariat; on an open incident, a focal point of an affected member or the
    Secretariat's. The actions decide again."""
    organisation = account.organisation
    version = record.current_version
    if organisation is None or version is None or version.state != "active" or version.body.get("status") != "open":
        return False
    member = organisation.member
    if not account.role_names() & incident_roles(member):
        return False
    if member.kind == Member.Kind.SECRETARIAT:
        return record.kind != "assistance_request" or version.body.get("resource_type") == "expert"
    if record.kind == "assistance_request":
        return version.body.get("resource_type") == "expert" and version.body.get("member") == member.code
    return member.code in [str(m) for m in version.body.get("affected_members", [])]


def message_for(error: ActionError) -> str:
    """What a person reads for a refusal, in their language; the action's own message where none fits."""
    known: dict[tuple[str | None, int], str] = {
        ("field", 400): _("Choose a field of expertise from the list."),
        ("field", 409): _(
            "No expert you may see matches this field, language and window and is deployable: nobody is called, "
            "nothing is stored."
        ),
        ("language", 400): _("Choose a language from the list, or none."),
        ("until", 400): _("The last day is before the first, or is not a date."),
        ("region", 400): _("Choose the region the experts would go to."),
        ("call", 403): _("Only the experts this call names answer it, and only the requesting member selects."),
        ("request", 409): _("The request is closed or withdrawn, or it is decided on another node."),
    }
    if error.field == "from" and error.status == 400:
        if "window" in error.message:
            return _("Your dates do not meet the call's window.")
        return _("Give the first day as a date.")
    if error.field == "expert" and error.status == 409:
        if "not available" in error.message:
            return _("This expert replied that they are not available.")
        if "not replied" in error.message or "not called" in error.message:
            return _("This expert has not replied; only an expert who replied available is selected.")
        if "selected already" in error.message:
            return _("This expert is selected already.")
        return _("This expert answered on another node: their member offers them there, and you accept the offer.")
    return known.get((error.field, error.status), error.message)


def window_text(values: dict[str, Any]) -> str:
    return f"{values.get('from', '')} – {values.get('until', '')}"
