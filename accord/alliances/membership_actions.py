"""Every change to the alliances' membership: apply, decide (accept or decline, with a reason) and leave.

* `apply(alliance, acting_user=, motivation=)`: an acting account (expert, focal point, coordinator) of the applying
  organisation; 409 naming `alliance` when the organisation is already a member or has an application pending.
* `decide(application, acting_user=, decision=, reason=)`: an acting account of a council organisation of the
  alliance, or a Secretariat coordinator; never the applying organisation (403); 400 naming `reason` without one;
  409 naming `application` when it is decided already (or no longer the organisation's current application).
* `leave(alliance, acting_user=, reason=)`: an acting account of the member organisation; 409 naming `alliance` when
  it is not a member.

Each returns the version it issued (shared with everyone at TLP:GREEN), and checks everything before anything is
stored. Each decides under the audit head's lock (the lock every version writer takes first), re-reading the
membership there, so two at once on one node cannot both apply, decide or leave; what two nodes decide at once is
settled by the projection's rule (`membership_replay`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.alliances import membership_queries as queries
from accord.alliances.membership_kinds import (
    APPLICATION,
    APPLICATION_KIND,
    DECISION,
    DECISION_KIND,
    DEPARTURE,
    DEPARTURE_KIND,
    refuse,
)
from accord.alliances.membership_models import Membership, MembershipEntry
from accord.alliances.models import Alliance
from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.kinds import Author, RecordKind
from accord.records.models import Record, Version
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account, Organisation

NO_SUCH_ALLIANCE = "alliance: no such alliance"
NO_SUCH_APPLICATION = "application: no such application"
DECISIONS = ("accept", "decline")
AUDIENCE = Audience(everyone=True)
TLP = "GREEN"
FIELDS = ("alliance", "motivation", "reason", "decision", "organisation")


class OwnApplication(Forbidden):
    """An organisation deciding its own application (403 naming `application`)."""


def alliance_named(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(NO_SUCH_ALLIANCE, field="alliance")
    return found


def acting_organisation(acting_user: Account) -> Organisation:
    """The organisation the account acts for; 403 for an account that may not (disabled, without an organisation,
    viewer only)."""
    if not acting_user.is_active:
        raise Forbidden("this account is disabled")
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    if not (acting_user.role_names() & {"expert", "focal_point", "coordinator"}):
        raise Forbidden(
            "acting for an organisation in an alliance needs one of the roles: coordinator, expert, focal_point"
        )
    return organisation


def _checked(kind: RecordKind, body: dict[str, Any], organisation: Organisation) -> dict[str, Any]:
    """The kind's rules before any write, so that an error names the field the caller sent."""
    try:
        return kind.check(body, Author(member=organisation.member.code))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in FIELDS:
                error.field = head
        raise


def _publish(kind: RecordKind, body: dict[str, Any], acting_user: Account) -> Version:
    return record_actions.publish(kind.name, body, audience=AUDIENCE, tlp=TLP, acting_user=acting_user)


def _ref(record: Record) -> dict[str, str]:
    return {"node": str(record.origin_node), "record": str(record.uuid)}


def apply(alliance: str, *, acting_user: Account, motivation: str = "", organisation: str | None = None) -> Version:
    """The caller's organisation applies to join the alliance (`organisation`, if given, must be the caller's)."""
    found = alliance_named(alliance)
    applicant = acting_organisation(acting_user)
    if organisation is not None and organisation != applicant.slug:
        raise Forbidden(
            f"organisation: an account of {applicant.slug} applies only for its own organisation, not for "
            f"{organisation}",
            field="organisation",
        )
    body: dict[str, Any] = {
        "alliance": found.slug,
        "organisation": {"slug": applicant.slug, "member": applicant.member.code, "name": applicant.name_en},
        "motivation": motivation.strip(),
    }
    with transaction.atomic():
        audit.lock()  # first, as every version writer does; the membership is read again under it
        membership = queries.membership_of(applicant, found.slug)
        if membership is not None and membership.state in ("pending", "member"):
            word = "is already a member of" if membership.state == "member" else "has an application pending to"
            raise Conflict(f"alliance: {applicant.slug} {word} the {found.slug} alliance", field="alliance")
        if membership is not None:
            body["previous"] = _ref(membership.application)
        return _publish(APPLICATION, _checked(APPLICATION, body, applicant), acting_user)


