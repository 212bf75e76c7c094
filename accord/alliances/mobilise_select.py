"""A selection from a roster call, and what it makes in mutual assistance (issue 17), so that the request's ledger
shows the expert offered, accepted, committed and deployed.

`select(call, acting_user=, expert=)`, by a focal point of the member that selects (the call's `requester`; for the
Secretariat's own request its coordinators), of an expert who replied available. In one transaction, on this node:

1. on a call made on an incident alone: an assistance request for one expert of the call's field, by the selecting
   account (`assist_actions.create_request`: the incident's audience, the call's region, needed by its `from`);
2. the **offer** of one expert (resource type `expert`, quantity 1, available over the reply's dates), issued for the
   expert's member **by the person themself** (`assist_actions.make_offer(person=True)`): they said they are
   available, in their own signed reply, and a person can offer no one but themself. For a profile a focal point
   manages (no account of the person), the focal point who replied for them offers, as any offer of that member;
3. its **acceptance** by the selecting account (`assist_actions.accept`: the requesting member, on the request's
   node, under the ledger's lock: never more accepted than requested);
4. the **commitment** and the **deployment** by the same offering account (`assist_deploy.commit`, `deploy`): the
   deployment names the person as its contact (name, and the profile's contact e-mail), the request's region, and
   the reply's dates as arrival and end; its status is `mobilising`;
5. the **selection** record (`roster_selection`), by the selecting account, naming the reply version it rests on and
   all of the above, with the call's audience: the expert's member sees they were selected.

The assistance kinds' rules hold as for any other offer: every version is issued for the member it speaks for, the
acceptance on the request's node by the requesting member, the commitment and deployment on the offer's node. An
expert's account may issue offers only because of step 2 (`assist_kinds.offering_roles`), and the assistance
actions hold it to the offer of themself (`assist_actions.entitled`).

**Across nodes** (not built yet): when the request was made on another node, a 409 naming `request` (select on the
request's node); when the expert answered on another node than this one, a 409 naming `expert` (their member
offers them there, `POST /api/v1/requests/{id}/offers`, and the offer is accepted as any other).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.alliances import roster_queries, vocab
from accord.alliances.mobilise_actions import call_for, checked, member_code
from accord.alliances.mobilise_kinds import REPLY_KIND, SELECTION, SELECTION_KIND
from accord.alliances.mobilise_models import RosterCalled, RosterSelectionView
from accord.members.models import Account
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import Conflict, Forbidden, NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import assist_actions, assist_deploy
from accord.response.kinds import incident_roles
from accord.response.refs import ref_of

if TYPE_CHECKING:
    from accord.alliances.roster_models import ExpertProfile


def latest_reply(principal: Principal, call: Record, profile: uuid.UUID | str) -> Record | None:
    """The latest reply for one expert of a call that the principal may see."""
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=REPLY_KIND,
            roster_reply__call_record=call.uuid,
            roster_reply__profile_record=profile,
            roster_reply__active=True,
        )
        .select_related("current_version")
        .order_by("-roster_reply__at", "-pk")
        .first()
    )


def _selector(acting_user: Account, requester: str) -> None:
    organisation = acting_user.organisation
    if organisation is None or member_code(acting_user) != requester:
        raise Forbidden(f"call: the experts of this call are selected by {requester}", field="call")
    if not acting_user.role_names() & incident_roles(organisation.member):
        raise Forbidden(f"call: the experts of this call are selected by the focal points of {requester}", field="call")


def _answer(principal: Principal, call: Record, expert: uuid.UUID | str) -> tuple[RosterCalled, Record, Version]:
    """The called expert and their reply (available), or a 409 naming `expert`."""
    try:
        key = uuid.UUID(str(expert))
    except ValueError:
        raise Conflict("expert: this expert is not called by this roster call", field="expert") from None
    entry = RosterCalled.objects.filter(call__record=call, profile_record=key).first()
    if entry is None:
        raise Conflict("expert: this expert is not called by this roster call", field="expert")
    answer = latest_reply(principal, call, key)
    if answer is None or answer.current_version is None:
        raise Conflict("expert: this expert has not replied; only an expert who replied available is selected",
                       field="expert")  # fmt: skip
    version = answer.current_version
    if not version.body.get("available"):
        raise Conflict("expert: this expert replied that they are not available", field="expert")
    if RosterSelectionView.objects.filter(call_record=call.uuid, profile_record=key, active=True).exists():
        raise Conflict("expert: this expert is selected already", field="expert")
    return entry, answer, version


def _offerer(entry: RosterCalled, answer: Record, version: Version) -> tuple[Account, ExpertProfile]:
    """Who offers the expert on this node (the person, or the focal point who replied for a managed profile) and
    the profile as they see it; a 409 naming `expert` when that is not here."""
    here = record_actions.here().node_id
    found = None
    if version.author is not None:
        found = (
            Account.objects.filter(uuid=version.author, is_active=True).select_related("organisation__member").first()
        )
    if answer.origin_node != here or found is None:
        raise Conflict(
            f"expert: the expert answered on another node ({answer.origin_node}); a selection across nodes is not "
            "built yet: the expert's member offers them there, and you accept that offer",
            field="expert",
        )
    try:
        profile = roster_queries.profile_for(Principal.of(found), entry.profile_record)
    except NotFound:
        raise Conflict("expert: the expert is no longer on the roster", field="expert") from None
    return found, profile


def _request(principal: Principal, call: dict[str, Any]) -> Record | None:
    if call.get("request") is None:
        return None
    record = assist_actions.request_for(principal, call["request"]["record"])
    if record.origin_node != record_actions.here().node_id:
        raise Conflict(
            f"request: the request's offers are accepted on its node ({record.origin_node}); select there",
            field="request",
        )
    return record


def select(call: uuid.UUID | str, *, acting_user: Account, expert: uuid.UUID | str) -> dict[str, Version]:
    """Select an expert who replied available (see the module's notes); returns the versions issued by name:
    `request` (only for a call on an incident), `offer`, `acceptance`, `commitment`, `deployment`, `selection`."""
    principal = Principal.of(acting_user)
    record = call_for(principal, call)
    current = record.current_version
    assert current is not None
    body = current.body
    _selector(acting_user, str(body["requester"]))
    if current.state != "active":
        raise Conflict("call: the roster call is withdrawn", field="call")
    entry, answer, replied = _answer(principal, record, expert)
    request = _request(principal, body)
    offerer, profile = _offerer(entry, answer, replied)
    made: dict[str, Version] = {}
    with transaction.atomic():
        if request is None:
            term = vocab.field_term(str(body["field"]))
            made["request"] = assist_actions.create_request(
                body["incident"]["record"],
                acting_user=acting_user,
                resource_type="expert",
                quantity=1,
                detail=term.en if term is not None else str(body["field"]),
                needed_by=str(body["from"]),
                region=str(body["region"]),
                priority="high",
                conditions=f"roster call {record.uuid}",
            )
            request = Record.objects.get(pk=made["request"].record_id)
        start, until = str(replied.body["from"]), str(replied.body["until"])
        made["offer"] = assist_actions.make_offer(
            request.uuid,
            acting_user=offerer,
            quantity=1,
            available_from=start,
            available_until=until,
            note=f"roster call {record.uuid}: replied available {start}..{until}; selected by {body['requester']}",
            person=entry.account is not None,
        )
        offer = made["offer"].record_uuid
        made["acceptance"] = assist_actions.accept(offer, acting_user=acting_user, quantity=1, request=None)
        made["commitment"] = assist_deploy.commit(offer, acting_user=offerer, quantity=1)
        email = profile.contact_email or (offerer.email if entry.account is not None else "")
        made["deployment"] = assist_deploy.deploy(
            offer,
            acting_user=offerer,
            quantity=1,
            contact={"name": profile.name, "email": email[:200]},
            location={"region": str(request.current_version.body["region"])},  # type: ignore[union-attr]
            arrival=start,
            end=until,
        )
        selection = {
            "call": ref_of(record),
            "expert": {"node": str(entry.profile_node), "record": str(entry.profile_record)},
            "expert_member": entry.member,
            "member": member_code(acting_user),
            "reply": {**ref_of(answer), "seq": replied.seq},
            "request": ref_of(request),
            **{
                name: {"node": str(made[name].origin_node), "record": str(made[name].record_uuid)}
                for name in ("offer", "acceptance", "commitment", "deployment")
            },
        }
        selection = checked(SELECTION, selection, acting_user, current.status)
        made["selection"] = record_actions.publish(
            SELECTION_KIND,
            selection,
            audience=Audience.model_validate(current.envelope()["audience"]),
            tlp=current.tlp,
            status=current.status,
            acting_user=acting_user,
        )
    return made
