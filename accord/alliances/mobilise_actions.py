"""Every change of mobilisation, each taking the acting account:

* `call_roster(acting_user=, request=|incident=, field=, language=, start=, until=, region=, message=)`: a roster
  call to the experts who match; returns the call's version;
* `reply(call, acting_user=, available=, start=, until=, note=, expert=None)`: a called expert answers (a new
  version of their reply changes it); returns the reply's version;
* `select(call, acting_user=, expert=)`: the requesting member selects an expert who replied available; the
  selection becomes an offer of one expert, its acceptance, commitment and deployment (`mobilise_select`).

Bad input raises ActionError naming the field, before anything is stored: `request` (neither or both of request and
incident, a request not for experts), `field`, `language`, `from`, `until`, `region`, `call` (a reply by someone not
called: 403), `expert` (selecting one who did not reply or said unavailable: 409).

**Who is called.** The experts the caller may see (`roster_queries.matching`, through the audience filter) with the
field, the language when given, an availability window covering the whole of from..until, and deployable; less the
experts of the member that selects (an offer comes from another member) and those whose member cannot see the
request (or incident) they would be offered on. None: a 409 naming `field`, and nothing is stored.

**Who sees what.** The call (TLP:AMBER) reaches the calling member, the member that selects, the Secretariat and the
called experts' members; it names the experts only by profile reference and member. A reply (TLP:AMBER) reaches the
calling member, the member that selects and the Secretariat (and its author, as every record does).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from accord.alliances import roster_queries, vocab
from accord.alliances.mobilise_kinds import (
    CALL,
    CALL_KIND,
    MAX_CALLED,
    REPLY,
    REPLY_KIND,
    iso_date,
    refuse,
)
from accord.alliances.mobilise_models import RosterCalled, RosterReplyView, RosterSelectionView
from accord.members.models import Member
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.kinds import Author, RecordKind
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import assist_actions, hanging
from accord.response.kinds import incident_roles
from accord.response.refs import ref_of
from accord.surveillance import reference

if TYPE_CHECKING:
    from accord.members.models import Account

NO_SUCH_CALL = "no such roster call"
TLP = "AMBER"
BODY_FIELDS = {"from": "from", "until": "until", "field": "field", "language": "language", "region": "region",
               "message": "message", "note": "note", "called": "field"}  # fmt: skip


def call_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """A roster call the principal may see; the same 404 otherwise."""
    return hanging.visible(principal, CALL_KIND, record_uuid, NO_SUCH_CALL)


def member_code(acting_user: Account) -> str:
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    return organisation.member.code


def checked(kind: RecordKind, body: dict[str, Any], acting_user: Account, status: str) -> dict[str, Any]:
    """The kind's rules before any write, an error naming the field the caller sent."""
    try:
        return kind.check(body, Author(member=member_code(acting_user), status=status))
    except ActionError as error:
        if error.field == "body":
            head = error.message.split(":", 1)[0].removeprefix("body").lstrip(".").split(".", 1)[0]
            if head in BODY_FIELDS:
                error.field = BODY_FIELDS[head]
            elif "until" in error.message and "before" in error.message:
                error.field = "until"
        raise


def day(value: date | str | None, name: str) -> str:
    """A date given to an action, as `YYYY-MM-DD`, or a 400 naming `name`."""
    if isinstance(value, date):
        return value.isoformat()
    try:
        return iso_date(value)
    except ValueError as error:
        raise refuse(name, str(error)) from None


def window(start: date | str | None, until: date | str | None) -> tuple[str, str]:
    first, last = day(start, "from"), day(until, "until")
    if last < first:
        raise refuse("until", f"{last} is before from ({first})")
    return first, last


def reaches(version: Version, member: str) -> bool:
    """Whether accounts of `member` may see `version` through a member-wide audience (what the audience filter
    grants a member: everyone at CLEAR or GREEN, or the member named at CLEAR, GREEN or AMBER)."""
    audience = version.envelope()["audience"]
    if audience.get("everyone"):
        return version.tlp in ("CLEAR", "GREEN")
    return version.tlp in ("CLEAR", "GREEN", "AMBER") and member in audience.get("members", [])


