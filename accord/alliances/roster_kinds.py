"""The record kind of the alliances' roster: `expert_profile`, one person on the expert roster.

A profile is either the person's **own** (issued by their account, role `expert`, for their own member: `account`
is the account's uuid) or **managed** by a focal point of the person's member for someone without an account: then
`account` is absent and the person's recorded `consent` (when, how, recorded by whom) is required.

What a profile keeps is what mobilisation needs and nothing more: the person's name and affiliation (organisation
slug, member, name), fields of expertise (`vocab.FIELDS`), languages with a CEFR level (`vocab.LANGUAGES`,
`vocab.LEVELS`), availability windows, whether and how fast the person can deploy, the alliances they work with, a
short note and an optional contact e-mail. No passport numbers, no birth date, no health data: the schema forbids
any other field.

Who sees a profile is the record's own audience and TLP, chosen by the person (`roster_actions`). The kind has a
reader of its own (`GET /api/v1/experts/{id}`): the generic record reads leave it out, so that no read path shows a
withdrawn profile (see `accord.records.kinds.RecordKind.reader`). Its title names no one: the notifications, feeds
and live stream, which show titles, say only "Expert profile".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.alliances import vocab
from accord.alliances.roster_models import project_profile
from accord.records import kinds
from accord.records.errors import ActionError

KIND = "expert_profile"
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
SLUG = r"^[a-z0-9][a-z0-9_-]{0,79}$"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$"
ALLIANCE_SLUGS = ("medicine", "law", "agriculture")
MAX_WINDOWS = 24
# Body fields a caller names directly: a schema error on one of them names it, not "body".
FIELDS = (
    "name", "account", "affiliation", "fields", "languages", "available", "deployable", "deploy_within_days",
    "alliances", "note", "contact_email", "consent",
)  # fmt: skip


def refuse(field: str, message: str) -> ActionError:
    return ActionError(f"{field}: {message}", field=field)


def iso_date(value: Any) -> str:
    """A date as `YYYY-MM-DD` (and nothing else: no time, no week date)."""
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


class Affiliation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: str = Field(pattern=SLUG)  # the organisation's slug (the same on every node)
    member: str = Field(pattern=MEMBER_CODE)
    name: str = Field(min_length=1, max_length=200)


class Language(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=3)
    level: str = Field(max_length=6)

    @field_validator("code")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in vocab.LANGUAGE_CODES:
            known = ", ".join(sorted(vocab.LANGUAGE_CODES))
            raise ValueError(f"{value!r} is not a language code of the roster ({known})")
        return value

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in vocab.LEVELS:
            raise ValueError(f"{value!r} is not a level ({', '.join(vocab.LEVELS)}: the CEFR levels, or native)")
        return value


class Window(BaseModel):
    """A period the person is available, both days included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    start: str = Field(alias="from")
    until: str

    @field_validator("start", "until")
    @classmethod
    def _date(cls, value: Any) -> str:
        return iso_date(value)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.until < self.start:
            raise ValueError(f"ends ({self.until}) before it starts ({self.start})")
        return self


class Consent(BaseModel):
    """The consent of a person whose profile a focal point manages: when it was given, how (in writing, by e-mail,
    in person ...), and who recorded it."""

    model_config = ConfigDict(extra="forbid")

    given_on: str
    method: str = Field(min_length=1, max_length=200)
    recorded_by: str = Field(min_length=1, max_length=200)

    @field_validator("given_on")
    @classmethod
    def _date(cls, value: Any) -> str:
        return iso_date(value)


class ProfileBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    account: str | None = Field(default=None, pattern=r"^[0-9a-f-]{36}$")  # the person's account: their own profile
    affiliation: Affiliation
    fields: list[str] = Field(min_length=1, max_length=len(vocab.FIELDS))
    languages: list[Language] = Field(default_factory=list, max_length=len(vocab.LANGUAGES))
    available: list[Window] = Field(default_factory=list, max_length=MAX_WINDOWS)
    deployable: bool
    deploy_within_days: int | None = Field(default=None, ge=0, le=365)
    alliances: list[str] = Field(default_factory=list, max_length=len(ALLIANCE_SLUGS))
    note: str = Field(default="", max_length=1000)
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    consent: Consent | None = None

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        for code in value:
            if code not in vocab.FIELD_CODES:
                known = ", ".join(sorted(vocab.FIELD_CODES))
                raise ValueError(f"{code!r} is not a field of expertise ({known})")
        if len(set(value)) != len(value):
            raise ValueError("a field of expertise is listed twice")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[Language]) -> list[Language]:
        if len({item.code for item in value}) != len(value):
            raise ValueError("a language is listed twice; give each once with its level")
        return value

    @field_validator("alliances")
    @classmethod
    def _alliances(cls, value: list[str]) -> list[str]:
        for slug in value:
            if slug not in ALLIANCE_SLUGS:
                raise ValueError(f"{slug!r} is not an alliance ({', '.join(ALLIANCE_SLUGS)})")
        if len(set(value)) != len(value):
            raise ValueError("an alliance is listed twice")
        return value


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body.get("account") is None and body.get("consent") is None:
        raise refuse(
            "consent",
            "a profile managed for a person without an account needs the person's recorded consent "
            "(given_on, method, recorded_by)",
        )
    if author.received:
        return  # the affiliation's organisation may not be known here
    from accord.members.models import Organisation

    affiliation = body["affiliation"]
    found = Organisation.objects.filter(slug=affiliation["organisation"]).select_related("member").first()
    if found is None:
        raise refuse("affiliation", f"{affiliation['organisation']!r} is not an organisation known here")
    if found.member.code != affiliation["member"]:
        raise refuse(
            "affiliation", f"{found.slug} is an organisation of {found.member.code}, not of {affiliation['member']}"
        )


PROFILE = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Expert profile"),
        body_model=ProfileBody,
        # Titles are shown by notifications, feeds and the live stream: a profile's names no one.
        title=lambda body: "Expert profile",
        search_text=lambda body: "",
        publish_roles=frozenset({"expert", "focal_point"}),
        speaks_for=lambda body: str((body.get("affiliation") or {}).get("member") or "") or None,
        rules=_rules,
        project=project_profile,
        endpoint="PUT /api/v1/experts/me or POST /api/v1/experts",
        withdraw_endpoint="DELETE /api/v1/experts/me or DELETE /api/v1/experts/{id}",
        reader="GET /api/v1/experts/{id}",
        page="roster-expert",
    )
)
