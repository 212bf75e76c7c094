"""Who may write to the library and to the legal register (the reads are the audience filter's, in
`library_queries`).

* A document of an alliance's library is added by an account that may act for that alliance: an account (expert,
  focal point or coordinator, not a viewer) of one of its member organisations, or of its council, or a Secretariat
  coordinator (`membership_queries.may_act_for_alliance`).
* An entry of the legal register for a member is written by that member's focal points, by the accounts of a law
  alliance member organisation of that member, or by the Secretariat's coordinators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.alliances import membership_queries
from accord.members.models import Member

if TYPE_CHECKING:
    from accord.members.models import Account

ACTING_ROLES = frozenset({"expert", "focal_point", "coordinator"})


def _organisation_member(account: Account) -> Member | None:
    organisation = account.organisation
    return organisation.member if organisation is not None else None


def is_secretariat_coordinator(account: Account) -> bool:
    return membership_queries.is_secretariat_coordinator(account)


def may_act_for_alliance(account: Account, slug: str) -> bool:
    """Whether `account` may act for the alliance `slug` (add to its library): the membership part's rule."""
    return membership_queries.may_act_for_alliance(account, slug)


def may_write_instrument(account: Account, member: str) -> bool:
    """Whether `account` may write the legal register's entries for `member`."""
    if not account.is_active:
        return False
    if is_secretariat_coordinator(account):
        return True
    own = _organisation_member(account)
    if own is None or own.code != member:
        return False
    roles = account.role_names()
    if "focal_point" in roles:
        return True
    return bool(roles & ACTING_ROLES) and may_act_for_alliance(account, "law")


def instrument_members(account: Account) -> list[str]:
    """The members whose entries `account` may write (all member states for the Secretariat)."""
    if not account.is_active:
        return []
    if is_secretariat_coordinator(account):
        return list(Member.objects.filter(active=True, kind=Member.Kind.STATE).values_list("code", flat=True))
    own = _organisation_member(account)
    return [own.code] if own is not None and may_write_instrument(account, own.code) else []
