"""The signed envelope of a version: its shape, the audience and TLP rules, and (de)serialisation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.lib.canonical import CanonicalError, canonical_bytes, content_hash
from accord.records.errors import ActionError

ENVELOPE_VERSION = 1
STATUSES = ("actual", "exercise", "test", "draft")
STATES = ("active", "withdrawn")
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
TlpLabel = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
StatusName = Literal["actual", "exercise", "test", "draft"]


class Audience(BaseModel):
    """Who may see a version, before TLP narrows it further."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    everyone: bool = False
    members: list[str] = Field(default_factory=list, max_length=300)
    organisations: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    persons: list[uuid.UUID] = Field(default_factory=list, max_length=1000)

    @field_validator("members")
    @classmethod
    def _member_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 8 and code.isascii() and code.isalnum() and code.upper() == code):
                raise ValueError(f"{code!r} is not a member code (ISO 3166 alpha-2 in capitals, or SCO)")
        return value

    def canonical(self) -> dict[str, Any]:
        return {
            "everyone": self.everyone,
            "members": sorted(set(self.members)),
            "organisations": sorted({str(o) for o in self.organisations}),
            "persons": sorted({str(p) for p in self.persons}),
        }

    def targets(self) -> list[str]:
        c = self.canonical()
        return (
            [f"member:{m}" for m in c["members"]]
            + [f"org:{o}" for o in c["organisations"]]
            + [f"person:{p}" for p in c["persons"]]
        )

    def check_against(self, tlp: str) -> None:
        """Refuse combinations whose meaning would be unclear (design brief §2.7)."""
        if tlp not in TLPS:
            raise ActionError(f"tlp {tlp!r} is not one of {', '.join(TLPS)}", field="tlp")
        named = bool(self.members or self.organisations or self.persons)
        if self.everyone and named:
            raise ActionError("an audience of everyone names no members, organisations or persons", field="audience")
        if not self.everyone and not named:
            raise ActionError(
                "the audience names nobody: set everyone, or name members, organisations or persons", field="audience"
            )
        if tlp in ("AMBER", "AMBER+STRICT", "RED") and self.everyone:
            raise ActionError(f"TLP:{tlp} needs a named audience, not everyone", field="audience")
        if tlp == "AMBER+STRICT" and self.members:
            raise ActionError(
                "TLP:AMBER+STRICT is limited to named organisations and persons, not whole members", field="audience"
            )
        if tlp == "RED" and (self.members or self.organisations):
            raise ActionError("TLP:RED is limited to named persons", field="audience")


def parse_audience(raw: Any) -> Audience:
    try:
        return Audience.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ActionError(f"audience{'.' + where if where else ''}: {first['msg']}", field="audience") from None


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_envelope(
    *,
    kind: str,
    origin: dict[str, str | None],
    record: uuid.UUID,
    seq: int,
    prev_hash: str | None,
    status: str,
    state: str,
    audience: Audience,
    tlp: str,
    body: dict[str, Any],
    attachments: list[dict[str, Any]],
    created_at: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "v": ENVELOPE_VERSION,
        "kind": kind,
        "origin": origin,
        "record": str(record),
        "seq": seq,
        "prev_hash": prev_hash,
        "created_at": created_at or now_rfc3339(),
        "status": status,
        "state": state,
        "reason": reason,
        "audience": audience.canonical(),
        "tlp": tlp,
        "body": body,
        "attachments": attachments,
    }


def encode(envelope: dict[str, Any]) -> tuple[bytes, str]:
    """The canonical bytes of an envelope and their content hash."""
    try:
        data = canonical_bytes(envelope)
    except CanonicalError as error:
        raise ActionError(str(error), field="body") from None
    return data, content_hash(data)


class EnvelopeShape(BaseModel):
    """What a received envelope must look like before we look any further."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1]
    kind: str = Field(min_length=1, max_length=40)
    origin: dict[str, str | None]
    record: uuid.UUID
    seq: int = Field(ge=1)
    prev_hash: str | None
    created_at: str = Field(max_length=40)
    status: StatusName
    state: Literal["active", "withdrawn"]
    reason: str | None = Field(max_length=2000)
    audience: Audience
    tlp: TlpLabel
    body: dict[str, Any]
    attachments: list[dict[str, Any]]


def decode(data: bytes) -> EnvelopeShape:
    """Parse received canonical bytes; refuse anything that is not exactly canonical."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ActionError("the version is not JSON") from None
    try:
        shape = EnvelopeShape.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ActionError(f"envelope field {where}: {first['msg']}") from None
    if canonical_bytes(raw) != data:
        raise ActionError("the version is not in RFC 8785 canonical form")
    if "node" not in shape.origin or shape.origin.get("node") is None:
        raise ActionError("envelope field origin.node is missing")
    if (shape.seq == 1) != (shape.prev_hash is None):
        raise ActionError("prev_hash must be null exactly when seq is 1")
    return shape
