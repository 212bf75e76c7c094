"""Who is asking. Every read path turns its caller into a Principal and filters with it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accord.members.models import Account


@dataclass(frozen=True)
class Principal:
    """An account (with its member and organisation) or nobody (anonymous, public feeds)."""

    account: uuid.UUID | None = None
    member: str | None = None
    organisation: uuid.UUID | None = None
    name: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.account is None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls()

    @classmethod
    def of(cls, user: Account | AnonymousUser | None) -> Principal:
        from accord.members.models import Account

        if not isinstance(user, Account) or not user.is_active:
            return cls.anonymous()
        organisation = user.organisation
        return cls(
            account=user.uuid,
            member=organisation.member.code if organisation is not None else None,
            organisation=organisation.uuid if organisation is not None else None,
            name=user.username,
        )

    def targets(self) -> list[str]:
        """The audience targets that name this principal, widest first."""
        found = []
        if self.member:
            found.append(f"member:{self.member}")
        if self.organisation:
            found.append(f"org:{self.organisation}")
        if self.account:
            found.append(f"person:{self.account}")
        return found
