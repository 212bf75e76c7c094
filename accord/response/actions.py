"""Every change to incidents: open, change the level, close, reopen.

Each builds the incident's whole body and hands it to the record core's actions, which check the kind's rules,
sign, store and audit it in one transaction. Only the origin node issues versions of an incident, and there
only accounts of the organisation that opened it (the record core's single-writer rule).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import consents, hazards, links
from accord.response.kinds import CONSENT_LEVELS, INCIDENT, KIND, incident_roles
from accord.response.models import ConsentView, LinkView
from accord.response.refs import ref_of

if TYPE_CHECKING:
    from accord.members.models import Account

logger = logging.getLogger("accord.response")

# Fields of the incident body that the API takes under the same name: a schema error in one of them is answered
# naming it, not "body".
_BODY_FIELDS = ("title", "summary", "hazard", "domains", "affected_members", "regions", "lead_member", "level")


def named(error: ActionError) -> ActionError:
    """The error of a body check, naming the request field at fault (`body.title.en: ...` -> field `title`)."""
    if error.field != "body":
        return error
    path = error.message.split(":", 1)[0].removeprefix("body").lstrip(".")
    head = path.split(".", 1)[0]
    if head in _BODY_FIELDS:
        error.field = head
    return error


def check_body(body: dict[str, Any], acting_user: Account, status: str) -> None:
    """The incident kind's rules, before any write, so that errors name the field the caller sent."""
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot open incidents")
    from accord.records.kinds import Author

    try:
        INCIDENT.check(body, Author(member=organisation.member.code, status=status))
    except ActionError as error:
        raise named(error) from None


def _audience_covers(audience: Audience, members: list[str]) -> None:
    """An incident's audience must reach the members it affects, or they could neither see it nor consent."""
    if audience.everyone or not audience.members:
        return
    outside = [code for code in members if code not in audience.members]
    if outside:
        raise ActionError(
            f"the audience names members but not the affected {', '.join(outside)}, who could not see the incident",
            field="audience",
        )


def open_incident(
    *,
    title: dict[str, str],
    hazard: str,
    affected_members: list[str],
    audience: Audience,
    tlp: str,
    acting_user: Account,
    summary: dict[str, str] | None = None,
    domains: list[str] | None = None,
    regions: list[str] | None = None,
    lead_member: str | None = None,
    status: str = "actual",
) -> Version:
    """Open an incident at level 0 (monitoring)."""
    try:
        resolved = hazards.resolve(hazard)
    except hazards.UnknownHazard as error:
        raise ActionError(str(error), field="hazard") from None
    organisation = acting_user.organisation
    own = organisation.member.code if organisation is not None else ""
    if lead_member is None:
        lead_member = own if own in affected_members or own == "SCO" else (affected_members or [""])[0]
    body: dict[str, Any] = {
        "title": title,
        "summary": summary or {},
        "hazard": resolved,
        "domains": domains or ["human"],
        "affected_members": affected_members,
        "regions": regions or [],
        "lead_member": lead_member,
        "level": 0,
        "status": "open",
        "change": {"action": "open"},
    }
    check_body(body, acting_user, status)
    _audience_covers(audience, affected_members)
    return record_actions.publish(KIND, body, audience=audience, tlp=tlp, status=status, acting_user=acting_user)


def current_body(record: Record) -> dict[str, Any]:
    version = record.current_version
    if version is None or record.kind != KIND:
        raise ActionError("not an incident")
    return dict(version.body)


class MissingConsent(Conflict):
    """Level 2 or 3 without the consent of every affected member: names those whose consent is missing, refused
    or withdrawn."""

    def __init__(self, level: int, missing: list[str], states: dict[str, str | None]) -> None:
        super().__init__(
            f"level {level} needs the consent of every affected member; missing or refused: {', '.join(missing)}",
            field="level",
        )
        self.missing = missing
        self.states = states


def _locked(incident: Record) -> tuple[Record, dict[str, Any]]:
    """The incident row locked (a level change and a consent's reaction never interleave), and its body."""
    record = Record.objects.select_for_update().get(pk=incident.pk)
    version = record.current_version
    if version is None or record.kind != KIND:
        raise NotFound("no such incident")
    if version.state == "withdrawn":
        raise Conflict("this incident is withdrawn")
    return record, dict(version.body)


def _consents_for(record: Record, body: dict[str, Any], level: int) -> list[dict[str, Any]]:
    """The consents a level rests on (none below 2); MissingConsent when an affected member has not given it."""
    if level not in CONSENT_LEVELS:
        return []
    assert record.current_version is not None
    found = consents.states(record, record.current_version.status)
    missing = [m for m in body["affected_members"] if m not in found or found[m].consent != "given"]
    if missing:
        states = {m: (found[m].consent if m in found else None) for m in body["affected_members"]}
        raise MissingConsent(level, missing, states)
    return [consents.used(found[m]) for m in body["affected_members"]]


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ActionError("say why", field="reason")
    if len(text) > 2000:
        raise ActionError("the reason is longer than 2000 characters", field="reason")
    return text


