"""What the other parts of the alliances (and the pages) ask of membership: who is a member of an alliance, and who
may act for one or decide its applications. Membership is public among the members (every application, decision
and departure is shared with everyone at TLP:GREEN), so these answer from the projection (`Membership`); reads for a
person (`memberships_for`) also pass the audience filter.

Keep the names: roster, mobilisation, joint work and library call `member_organisations`, `member_codes`,
`is_member`, `alliances_of` and `may_act_for_alliance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from accord.alliances.membership_kinds import ACTING_ROLES, SECRETARIAT
from accord.alliances.membership_models import Membership
from accord.records.models import Record
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.alliances.models import Alliance
    from accord.members.models import Account, Organisation


def _members(alliance_slug: str) -> QuerySet[Membership]:
    return Membership.objects.filter(alliance=alliance_slug, state="member")


def member_organisations(alliance_slug: str) -> list[tuple[str, str]]:
    """The member organisations of an alliance now, as (slug, member code), by member then slug."""
    rows = _members(alliance_slug).order_by("member", "organisation").values_list("organisation", "member")
    return [(str(slug), str(member)) for slug, member in rows]


def member_codes(alliance_slug: str) -> list[str]:
    """The members (states, or the Secretariat) with at least one member organisation in the alliance, sorted."""
    return sorted(set(_members(alliance_slug).values_list("member", flat=True)))


def is_member(organisation_slug: str, alliance_slug: str) -> bool:
    """Whether the organisation (by slug) is a member of the alliance now."""
    return _members(alliance_slug).filter(organisation=organisation_slug).exists()


def alliances_of(organisation_slug: str) -> list[str]:
    """The alliances the organisation (by slug) is a member of now, sorted by slug."""
    rows = Membership.objects.filter(organisation=organisation_slug, state="member").values_list("alliance", flat=True)
    return sorted(set(rows))


def _acting(account: Any) -> Organisation | None:
    """The account's organisation, if the account acts for it (active, expert, focal point or coordinator)."""
    if account is None or not getattr(account, "is_active", False) or getattr(account, "organisation", None) is None:
        return None
    if not (account.role_names() & ACTING_ROLES):
        return None
    organisation: Organisation = account.organisation
    return organisation


def is_secretariat_coordinator(account: Account | None) -> bool:
    organisation = _acting(account)
    return (
        organisation is not None
        and organisation.member.code == SECRETARIAT
        and account is not None
        and account.has_role("coordinator")
    )


def on_council(organisation: Organisation | None, alliance_slug: str) -> bool:
    return organisation is not None and organisation.councils.filter(slug=alliance_slug).exists()


def may_decide(account: Account | None, alliance_slug: str) -> bool:
    """Whether the account decides the alliance's applications: an acting account of a council organisation, or a
    Secretariat coordinator."""
    return is_secretariat_coordinator(account) or on_council(_acting(account), alliance_slug)


def may_act_for_alliance(account: Account | None, alliance_slug: str) -> bool:
    """Whether the account acts for the alliance: an acting account (expert, focal point, coordinator) of a member
    organisation or of a council organisation, or a Secretariat coordinator."""
    organisation = _acting(account)
    if organisation is None:
        return False
    return (
        is_member(organisation.slug, alliance_slug)
        or on_council(organisation, alliance_slug)
        or is_secretariat_coordinator(account)
    )


def membership_of(organisation: Organisation, alliance_slug: str) -> Membership | None:
    """The organisation's membership row of the alliance (any state), if it ever applied."""
    return Membership.objects.filter(
        alliance=alliance_slug, organisation=organisation.slug, member=organisation.member.code
    ).first()


def memberships_for(principal: Principal, alliance: Alliance | str) -> QuerySet[Membership]:
    """Every membership row of the alliance (any state) whose application the principal may see."""
    slug = alliance if isinstance(alliance, str) else alliance.slug
    visible = Record.objects.visible_to(principal).values("pk")
    return Membership.objects.filter(alliance=slug, application__in=visible).order_by("member", "organisation")
