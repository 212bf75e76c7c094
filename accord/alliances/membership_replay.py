"""The projection of the alliances' membership: each application, decision and departure becomes a
`MembershipEntry` (`project`, the kinds' `project`, on every write path), and the membership of its organisation in
its alliance is replayed from the entries (`refresh`) into a `Membership` row with its history.

**The replay** (the same on every node that holds the same records, whatever order they arrived in). For one
(alliance, organisation slug, member), only valid entries count (active, actual traffic, shared with everyone at
TLP:CLEAR or GREEN):

1. The applications form a chain: each names the one before it (`previous`, null for the first). Starting from the
   first, the next application is one that names the current one as its previous, and only when the current one
   ended `declined` or `left` (an application while one is pending or accepted does not count: joining twice). Of
   two applications naming the same previous one, the one with the earlier signed `created_at` counts, then the
   smaller record UUID.
2. An application's decision is the first of its counting decisions by signed `created_at`, then record UUID. A
   decision counts when its author's member is the Secretariat (`SCO`) or the member of a council organisation of
   the alliance (on this node), and it was not issued by the applying organisation itself (same origin node and
   organisation). A later, conflicting decision changes nothing: two deciders who answer at once see, on every
   node, the same one win.
3. An accepted application's membership ends with its first departure (same order) issued by the applying
   organisation itself (same origin node and organisation); a departure of anyone else counts for nothing.

The state is the last counting application's: `pending` (undecided), `declined`, `member` (accepted) or `left`. A
rejoin is a new application after one that was left.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from accord.alliances.membership_models import Membership, MembershipEntry
from accord.records.models import Version

logger = logging.getLogger("accord.alliances")

KINDS = {"alliance_application": "application", "alliance_decision": "decision", "alliance_departure": "departure"}
SECRETARIAT = "SCO"
Key = tuple[str, str, str]  # alliance, organisation slug, member


def signed_at(version: Version) -> datetime:
    """A version's signed `created_at` (UTC)."""
    try:
        return datetime.fromisoformat(version.created_at.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return version.received_at


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _entry_values(version: Version) -> dict[str, Any]:
    body = version.body
    kind = KINDS[version.kind]
    organisation = body["organisation"]
    ref = body.get("previous") if kind == "application" else body["application"]
    return {
        "version": version,
        "kind": kind,
        "alliance": str(body["alliance"])[:40],
        "organisation": str(organisation["slug"])[:80],
        "member": str(organisation["member"])[:8],
        "name": str(organisation.get("name") or "")[:200] if kind == "application" else "",
        "node": version.origin_node,
        "issuer": version.origin_organisation,
        "author_member": version.origin_member[:8],
        "application_node": _uuid(ref["node"]) if ref else None,
        "application_record": _uuid(ref["record"]) if ref else None,
        "decision": str(body.get("decision") or "")[:8],
        "reason": str(body.get("reason") or ""),
        "motivation": str(body.get("motivation") or ""),
        "at": signed_at(version),
        "valid": version.state == "active"
        and version.status == "actual"
        and version.audience_everyone
        and version.tlp in ("CLEAR", "GREEN"),
    }


def project(version: Version) -> None:
    """Keep the entry of `version`'s record in step with it (its new current version) and replay the membership it
    concerns (and the one it concerned before, if the new version moved it)."""
    before = MembershipEntry.objects.filter(record_id=version.record_id).values_list(
        "alliance", "organisation", "member"
    )
    old: Key | None = next(iter(before), None)
    try:
        values = _entry_values(version)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        logger.warning("%s %s#%s projects nothing: %s", version.kind, version.record_uuid, version.seq, error)
        MembershipEntry.objects.filter(record_id=version.record_id).delete()
        if old is not None:
            refresh(*old)
        return
    MembershipEntry.objects.update_or_create(record_id=version.record_id, defaults=values)
    key = (values["alliance"], values["organisation"], values["member"])
    refresh(*key)
    if old is not None and old != key:
        refresh(*old)


def council_members(alliance: str) -> set[str]:
    """The members of the alliance's council organisations (as this node knows its council)."""
    from accord.alliances.models import Alliance

    found = Alliance.objects.filter(slug=alliance).values_list("council__member__code", flat=True)
    return {code for code in found if code}


def _order(entry: MembershipEntry) -> tuple[datetime, str]:
    return entry.at, str(entry.record.uuid)


def _ref(entry: MembershipEntry) -> tuple[uuid.UUID, uuid.UUID]:
    return entry.node, entry.record.uuid


def _same_issuer(one: MembershipEntry, other: MembershipEntry) -> bool:
    return one.node == other.node and one.issuer is not None and one.issuer == other.issuer


def _event(event: str, entry: MembershipEntry, **extra: Any) -> dict[str, Any]:
    reason = entry.motivation if entry.kind == "application" else entry.reason
    return {
        "event": event,
        "record": str(entry.record.uuid),
        "node": str(entry.node),
        "at": entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "member": entry.author_member,
        "reason": reason,
        **extra,
    }


def _first(entries: list[MembershipEntry]) -> MembershipEntry | None:
    return min(entries, key=_order) if entries else None


def replay(alliance: str, organisation: str, member: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The membership now ({state, application entry, since, reason, decided_by, name}, None when no application
    counts) and its history, oldest first, from the valid entries of this node (see the module's rules)."""
    entries = list(
        MembershipEntry.objects.select_related("record").filter(
            alliance=alliance, organisation=organisation, member=member, valid=True
        )
    )
    applications = [e for e in entries if e.kind == "application"]
    council = council_members(alliance) if any(e.kind == "decision" for e in entries) else set()
    history: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    previous: tuple[uuid.UUID, uuid.UUID] | None = None
    left_before = False
    while True:
        if current is not None and current["state"] not in ("declined", "left"):
            break
        following = [
            a
            for a in applications
            if (a.application_node, a.application_record) == (previous if previous else (None, None))
        ]
        application = _first(following)
        if application is None:
            break
        ref = _ref(application)
        history.append(_event("applied", application, rejoin=left_before))
        current = {"state": "pending", "application": application, "since": application.at, "reason": ""}
        current.update(name=application.name, decided_by="")
        decisions = [
            d
            for d in entries
            if d.kind == "decision"
            and (d.application_node, d.application_record) == ref
            and (d.author_member == SECRETARIAT or d.author_member in council)
            and not _same_issuer(d, application)
        ]
        decision = _first(decisions)
        if decision is not None:
            accepted = decision.decision == "accept"
            history.append(_event("accepted" if accepted else "declined", decision, application=str(ref[1])))
            current.update(
                state="member" if accepted else "declined",
                since=decision.at,
                reason=decision.reason,
                decided_by=decision.author_member,
            )
            departures = [
                d
                for d in entries
                if d.kind == "departure"
                and (d.application_node, d.application_record) == ref
                and _same_issuer(d, application)
            ]
            departure = _first(departures) if accepted else None
            if departure is not None:
                history.append(_event("left", departure, application=str(ref[1])))
                current.update(state="left", since=departure.at, reason=departure.reason)
                left_before = True
        previous = ref
    return current, history


def refresh(alliance: str, organisation: str, member: str) -> None:
    """Replay one organisation's membership of one alliance into its `Membership` row (none when no application
    counts)."""
    current, history = replay(alliance, organisation, member)
    where = {"alliance": alliance, "organisation": organisation, "member": member}
    if current is None:
        Membership.objects.filter(**where).delete()
        return
    Membership.objects.update_or_create(
        alliance=alliance,
        organisation=organisation,
        member=member,
        defaults={
            "name": current["name"],
            "state": current["state"],
            "application": current["application"].record,
            "since": current["since"],
            "reason": current["reason"],
            "decided_by": current["decided_by"],
            "history": history,
        },
    )


def refresh_alliance(alliance: str) -> None:
    """Replay every membership of an alliance (after its council changed: which decisions count may have)."""
    keys = set(MembershipEntry.objects.filter(alliance=alliance).values_list("organisation", "member"))
    for organisation, member in sorted(keys):
        refresh(alliance, organisation, member)
