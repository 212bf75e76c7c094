"""The record kinds of the alliances' library: `library_document` (here) and the law alliance's `legal_instrument`
(`library_legal_kind`, registered when this module is imported).

A **library document** belongs to one alliance (`alliance`, a seeded slug) and has a `type` (guideline, protocol,
curriculum, legal instrument, report), a title in at least one of zh, ru, en and an abstract in any of them, tags
(short texts), the languages the document is written in (codes of the roster's vocabulary), a date (a year, a month
or a day) and its authors as text. `publisher` is the organisation that adds it ({slug, member}: organisations are
named across nodes by slug and member), and the document speaks for that member. Its files are the version's
attachments (PDF, DOCX or XLSX: `library_files`); the body does not list them.

Every rule here is checked on every write path, versions received from peers included. Who may add a document for an
alliance (an account that may act for it) is decided where the account is known: by `library_actions` on the node
that issues it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.alliances import library_project, vocab
from accord.alliances.seed import SLUGS
from accord.records import kinds
from accord.records.errors import ActionError
from accord.response.refs import check_texts, pick

KIND = "library_document"
TYPES = ("guideline", "protocol", "curriculum", "legal_instrument", "report")
MEMBER_CODE = r"^[A-Z0-9]{2,8}$"
MAX_TAGS = 20
MAX_TAG = 40
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def refuse(field: str, message: str) -> ActionError:
    """A broken rule, naming the field at fault (the API answers 400 with that field)."""
    return ActionError(f"{field}: {message}", field=field)


class Publisher(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(min_length=1, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")
    member: str = Field(pattern=MEMBER_CODE)


def check_date(value: str) -> str:
    """A year (2025), a month (2025-03) or a day (2025-03-14) that exists."""
    from datetime import date

    if not _DATE.fullmatch(value):
        raise ValueError("not a year (2025), a month (2025-03) or a date (2025-03-14)")
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise ValueError(f"{value} is not a date of the calendar") from None
    if parts[0] < 1800:
        raise ValueError("is before 1800")
    return value


def clean_tags(value: list[str]) -> list[str]:
    """Tags stripped, inner spaces collapsed, each 1-40 characters without commas, none twice (ignoring case)."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in value:
        tag = " ".join(raw.split())
        if not tag:
            raise ValueError("a tag is empty")
        if len(tag) > MAX_TAG:
            raise ValueError(f"the tag {tag[:50]!r} is longer than {MAX_TAG} characters")
        if "," in tag:
            raise ValueError(f"the tag {tag!r} holds a comma; give each tag on its own")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            cleaned.append(tag)
    return cleaned


class DocumentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance: str = Field(min_length=1, max_length=40)
    type: Literal["guideline", "protocol", "curriculum", "legal_instrument", "report"]
    title: dict[str, str] = Field(min_length=1, max_length=3)
    abstract: dict[str, str] = Field(default_factory=dict, max_length=3)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    languages: list[str] = Field(min_length=1, max_length=10)
    date: str = Field(max_length=10)
    authors: str = Field(default="", max_length=2000)
    publisher: Publisher

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 500, required=True)

    @field_validator("abstract")
    @classmethod
    def _abstract(cls, value: dict[str, str]) -> dict[str, str]:
        return check_texts(value, 20_000, required=False)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return clean_tags(value)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a language twice")
        return value

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        return check_date(value)

    @field_validator("authors")
    @classmethod
    def _authors(cls, value: str) -> str:
        return value.strip()


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["alliance"] not in SLUGS:
        raise refuse("alliance", f"{body['alliance']!r} is not an alliance ({', '.join(SLUGS)})")
    for code in body["languages"]:
        vocab.check_language(code, "languages")


def _search(body: dict[str, Any]) -> str:
    """What a document is found by: its titles and abstracts in every language, its tags and its authors."""
    parts = [*dict(body.get("title") or {}).values(), *dict(body.get("abstract") or {}).values()]
    parts += [", ".join(str(t) for t in body.get("tags") or []), str(body.get("authors") or "")]
    return "\n".join(p for p in parts if p)


DOCUMENT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Library document"),
        body_model=DocumentBody,
        title=lambda body: pick(body.get("title"), "en"),
        search_text=_search,
        publish_roles=frozenset({"expert", "focal_point", "coordinator"}),
        speaks_for=lambda body: str((body.get("publisher") or {}).get("member") or "") or None,
        rules=_rules,
        project=library_project.project_document,
        endpoint="POST /api/v1/alliances/{slug}/documents",
        withdraw_endpoint="POST /api/v1/documents/{id}/withdraw",
        page="library-document",
    )
)

# They register themselves: the legal register's kind, the alliance page's sections, the upload paths' body limit.
from accord.alliances import library_files, library_legal_kind, library_sections  # noqa: E402, F401