def _revise(record: Record, body: dict[str, Any], acting_user: Account, expected_seq: int | None) -> Version:
    assert record.current_version is not None
    check_body(body, acting_user, record.current_version.status)
    return record_actions.revise(record, acting_user=acting_user, body=body, expected_seq=expected_seq)


def change_level(
    incident: Record, *, level: int, reason: str, acting_user: Account, expected_seq: int | None = None
) -> Version:
    """Set the incident's level (0-3) with a reason. Level 2 or 3 needs the consent of every affected member
    (MissingConsent, 409, names who has not given it)."""
    if level not in (0, 1, 2, 3):
        raise ActionError(f"level {level} is not 0, 1, 2 or 3", field="level")
    change = {"action": "level", "reason": _reason(reason)}
    return set_level(incident, level=level, change=change, acting_user=acting_user, expected_seq=expected_seq)


def set_level(
    incident: Record,
    *,
    level: int,
    change: dict[str, Any],
    acting_user: Account,
    expected_seq: int | None = None,
) -> Version:
    """The one place the level changes, by hand (change_level) or by an adopted decision (decision_levels): the
    incident locked, open and not at `level` already; at 2 or 3 the consents of every affected member listed
    (MissingConsent otherwise). `change` says what caused it (its `from_level` is filled in here)."""
    if level not in (0, 1, 2, 3):
        raise ActionError(f"level {level} is not 0, 1, 2 or 3", field="level")
    with transaction.atomic():
        record, body = _locked(incident)
        if body["status"] == "closed":
            raise Conflict("the incident is closed; reopen it first")
        if body["level"] == level:
            raise ActionError(f"the incident is at level {level} already", field="level")
        new = {
            **body,
            "level": level,
            "consents": _consents_for(record, body, level),
            "change": {**change, "from_level": body["level"]},
        }
        return _revise(record, new, acting_user, expected_seq)


def close_incident(incident: Record, *, reason: str, acting_user: Account) -> Version:
    text = _reason(reason)
    with transaction.atomic():
        record, body = _locked(incident)
        if body["status"] == "closed":
            raise Conflict("the incident is closed already")
        new = {**body, "status": "closed", "change": {"action": "close", "reason": text}}
        return _revise(record, new, acting_user, None)


def reopen_incident(incident: Record, *, reason: str, acting_user: Account) -> Version:
    """Reopen a closed incident, at its level if the consents still hold, else at level 1."""
    text = _reason(reason)
    with transaction.atomic():
        record, body = _locked(incident)
        if body["status"] == "open":
            raise Conflict("the incident is open already")
        level = body["level"]
        try:
            used = _consents_for(record, body, level)
        except MissingConsent:
            level, used = 1, []
        change: dict[str, Any] = {"action": "reopen", "reason": text}
        if level != body["level"]:
            change["from_level"] = body["level"]
        new = {**body, "status": "open", "level": level, "consents": used, "change": change}
        return _revise(record, new, acting_user, None)


# ---- consents ------------------------------------------------------------------------------------------------


def record_consent(incident: Record, *, consent: str, condition: str = "", acting_user: Account) -> Version:
    """The acting focal point's member gives, refuses or withdraws its consent to the incident's activation.

    Only an affected member consents (403 otherwise). The consent goes to the incident's audience, with its TLP
    and traffic. A consent that is no longer `given` drops an incident at level 2 or 3 to level 1 at once when
    the incident is this node's; the node that issued it does so when the consent reaches it."""
    if consent not in consents.STATES:
        raise ActionError(f"consent is one of {', '.join(consents.STATES)}", field="consent")
    organisation = acting_user.organisation
    if organisation is None:
        raise Forbidden("this account belongs to no organisation")
    version = incident.current_version
    if version is None or incident.kind != KIND:
        raise NotFound("no such incident")
    body = version.body
    member = organisation.member.code
    if member not in body["affected_members"]:
        raise Forbidden(
            f"only an affected member consents ({', '.join(body['affected_members'])}); {member} is not affected",
            field="consent",
        )
    if not (acting_user.role_names() & incident_roles(organisation.member)):
        raise Forbidden("consent is given by a focal point of the affected member")
    if version.state == "withdrawn" or body["status"] == "closed":
        raise Conflict("the incident is closed or withdrawn")
    envelope = version.envelope()
    audience = Audience.model_validate(envelope["audience"])
    new = {"incident": ref_of(incident), "member": member, "consent": consent, "condition": condition.strip()}
    node = record_actions.here().node_id
    own = (
        ConsentView.objects.filter(
            incident_node=incident.origin_node,
            incident_record=incident.uuid,
            member=member,
            active=True,
            record__origin_node=node,
            version__origin_organisation=organisation.uuid,
        )
        .select_related("record")
        .first()
    )
    with transaction.atomic():
        if own is not None:
            written = record_actions.revise(
                own.record, acting_user=acting_user, body=new, audience=audience, tlp=version.tlp
            )
        else:
            written = record_actions.publish(
                consents.KIND, new, audience=audience, tlp=version.tlp, status=version.status, acting_user=acting_user
            )
    if consent != "given":
        react_to_consent(written)
    return written


