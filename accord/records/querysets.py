"""The one audience filter. Every read of records or versions goes through `visible_to`.

Rules (design brief §2.6-7), for a version with audience A and label L, seen by principal P:

* drafts are seen only by their author;
* the author always sees their own versions; the origin organisation sees its own unless L is RED;
* CLEAR with an audience of everyone is public, anonymous callers included;
* otherwise P must be an active account and:
  CLEAR, GREEN  - A is everyone, or A names P's member, organisation or P;
  AMBER         - A names P's member, organisation or P;
  AMBER+STRICT  - A names P's organisation or P;
  RED           - A names P.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Exists, OuterRef, Q

from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.records.models import Record, Version  # noqa: F401  (named in the QuerySet generics)

_OPEN = ("CLEAR", "GREEN")
_MEMBER_WIDE = ("CLEAR", "GREEN", "AMBER")


def audience_q(principal: Principal, prefix: str = "") -> Q:
    """A Q over a Version (through `prefix`, e.g. 'current_version__') for what `principal` may see."""
    from accord.records.models import AudienceEntry

    p = prefix
    version_ref = OuterRef(f"{p}pk") if p else OuterRef("pk")

    def named(targets: list[str]) -> Q:
        return Q(Exists(AudienceEntry.objects.filter(version=version_ref, target__in=targets)))

    not_draft = ~Q(**{f"{p}status": "draft"})
    public = Q(**{f"{p}tlp": "CLEAR", f"{p}audience_everyone": True}) & not_draft
    if principal.is_anonymous:
        return public
    if principal.member is None:
        # An account outside every organisation is no member's account: public records and its own.
        return public | Q(**{f"{p}author": principal.account})

    member_org_person = principal.targets()
    org_person = [t for t in member_org_person if not t.startswith("member:")]
    person = [f"person:{principal.account}"]

    shared = (
        Q(**{f"{p}tlp__in": _OPEN, f"{p}audience_everyone": True})
        | (Q(**{f"{p}tlp__in": _MEMBER_WIDE}) & named(member_org_person))
        | (Q(**{f"{p}tlp": "AMBER+STRICT"}) & named(org_person))
        | (Q(**{f"{p}tlp": "RED"}) & named(person))
    )
    if principal.organisation is not None:
        shared |= Q(**{f"{p}origin_organisation": principal.organisation}) & ~Q(**{f"{p}tlp": "RED"})
    own = Q(**{f"{p}author": principal.account})
    return own | (shared & not_draft)


class VersionQuerySet(models.QuerySet["Version"]):
    def visible_to(self, principal: Principal) -> Self:
        return self.filter(audience_q(principal))

    def actual(self) -> Self:
        return self.filter(status="actual")


class RecordQuerySet(models.QuerySet["Record"]):
    def visible_to(self, principal: Principal) -> Self:
        """Records whose current version the principal may see."""
        return self.filter(current_version__isnull=False).filter(audience_q(principal, "current_version__"))

    def actual(self) -> Self:
        return self.filter(current_version__status="actual")
