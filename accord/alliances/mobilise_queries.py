"""The read side of mobilisation: roster calls, replies and selections as a principal may see them, always through
the audience filter.

* `call_out(record, principal)`: a call with its experts and replies as the reader may see them: each expert by
  profile id and member, with a name and organisation only when the reader may see the profile itself
  (`roster_queries.profile_for`); each reply and selection only when the reader may see it;
* `calls_of_request(principal, request)`, `calls_of_incident(principal, incident)`: the calls on a request or an
  incident, newest first; `calls_for(account)`: the calls that name the account's own profile (or the profiles its
  organisation manages), newest first.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from accord.alliances import roster_queries, vocab
from accord.alliances.mobilise_kinds import CALL_KIND, REPLY_KIND, SELECTION_KIND
from accord.alliances.mobilise_models import RosterCalled
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import signed_time

if TYPE_CHECKING:
    from accord.members.models import Account


def visible_calls(principal: Principal) -> QuerySet[Record]:
    return (
        Record.objects.visible_to(principal)
        .filter(kind=CALL_KIND, roster_call__isnull=False)
        .select_related("current_version", "roster_call")
        .order_by("-roster_call__version_id")
    )


def calls_of_request(principal: Principal, request: uuid.UUID | str) -> QuerySet[Record]:
    return visible_calls(principal).filter(roster_call__request_record=request)


def calls_of_incident(principal: Principal, incident: uuid.UUID | str) -> QuerySet[Record]:
    return visible_calls(principal).filter(roster_call__incident_record=incident)


def calls_for(account: Account) -> QuerySet[Record]:
    """The calls that name the account's own profile, or (for a focal point) the profiles its organisation manages."""
    mine = Q(account=account.uuid)
    if account.organisation is not None:
        mine |= Q(account__isnull=True, organisation=account.organisation.uuid)
    calls = RosterCalled.objects.filter(mine).values("call_id")
    return visible_calls(Principal.of(account)).filter(pk__in=calls)


def _replies(principal: Principal, call: Record) -> dict[str, Record]:
    """The latest reply the principal may see for each expert of the call, by profile id."""
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=REPLY_KIND, roster_reply__call_record=call.uuid, roster_reply__active=True)
        .select_related("current_version", "roster_reply")
        .order_by("roster_reply__at", "pk")
    )
    return {str(r.roster_reply.profile_record): r for r in rows}  # the latest wins


def _selections(principal: Principal, call: Record) -> dict[str, Record]:
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=SELECTION_KIND, roster_selection__call_record=call.uuid, roster_selection__active=True)
        .select_related("current_version", "roster_selection")
    )
    return {str(r.roster_selection.profile_record): r for r in rows}


def reply_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "call": body["call"]["record"],
        "expert": body["expert"]["record"],
        "member": body["member"],
        "available": bool(body["available"]),
        "from": body.get("from"),
        "until": body.get("until"),
        "note": body.get("note", ""),
        "at": signed_time(version),
    }


def selection_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    body = version.body
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "expert": body["expert"]["record"],
        "member": body["member"],
        "reply": body["reply"],
        **{name: body[name]["record"] for name in ("request", "offer", "acceptance", "commitment", "deployment")},
        "at": signed_time(version),
    }


def _profile(principal: Principal, profile: uuid.UUID) -> Any:
    try:
        return roster_queries.profile_for(principal, profile)
    except NotFound:
        return None


def call_out(record: Record, principal: Principal) -> dict[str, Any]:
    """A call as `principal` may see it (the caller has checked it may see the call itself)."""
    version = record.current_version
    assert version is not None
    body = version.body
    replies = _replies(principal, record)
    selections = _selections(principal, record)
    experts = []
    for entry in body["called"]:
        key = str(entry["profile"]["record"])
        profile = _profile(principal, uuid.UUID(key))
        answer = replies.get(key)
        chosen = selections.get(key)
        experts.append(
            {
                "id": key,
                "member": entry["member"],
                "name": profile.name if profile is not None else None,
                "organisation": profile.organisation if profile is not None else None,
                "you": principal.account is not None and entry.get("account") == str(principal.account),
                "reply": reply_out(answer) if answer is not None else None,
                "selection": selection_out(chosen) if chosen is not None else None,
            }
        )
    term = vocab.field_term(str(body["field"]))
    language = vocab.language_term(str(body.get("language") or ""))
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "request": body["request"]["record"] if body.get("request") else None,
        "incident": body["incident"]["record"],
        "member": body["member"],
        "requester": body["requester"],
        "field": body["field"],
        "field_name": term.name if term is not None else body["field"],
        "language": body.get("language"),
        "language_name": language.name if language is not None else "",
        "from": body["from"],
        "until": body["until"],
        "region": body["region"],
        "message": body.get("message", ""),
        "called": len(body["called"]),
        "experts": experts,
        "replies": [reply_out(r) for r in replies.values()],
        "selections": [selection_out(s) for s in selections.values()],
        "state": version.state,
        "tlp": version.tlp,
        "record_status": version.status,
        "updated_at": signed_time(version),
    }
