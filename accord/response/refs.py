"""What every record of the response domain shares: a reference to another record by its identity, text in the
three languages, and the tie of a record to the incident it hangs from (`hang`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from accord.records.models import Record, Version
from accord.response.models import IncidentItem

LANGUAGES = ("zh", "ru", "en")
Language = Literal["zh", "ru", "en"]


class RecordRef(BaseModel):
    """Another record, by its identity: the node that issued it and its UUID."""

    model_config = ConfigDict(extra="forbid")

    node: uuid.UUID
    record: uuid.UUID


def ref_of(record: Record) -> dict[str, str]:
    return {"node": str(record.origin_node), "record": str(record.uuid)}


def check_texts(value: dict[str, str], max_length: int, *, required: bool) -> dict[str, str]:
    """Every language zh, ru or en; each text not blank and at most `max_length` characters; surrounding space
    dropped."""
    cleaned: dict[str, str] = {}
    for language, text in value.items():
        if language not in LANGUAGES:
            raise ValueError(f"{language!r} is not one of the languages {', '.join(LANGUAGES)}")
        stripped = text.strip()
        if not stripped:
            if required:
                raise ValueError(f"the {language} text is empty")
            continue
        if len(stripped) > max_length:
            raise ValueError(f"the {language} text is longer than {max_length} characters")
        cleaned[language] = stripped
    if required and not cleaned:
        raise ValueError("give the text in at least one of zh, ru, en")
    return cleaned


def pick(value: dict[str, str] | None, language: str | None = None) -> str:
    """The text in `language` (zh, ru, en), else in English, Russian, Chinese, whichever exists."""
    if not value:
        return ""
    wanted = (language or "en")[:2].lower()
    for candidate in (wanted, "en", "ru", "zh"):
        if value.get(candidate):
            return value[candidate]
    return next(iter(value.values()), "")


def signed_time(version: Version) -> datetime:
    """A version's signed `created_at` as a datetime (UTC)."""
    try:
        return datetime.fromisoformat(version.created_at.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return version.record.first_seen_at


def parse_ref(value: Any) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(node, record) of a reference in a body (`{"node", "record"}`); None for anything else (a received body of
    an unexpected shape)."""
    if not isinstance(value, dict):
        return None
    try:
        return uuid.UUID(str(value["node"])), uuid.UUID(str(value["record"]))
    except (KeyError, TypeError, ValueError):
        return None


def hang(version: Version, incident: Any) -> None:
    """Tie the record of `version` to the incident its body names (`{"node", "record"}`), for the timeline and the
    incident page. Every kind that hangs from an incident calls this from its projection (`RecordKind.project`)."""
    ref = parse_ref(incident)
    if ref is None:
        IncidentItem.objects.filter(record_id=version.record_id).delete()
        return
    node, record = ref
    IncidentItem.objects.update_or_create(
        record_id=version.record_id,
        defaults={
            "incident_node": node,
            "incident_record": record,
            "kind": version.kind,
            "active": version.state == "active",
        },
    )
