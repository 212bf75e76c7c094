"""Every change to the expert roster, each taking the acting account and returning the version it issued:

* `put_own(acting_user, profile=, audience=, tlp=)`: a person (role `expert`) publishes or revises their own
  profile; returns (version, created);
* `withdraw_own(acting_user)`: the person leaves the roster (the profile's record is withdrawn);
* `create_managed(acting_user, profile=, audience=, tlp=)`: a focal point lists a person without an account, with
  the person's recorded consent, for an organisation of the focal point's member;
* `update_profile(acting_user, record_uuid, profile=, audience=, tlp=)` and `withdraw_profile(acting_user,
  record_uuid)`: a managed profile by a focal point of the organisation that issued it, or one's own profile.

`profile` is the body's own part: `fields`, `languages`, `available`, `deployable`, and optionally
`deploy_within_days`, `alliances`, `note`, `contact_email` (and for a managed profile `name`, `organisation` (slug),
`consent`). The affiliation and the account are filled in here. Bad input raises ActionError naming the field
(`fields`, `languages`, `available`, `consent`, `audience`, `tlp` ...) before anything is stored.

**Visibility** is the record's audience and TLP, chosen by the person: the generic audience shape
(`{"members": ["SCO"]}`, ...) or the shorthand `{"alliances": ["medicine"]}` (the members of the alliance's member
organisations; with `members` too, both). Without one: the Secretariat only, TLP:AMBER. A profile is never public:
TLP:CLEAR with an audience of everyone is refused. Revising without an audience keeps the one it had.

**Withdrawal** issues a withdrawn version: the projection drops the profile's rows at once, so no search, list,
count or page finds it, and the generic record reads never show the kind (`RecordKind.reader`). A person who
withdrew can publish again: that is a new record.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from accord.alliances import membership_queries
from accord.alliances.roster_kinds import ALLIANCE_SLUGS, FIELDS, KIND, PROFILE, SLUG, refuse
from accord.alliances.roster_models import ExpertProfile
from accord.alliances.roster_queries import own_profile, profile_for
from accord.records import actions as record_actions
from accord.records.envelope import Audience, parse_audience
from accord.records.errors import ActionError, Forbidden, NotFound
from accord.records.kinds import Author
from accord.records.models import Record, Version
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account, Organisation

DEFAULT_AUDIENCE = Audience(members=["SCO"])
DEFAULT_TLP = "AMBER"
OWN_KEYS = frozenset(
    {"fields", "languages", "available", "deployable", "deploy_within_days", "alliances", "note", "contact_email"}
)
MANAGED_KEYS = OWN_KEYS | {"name", "organisation", "consent"}


def _organisation(acting_user: Account) -> Organisation:
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation", field="account")
    return organisation


def _require(acting_user: Account, role: str, doing: str) -> None:
    if not acting_user.is_active:
        raise Forbidden("this account is disabled", field="account")
    _organisation(acting_user)
    if role not in acting_user.role_names():
        raise Forbidden(f"role: {doing} needs the role {role}", field="role")


def visibility(audience: Any, tlp: str | None, current: Version | None = None) -> tuple[Audience, str]:
    """The audience and TLP a profile is issued with: as given (the generic shape, or `alliances` expanded to
    member codes), else the current version's (a revision), else the Secretariat only at TLP:AMBER."""
    if audience is None:
        if current is not None:
            found = Audience.model_validate(current.envelope()["audience"])
            return found, tlp or current.tlp
        return DEFAULT_AUDIENCE, tlp or DEFAULT_TLP
    if isinstance(audience, Audience):
        given = audience
    else:
        if not isinstance(audience, dict):
            raise ActionError("audience: give an object (members, organisations, persons, everyone, alliances)",
                              field="audience")  # fmt: skip
        raw = dict(audience)
        slugs = raw.pop("alliances", None)
        if slugs is not None:
            raw["members"] = sorted({*(raw.get("members") or []), *alliance_members(slugs)})
        given = parse_audience(raw)
    chosen = tlp or ("GREEN" if given.everyone else DEFAULT_TLP)
    given.check_against(chosen)
    if given.everyone and chosen == "CLEAR":
        raise ActionError(
            "tlp: an expert profile is never public; for all members use TLP:GREEN with an audience of everyone",
            field="tlp",
        )
    return given, chosen


def alliance_members(slugs: Any) -> list[str]:
    """The member codes of the member organisations of the alliances `slugs` (the `alliances` shorthand), as they
    are when the profile is issued: the audience is signed with the codes, and does not follow later changes of
    membership (the person re-chooses when they revise)."""
    from accord.alliances.models import Alliance

    if not isinstance(slugs, list) or not slugs or not all(isinstance(s, str) for s in slugs):
        raise ActionError("audience.alliances: give a list of alliance slugs", field="audience")
    codes: set[str] = set()
    for slug in slugs:
        if slug not in ALLIANCE_SLUGS or not Alliance.objects.filter(slug=slug).exists():
            raise ActionError(f"audience.alliances: {slug!r} is not an alliance", field="audience")
        codes.update(membership_queries.member_codes(slug))
    if not codes:
        raise ActionError(
            "audience.alliances: these alliances have no member organisations yet; name the members instead",
            field="audience",
        )
    return sorted(codes)


def _checked(body: dict[str, Any], acting_user: Account) -> dict[str, Any]:
    """The kind's rules before any write, so that an error names the field the caller sent."""
    try:
        return PROFILE.check(body, Author(member=_organisation(acting_user).member.code))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in FIELDS:
                error.field = head
                error.message = error.message.removeprefix("body.")
        raise