def application_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """An application the principal may see; 404 otherwise (the same for one that does not exist)."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(NO_SUCH_APPLICATION, field="application") from None
    found = (
        Record.objects.visible_to(principal)
        .filter(kind=APPLICATION_KIND, uuid=key)
        .select_related("current_version")
        .first()
    )
    if found is None:
        raise NotFound(NO_SUCH_APPLICATION, field="application")
    return found


def _is_own(record: Record, entry: MembershipEntry, organisation: Organisation) -> bool:
    here = record_actions.here().node_id
    if record.origin_node == here and entry.issuer == organisation.uuid:
        return True
    return entry.organisation == organisation.slug and entry.member == organisation.member.code


def decide(application: uuid.UUID | str, *, acting_user: Account, decision: str, reason: str) -> Version:
    """Accept or decline an application (a council organisation of its alliance, or a Secretariat coordinator)."""
    record = application_for(Principal.of(acting_user), application)
    entry = MembershipEntry.objects.filter(record=record).first()
    if entry is None or not entry.valid:
        raise Conflict("application: this application does not count (withdrawn or not shared)", field="application")
    decider = acting_organisation(acting_user)
    if _is_own(record, entry, decider):
        raise OwnApplication("application: an organisation does not decide its own application", field="application")
    if not queries.may_decide(acting_user, entry.alliance):
        raise Forbidden(
            f"application: only the council of the {entry.alliance} alliance or a Secretariat coordinator decides",
            field="application",
        )
    if decision not in DECISIONS:
        raise refuse("decision", f"{decision!r} is not one of accept, decline")
    if not reason.strip():
        raise refuse("reason", "give the reason of the decision")
    body = {
        "application": _ref(record),
        "alliance": entry.alliance,
        "organisation": {"slug": entry.organisation, "member": entry.member},
        "decision": decision,
        "reason": reason.strip(),
    }
    with transaction.atomic():
        audit.lock()
        membership = Membership.objects.filter(
            alliance=entry.alliance, organisation=entry.organisation, member=entry.member
        ).first()
        if membership is None or membership.application_id != record.pk:
            raise Conflict("application: this is no longer the organisation's current application", field="application")
        if membership.state != "pending":
            raise Conflict(f"application: the application is decided already ({membership.state})", field="application")
        return _publish(DECISION, _checked(DECISION, body, decider), acting_user)


def leave(alliance: str, *, acting_user: Account, reason: str = "") -> Version:
    """The caller's organisation leaves the alliance, by its own decision (no approval)."""
    found = alliance_named(alliance)
    organisation = acting_organisation(acting_user)
    with transaction.atomic():
        audit.lock()
        membership = queries.membership_of(organisation, found.slug)
        if membership is None or membership.state != "member":
            raise Conflict(
                f"alliance: {organisation.slug} is not a member of the {found.slug} alliance", field="alliance"
            )
        application = membership.application
        issuer = MembershipEntry.objects.filter(record=application).values_list("issuer", flat=True).first()
        if application.origin_node != record_actions.here().node_id or issuer != organisation.uuid:
            raise Conflict(
                f"alliance: {organisation.slug} joined from another node ({application.origin_node}); leave there",
                field="alliance",
            )
        body = {
            "application": _ref(application),
            "alliance": found.slug,
            "organisation": {"slug": organisation.slug, "member": organisation.member.code},
            "reason": reason.strip(),
        }
        return _publish(DEPARTURE, _checked(DEPARTURE, body, organisation), acting_user)


__all__ = [
    "APPLICATION_KIND",
    "DECISION_KIND",
    "DEPARTURE_KIND",
    "OwnApplication",
    "alliance_named",
    "application_for",
    "apply",
    "decide",
    "leave",
]


def set_council(
    alliance: str, *, add: list[str], remove: list[str], acting_user: Account | None
) -> tuple[list[Organisation], list[dict[str, str]]]:
    """Add organisations to (and remove them from) an alliance's council: this node's configuration, as the
    alliances themselves are (each node's administrator sets it; it is not a record and is not federated). Every
    membership of the alliance is then replayed, since which decisions count may have changed (the replay counts
    the decisions of the council as it is now). Returns the council and the memberships whose state changed
    (`organisation`, `before`, `after`). Unknown alliance: 404 naming `alliance`; an unknown organisation or one
    both added and removed: 400 naming it; nothing changed."""
    from accord.alliances.membership_replay import refresh_alliance
    from accord.members.models import Organisation

    found = alliance_named(alliance)
    both = sorted(set(add) & set(remove))
    if both:
        raise ActionError(f"organisation: {', '.join(both)} both added and removed", field="organisation")
    wanted = sorted(set(add) | set(remove))
    known = {o.slug: o for o in Organisation.objects.filter(slug__in=wanted)}
    unknown = [slug for slug in wanted if slug not in known]
    if unknown:
        raise ActionError(f"organisation: no organisation {', '.join(unknown)}", field="organisation")
    with transaction.atomic():
        before = dict(Membership.objects.filter(alliance=found.slug).values_list("organisation", "state"))
        found.council.add(*(known[slug] for slug in add))
        found.council.remove(*(known[slug] for slug in remove))
        council = sorted(found.council.all(), key=lambda o: o.slug)
        audit.append(
            "alliance.council",
            actor=acting_user,
            object_type="alliance",
            object_id=found.slug,
            data={"added": sorted(add), "removed": sorted(remove), "council": [o.slug for o in council]},
        )
        refresh_alliance(found.slug)
        after = dict(Membership.objects.filter(alliance=found.slug).values_list("organisation", "state"))
    changed = [
        {"organisation": slug, "before": before.get(slug, ""), "after": state}
        for slug, state in sorted(after.items())
        if before.get(slug) != state
    ]
    return council, changed