def _is_secretariat(code: str) -> bool:
    return Member.objects.filter(code=code, kind=Member.Kind.SECRETARIAT).exists()


def _may_call(acting_user: Account, requester: str, field: str) -> None:
    """A focal point of the member that selects; or a coordinator (or focal point) of the Secretariat."""
    mine = member_code(acting_user)
    organisation = acting_user.organisation
    assert organisation is not None
    roles = acting_user.role_names() & incident_roles(organisation.member)
    if not roles or (mine != requester and not _is_secretariat(mine)):
        raise Forbidden(
            f"{field}: the roster is called by a focal point of {requester} or a coordinator of the Secretariat",
            field=field,
        )


def _target(acting_user: Account, request: str | None, incident: str | None, region: str | None) -> dict[str, Any]:
    """What the call is about: the request (for experts, open) or the incident (open), the member that selects, the
    region, and the version whose audience the experts' members must reach."""
    principal = Principal.of(acting_user)
    if (request is None) == (incident is None):
        raise refuse("request", "give either an assistance request or an incident, not both and not neither")
    if request is not None:
        record = assist_actions.request_for(principal, request)
        version = record.current_version
        assert version is not None
        body = version.body
        if body.get("resource_type") != "expert":
            raise refuse("request", f"the request is for {body.get('resource_type')}, not for experts")
        if version.state != "active" or body.get("status") != "open":
            raise Conflict(f"request: the request is {body.get('status', 'withdrawn')}", field="request")
        _may_call(acting_user, str(body["member"]), "request")
        return {
            "incident": body["incident"],
            "request": ref_of(record),
            "requester": str(body["member"]),
            "region": str(body["region"]),
            "version": version,
        }
    assert incident is not None
    context = hanging.incident(principal, incident)
    requester = member_code(acting_user)
    affected = [str(m) for m in context.body.get("affected_members", [])]
    secretariat = _is_secretariat(requester)
    if requester not in affected and not secretariat:
        raise Forbidden(
            f"incident: {requester} is not affected; an affected member or the Secretariat calls on an incident",
            field="incident",
        )
    _may_call(acting_user, requester, "incident")
    regions = [str(r) for r in context.body.get("regions", [])]
    allowed = affected if secretariat else [requester]
    if region is None:
        region = next((r for r in regions if reference.member_of_region(r) in allowed), None)
        if region is None:
            raise refuse("region", "name the first-level region the experts would go to (ISO 3166-2)")
    found = reference.regions().get(region)
    if found is None or found.member not in allowed:
        raise refuse("region", f"{region} is not a listed first-level region of {', '.join(allowed)}")
    version = context.record.current_version
    assert version is not None
    return {"incident": context.ref, "request": None, "requester": requester, "region": region, "version": version}


def _matching(acting_user: Account, wanted: dict[str, Any], field: str, language: str | None,
              dates: tuple[str, str]) -> list[Any]:  # fmt: skip
    rows = roster_queries.matching(
        Principal.of(acting_user),
        field=field,
        language=language,
        available_from=dates[0],
        available_until=dates[1],
        deployable=True,
    )
    version = wanted["version"]
    return [r for r in rows if r.member != wanted["requester"] and reaches(version, r.member)][:MAX_CALLED]


def call_roster(
    *,
    acting_user: Account,
    request: uuid.UUID | str | None = None,
    incident: uuid.UUID | str | None = None,
    field: str,
    language: str | None = None,
    start: date | str | None,
    until: date | str | None,
    region: str | None = None,
    message: str = "",
) -> Version:
    """A roster call to the experts who match (see the module's notes); 409 naming `field` when none does."""
    vocab.check_field(field)
    language = language or None
    if language is not None:
        vocab.check_language(language)
    first, last = window(start, until)
    wanted = _target(
        acting_user, None if request is None else str(request), None if incident is None else str(incident), region
    )
    experts = _matching(acting_user, wanted, field, language, (first, last))
    if not experts:
        raise Conflict(
            f"field: no expert you may see matches {field}"
            + (f" in {language}" if language else "")
            + f", available from {first} until {last} and deployable: nobody is called, nothing is stored",
            field="field",
        )
    called = [
        {
            "profile": ref_of(r.record),
            "member": r.member,
            "account": str(r.account) if r.account else None,
            "organisation": str(r.version.origin_organisation) if r.version.origin_organisation else None,
        }
        for r in experts
    ]
    body = {
        "incident": wanted["incident"],
        "request": wanted["request"],
        "member": member_code(acting_user),
        "requester": wanted["requester"],
        "field": field,
        "language": language,
        "from": first,
        "until": last,
        "region": wanted["region"],
        "message": message.strip(),
        "called": [{k: v for k, v in c.items() if v is not None} for c in called],
    }
    status = wanted["version"].status
    body = checked(CALL, {k: v for k, v in body.items() if v is not None}, acting_user, status)
    members = {body["member"], body["requester"], "SCO", *(c["member"] for c in called)}
    return record_actions.publish(
        CALL_KIND, body, audience=Audience(members=sorted(members)), tlp=TLP, status=status, acting_user=acting_user
    )


