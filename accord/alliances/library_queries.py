"""The read side of the library and of the legal register, always through the record core's audience filter: a
document or an entry a reader may not see is in no list, count or search of theirs, and reading it is the same 404
as for one that does not exist.

Search is the record core's (`accord.records.search`): titles and abstracts in zh, ru and en (with tags and
authors) are a record's search document; Russian and English words are matched by their Snowball stems, Chinese by
character bigrams (any two or more characters of a title find it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from accord.alliances import library_files
from accord.alliances.library_kinds import KIND as DOCUMENT_KIND
from accord.alliances.library_legal_kind import KIND as INSTRUMENT_KIND
from accord.alliances.library_legal_kind import TOPICS
from accord.records import attachments as attachment_store
from accord.records import search
from accord.records.errors import NotFound
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import signed_time

NO_SUCH_FILE = "no such file"


@dataclass(frozen=True)
class DocumentFilter:
    q: str | None = None
    alliance: str | None = None
    type: str | None = None
    tag: str | None = None
    language: str | None = None


def documents_for(principal: Principal, where: DocumentFilter | None = None) -> QuerySet[Record]:
    """The documents `principal` may see (not withdrawn) that match, newest date first."""
    w = where or DocumentFilter()
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=DOCUMENT_KIND, library_document__active=True)
        .select_related("current_version", "library_document")
    )
    if w.alliance:
        rows = rows.filter(library_document__alliance=w.alliance)
    if w.type:
        rows = rows.filter(library_document__doc_type=w.type)
    if w.tag and w.tag.strip():
        rows = rows.filter(library_document__tags__contains="," + " ".join(w.tag.split()).lower() + ",")
    if w.language:
        rows = rows.filter(library_document__languages__contains=f",{w.language},")
    if w.q and w.q.strip():
        rows = rows.filter(search.matching(w.q))
    return rows.order_by("-library_document__dated", "-pk")


def document_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """One document `principal` may see, withdrawn or not; otherwise the 404 of none at all."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound("no such document") from None
    record = (
        Record.objects.visible_to(principal)
        .filter(kind=DOCUMENT_KIND, uuid=key, library_document__isnull=False)
        .select_related("current_version", "library_document")
        .first()
    )
    if record is None:
        raise NotFound("no such document")
    return record


def files_of(record: Record) -> list[dict[str, Any]]:
    version = record.current_version
    assert version is not None
    return [
        {
            "name": str(item["name"]),
            "media_type": str(item["media_type"]),
            "size": int(item["size"]),
            "sha256": str(item["sha256"]),
            "url": reverse("api:library-file", args=[record.uuid, item["name"]]),
        }
        for item in version.envelope()["attachments"]
    ]


def document_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    envelope = version.envelope()
    body = envelope["body"]
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "alliance": body["alliance"],
        "type": body["type"],
        "title": body["title"],
        "abstract": body.get("abstract") or {},
        "tags": body.get("tags") or [],
        "languages": body["languages"],
        "date": body["date"],
        "authors": body.get("authors") or "",
        "publisher": body["publisher"],
        "files": files_of(record),
        "state": version.state,
        "reason": envelope.get("reason") or "",
        "tlp": version.tlp,
        "audience": envelope["audience"],
        "record_status": version.status,
        "updated_at": signed_time(version),
    }


def file_of(principal: Principal, record_uuid: uuid.UUID | str, name: str) -> tuple[str, bytes, str]:
    """(name, bytes, sha256) of a file of a document `principal` may see and that is not withdrawn; 404 otherwise."""
    record = document_for(principal, record_uuid)
    version = record.current_version
    assert version is not None
    if version.state != "active":
        raise NotFound("this document is withdrawn; its files are no longer served")
    for item in version.envelope()["attachments"]:
        if item["name"] == name:
            try:
                data = attachment_store.read_bytes(str(item["sha256"]))
            except OSError:
                raise NotFound("the file is not held on this node") from None
            return str(item["name"]), data, str(item["sha256"])
    raise NotFound(NO_SUCH_FILE)


def download(principal: Principal, record_uuid: uuid.UUID | str, name: str) -> Any:
    found_name, data, sha256 = file_of(principal, record_uuid, name)
    return library_files.download(found_name, data, sha256)


# ---- the legal register -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentFilter:
    member: str | None = None
    topic: str | None = None
    status: str | None = None
    q: str | None = None


def instruments_for(principal: Principal, where: InstrumentFilter | None = None) -> QuerySet[Record]:
    """The register's entries `principal` may see (not withdrawn), by member, then newest adopted first."""
    w = where or InstrumentFilter()
    rows = (
        Record.objects.visible_to(principal)
        .filter(kind=INSTRUMENT_KIND, legal_instrument__active=True)
        .select_related("current_version", "legal_instrument")
    )
    if w.member:
        rows = rows.filter(legal_instrument__member=w.member)
    if w.topic:
        rows = rows.filter(legal_instrument__topics__contains=f",{w.topic},")
    if w.status:
        rows = rows.filter(legal_instrument__status=w.status)
    if w.q and w.q.strip():
        rows = rows.filter(search.matching(w.q))
    return rows.order_by("legal_instrument__member", "-legal_instrument__adopted", "-pk")


def instrument_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound("no such entry of the legal register") from None
    record = (
        Record.objects.visible_to(principal)
        .filter(kind=INSTRUMENT_KIND, uuid=key, legal_instrument__isnull=False)
        .select_related("current_version", "legal_instrument")
        .first()
    )
    if record is None:
        raise NotFound("no such entry of the legal register")
    return record


def instrument_out(record: Record) -> dict[str, Any]:
    version = record.current_version
    assert version is not None
    envelope = version.envelope()
    body = envelope["body"]
    return {
        "id": record.uuid,
        "node": record.origin_node,
        "seq": version.seq,
        "member": body["member"],
        "title": body["title"],
        "title_translations": body.get("title_translations") or {},
        "original_language": body["original_language"],
        "adopted": body.get("adopted"),
        "status": body["status"],
        "citation": body["citation"],
        "link": body.get("link") or "",
        "summary": body.get("summary") or {},
        "topics": body["topics"],
        "state": version.state,
        "reason": envelope.get("reason") or "",
        "tlp": version.tlp,
        "audience": envelope["audience"],
        "record_status": version.status,
        "updated_at": signed_time(version),
    }


@dataclass(frozen=True)
class Comparison:
    """The register as a table: a row per topic, a column per member, each cell the entries of that member on that
    topic (as `principal` may see them)."""

    members: list[str]
    rows: list[tuple[str, list[list[Record]]]]


def compare(principal: Principal, members: list[str] | None = None) -> Comparison:
    entries = [(e, e.legal_instrument) for e in instruments_for(principal)]
    shown = members if members is not None else sorted({view.member for _, view in entries})
    rows: list[tuple[str, list[list[Record]]]] = []
    for topic in TOPICS:
        cells = [
            [e for e, view in entries if view.member == member and f",{topic}," in view.topics] for member in shown
        ]
        rows.append((topic, cells))
    return Comparison(members=shown, rows=rows)