def _acting_for(record: Record) -> Account | None:
    """Who issues the origin's automatic version of an incident: the author of its current version if still
    able to, else another active account of the organisation that published it with an incident role."""
    from accord.members.models import Account

    version = record.current_version
    publisher = version.origin_organisation if version is not None else None
    if version is None or publisher is None:
        return None
    author = version.author
    candidates = Account.objects.filter(is_active=True, organisation__uuid=publisher).select_related(
        "organisation__member"
    )
    for account in sorted(candidates, key=lambda a: (a.uuid != author, a.pk)):
        organisation = account.organisation
        if organisation is not None and account.role_names() & incident_roles(organisation.member):
            return account
    return None


def react_to_consent(consent: Version) -> Version | None:
    """Run where the incident was issued, when a consent is stored (here or received): if the consenting member
    no longer gives its consent and the incident is at level 2 or 3, issue the incident's next version at level
    1 and tell the affected members through notify. Idempotent: nothing happens when there is nothing to do."""
    body = consent.body
    try:
        node, record_uuid = uuid.UUID(str(body["incident"]["node"])), uuid.UUID(str(body["incident"]["record"]))
    except (KeyError, TypeError, ValueError):
        return None
    if node != record_actions.here().node_id:
        return None
    incident = Record.objects.filter(origin_node=node, uuid=record_uuid, kind=KIND).first()
    if incident is None:
        return None
    member = str(body.get("member"))
    with transaction.atomic():
        try:
            record, current = _locked(incident)
        except (NotFound, Conflict):
            return None
        if current["status"] != "open" or current["level"] not in CONSENT_LEVELS:
            return None
        if member not in current["affected_members"]:
            return None
        assert record.current_version is not None
        state = consents.states(record, record.current_version.status).get(member)
        if state is not None and state.consent == "given":
            return None
        actor = _acting_for(record)
        what = state.consent if state is not None else "withdrawn"
        if actor is None:
            logger.warning(
                "incident %s: consent of %s %s, but no account may issue its next version", record.uuid, member, what
            )
            return None
        new = {
            **current,
            "level": 1,
            "consents": [],
            "change": {
                "action": "consent_withdrawn",
                "reason": f"the consent of {member} was {what}",
                "from_level": current["level"],
                "cause": {"node": str(consent.origin_node), "record": str(consent.record_uuid)},
            },
        }
        written = record_actions.revise(record, acting_user=actor, body=new)
        audit.append(
            "incident.level.dropped",
            actor=None,
            actor_name="system",
            object_type=KIND,
            object_id=f"{record.uuid}#{written.seq}",
            data={"member": member, "consent": f"{consent.record_uuid}#{consent.seq}", "from_level": current["level"]},
        )
        record.refresh_from_db()
        from accord.notify import escalation

        escalation.queue_incident_notice(
            record, sorted({*current["affected_members"], current["lead_member"]}), {"member": member, "consent": what}
        )
    return written


# ---- links ---------------------------------------------------------------------------------------------------


def link_record(incident: Record, *, target: str, acting_user: Account, note: str = "") -> Version:
    """Link a record the acting account may see to the incident. The link is the linker's record, with an
    audience no wider than either end's."""
    principal = Principal.of(acting_user)
    try:
        key = uuid.UUID(str(target))
    except ValueError:
        raise ActionError("record is not a UUID", field="record") from None
    found = Record.objects.visible_to(principal).filter(uuid=key).select_related("current_version").first()
    if found is None or found.current_version is None:
        raise NotFound("no such record", field="record")
    if found.kind not in links.LINKABLE:
        raise ActionError(
            f"a {found.kind} is not linked to incidents; link one of: {', '.join(sorted(links.LINKABLE))}",
            field="record",
        )
    if found.pk == incident.pk:
        raise ActionError("an incident is not linked to itself", field="record")
    version = incident.current_version
    assert version is not None
    target_status = found.current_version.status
    if target_status != version.status:
        raise ActionError(f"a {target_status} record is not linked to a {version.status} incident", field="record")
    if LinkView.objects.filter(
        incident_node=incident.origin_node,
        incident_record=incident.uuid,
        target_node=found.origin_node,
        target_record=found.uuid,
        active=True,
    ).exists():
        raise Conflict("this record is linked to the incident already", field="record")
    both = links.narrower(
        Audience.model_validate(version.envelope()["audience"]),
        version.tlp,
        Audience.model_validate(found.current_version.envelope()["audience"]),
        found.current_version.tlp,
    )
    if both is None:
        raise ActionError("no audience sees both the incident and this record", field="record")
    audience, tlp = both
    body = {
        "incident": ref_of(incident),
        "target": {**ref_of(found), "kind": found.kind},
        "note": note.strip(),
    }
    return record_actions.publish(
        links.KIND, body, audience=audience, tlp=tlp, status=version.status, acting_user=acting_user
    )


def unlink(link: Record, *, reason: str, acting_user: Account) -> Version:
    if link.kind != links.KIND:
        raise NotFound("no such link")
    return record_actions.withdraw(link, acting_user=acting_user, reason=reason)
