"""Every change to the alliances' joint work: create an activity, revise it (a new version), cancel it (its state
becomes `cancelled`: it stays in the calendar, marked cancelled) and withdraw it (the record is withdrawn: issued in
error, it leaves every list and the calendar).

Functions for callers (API, web pages, demo data), each taking the acting account and returning the version issued:

* `create_activity(slug, ActivityInput(...), acting_user=, audience=None, tlp=None)`
* `revise_activity(record_uuid, ActivityInput(...), acting_user=, expected_seq=None, audience=None, tlp=None)`
* `cancel_activity(record_uuid, acting_user=)`, `withdraw_activity(record_uuid, acting_user=, reason=)`

Who may: an account allowed to act for the alliance (`may_act`: its member and council organisations' acting
accounts, and the Secretariat's coordinators), for its own member (the host's member; the record
core lets only the organisation that issued an activity continue it). Bad input raises ActionError naming the field
(`type`, `title`, `starts`, `ends`, `host`, `participants`, `outputs`, `state` ...) before anything is stored; an
unknown alliance, or an activity the caller may not see, is a 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.alliances.membership_queries import may_act_for_alliance
from accord.alliances.models import Alliance
from accord.alliances.work_kinds import ACTIVITY, ACTIVITY_KIND, NEXT_STATES, refuse
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.kinds import Author
from accord.records.models import Record, Version
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_ALLIANCE = "no such alliance"
NO_SUCH_ACTIVITY = "no such activity"
# Body fields a caller names directly: a schema error on one of them names it, not "body".
FIELDS = (
    "alliance", "type", "rd", "fields", "title", "description", "starts", "ends", "host", "place", "participants",
    "outputs", "state",
)  # fmt: skip


@dataclass
class ActivityInput:
    """What a caller states of an activity (the API's and the form's fields); `host` is an organisation slug of
    this node (default: the acting account's organisation)."""

    type: str
    title: dict[str, str]
    starts: str
    ends: str
    description: dict[str, str] = field(default_factory=dict)
    rd: bool = False
    fields: list[str] = field(default_factory=list)
    host: str | None = None
    place: str = ""
    participants: dict[str, Any] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    state: str = "planned"


def alliance_of(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(NO_SUCH_ALLIANCE)
    return found


def may_act(account: Account | None, slug: str) -> bool:
    """Whether `account` may create and change activities of the alliance `slug`: an acting account (expert, focal
    point, coordinator) of a member or council organisation, or a Secretariat coordinator (the membership part's
    rule, `membership_queries.may_act_for_alliance`)."""
    return may_act_for_alliance(account, slug)


def activity_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """An activity the principal may see; the same 404 as for none otherwise."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(NO_SUCH_ACTIVITY) from None
    record = (
        Record.objects.visible_to(principal)
        .filter(kind=ACTIVITY_KIND, uuid=key)
        .select_related("current_version")
        .first()
    )
    if record is None:
        raise NotFound(NO_SUCH_ACTIVITY)
    return record


def _checked(body: dict[str, Any], acting_user: Account, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The kind's rules before any write, so that an error names the field the caller sent."""
    organisation = acting_user.organisation
    assert organisation is not None
    try:
        return ACTIVITY.check(body, Author(member=organisation.member.code), previous)
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in FIELDS:
                error.field = head
        raise


def _require_actor(acting_user: Account, slug: str) -> None:
    if not may_act(acting_user, slug):
        raise Forbidden(
            f"alliance: only the member organisations and the council of the {slug} alliance, and the Secretariat's "
            "coordinators, manage its activities",
            field="alliance",
        )


def _host(acting_user: Account, slug: str | None) -> dict[str, str]:
    from accord.members.models import Organisation

    own = acting_user.organisation
    assert own is not None
    organisation = own if slug in (None, "", own.slug) else Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise refuse("host", f"{slug!r} is not an organisation known on this node")
    if organisation.member_id != own.member_id:
        raise Forbidden(
            f"host: an activity is issued for its host's member ({organisation.member.code}); "
            f"this account acts for {own.member.code}",
            field="host",
        )
    return {"slug": organisation.slug, "member": organisation.member.code, "name": organisation.name_en}


def _check_members(participants: dict[str, Any]) -> None:
    """Every member code a participant names is a member this node knows."""
    from accord.members.models import Member

    if not isinstance(participants, dict):
        return
    codes = {str((o or {}).get("member", "")) for o in participants.get("organisations", []) if isinstance(o, dict)}
    for person in participants.get("persons", []):
        if isinstance(person, dict) and isinstance(person.get("organisation"), dict):
            codes.add(str(person["organisation"].get("member", "")))
    known = set(Member.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = sorted(code for code in codes - known if code)
    if unknown:
        raise refuse("participants", f"unknown member codes: {', '.join(unknown)}")


def _body(slug: str, given: ActivityInput, host: dict[str, str]) -> dict[str, Any]:
    _check_members(given.participants)
    return {
        "alliance": slug,
        "type": given.type,
        "rd": given.rd,
        "fields": list(given.fields),
        "title": dict(given.title),
        "description": dict(given.description),
        "starts": given.starts,
        "ends": given.ends,
        "host": host,
        "place": given.place,
        "participants": given.participants or {},
        "outputs": list(given.outputs),
        "state": given.state,
    }


def create_activity(
    slug: str,
    given: ActivityInput,
    *,
    acting_user: Account,
    audience: Audience | None = None,
    tlp: str | None = None,
) -> Version:
    """A new activity of the alliance `slug`, hosted by the caller's organisation (or another of its member known
    here), shared with everyone at TLP:GREEN unless `audience` and `tlp` say otherwise."""
    alliance_of(slug)
    _require_actor(acting_user, slug)
    if given.state == "cancelled":
        raise refuse("state", "a new activity is planned, ongoing or completed; cancel it afterwards")
    body = _checked(_body(slug, given, _host(acting_user, given.host)), acting_user)
    return record_actions.publish(
        ACTIVITY_KIND,
        body,
        audience=audience if audience is not None else Audience(everyone=True),
        tlp=tlp or "GREEN",
        acting_user=acting_user,
    )


def _own(record_uuid: uuid.UUID | str, acting_user: Account) -> tuple[Record, Version]:
    """An activity the caller may see and change: this node's, active, of an alliance it acts for."""
    record = activity_for(Principal.of(acting_user), record_uuid)
    current = record.current_version
    assert current is not None
    if current.state != "active":
        raise Conflict("activity: the activity is withdrawn; create a new one", field="activity")
    _require_actor(acting_user, str(current.body.get("alliance", "")))
    if record.origin_node != record_actions.here().node_id:
        raise Conflict(
            f"activity: an activity is changed on the node that issued it ({record.origin_node})", field="activity"
        )
    return record, current


def _moving(current: Version, state: str) -> None:
    before = str(current.body.get("state", ""))
    if state not in NEXT_STATES.get(before, frozenset()):
        raise Conflict(f"state: the activity is {before}; it cannot become {state} (states move forward only)",
                       field="state")  # fmt: skip


def revise_activity(
    record_uuid: uuid.UUID | str,
    given: ActivityInput,
    *,
    acting_user: Account,
    expected_seq: int | None = None,
    audience: Audience | None = None,
    tlp: str | None = None,
) -> Version:
    """A new version of an activity, stating all of it again (the host stays unless `given.host` names one)."""
    record, current = _own(record_uuid, acting_user)
    _moving(current, given.state)
    slug = str(current.body["alliance"])
    host = dict(current.body["host"]) if given.host in (None, "") else _host(acting_user, given.host)
    body = _checked(_body(slug, given, host), acting_user, current.body)
    return record_actions.revise(
        record, acting_user=acting_user, expected_seq=expected_seq, body=body, audience=audience, tlp=tlp
    )


def cancel_activity(record_uuid: uuid.UUID | str, *, acting_user: Account) -> Version:
    """The activity will not take place (or stops): its state becomes `cancelled`, and the calendar says so."""
    record, current = _own(record_uuid, acting_user)
    _moving(current, "cancelled")
    body = dict(current.body)
    body["state"] = "cancelled"
    return record_actions.revise(record, acting_user=acting_user, body=_checked(body, acting_user, current.body))


def withdraw_activity(record_uuid: uuid.UUID | str, *, acting_user: Account, reason: str) -> Version:
    """The activity was recorded in error: the record is withdrawn, with the reason; it leaves lists and the
    calendar (its versions stay for the audit)."""
    record, _ = _own(record_uuid, acting_user)
    return record_actions.withdraw(record, acting_user=acting_user, reason=reason)
