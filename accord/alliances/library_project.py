"""The projections of library documents and legal register entries: called by the record core in the writing
transaction whenever a version becomes its record's current one, here or received from a peer, so that every node
that holds the same versions has the same rows."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from accord.records.models import Version
from accord.response.refs import pick, signed_time

logger = logging.getLogger("accord.alliances")


def joined(values: list[str]) -> str:
    """ ",a,b,": a list as a column that a filter matches by whole entries."""
    return "," + ",".join(values) + "," if values else ""


def start_of(text: str) -> date:
    """The first day of a document's date (2025 -> 2025-01-01, 2025-03 -> 2025-03-01)."""
    parts = [int(p) for p in text.split("-")]
    return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def project_document(version: Version) -> None:
    from accord.alliances.library_models import LibraryDocumentView

    body = version.body
    try:
        publisher = dict(body["publisher"])
        values: dict[str, Any] = {
            "version": version,
            "alliance": str(body["alliance"])[:40],
            "doc_type": str(body["type"])[:20],
            "title": pick(body["title"], "en")[:500],
            "tags": joined([str(t).lower() for t in body.get("tags") or []])[:2000],
            "languages": joined([str(c) for c in body["languages"]])[:200],
            "date": str(body["date"])[:10],
            "dated": start_of(str(body["date"])),
            "member": str(publisher["member"])[:8],
            "organisation": str(publisher["slug"])[:80],
            "files": len(version.envelope()["attachments"]),
            "active": version.state == "active",
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("library document %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        LibraryDocumentView.objects.filter(record_id=version.record_id).delete()
        return
    LibraryDocumentView.objects.update_or_create(record_id=version.record_id, defaults=values)


def project_instrument(version: Version) -> None:
    from accord.alliances.library_models import LegalInstrumentView

    body = version.body
    try:
        adopted = body.get("adopted")
        values: dict[str, Any] = {
            "version": version,
            "member": str(body["member"])[:8],
            "status": str(body["status"])[:10],
            "topics": joined([str(t) for t in body["topics"]])[:200],
            "original_language": str(body["original_language"])[:8],
            "adopted": date.fromisoformat(str(adopted)) if adopted else None,
            "title": str(body["title"])[:1000],
            "active": version.state == "active",
            "updated_at": signed_time(version),
        }
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("legal instrument %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        LegalInstrumentView.objects.filter(record_id=version.record_id).delete()
        return
    LegalInstrumentView.objects.update_or_create(record_id=version.record_id, defaults=values)
