"""The files of the library's documents: PDF, DOCX and XLSX only, recognised by their content, within a size limit,
and served only as downloads.

A file's type is what its bytes are, never its name or the media type its sender declared: a PDF starts with
`%PDF-`; a DOCX or an XLSX is a ZIP archive (Office Open XML) whose directory holds `[Content_Types].xml` and the
parts of a Word document (`word/...`) or of an Excel workbook (`xl/...`), not both. Only the archive's
central directory is read (`accord.lib.safezip.check_directory`, which also refuses an archive that declares more
parts or bytes than allowed); nothing is inflated. The name must end in the extension of that type, so that what a
reader saves is what it says it is (a PDF named `.docx` is refused, and so is an HTML page named `.pdf`).

The limit is `ACCORD_LIBRARY_MAX_BYTES` (default 20 MiB), and never more than `ACCORD_MAX_BODY_BYTES`, the record
core's limit for any attachment, which is also what peers accept: the smaller of the two applies.

Downloads are answered with the type found in the bytes again (a version received from a peer says what it likes
in its descriptor), `Content-Disposition: attachment` and `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from accord.lib import safezip
from accord.records.actions import NewAttachment
from accord.records.errors import ActionError, TooLarge
from accord.web.middleware import allow_large_bodies

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OCTET = "application/octet-stream"
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx"}
TYPE_NAMES = {PDF: "PDF", DOCX: "DOCX", XLSX: "XLSX"}
MAX_FILES = 10
MAX_NAME = 200
# What the central directory of an Office document may declare (nothing is inflated here; these refuse archives
# that no word processor or spreadsheet would write).
ZIP_LIMITS = safezip.ZipLimits(
    max_parts=2000, max_part_bytes=512 * 1_048_576, max_total_bytes=1024 * 1_048_576, max_ratio=1000
)


def max_bytes() -> int:
    """The largest file a document may attach: the library's limit, within the record core's."""
    return int(min(settings.ACCORD_LIBRARY_MAX_BYTES, settings.ACCORD_MAX_BODY_BYTES))


def upload_limit() -> int:
    """The largest request body an upload may send (the middleware's door): room for a file a little over the limit
    and the metadata, so that the view, not the door, answers and names the field at fault."""
    return 2 * max_bytes() + 1_048_576


def sniff(data: bytes) -> str | None:
    """The media type of `data` by its content (PDF, DOCX or XLSX), or None for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        infos = safezip.check_directory(data, ZIP_LIMITS)
    except safezip.ArchiveLimit:
        return None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        return None
    word = any(name.startswith("word/") for name in names)
    excel = any(name.startswith("xl/") for name in names)
    if word and not excel:
        return DOCX
    if excel and not word:
        return XLSX
    return None


def clean_name(raw: str, field: str = "file") -> str:
    """A file's name as stored: its last path component, NFC, without control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name or name in (".", ".."):
        raise ActionError(f"{field}: the file has no name", field=field)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise ActionError(f"{field}: the file name {name!r} holds control or unassigned characters", field=field)
    if len(name) > MAX_NAME:
        raise ActionError(f"{field}: the file name is longer than {MAX_NAME} characters", field=field)
    return name


@dataclass(frozen=True)
class Upload:
    """A file as received: the name its sender gave, and its bytes."""

    name: str
    data: bytes


def check(uploads: list[Upload], field: str = "file") -> list[NewAttachment]:
    """The files as the record core stores them, each checked (type by content, name, size); refused with a 4xx
    naming `field` otherwise (413 for a file over the limit)."""
    if len(uploads) > MAX_FILES:
        raise ActionError(f"{field}: a document has at most {MAX_FILES} files", field=field)
    limit = max_bytes()
    found: list[NewAttachment] = []
    names: set[str] = set()
    for upload in uploads:
        name = clean_name(upload.name, field)
        if len(upload.data) > limit:
            error = TooLarge(
                f"{field}: {name} is {len(upload.data)} bytes; a file of the library may have at most {limit} bytes",
                field=field,
            )
            raise error
        if not upload.data:
            raise ActionError(f"{field}: {name} is empty", field=field)
        media = sniff(upload.data)
        if media is None:
            raise ActionError(
                f"{field}: {name} is not a PDF, DOCX or XLSX file by its content; the library takes only those",
                field=field,
            )
        extension = EXTENSIONS[media]
        if not name.lower().endswith(extension):
            raise ActionError(
                f"{field}: {name} is a {TYPE_NAMES[media]} file by its content; its name must end in {extension}",
                field=field,
            )
        if name.casefold() in names:
            raise ActionError(f"{field}: two files are named {name}", field=field)
        names.add(name.casefold())
        found.append(NewAttachment(name=name, media_type=media, data=upload.data))
    return found


def download(name: str, data: bytes, sha256: str) -> HttpResponse:
    """A file as a download: the type found in its bytes (else application/octet-stream), never shown inline."""
    media = sniff(data) or OCTET
    response = HttpResponse(data, content_type=media)
    response["Content-Disposition"] = content_disposition_header(True, name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["Digest"] = "sha-256=" + base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    return response


# An upload's body may exceed ACCORD_MAX_BODY_BYTES a little (up to `upload_limit`): the view, not the door, refuses
# an oversized file, naming the field. Registered when the record kinds are (the app's ready()), before any request.
allow_large_bodies(r"/api/v1/alliances/[^/]+/documents", upload_limit)
allow_large_bodies(r"/library/new/", upload_limit)
