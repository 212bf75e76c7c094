"""Record kinds are pluggable: each names its body schema and how to show and search it.

Later apps (alerts, response, surveillance, alliances) register their own kinds in their
AppConfig.ready(). A version of a kind this node does not know is still stored and
forwarded as received (opaque), but cannot be created here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.records.errors import ActionError


@dataclass(frozen=True)
class RecordKind:
    name: str
    label: str | Promise
    body_model: type[BaseModel]
    title: Callable[[dict[str, Any]], str]
    search_text: Callable[[dict[str, Any]], str]
    publish_roles: frozenset[str] = field(default_factory=frozenset)
    # Called in the writing transaction when a version becomes its record's current one,
    # so a kind can keep its own query tables (projections) in step with the signed versions.
    project: Callable[[Any], None] | None = None

    def validate_body(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ActionError("body must be a JSON object", field="body")
        try:
            model = self.body_model.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ActionError(f"body.{where}: {first['msg']}", field="body") from None
        dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
        return dumped


_KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise RuntimeError(f"record kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> RecordKind | None:
    return _KINDS.get(name)


def require(name: str) -> RecordKind:
    kind = _KINDS.get(name)
    if kind is None:
        known = ", ".join(sorted(_KINDS))
        raise ActionError(f"unknown record kind {name!r}; this node knows: {known}", field="kind")
    return kind


def all_kinds() -> list[RecordKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


class NoteBody(BaseModel):
    """An information note: the simplest shared record, free text in one language."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(default="", max_length=50_000)
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


NOTE = register(
    RecordKind(
        name="note",
        label=_("Information note"),
        body_model=NoteBody,
        title=lambda body: str(body.get("title", "")),
        search_text=lambda body: f"{body.get('title', '')}\n{body.get('text', '')}",
        publish_roles=frozenset({"focal_point", "coordinator", "analyst", "expert", "admin"}),
    )
)
