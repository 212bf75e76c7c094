"""Which member's nodes a version may go to: the one rule for the change feed, bundles, relays and receipt.

A node is entitled to a version when the version is not a draft and its signed audience reaches the node's
member: everyone; the member by name; an organisation or a person this node knows to belong to that member;
or the member is the version's own origin member. Organisations and persons this node does not know never
entitle anyone, so AMBER+STRICT and RED records stay where their named readers are known.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Exists, OuterRef, Q

from accord.records.envelope import Audience


def member_targets(member: str) -> list[str]:
    """Every audience target that names `member`, one of its organisations, or one of its persons (as known here)."""
    from accord.members.models import Account, Organisation

    organisations = list(Organisation.objects.filter(member__code=member).values_list("uuid", flat=True))
    persons = Account.objects.filter(organisation__member__code=member).values_list("uuid", flat=True)
    return [f"member:{member}"] + [f"org:{o}" for o in organisations] + [f"person:{p}" for p in persons]


def feed_q(member: str, exclude_node: uuid.UUID | None = None) -> Q:
    """A Q over Version for what a node of `member` may receive (never the versions its own node made)."""
    from accord.records.models import AudienceEntry

    named = Exists(AudienceEntry.objects.filter(version=OuterRef("pk"), target__in=member_targets(member)))
    q = (Q(audience_everyone=True) | Q(origin_member=member) | Q(named)) & ~Q(status="draft")
    if exclude_node is not None:
        q &= ~Q(origin_node=exclude_node)
    return q


def audience_reaches(audience: Audience, origin_member: str, status: str, member: str) -> bool:
    """The same rule for a received envelope, before it is stored."""
    if status == "draft":
        return False
    if audience.everyone or origin_member == member or member in audience.members:
        return True
    named = {f"org:{o}" for o in audience.organisations} | {f"person:{p}" for p in audience.persons}
    return bool(named) and bool(named & set(member_targets(member)))


def shape_reaches(shape: Any, member: str) -> bool:
    return audience_reaches(shape.audience, str(shape.origin.get("member") or ""), str(shape.status), member)