def answerable(call: Record, acting_user: Account) -> list[RosterCalled]:
    """The experts of the call `acting_user` answers for: themself (their own profile), and the managed profiles
    their organisation issued (for its focal points)."""
    organisation = acting_user.organisation
    if organisation is None or not acting_user.is_active:
        return []
    rows = RosterCalled.objects.filter(call__record=call).order_by("id")
    own = [r for r in rows if r.account == acting_user.uuid]
    if acting_user.role_names() & incident_roles(organisation.member):
        own += [r for r in rows if r.account is None and r.organisation == organisation.uuid]
    return own


def _entry(call: Record, acting_user: Account, expert: uuid.UUID | str | None) -> RosterCalled:
    mine = answerable(call, acting_user)
    if expert is not None:
        mine = [r for r in mine if str(r.profile_record) == str(expert)]
    if not mine:
        raise Forbidden("call: you are not called by this roster call; only the experts called reply", field="call")
    if len(mine) > 1:
        raise refuse("expert", "you answer for several experts of this call: name the one this reply is for")
    return mine[0]


def reply_record(call: Record, profile: uuid.UUID) -> Record | None:
    """This node's reply record for one expert of a call (the one its new versions revise)."""
    row = (
        RosterReplyView.objects.filter(
            call_record=call.uuid, profile_record=profile, node=record_actions.here().node_id
        )
        .select_related("record__current_version")
        .order_by("-at")
        .first()
    )
    return row.record if row is not None else None


def reply(
    call: uuid.UUID | str,
    *,
    acting_user: Account,
    available: bool,
    start: date | str | None = None,
    until: date | str | None = None,
    note: str = "",
    expert: uuid.UUID | str | None = None,
) -> Version:
    """A called expert's answer; a new version of their reply when they answered before. Dates default to the
    call's window when available; none are kept when not."""
    record = call_for(Principal.of(acting_user), call)
    current = record.current_version
    assert current is not None
    if current.state != "active":
        raise Conflict("call: the roster call is withdrawn", field="call")
    entry = _entry(record, acting_user, expert)
    if RosterSelectionView.objects.filter(call_record=record.uuid, profile_record=entry.profile_record).exists():
        raise Conflict("call: you are selected already; the deployment says what follows", field="call")
    call_body = current.body
    body: dict[str, Any] = {
        "call": ref_of(record),
        "expert": {"node": str(entry.profile_node), "record": str(entry.profile_record)},
        "member": entry.member,
        "available": bool(available),
        "note": note.strip(),
    }
    if available:
        body["from"], body["until"] = window(start or call_body["from"], until or call_body["until"])
    body = checked(REPLY, body, acting_user, current.status)
    before = reply_record(record, entry.profile_record)
    if before is not None and before.current_version is not None:
        return record_actions.revise(before, acting_user=acting_user, body=body)
    members = {call_body["member"], call_body["requester"], "SCO"}
    return record_actions.publish(
        REPLY_KIND,
        body,
        audience=Audience(members=sorted(members)),
        tlp=TLP,
        status=current.status,
        acting_user=acting_user,
    )


def select(call: uuid.UUID | str, *, acting_user: Account, expert: uuid.UUID | str) -> dict[str, Version]:
    """The requesting member selects an expert who replied available (see `mobilise_select`)."""
    from accord.alliances.mobilise_select import select as run

    return run(call, acting_user=acting_user, expert=expert)
