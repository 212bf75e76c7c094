"""What the library's tests share: files of each kind (real PDF, DOCX and XLSX, and impostors), the people who may
and may not add to the library or the legal register, and helpers to upload through the API.

On top of the shared world (tests/conftest.py):

li      expert,      CN demo medical university, on the medicine alliance's council
lev     expert,      RU university on no council (may not add to any library)
lena    viewer,      CN demo medical university (may not write at all)
ruslan  expert,      RU law university, on the law alliance's council (writes RU entries of the legal register)
kamila  focal point, KZ ministry of health is carol (tests/conftest.py); kamila is an expert of the KZ agrarian
        university, on the agriculture alliance's council
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from accord.alliances.library_pdf import minimal_pdf
from accord.alliances.models import Alliance
from accord.members import actions as member_actions
from accord.members.models import Account, Organisation
from tests.conftest import PASSWORD, World

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pdf_bytes(text: str = "A demo guideline") -> bytes:
    return minimal_pdf([text])


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx_bytes() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document xmlns:w='urn:demo'><w:body/></w:document>",
        }
    )


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["member", "cases"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    """A ZIP archive that is neither a DOCX nor an XLSX."""
    return _zip({"notes.txt": b"just a note", "data.csv": b"a,b\n1,2\n"})


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@dataclass
class Shelf:
    world: World
    li: Account
    lev: Account
    lena: Account
    ruslan: Account
    kamila: Account
    cn_uni: Organisation
    ru_law: Organisation


def _org(member: str, slug: str, kind: str, alliance: str | None) -> Organisation:
    organisation = member_actions.create_organisation(
        member_code=member, slug=slug, kind=kind, name_en=slug, acting_user=None
    )
    if alliance is not None:
        Alliance.objects.get(slug=alliance).council.add(organisation)
    return organisation


def _account(username: str, organisation: Organisation, role: str) -> Account:
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=[role],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture
def shelf(world: World) -> Shelf:
    cn_uni = _org("CN", "cn-uni", "university", "medicine")
    ru_uni = _org("RU", "ru-uni", "university", None)
    ru_law = _org("RU", "ru-law", "university", "law")
    kz_agri = _org("KZ", "kz-agri", "university", "agriculture")
    return Shelf(
        world=world,
        li=_account("li", cn_uni, "expert"),
        lev=_account("lev", ru_uni, "expert"),
        lena=_account("lena", cn_uni, "viewer"),
        ruslan=_account("ruslan", ru_law, "expert"),
        kamila=_account("kamila", kz_agri, "expert"),
        cn_uni=cn_uni,
        ru_law=ru_law,
    )


def token_client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def metadata(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": "guideline",
        "title": {"en": "Laboratory diagnosis of brucellosis", "ru": "Лабораторная диагностика бруцеллёза"},
        "abstract": {"ru": "Рекомендации по лабораторной диагностике бруцеллёза у людей и животных."},
        "tags": ["brucellosis", "One Health"],
        "languages": ["ru", "en"],
        "date": "2025-03",
        "authors": "A. Demo, B. Demo",
    }
    found.update(changes)
    return found


def upload(client: Client, slug: str, meta: dict[str, Any], files: list[tuple[str, bytes]]) -> Any:
    """POST a document with its files as multipart/form-data (`metadata` and `file` parts)."""
    parts: dict[str, Any] = {"metadata": json.dumps(meta)}
    handles = []
    for name, data in files:
        handle = io.BytesIO(data)
        handle.name = name
        handles.append(handle)
    if handles:
        parts["file"] = handles
    return client.post(f"/api/v1/alliances/{slug}/documents", parts)
