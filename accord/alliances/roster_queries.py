"""The read side of the roster: expert profiles as a principal may see them, always through the audience filter.

* `matching(principal, *, field, language=None, available_from=None, available_until=None, member=None,
  alliance=None, deployable=None)`: the visible profiles with that field (and language, and an availability window
  covering the whole of from..until, ...), a QuerySet of `ExpertProfile` rows;
* `search(principal, ...)`: the same with every filter optional (the roster's list and page);

`alliance` finds the experts who say they work with the alliance and those of its member organisations now.
* `profile_for(principal, record_uuid)`: one visible profile, else 404 (the same as for none);
* `own_profile(account)`: the account's own current profile on this node, if any.

A row exists only for a profile whose current version is active: a withdrawn profile is found by nothing here.
Each row exposes the person's `account` uuid (none for a managed profile), `name`, `organisation` (slug),
`member`, `organisation_name`, `contact_email`, `deployable`, `deploy_within_days`, and `version` (the signed
current version, whose body has the rest).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accord.alliances import membership_queries
from accord.alliances.roster_kinds import ALLIANCE_SLUGS, KIND, iso_date, refuse
from accord.alliances.roster_models import ExpertAlliance, ExpertField, ExpertLanguage, ExpertProfile, ExpertWindow
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_EXPERT = "no such expert"
MEMBER = re.compile(r"[A-Z0-9]{2,8}")


def visible(principal: Principal) -> QuerySet[ExpertProfile]:
    """Every profile the principal may see (its record's current version, through the audience filter)."""
    records = Record.objects.visible_to(principal).filter(kind=KIND).values("pk")
    return ExpertProfile.objects.filter(record_id__in=records).select_related("record", "version")


def day(value: date | str | None, name: str) -> date | None:
    """A filter's day, or a 400 naming `name`."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(iso_date(value))
    except ValueError:
        raise refuse(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def search(
    principal: Principal,
    *,
    field: str | None = None,
    language: str | None = None,
    available_from: date | str | None = None,
    available_until: date | str | None = None,
    member: str | None = None,
    alliance: str | None = None,
    deployable: bool | None = None,
) -> QuerySet[ExpertProfile]:
    """The visible profiles that match every filter given, by name. Availability: a window that covers the whole
    of available_from..available_until (one day when only one is given)."""
    rows = visible(principal)
    if field:
        rows = rows.filter(Exists(ExpertField.objects.filter(profile=OuterRef("pk"), code=field)))
    if language:
        rows = rows.filter(Exists(ExpertLanguage.objects.filter(profile=OuterRef("pk"), code=language)))
    start = day(available_from, "available_from")
    end = day(available_until, "available_until")
    if start is not None or end is not None:
        start = start or end
        end = end or start
        assert start is not None and end is not None
        if end < start:
            raise refuse("available_until", "is before available_from")
        covering = ExpertWindow.objects.filter(profile=OuterRef("pk"), start__lte=start, until__gte=end)
        rows = rows.filter(Exists(covering))
    if member:
        if not MEMBER.fullmatch(member):
            raise refuse("member", f"{member!r} is not a member code (ISO 3166 alpha-2 in capitals, or SCO)")
        rows = rows.filter(member=member)
    if alliance:
        if alliance not in ALLIANCE_SLUGS:
            raise refuse("alliance", f"{alliance!r} is not an alliance ({', '.join(ALLIANCE_SLUGS)})")
        # the experts who say they work with the alliance, and those of its member organisations
        either = Q(Exists(ExpertAlliance.objects.filter(profile=OuterRef("pk"), slug=alliance)))
        for slug, code in membership_queries.member_organisations(alliance):
            either |= Q(organisation=slug, member=code)
        rows = rows.filter(either)
    if deployable is not None:
        rows = rows.filter(deployable=deployable)
    return rows.order_by("name", "record_id")


def matching(
    principal: Principal,
    *,
    field: str,
    language: str | None = None,
    available_from: date | str | None = None,
    available_until: date | str | None = None,
    member: str | None = None,
    alliance: str | None = None,
    deployable: bool | None = None,
) -> QuerySet[ExpertProfile]:
    """The visible profiles for a roster call: with `field`, and whatever else is given (see `search`)."""
    return search(
        principal,
        field=field,
        language=language,
        available_from=available_from,
        available_until=available_until,
        member=member,
        alliance=alliance,
        deployable=deployable,
    )


def profile_for(principal: Principal, record_uuid: uuid.UUID | str) -> ExpertProfile:
    """A profile the principal may see; otherwise (none, not visible, withdrawn) the same 404."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(NO_SUCH_EXPERT) from None
    found = visible(principal).filter(record__uuid=key).first()
    if found is None:
        raise NotFound(NO_SUCH_EXPERT)
    return found


def own_profile(account: Account) -> ExpertProfile | None:
    """The account's own current (active) profile, issued on this node (the only one that can revise it)."""
    from accord.records.actions import here

    return (
        ExpertProfile.objects.filter(account=account.uuid, node=here().node_id)
        .select_related("record", "version")
        .order_by("-version_id")
        .first()
    )


def managed_by(account: Account) -> QuerySet[ExpertProfile]:
    """The managed profiles the account's organisation issued on this node (a focal point's "profiles we manage")."""
    from accord.records.actions import here

    organisation = account.organisation
    if organisation is None:
        return ExpertProfile.objects.none()
    return (
        ExpertProfile.objects.filter(managed=True, node=here().node_id, version__origin_organisation=organisation.uuid)
        .select_related("record", "version")
        .order_by("name", "record_id")
    )


def details(row: ExpertProfile) -> dict[str, Any]:
    """What the row's signed version says, in the shape the API and pages show."""
    version = row.version
    envelope = version.envelope()
    body = envelope["body"]
    return {
        "id": row.record.uuid,
        "node": row.node,
        "seq": version.seq,
        "name": body["name"],
        "account": body.get("account"),
        "affiliation": dict(body["affiliation"]),
        "organisation": row.organisation,
        "member": row.member,
        "fields": list(body["fields"]),
        "languages": [dict(item) for item in body.get("languages", [])],
        "available": [dict(item) for item in body.get("available", [])],
        "deployable": bool(body["deployable"]),
        "deploy_within_days": body.get("deploy_within_days"),
        "alliances": list(body.get("alliances", [])),
        "note": body.get("note", ""),
        "contact_email": body.get("contact_email"),
        "managed": row.managed,
        "consent": body.get("consent"),
        "audience": envelope["audience"],
        "tlp": version.tlp,
        "updated_at": version.created_at,
    }


def counts(principal: Principal) -> dict[str, int]:
    """How many visible profiles there are, and how many deployable (for a page's summary)."""
    rows = visible(principal)
    return {"experts": rows.count(), "deployable": rows.filter(deployable=True).count()}
