"""What tasks, task updates, meetings, decisions and positions share: they hang from an incident and take its
audience, TLP and traffic status (so whoever sees the incident sees them, and an exercise incident's tasks are
exercise traffic), and their origin node issues the follow-up versions that peers' reactions call for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator

from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.kinds import RecordKind
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import queries
from accord.response.refs import ref_of

if TYPE_CHECKING:
    from accord.members.models import Account


def _time_text(value: Any) -> Any:
    """A body's time is RFC 3339 text with an offset, as the schema says, never a number of seconds."""
    from accord.api import _RFC3339

    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time with an offset, such as 2026-05-01T12:00:00+05:00")
    return value


# For request bodies: an aware datetime given as RFC 3339 text.
TimeText = Annotated[datetime, BeforeValidator(_time_text)]


@dataclass(frozen=True)
class Incident:
    record: Record
    ref: dict[str, str]
    body: dict[str, Any]
    audience: Audience
    tlp: str
    status: str  # the envelope status: actual / exercise / test


def incident(principal: Principal, record_uuid: uuid.UUID | str, *, open_only: bool = True) -> Incident:
    """The incident `record_uuid` as `principal` may see it (else 404), refusing a closed or withdrawn one (409)."""
    record = queries.incident_for(principal, record_uuid)
    version = record.current_version
    assert version is not None
    envelope = version.envelope()
    body = dict(envelope["body"])
    if open_only and (version.state != "active" or body.get("status") != "open"):
        raise Conflict("the incident is closed; reopen it first")
    return Incident(
        record=record,
        ref=ref_of(record),
        body=body,
        audience=Audience.model_validate(envelope["audience"]),
        tlp=version.tlp,
        status=version.status,
    )


def reaching(audience: Audience, members: list[str], field: str) -> None:
    """Members who must see a record (participants, an assignee) must be in an audience that names members."""
    if audience.everyone or not audience.members:
        return
    outside = [code for code in members if code not in audience.members]
    if outside:
        raise ActionError(
            f"{field}: {', '.join(outside)} is outside the incident's audience and could not see it", field=field
        )


def visible(principal: Principal, kind: str, record_uuid: uuid.UUID | str, missing: str) -> Record:
    """A record of `kind` the principal may see; otherwise the same 404 as for none."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(missing) from None
    record = Record.objects.visible_to(principal).filter(kind=kind, uuid=key).select_related("current_version").first()
    if record is None:
        raise NotFound(missing)
    return record


def steward(record: Record, kind: RecordKind) -> Account:
    """Who issues the next version of `record` (this node's) when a reaction calls for one: the account that issued
    the current version, if still active and entitled, else the first active account of the same organisation
    that may issue the kind. The record core allows only that organisation to continue a record; the audit entry of
    the new version names this account."""
    from accord.members.models import Account

    current = record.current_version
    assert current is not None
    if current.origin_organisation is None:
        raise Forbidden(f"this {kind.name} was issued by no organisation, and no account may continue it")
    candidates = Account.objects.filter(is_active=True, organisation__uuid=current.origin_organisation).select_related(
        "organisation__member"
    )
    author = candidates.filter(uuid=current.author).first() if current.author else None
    for account in [author, *candidates.order_by("id")]:
        if account is None or account.organisation is None:
            continue
        roles = kind.roles_for(account.organisation.member)
        if not roles or account.role_names() & roles:
            return account
    raise Forbidden(f"no active account of the organisation that issued this {kind.name} may continue it")