def _own_part(profile: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    given = {key: value for key, value in profile.items() if value is not None}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ActionError(f"{unknown[0]}: not a field of this expert profile", field=unknown[0])
    return given


def _affiliation(organisation: Organisation) -> dict[str, str]:
    return {"organisation": organisation.slug, "member": organisation.member.code, "name": organisation.name_en}


def own_body(acting_user: Account, profile: dict[str, Any]) -> dict[str, Any]:
    """The body of the person's own profile: what they gave, their name, account and affiliation."""
    body = _own_part(profile, OWN_KEYS)
    body["name"] = (acting_user.get_full_name() or acting_user.username)[:200]
    body["account"] = str(acting_user.uuid)
    body["affiliation"] = _affiliation(_organisation(acting_user))
    return body


def put_own(
    acting_user: Account, *, profile: dict[str, Any], audience: Any = None, tlp: str | None = None
) -> tuple[Version, bool]:
    """Publish (created: True) or revise the person's own profile."""
    _require(acting_user, "expert", "putting one's own expert profile")
    body = _checked(own_body(acting_user, profile), acting_user)
    current = own_profile(acting_user)
    chosen, label = visibility(audience, tlp, current.version if current is not None else None)
    if current is None:
        return record_actions.publish(KIND, body, audience=chosen, tlp=label, acting_user=acting_user), True
    version = record_actions.revise(current.record, acting_user=acting_user, body=body, audience=chosen, tlp=label)
    return version, False


def withdraw_own(acting_user: Account, reason: str = "") -> Version:
    """The person leaves the roster: their own profile is withdrawn (404 when they have none)."""
    current = own_profile(acting_user)
    if current is None:
        raise NotFound("you have no expert profile on the roster", field="profile")
    return record_actions.withdraw(
        current.record, acting_user=acting_user, reason=reason.strip() or "withdrawn by the person"
    )


def managed_body(acting_user: Account, profile: dict[str, Any]) -> dict[str, Any]:
    body = _own_part(profile, MANAGED_KEYS)
    own = _organisation(acting_user)
    slug = body.pop("organisation", None) or own.slug
    from accord.members.models import Organisation

    if not isinstance(slug, str) or not re.fullmatch(SLUG, slug):
        raise refuse("organisation", f"{slug!r} is not an organisation's slug")
    organisation = Organisation.objects.filter(slug=slug).select_related("member").first()
    if organisation is None:
        raise refuse("organisation", f"{slug!r} is not an organisation known here")
    if organisation.member_id != own.member_id:
        raise Forbidden(
            f"organisation: {slug} is an organisation of {organisation.member.code}; a focal point manages profiles "
            f"for the organisations of its own member ({own.member.code})",
            field="organisation",
        )
    consent = body.get("consent")
    if isinstance(consent, dict) and not consent.get("recorded_by"):
        body["consent"] = {**consent, "recorded_by": (acting_user.get_full_name() or acting_user.username)[:200]}
    body["affiliation"] = _affiliation(organisation)
    return body


def create_managed(
    acting_user: Account, *, profile: dict[str, Any], audience: Any = None, tlp: str | None = None
) -> Version:
    """A focal point lists a person without an account (with the person's recorded consent)."""
    _require(acting_user, "focal_point", "managing a profile for a person without an account")
    if "name" not in profile or not profile.get("name"):
        raise refuse("name", "give the person's name")
    if not profile.get("consent"):
        raise refuse("consent", "record the person's consent (given_on, method, recorded_by) before listing them")
    body = _checked(managed_body(acting_user, profile), acting_user)
    chosen, label = visibility(audience, tlp)
    return record_actions.publish(KIND, body, audience=chosen, tlp=label, acting_user=acting_user)


def _editable(acting_user: Account, record_uuid: uuid.UUID | str) -> ExpertProfile:
    """A profile the acting account may change: its own, or a managed one of its organisation (focal point)."""
    row = profile_for(Principal.of(acting_user), record_uuid)
    if row.account is not None:
        if row.account != acting_user.uuid:
            raise Forbidden("profile: only the person changes or withdraws their own profile", field="profile")
        return row
    _require(acting_user, "focal_point", "managing a profile for a person without an account")
    if row.node != record_actions.here().node_id or row.version.origin_organisation != _organisation(acting_user).uuid:
        raise Forbidden("profile: only the organisation that manages this profile changes it, on its node",
                        field="profile")  # fmt: skip
    return row


def update_profile(
    acting_user: Account,
    record_uuid: uuid.UUID | str,
    *,
    profile: dict[str, Any],
    audience: Any = None,
    tlp: str | None = None,
) -> Version:
    row = _editable(acting_user, record_uuid)
    if row.account is not None:
        return put_own(acting_user, profile=profile, audience=audience, tlp=tlp)[0]
    given = dict(profile)
    if not given.get("consent"):
        given["consent"] = row.version.body.get("consent")
    given["name"] = given.get("name") or row.name
    given["organisation"] = given.get("organisation") or row.organisation
    body = _checked(managed_body(acting_user, given), acting_user)
    chosen, label = visibility(audience, tlp, row.version)
    return record_actions.revise(row.record, acting_user=acting_user, body=body, audience=chosen, tlp=label)


def withdraw_profile(acting_user: Account, record_uuid: uuid.UUID | str, reason: str = "") -> Version:
    row = _editable(acting_user, record_uuid)
    if row.account is not None:
        return withdraw_own(acting_user, reason)
    return record_actions.withdraw(
        row.record, acting_user=acting_user, reason=reason.strip() or "withdrawn by the managing organisation"
    )


def record_of(version: Version) -> Record:
    return Record.objects.select_related("current_version").get(pk=version.record_id)
