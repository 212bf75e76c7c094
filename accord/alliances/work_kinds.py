"""The record kind of the alliances' joint work: `alliance_activity`.

An activity of an alliance: a training course, an exchange (mobility) programme, a joint research project (vaccine
and medicine research and development flagged by `rd`) or a conference, with its dates, its host organisation,
its participants (organisations, and people by name and organisation only) and its outputs. Its `state` moves
forward only: planned, ongoing, completed; cancelled from planned or ongoing. The host's member issues it (the kind
`speaks_for` the host's member), by an account allowed to act for the alliance (`work_actions`).

Every rule here runs on every write path, versions received from peers included; who may act for the alliance is
decided by the origin node (`work_actions`), which alone issues the record's versions.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.alliances import vocab
from accord.alliances.seed import SLUGS
from accord.alliances.work_models import ActivityView
from accord.records import kinds
from accord.records.errors import ActionError
from accord.records.models import Version
from accord.response.refs import RecordRef, check_texts, pick, signed_time

logger = logging.getLogger("accord.alliances")

ACTIVITY_KIND = "alliance_activity"
TYPES = ("training", "exchange", "research", "conference")
STATES = ("planned", "ongoing", "completed", "cancelled")
# Where each state may go next (itself included: an edit that keeps the state).
NEXT_STATES: dict[str, frozenset[str]] = {
    "planned": frozenset({"planned", "ongoing", "completed", "cancelled"}),
    "ongoing": frozenset({"ongoing", "completed", "cancelled"}),
    "completed": frozenset({"completed"}),
    "cancelled": frozenset({"cancelled"}),
}
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
SLUG = r"^[-a-zA-Z0-9_]{1,80}$"
MAX_TITLE = 300
MAX_DESCRIPTION = 10_000


def refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


def day(value: Any) -> str:
    """An ISO date, YYYY-MM-DD, and nothing else (no time, no number of seconds)."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("not a date such as 2026-05-01")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("not a date such as 2026-05-01") from None


class OrganisationRef(BaseModel):
    """An organisation of any node, by its slug and member code (its row may not exist on this node)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG)
    member: str = Field(pattern=MEMBER_CODE)


class Host(OrganisationRef):
    name: str = Field(min_length=1, max_length=200)


class Person(BaseModel):
    """A participant by name and organisation: nothing more is kept about a person."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    organisation: OrganisationRef


class Participants(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisations: list[OrganisationRef] = Field(default_factory=list, max_length=300)
    persons: list[Person] = Field(default_factory=list, max_length=500)


class Output(BaseModel):
    """What an activity produced: a title, an optional link (text, never fetched) and an optional record of the
    library (a document)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    url: str | None = Field(default=None, max_length=2000)
    document: RecordRef | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value.lower().startswith(("https://", "http://")) or len(value) < 10 or any(c.isspace() for c in value):
            raise ValueError("a link is an http:// or https:// address without spaces")
        return value


class ActivityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance: str = Field(min_length=1, max_length=40)
    type: Literal["training", "exchange", "research", "conference"]
    rd: bool = Field(default=False, strict=True)  # vaccine and medicine research and development (research only)
    fields: list[str] = Field(default_factory=list, max_length=20)  # fields of expertise (vocab)
    title: dict[str, str]
    description: dict[str, str] = Field(default_factory=dict)
    starts: str
    ends: str
    host: Host
    place: str = Field(default="", max_length=300)
    participants: Participants = Field(default_factory=Participants)
    outputs: list[Output] = Field(default_factory=list, max_length=100)
    state: Literal["planned", "ongoing", "completed", "cancelled"]

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, MAX_TITLE, required=True)

    @field_validator("description")
    @classmethod
    def _description(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, MAX_DESCRIPTION, required=False)

    @field_validator("starts", "ends", mode="before")
    @classmethod
    def _day(cls, value: Any) -> str:
        return day(value)

    @field_validator("place")
    @classmethod
    def _place(cls, value: str) -> str:
        return value.strip()


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["alliance"] not in SLUGS:
        raise refuse("alliance", f"{body['alliance']!r} is not an alliance ({', '.join(SLUGS)})")
    if body["ends"] < body["starts"]:
        raise refuse("ends", f"the activity ends ({body['ends']}) before it starts ({body['starts']})")
    if body.get("rd") and body["type"] != "research":
        raise refuse("rd", "only a joint research project is flagged as vaccine and medicine R&D")
    for code in body.get("fields", []):
        vocab.check_field(code, "fields")
    if len(set(body.get("fields", []))) != len(body.get("fields", [])):
        raise refuse("fields", "a field of expertise is listed twice")
    seen: set[tuple[str, str]] = set()
    for organisation in body.get("participants", {}).get("organisations", []):
        key = (organisation["slug"], organisation["member"])
        if key in seen:
            raise refuse("participants", f"the organisation {key[0]} ({key[1]}) is listed twice")
        seen.add(key)


def _follows(body: dict[str, Any], previous: dict[str, Any]) -> None:
    before = str(previous.get("state", ""))
    after = body["state"]
    if after not in NEXT_STATES.get(before, frozenset({after})):
        raise refuse("state", f"an activity that is {before} cannot become {after}: its state moves forward only")
    if previous.get("alliance") not in (None, body["alliance"]):
        raise refuse("alliance", "an activity stays in its alliance")


def title_of(body: dict[str, Any], language: str | None = None) -> str:
    value = body.get("title")
    return pick(value if isinstance(value, dict) else None, language)


def _search(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for name in ("title", "description"):
        value = body.get(name)
        if isinstance(value, dict):
            parts += [str(text) for text in value.values()]
    parts += [str(body.get("place") or ""), str((body.get("host") or {}).get("name") or "")]
    parts += [str(output.get("title") or "") for output in body.get("outputs") or [] if isinstance(output, dict)]
    return "\n".join(p for p in parts if p)


def project_activity(version: Version) -> None:
    """Keep the activity's row in step with its current version (local, or received from a peer)."""
    body = version.body
    try:
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "alliance": str(body["alliance"])[:40],
            "type": str(body["type"])[:12],
            "rd": bool(body.get("rd", False)),
            "state": str(body["state"])[:12],
            "starts": date.fromisoformat(str(body["starts"])),
            "ends": date.fromisoformat(str(body["ends"])),
            "host_slug": str(body["host"]["slug"])[:80],
            "host_member": str(body["host"]["member"])[:8],
            "active": version.state == "active",
            "traffic": version.status[:10],
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("activity %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        ActivityView.objects.filter(record_id=version.record_id).delete()
        return
    ActivityView.objects.update_or_create(record_id=version.record_id, defaults=values)


ACTIVITY = kinds.register(
    kinds.RecordKind(
        name=ACTIVITY_KIND,
        label=_("Alliance activity"),
        body_model=ActivityBody,
        title=title_of,
        search_text=_search,
        publish_roles=frozenset({"expert", "focal_point", "coordinator"}),
        speaks_for=lambda body: str((body.get("host") or {}).get("member") or "") or None,
        project=project_activity,
        rules=_rules,
        follows=_follows,
        endpoint="POST /api/v1/alliances/{slug}/activities",
        withdraw_endpoint="POST /api/v1/activities/{id}/withdraw",
        page="alliance-activity",
    )
)

from accord.alliances import work_sections  # noqa: E402, F401  (registers the section of an alliance's page)
