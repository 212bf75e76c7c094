"""Demo records of the alliances' membership (loaded by `accord demo`, idempotently): each demo university or
institute of `demo.ORGANISATIONS` applies to its alliance (by its first account), and a council organisation of that
alliance (another than the applicant) accepts it, or the Secretariat's coordinator (`sco.coordinator`) where the
applicant is the council's only organisation. One application stays pending, for the council to decide in the demo:
the Pakistani veterinary institute's to the agriculture alliance.

Idempotent: an organisation that has applied already applies no more, and only a pending application other than the
one left pending is decided; a second `accord demo` issues nothing."""

from __future__ import annotations

from typing import Any

from accord.alliances import membership_actions as actions
from accord.alliances import membership_queries as queries
from accord.alliances.demo import ACCOUNTS, ORGANISATIONS

LEFT_PENDING = "pk-demo-vet"
COORDINATOR = "sco.coordinator"


def _first_account(slug: str) -> str:
    return next(username for username, organisation, _roles in ACCOUNTS if organisation == slug)


def _decider(world: Any, slug: str, alliance: str) -> Any:
    """A council organisation's first account (not the applicant's), else the Secretariat's coordinator."""
    for other, _member, _kind, _en, _zh, _ru, joins, council in ORGANISATIONS:
        if council and joins == alliance and other != slug:
            return world.account(_first_account(other))
    return world.account(COORDINATOR)


def load(world: Any) -> int:
    """Issue what is missing for the demo; returns how many records were issued."""
    issued = 0
    for slug, _member, _kind, en, _zh, _ru, alliance, _council in ORGANISATIONS:
        organisation = world.organisations[slug]
        membership = queries.membership_of(organisation, alliance)
        if membership is None:
            version = actions.apply(
                alliance,
                acting_user=world.account(_first_account(slug)),
                motivation=f"Demo: {en} joins to train, exchange staff and students, and do research together.",
            )
            issued += 1
            application = str(version.record_uuid)
        elif membership.state == "pending":
            application = str(membership.application.uuid)
        else:
            continue
        if slug == LEFT_PENDING:
            continue
        actions.decide(
            application,
            acting_user=_decider(world, slug, alliance),
            decision="accept",
            reason="Demo: the applicant meets the alliance's charter.",
        )
        issued += 1
    return issued
