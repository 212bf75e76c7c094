"""The library's pages with the Django test client (both databases): search, a document's page and its downloads,
the add form (a refused file shown on its field), the legal register with its comparison by topic and its forms, in
zh, ru and en; only what the reader may see."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from accord.alliances import library_actions, library_files
from accord.records.envelope import Audience
from accord.records.models import Record
from tests.alliances.library_support import HTML, Shelf, pdf_bytes, shelf
from tests.conftest import client_for

__all__ = ["shelf"]


def _document(shelf: Shelf, **changes: Any) -> str:
    values: dict[str, Any] = {
        "doc_type": "protocol",
        "title": {"en": "Rabies post-exposure protocol", "ru": "Протокол постэкспозиционной профилактики бешенства"},
        "abstract": {"ru": "Порядок действий после укусов животных."},
        "languages": ["ru", "en"],
        "date": "2024-11",
        "files": [library_files.Upload("rabies.pdf", pdf_bytes("Rabies"))],
    }
    values.update(changes)
    version = library_actions.add_document("medicine", acting_user=shelf.li, **values)
    return str(version.record_uuid)


def _file(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_the_search_page_finds_what_the_reader_may_see(shelf: Shelf, language: str) -> None:
    shown = _document(shelf)
    hidden = _document(shelf, title={"en": "Rabies in CN only"}, audience=Audience(members=["CN"]), tlp="AMBER")
    carol = client_for(shelf.world.carol)
    carol.cookies["django_language"] = language
    page = carol.get("/library/", {"q": "бешенство"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/library/{shown}/" in html and f"/library/{hidden}/" not in html
    assert 'id="library-count"' in html and ">1 " in html.split('id="library-count"')[1][:80]
    assert carol.get(f"/library/{hidden}/").status_code == 404
    assert carol.get(f"/library/{hidden}/files/rabies.pdf").status_code == 404
    nothing = carol.get("/library/", {"q": "cholera"}).content.decode()
    assert f"/library/{shown}/" not in nothing


def test_the_document_page_and_its_download(shelf: Shelf) -> None:
    document = _document(shelf, tags=["rabies", "One Health"])
    carol = client_for(shelf.world.carol)
    page = carol.get(f"/library/{document}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Протокол постэкспозиционной профилактики бешенства" in html and "Порядок действий" in html
    assert f'href="/library/{document}/files/rabies.pdf"' in html
    assert "Withdraw the document" not in html  # carol's organisation did not add it
    download = carol.get(f"/library/{document}/files/rabies.pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    li = client_for(shelf.li)
    assert "Withdraw the document" in li.get(f"/library/{document}/").content.decode()
    refused = li.post(f"/library/{document}/withdraw/", {"reason": ""})
    assert refused.status_code == 400 and 'id="reason-error"' in refused.content.decode()
    done = li.post(f"/library/{document}/withdraw/", {"reason": "superseded"})
    assert done.status_code == 302
    assert "superseded" in li.get(f"/library/{document}/").content.decode()
    assert li.get(f"/library/{document}/files/rabies.pdf").status_code == 404


def _post(client: Client, files: list[io.BytesIO], **changes: Any) -> Any:
    data: dict[str, Any] = {
        "alliance": "medicine",
        "type": "guideline",
        "title_en": "Anthrax in livestock",
        "title_ru": "Сибирская язва у скота",
        "abstract_ru": "Меры контроля сибирской язвы у сельскохозяйственных животных.",
        "tags": "anthrax, One Health",
        "languages": ["ru", "en"],
        "date": "2025",
        "authors": "Demo",
        "audience": "everyone",
        "tlp": "GREEN",
        "file": files,
    }
    data.update(changes)
    return client.post("/library/new/", data)


def test_the_add_form_adds_a_document_with_its_file(shelf: Shelf) -> None:
    li = client_for(shelf.li)
    form = li.get("/library/new/?alliance=medicine")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()
    answer = _post(li, [_file("anthrax.pdf", pdf_bytes("Anthrax"))])
    assert answer.status_code == 302, answer.content.decode()[:2000]
    record = Record.objects.get(kind="library_document")
    assert answer["Location"] == f"/library/{record.uuid}/"
    body = record.current_version.body  # type: ignore[union-attr]
    assert body["tags"] == ["anthrax", "One Health"] and body["title"]["ru"] == "Сибирская язва у скота"
    found = li.get("/library/", {"q": "язвы"}).content.decode()
    assert f"/library/{record.uuid}/" in found


def test_a_refused_file_is_shown_on_its_field(shelf: Shelf) -> None:
    li = client_for(shelf.li)
    answer = _post(li, [_file("page.pdf", HTML)])
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="file-error"' in html and "not a PDF, DOCX or XLSX" in html
    assert 'aria-invalid="true" aria-describedby="file-error"' in html
    assert 'value="Anthrax in livestock"' in html  # what was typed stays
    assert not Record.objects.filter(kind="library_document").exists()
    answer = _post(li, [_file("a.pdf", pdf_bytes())], title_en="", title_ru="", languages=[], date="")
    html = answer.content.decode()
    assert answer.status_code == 400
    assert 'id="title-error"' in html and 'id="languages-error"' in html and 'id="date-error"' in html


def test_a_file_over_the_limit_is_shown_on_its_field(shelf: Shelf, settings: Any) -> None:
    settings.ACCORD_LIBRARY_MAX_BYTES = 2048
    answer = _post(client_for(shelf.li), [_file("big.pdf", pdf_bytes("z" * 4000))])
    assert answer.status_code == 413
    assert 'id="file-error"' in answer.content.decode()
    assert not Record.objects.filter(kind="library_document").exists()


def test_who_gets_the_add_form(shelf: Shelf) -> None:
    assert client_for(shelf.lev).get("/library/new/").status_code == 403
    assert client_for(shelf.lena).get("/library/new/").status_code == 403
    assert client_for(shelf.world.sam).get("/library/new/").status_code == 200
    assert 'id="library-add"' not in client_for(shelf.lev).get("/library/").content.decode()
    assert 'id="library-add"' in client_for(shelf.li).get("/library/").content.decode()
    refused = _post(client_for(shelf.li), [_file("a.pdf", pdf_bytes())], alliance="law")
    assert refused.status_code == 403 and 'id="alliance-error"' in refused.content.decode()


def _entry(shelf: Shelf, member: str = "RU", **changes: Any) -> str:
    body: dict[str, Any] = {
        "member": member,
        "title": "Федеральный закон о санитарно-эпидемиологическом благополучии (демо)",
        "title_translations": {"en": "Sanitary-epidemiological welfare law (demo)"},
        "original_language": "ru",
        "adopted": "1999-03-30",
        "status": "in_force",
        "citation": "Demo RU-52",
        "topics": ["sanitary_epidemiological_law"],
    }
    body.update(changes)
    account = shelf.ruslan if member == "RU" else shelf.world.sam
    return str(library_actions.add_instrument(body, acting_user=account).record_uuid)


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_the_register_compares_members_by_topic(shelf: Shelf, language: str) -> None:
    ru = _entry(shelf)
    kz = _entry(shelf, "KZ", title="Қазақстан карантин заңы (демо)", original_language="kk", topics=["quarantine"])
    hidden = _entry(shelf, "CN", title="CN only", original_language="zh", topics=["quarantine"])
    library_actions.withdraw_instrument(hidden, acting_user=shelf.world.sam, reason="demo")
    carol = client_for(shelf.world.carol)
    carol.cookies["django_language"] = language
    html = carol.get("/legal-register/").content.decode()
    table = html.split('class="records legal-compare"')[1].split("</table>")[0]
    rows = {row.split('class="topic-')[1].split('"')[0]: row for row in table.split("<tr")[2:]}
    cells = rows["sanitary_epidemiological_law"].split("<td>")[1:]
    members = [h.split(">")[1].split("<")[0] for h in table.split("<abbr")[1:]]
    assert f"/legal-register/{ru}/" in cells[members.index("RU")]
    assert f"/legal-register/{kz}/" in rows["quarantine"].split("<td>")[1:][members.index("KZ")]
    assert f"/legal-register/{hidden}/" not in html
    page = carol.get("/legal-register/", {"topic": "quarantine"}).content.decode()
    entries = page.split('class="records legal-entries"')[1]
    assert f"/legal-register/{kz}/" in entries and f"/legal-register/{ru}/" not in entries
    assert carol.get(f"/legal-register/{ru}/").status_code == 200


def test_the_register_forms(shelf: Shelf) -> None:
    ruslan = client_for(shelf.ruslan)
    assert ruslan.get("/legal-register/new/").status_code == 200
    assert client_for(shelf.lev).get("/legal-register/new/").status_code == 403
    data = {
        "member": "RU",
        "title": "Федеральный закон о карантине (демо)",
        "original_language": "ru",
        "title_en": "Quarantine law (demo)",
        "status": "in_force",
        "adopted": "2020-04-01",
        "citation": "Demo RU-Q",
        "link": "ftp://example.org/law",
        "topics": ["quarantine"],
        "audience": "everyone",
        "tlp": "GREEN",
    }
    refused = ruslan.post("/legal-register/new/", data)
    assert refused.status_code == 400 and 'id="link-error"' in refused.content.decode()
    answer = ruslan.post("/legal-register/new/", {**data, "link": "https://example.org/law"})
    assert answer.status_code == 302
    record = Record.objects.get(kind="legal_instrument")
    page = ruslan.get(f"/legal-register/{record.uuid}/").content.decode()
    assert 'rel="noopener noreferrer nofollow external"' in page and 'id="legal-edit"' in page
    assert (
        'id="legal-edit"' not in client_for(shelf.world.carol).get(f"/legal-register/{record.uuid}/").content.decode()
    )
    assert client_for(shelf.world.carol).get(f"/legal-register/{record.uuid}/edit/").status_code == 403
    edited = ruslan.post(f"/legal-register/{record.uuid}/edit/", {**data, "link": "", "status": "repealed"})
    assert edited.status_code == 302
    record.refresh_from_db()
    assert record.current_version is not None and record.current_version.body["status"] == "repealed"
    assert record.current_version.body["member"] == "RU"
