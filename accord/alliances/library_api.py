"""The JSON API of the alliances' library: /api/v1/library (search), /api/v1/alliances/{slug}/documents (an
alliance's documents; add one with its files), /api/v1/documents/{id} (one document, its files, its withdrawal).
The legal register's routes are in `library_legal_api`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, ValidationError

from accord.alliances import library_actions, library_files, library_queries
from accord.alliances.library_queries import DocumentFilter
from accord.api import MAX_OFFSET, AudienceIn, Tlp, account_of, links_to, page_of, principal_of, require_write
from accord.records.envelope import parse_audience
from accord.records.errors import ActionError

library_router: Router = Router(tags=["library"])
alliance_router: Router = Router(tags=["library"])
documents_router: Router = Router(tags=["library"])

DocType = Literal["guideline", "protocol", "curriculum", "legal_instrument", "report"]
FILE_FIELDS = ("file", "files")


class DocumentFileOut(Schema):
    name: str
    media_type: str = Field(description="application/pdf, or the DOCX or XLSX type")
    size: int
    sha256: str
    url: str = Field(description="where to download it (for readers of the document only)")


class DocumentOut(Schema):
    id: UUID
    node: UUID
    seq: int
    alliance: str
    type: str
    title: dict[str, str] = Field(description="zh, ru, en: at least one")
    abstract: dict[str, str]
    tags: list[str]
    languages: list[str] = Field(description="the languages the document is written in")
    date: str = Field(description="a year, a month or a day: 2025, 2025-03, 2025-03-14")
    authors: str
    publisher: dict[str, str] = Field(description="the organisation that added it: slug and member")
    files: list[DocumentFileOut]
    state: str = Field(description="active, or withdrawn")
    reason: str = Field(description="why it was withdrawn")
    tlp: str
    audience: dict[str, Any]
    record_status: str
    updated_at: datetime


class DocumentPage(Schema):
    count: int = Field(description="how many documents match (that you may see)")
    items: list[DocumentOut]
    next_offset: int | None


class LibraryQuery(Schema):
    q: str | None = Field(default=None, max_length=200, description="words of titles and abstracts, zh/ru/en")
    alliance: str | None = Field(default=None, max_length=40)
    type: DocType | None = None
    tag: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=8, description="a language the document is written in")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class AllianceLibraryQuery(Schema):
    q: str | None = Field(default=None, max_length=200)
    type: DocType | None = None
    tag: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=8)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class DocumentIn(Schema):
    """A document's metadata: the JSON body, or the `metadata` part of a multipart upload."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "guideline",
                    "title": {"en": "Brucellosis in small ruminants", "ru": "Бруцеллёз мелкого рогатого скота"},
                    "abstract": {"ru": "Рекомендации по диагностике бруцеллёза у овец и коз."},
                    "tags": ["brucellosis", "One Health"],
                    "languages": ["ru", "en"],
                    "date": "2025-03",
                    "authors": "A. Demo, B. Demo",
                }
            ]
        },
    )

    type: DocType
    title: dict[str, str] = Field(description="zh, ru, en: at least one")
    abstract: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(min_length=1, max_length=10, description="codes: zh, ru, en, kk, ...")
    date: str = Field(description="a year, a month or a day")
    authors: str = Field(default="", max_length=2000)
    audience: AudienceIn | None = Field(default=None, description="default: everyone")
    tlp: Tlp | None = Field(default=None, description="default: GREEN")


class DocumentWithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def _metadata(request: HttpRequest) -> tuple[DocumentIn, list[library_files.Upload]]:
    """The metadata and the files of an upload (multipart: `metadata` and `file` parts), or of a JSON body."""
    content_type = (request.META.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    uploads: list[library_files.Upload] = []
    if content_type == "multipart/form-data":
        text = request.POST.get("metadata")
        if text is None:
            raise ActionError("metadata: send the document's metadata as a JSON part named metadata", field="metadata")
        for field in FILE_FIELDS:
            uploads += [library_files.Upload(f.name or "", f.read()) for f in request.FILES.getlist(field)]
        raw = text.encode("utf-8")
    elif content_type == "application/json" or content_type.endswith("+json"):
        raw = request.body
    else:
        raise ActionError("send multipart/form-data (metadata and files) or application/json", field="metadata")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ActionError("metadata: not valid JSON", field="metadata") from None
    try:
        return DocumentIn.model_validate(data), uploads
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "metadata"
        raise ActionError(f"{where}: {first['msg']}", field=where.split(".", 1)[0]) from None


def _inline(model: type[Schema]) -> dict[str, Any]:
    """A model's JSON Schema to inline in the document, its nested models referred to in the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "metadata": {"type": "string", "description": "the DocumentIn JSON object, as text"},
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "PDF, DOCX or XLSX files (by content), each within the size limit",
                        },
                    },
                }
            },
            "application/json": {"schema": _inline(DocumentIn)},
        },
    }
}


@library_router.get("", response=DocumentPage, summary="Search the library (documents you may see)")
def search_library(request: HttpRequest, filters: Query[LibraryQuery]) -> dict[str, Any]:
    where = DocumentFilter(
        q=filters.q, alliance=filters.alliance, type=filters.type, tag=filters.tag, language=filters.language
    )
    rows = library_queries.documents_for(principal_of(request), where)
    return page_of(rows, filters.limit, filters.offset, library_queries.document_out)


@alliance_router.get("/{slug}/documents", response=DocumentPage, summary="An alliance's library")
def alliance_documents(request: HttpRequest, slug: str, filters: Query[AllianceLibraryQuery]) -> dict[str, Any]:
    alliance = library_actions.alliance_of(slug)
    where = DocumentFilter(
        q=filters.q, alliance=alliance.slug, type=filters.type, tag=filters.tag, language=filters.language
    )
    rows = library_queries.documents_for(principal_of(request), where)
    return page_of(rows, filters.limit, filters.offset, library_queries.document_out)


@alliance_router.post(
    "/{slug}/documents",
    response={201: DocumentOut},
    summary="Add a document to an alliance's library, with its files",
    description=(
        "multipart/form-data with a `metadata` part (the DocumentIn object as JSON text) and `file` parts (PDF, "
        "DOCX or XLSX, recognised by their content, each at most the library's limit); or a JSON body for a document "
        "without files. A file of another type, or whose name does not end in its type's extension, is a 400 naming "
        "`file`; a file over the limit a 413 naming `file`; nothing is stored. By accounts that may act for the "
        "alliance (403 naming `alliance` otherwise)."
    ),
    openapi_extra={
        **UPLOAD_BODY,
        **links_to(201, "record_uuid", "accord_alliances_library_api_get_document", pointer="/id"),
    },
)
def add_document(request: HttpRequest, slug: str) -> Status[dict[str, Any]]:
    require_write(request)
    library_actions.may_add(slug, account_of(request))  # who may, before what they sent
    metadata, uploads = _metadata(request)
    version = library_actions.add_document(
        slug,
        acting_user=account_of(request),
        doc_type=metadata.type,
        title=metadata.title,
        abstract=metadata.abstract,
        tags=metadata.tags,
        languages=metadata.languages,
        date=metadata.date,
        authors=metadata.authors,
        files=uploads,
        audience=parse_audience(metadata.audience.plain()) if metadata.audience is not None else None,
        tlp=metadata.tlp,
    )
    record = library_queries.document_for(principal_of(request), version.record_uuid)
    return Status(201, library_queries.document_out(record))


@documents_router.get("/{uuid:record_uuid}", response=DocumentOut, summary="One document of the library")
def get_document(request: HttpRequest, record_uuid: UUID) -> dict[str, Any]:
    return library_queries.document_out(library_queries.document_for(principal_of(request), record_uuid))


@documents_router.get(
    "/{uuid:record_uuid}/files/{name}",
    summary="Download a file of a document (its readers only)",
    url_name="library-file",
    openapi_extra={
        "responses": {
            200: {
                "description": "the file, as an attachment, with the media type found in its content",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in (*library_files.EXTENSIONS, library_files.OCTET)
                },
            }
        }
    },
)
def download_file(request: HttpRequest, record_uuid: UUID, name: str) -> HttpResponse:
    response: HttpResponse = library_queries.download(principal_of(request), record_uuid, name)
    return response


@documents_router.post(
    "/{uuid:record_uuid}/withdraw",
    response=DocumentOut,
    summary="Withdraw a document (its organisation): no longer listed, its files no longer served",
)
def withdraw_document(request: HttpRequest, record_uuid: UUID, payload: DocumentWithdrawIn) -> dict[str, Any]:
    require_write(request)
    library_actions.withdraw_document(record_uuid, acting_user=account_of(request), reason=payload.reason)
    return library_queries.document_out(library_queries.document_for(principal_of(request), record_uuid))


def add_routers(api: Any) -> None:
    from accord.alliances import library_legal_api

    api.add_router("/library", library_router)
    api.add_router("/alliances", alliance_router)
    api.add_router("/documents", documents_router)
    library_legal_api.add_routers(api)
