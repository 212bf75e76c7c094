"""The record kind `consent`: an affected member's consent to the SCO mechanism being activated on its territory
(an incident raised to level 2 or 3), given, refused or withdrawn, with an optional condition.

A consent is issued by a focal point of the member it speaks for (`speaks_for`), on any node that hosts that
member's accounts. Each organisation of a member keeps one consent record per incident and changes it by new
versions; the member's consent is the latest state across its records (by signed time; at the same second the
more restrictive state counts: withdrawn, then refused, then given).
"""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field

from accord.records import kinds
from accord.records.models import Record, Version
from accord.response.kinds import MEMBER_CODE, incident_roles
from accord.response.models import ConsentView
from accord.response.refs import RecordRef, hang, signed_time

KIND = "consent"
STATES = ("given", "refused", "withdrawn")
_RESTRICTIVE = {"given": 0, "refused": 1, "withdrawn": 2}


class ConsentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    member: str = Field(pattern=MEMBER_CODE)
    consent: Literal["given", "refused", "withdrawn"]
    condition: str = Field(default="", max_length=2000)


def _project(version: Version) -> None:
    body = version.body
    try:
        incident = RecordRef.model_validate(body["incident"])
        values = {
            "version": version,
            "incident_node": incident.node,
            "incident_record": incident.record,
            "member": str(body["member"])[:8],
            "consent": str(body["consent"])[:10],
            "condition": str(body.get("condition", "")),
            "at": signed_time(version),
            "traffic": version.status,
            "active": version.state == "active",
        }
    except (KeyError, TypeError, ValueError):
        ConsentView.objects.filter(record_id=version.record_id).delete()
        hang(version, None)
        return
    ConsentView.objects.update_or_create(record_id=version.record_id, defaults=values)
    hang(version, body["incident"])


def states(incident: Record, traffic: str) -> dict[str, ConsentView]:
    """Each member's consent to `incident` as stored here: its latest state across the member's consent records
    of the same traffic (actual, exercise, test) as the incident. Read by the system, not by a person: the rule
    must hold whoever asks."""
    latest: dict[str, ConsentView] = {}
    rows = ConsentView.objects.filter(
        incident_node=incident.origin_node, incident_record=incident.uuid, active=True, traffic=traffic
    ).select_related("version", "record")
    for row in rows:
        if row.record.origin_member != row.member:
            continue  # speaks_for keeps these out; never count a member's consent issued for another
        known = latest.get(row.member)
        if known is None or (row.at, _RESTRICTIVE[row.consent]) > (known.at, _RESTRICTIVE.get(known.consent, 0)):
            latest[row.member] = row
    return latest


def used(row: ConsentView) -> dict[str, Any]:
    """A consent as an incident version lists it (`consents`)."""
    return {
        "member": row.member,
        "node": str(row.record.origin_node),
        "record": str(row.record.uuid),
        "seq": row.version.seq,
    }


CONSENT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Consent to activation"),
        body_model=ConsentBody,
        title=lambda body: f"{body.get('member', '')}: {body.get('consent', '')}",
        search_text=lambda body: str(body.get("condition", "")),
        publish_roles=frozenset({"focal_point"}),
        member_roles=incident_roles,
        project=_project,
        speaks_for=lambda body: str(body["member"]),
        endpoint="POST /api/v1/incidents/{id}/consents",
    )
)


def _describe(version: Version) -> dict[str, Any]:
    body = version.body
    return {"member": body.get("member"), "consent": body.get("consent"), "condition": body.get("condition", "")}


from accord.response import timeline  # noqa: E402

timeline.register(timeline.Source(kind=KIND, every_version=True, describe=_describe))
