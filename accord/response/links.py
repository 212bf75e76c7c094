"""The record kind `incident_link`: a record (an alert, an IHR assessment, another incident, a note with its
attachments, case counts) attached to an incident.

A link is authored by whoever links, so a member attaches its own alert to an incident another member opened; it
is issued with an audience no wider than either end's (`narrower`), and read only where both ends are visible
(`queries.links_for`). Unlinking is withdrawing the link.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field

from accord.records import kinds
from accord.records.envelope import TLPS, Audience
from accord.records.errors import ActionError
from accord.records.models import Version
from accord.response.models import LinkView
from accord.response.refs import RecordRef, hang

KIND = "incident_link"
LINKABLE = frozenset({"alert", "ihr_assessment", "incident", "note", "case_counts"})
LINK_ROLES = frozenset({"focal_point", "coordinator", "analyst"})


class Target(RecordRef):
    kind: str = Field(min_length=1, max_length=40)


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    target: Target
    note: str = Field(default="", max_length=2000)


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["incident"] == {"node": body["target"]["node"], "record": body["target"]["record"]}:
        raise ActionError("an incident is not linked to itself", field="record")


def _project(version: Version) -> None:
    body = version.body
    try:
        incident = RecordRef.model_validate(body["incident"])
        target = Target.model_validate(body["target"])
    except (KeyError, TypeError, ValueError):
        LinkView.objects.filter(record_id=version.record_id).delete()
        hang(version, None)
        return
    LinkView.objects.update_or_create(
        record_id=version.record_id,
        defaults={
            "incident_node": incident.node,
            "incident_record": incident.record,
            "target_node": target.node,
            "target_record": target.record,
            "target_kind": target.kind[:40],
            "active": version.state == "active",
        },
    )
    hang(version, body["incident"])


def _member_of(organisations: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    from accord.members.models import Organisation

    return dict(Organisation.objects.filter(uuid__in=organisations).values_list("uuid", "member__code"))


def _person_places(persons: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, uuid.UUID | None]]:
    from accord.members.models import Account

    rows = Account.objects.filter(uuid__in=persons).values_list(
        "uuid", "organisation__member__code", "organisation__uuid"
    )
    return {p: (m or "", o) for p, m, o in rows}


def narrower(a: Audience, a_tlp: str, b: Audience, b_tlp: str) -> tuple[Audience, str] | None:
    """An audience and TLP that reach nobody whom either (a, a_tlp) or (b, b_tlp) would not reach: the stricter
    label, and the targets both name, directly or through their member or organisation as known here (those not
    known here are left out). None when nobody is left."""
    tlp = max(a_tlp, b_tlp, key=TLPS.index)
    if a.everyone:
        candidate = b
    elif b.everyone:
        candidate = a
    else:
        orgs = _member_of(set(a.organisations) | set(b.organisations))
        places = _person_places(set(a.persons) | set(b.persons))

        def org_in(side: Audience, org: uuid.UUID) -> bool:
            return org in side.organisations or orgs.get(org) in side.members

        def person_in(side: Audience, person: uuid.UUID) -> bool:
            member, org = places.get(person, ("", None))
            return person in side.persons or member in side.members or (org is not None and org in side.organisations)

        members = sorted(set(a.members) & set(b.members))
        organisations = sorted(
            {o for o in a.organisations if org_in(b, o)} | {o for o in b.organisations if org_in(a, o)}, key=str
        )
        persons = sorted({p for p in a.persons if person_in(b, p)} | {p for p in b.persons if person_in(a, p)}, key=str)
        candidate = Audience(members=members, organisations=organisations, persons=persons)
    # What the stricter label cannot name is dropped (AMBER+STRICT names no members; RED only persons).
    if tlp == "AMBER+STRICT":
        candidate = Audience(organisations=list(candidate.organisations), persons=list(candidate.persons))
    elif tlp == "RED":
        candidate = Audience(persons=list(candidate.persons))
    elif tlp == "AMBER" and candidate.everyone:
        return None
    if not (candidate.everyone or candidate.members or candidate.organisations or candidate.persons):
        return None
    return candidate, tlp


def _title(body: dict[str, Any]) -> str:
    target = body.get("target") or {}
    return f"{target.get('kind', '')} {target.get('record', '')}"


LINK = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Incident link"),
        body_model=LinkBody,
        title=_title,
        search_text=lambda body: str(body.get("note", "")),
        publish_roles=LINK_ROLES,
        project=_project,
        rules=_rules,
        endpoint="POST /api/v1/incidents/{id}/links",
    )
)
