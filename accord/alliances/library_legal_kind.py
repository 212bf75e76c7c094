"""The record kind `legal_instrument`: an entry of the law alliance's comparative register of the members' legal
instruments for emergencies.

An entry names the `member` whose instrument it is (and speaks for it), its title in the original language (`title`,
with `original_language`) and translations in zh, ru, en (`title_translations`), the date it was adopted (`adopted`;
a draft may have none, any other status needs one), its `status` (in_force, amended, repealed, draft), its
`citation`, a `link` (an http or https URL, kept as text: never fetched while writing), a summary in any of zh, ru,
en and its `topics` (IHR implementing law, sanitary-epidemiological law, quarantine, cross-border data sharing,
other).

It is issued for its member by an account of that member, or by the Secretariat (its coordinators): checked here on
every write path, received versions included (a peer speaking for another member is quarantined). Which accounts of
the member may write it (focal points, accounts of a law alliance member organisation) is decided by
`library_actions`. A later version keeps the member.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.alliances import library_project, vocab
from accord.alliances.library_kinds import MEMBER_CODE, refuse
from accord.members.models import Member
from accord.records import kinds
from accord.records.errors import Forbidden
from accord.response.refs import check_texts, pick

KIND = "legal_instrument"
STATUSES = ("in_force", "amended", "repealed", "draft")
TOPICS = (
    "ihr_implementing_law",
    "sanitary_epidemiological_law",
    "quarantine",
    "cross_border_data_sharing",
    "other",
)
Topic = Literal[
    "ihr_implementing_law", "sanitary_epidemiological_law", "quarantine", "cross_border_data_sharing", "other"
]


def check_link(value: str) -> str:
    """An http or https URL with a host, or nothing. Kept as text: it is never fetched."""
    value = value.strip()
    if not value:
        return ""
    if any(c.isspace() for c in value):
        raise ValueError("a link holds no spaces")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise ValueError(f"{value[:100]!r} is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("give an http:// or https:// address")
    return value


class InstrumentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(pattern=MEMBER_CODE)
    title: str = Field(min_length=1, max_length=1000)
    title_translations: dict[str, str] = Field(default_factory=dict, max_length=3)
    original_language: str = Field(min_length=2, max_length=8)
    adopted: str | None = Field(default=None, max_length=10)
    status: Literal["in_force", "amended", "repealed", "draft"]
    citation: str = Field(min_length=1, max_length=500)
    link: str = Field(default="", max_length=2000)
    summary: dict[str, str] = Field(default_factory=dict, max_length=3)
    topics: list[Topic] = Field(min_length=1, max_length=len(TOPICS))

    @field_validator("title", "citation")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty")
        return value.strip()

    @field_validator("title_translations")
    @classmethod
    def _translations(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 1000, required=False)

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 20_000, required=False)

    @field_validator("adopted")
    @classmethod
    def _adopted(cls, value: str | None) -> str | None:
        from datetime import date

        if value is None:
            return None
        try:
            if len(value) != 10:
                raise ValueError(value)
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("not a date (2024-05-01)") from None

    @field_validator("link")
    @classmethod
    def _link(cls, value: str) -> str:
        return check_link(value)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a topic twice")
        return value


def is_secretariat(code: str) -> bool:
    return Member.objects.filter(code=code, kind=Member.Kind.SECRETARIAT).exists()


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    member = Member.objects.filter(code=body["member"]).first()
    if member is None or member.kind != Member.Kind.STATE:
        raise refuse("member", f"{body['member']} is not a member state")
    vocab.check_language(body["original_language"], "original_language")
    if body["status"] != "draft" and not body.get("adopted"):
        raise refuse("adopted", "an instrument that is not a draft needs the date it was adopted")
    if body["member"] != author.member and not is_secretariat(author.member):
        raise Forbidden(
            f"member: an entry for {body['member']} is issued for {body['member']} or by the Secretariat, "
            f"not for {author.member or 'no member'}",
            field="member",
        )


def _follows(body: dict[str, Any], previous: dict[str, Any]) -> None:
    if body["member"] != previous.get("member"):
        raise refuse("member", f"the entry is {previous.get('member')}'s; an entry keeps its member")


def _search(body: dict[str, Any]) -> str:
    parts = [str(body.get("title") or ""), *dict(body.get("title_translations") or {}).values()]
    parts += [*dict(body.get("summary") or {}).values(), str(body.get("citation") or "")]
    return "\n".join(p for p in parts if p)


def _title(body: dict[str, Any]) -> str:
    return pick(body.get("title_translations"), "en") or str(body.get("title") or "")


INSTRUMENT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Legal instrument (register of the law alliance)"),
        body_model=InstrumentBody,
        title=_title,
        search_text=_search,
        publish_roles=frozenset({"expert", "focal_point", "coordinator"}),
        rules=_rules,
        follows=_follows,
        project=library_project.project_instrument,
        endpoint="POST /api/v1/legal-register",
        withdraw_endpoint="POST /api/v1/legal-register/{id}/withdraw",
        page="legal-instrument",
    )
)
