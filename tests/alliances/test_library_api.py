"""The library's API: adding a document with its files (PDF, DOCX, XLSX recognised by content, within the size
limit), reading and downloading it only as an entitled reader, searching titles and abstracts in zh, ru and en,
filters, withdrawal, and who may add."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client

from accord.alliances.library_models import LibraryDocumentView
from accord.records.models import Attachment, AuditEntry, Record
from tests.alliances.library_support import (
    DOCX,
    HTML,
    PDF,
    XLSX,
    Shelf,
    docx_bytes,
    metadata,
    pdf_bytes,
    plain_zip_bytes,
    shelf,
    token_client,
    upload,
    xlsx_bytes,
)

__all__ = ["shelf"]


def _client(token_for: Any, account: Any, scope: str = "write") -> Client:
    return token_client(token_for(account, scope))


def _nothing_stored(before_records: int, before_files: int, before_audit: int) -> None:
    assert Record.objects.filter(kind="library_document").count() == before_records
    assert Attachment.objects.count() == before_files
    assert AuditEntry.objects.filter(action__startswith="record.").count() == before_audit


def _counts() -> tuple[int, int, int]:
    records = Record.objects.filter(kind="library_document").count()
    return records, Attachment.objects.count(), AuditEntry.objects.filter(action__startswith="record.").count()


def test_a_document_with_a_pdf_is_added_read_and_downloaded(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    data = pdf_bytes("Brucellosis")
    answer = upload(li, "medicine", metadata(), [("brucellosis.pdf", data)])
    assert answer.status_code == 201, answer.content
    out = answer.json()
    assert out["alliance"] == "medicine" and out["type"] == "guideline"
    assert out["publisher"] == {"slug": "cn-uni", "member": "CN"}
    assert out["tlp"] == "GREEN" and out["audience"]["everyone"] is True
    [described] = out["files"]
    assert described["name"] == "brucellosis.pdf" and described["media_type"] == PDF
    assert described["size"] == len(data) and described["sha256"] == hashlib.sha256(data).hexdigest()
    # the envelope holds the hash: the file is an attachment of the signed version
    record = Record.objects.get(uuid=out["id"])
    assert record.current_version is not None
    assert record.current_version.envelope()["attachments"][0]["sha256"] == described["sha256"]

    carol = _client(token_for, shelf.world.carol)
    got = carol.get(f"/api/v1/documents/{out['id']}")
    assert got.status_code == 200 and got.json()["title"]["ru"] == "Лабораторная диагностика бруцеллёза"
    download = carol.get(described["url"])
    assert download.status_code == 200
    assert download.content == data
    assert download["Content-Type"] == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert "brucellosis.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_docx_and_xlsx_are_taken_with_their_types(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    answer = upload(li, "medicine", metadata(), [("protocol.docx", docx_bytes()), ("cases.xlsx", xlsx_bytes())])
    assert answer.status_code == 201, answer.content
    types = {f["name"]: f["media_type"] for f in answer.json()["files"]}
    assert types == {"protocol.docx": DOCX, "cases.xlsx": XLSX}
    download = li.get(next(f["url"] for f in answer.json()["files"] if f["name"] == "cases.xlsx"))
    assert download["Content-Type"] == XLSX


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.docx", pdf_bytes(), "its name must end in .pdf"),  # a PDF renamed .docx
        ("report.pdf", HTML, "not a PDF, DOCX or XLSX"),  # an HTML page named .pdf
        ("report.docx", plain_zip_bytes(), "not a PDF, DOCX or XLSX"),  # a ZIP that is no Office document
        ("report.xlsx", docx_bytes(), "its name must end in .docx"),
        ("notes.txt", b"plain text", "not a PDF, DOCX or XLSX"),
    ],
)
def test_a_file_of_a_refused_type_is_a_400_naming_the_field(
    shelf: Shelf, token_for: Any, name: str, data: bytes, says: str
) -> None:
    li = _client(token_for, shelf.li)
    before = _counts()
    answer = upload(li, "medicine", metadata(), [("fine.pdf", pdf_bytes()), (name, data)])
    assert answer.status_code == 400, answer.content
    assert answer.json()["field"] == "file"
    assert says in answer.json()["detail"]
    _nothing_stored(*before)


def test_a_file_over_the_library_limit_is_a_413_naming_the_field(shelf: Shelf, token_for: Any, settings: Any) -> None:
    settings.ACCORD_LIBRARY_MAX_BYTES = 2048
    li = _client(token_for, shelf.li)
    before = _counts()
    big = pdf_bytes("x" * 3000)
    assert len(big) > 2048
    answer = upload(li, "medicine", metadata(), [("big.pdf", big)])
    assert answer.status_code == 413, answer.content
    assert answer.json()["field"] == "file" and "2048" in answer.json()["detail"]
    _nothing_stored(*before)
    small = pdf_bytes("x" * 100)
    assert upload(li, "medicine", metadata(), [("small.pdf", small)]).status_code == 201


def test_the_record_cores_limit_applies_too_and_the_view_names_the_field(
    shelf: Shelf, token_for: Any, settings: Any
) -> None:
    """A file over ACCORD_MAX_BODY_BYTES (the limit of every attachment, and of what peers accept) is refused even
    when the library's own limit is larger; the request passes the body-size door, so the answer names `file`."""
    settings.ACCORD_MAX_BODY_BYTES = 4096
    settings.ACCORD_LIBRARY_MAX_BYTES = 10 * 1_048_576
    li = _client(token_for, shelf.li)
    before = _counts()
    answer = upload(li, "medicine", metadata(), [("big.pdf", pdf_bytes("y" * 20_000))])
    assert answer.status_code == 413, answer.content
    assert answer.json()["field"] == "file" and "4096" in answer.json()["detail"]
    _nothing_stored(*before)


def test_who_may_add(shelf: Shelf, token_for: Any) -> None:
    before = _counts()
    for account in (shelf.lev, shelf.lena, shelf.world.alice):
        answer = upload(_client(token_for, account), "medicine", metadata(), [("a.pdf", pdf_bytes())])
        assert answer.status_code == 403, (account.username, answer.content)
        assert answer.json()["field"] == "alliance"
    # li's university is on the medicine council, not the law alliance's
    answer = upload(_client(token_for, shelf.li), "law", metadata(), [("a.pdf", pdf_bytes())])
    assert answer.status_code == 403
    assert upload(_client(token_for, shelf.li), "nowhere", metadata(), []).status_code == 404
    read_only = _client(token_for, shelf.li, "read")
    assert upload(read_only, "medicine", metadata(), [("a.pdf", pdf_bytes())]).status_code == 403
    _nothing_stored(*before)
    # a Secretariat coordinator may add to any alliance
    answer = upload(_client(token_for, shelf.world.sam), "law", metadata(type="legal_instrument"), [])
    assert answer.status_code == 201, answer.content


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": {}}, "title"),
        ({"title": {"fr": "Brucellose"}}, "title"),
        ({"languages": ["xx"]}, "languages"),
        ({"languages": []}, "languages"),
        ({"date": "2025-13"}, "date"),
        ({"type": "novel"}, "type"),
        ({"tags": ["a,b"]}, "tags"),
    ],
)
def test_bad_metadata_is_a_4xx_naming_the_field(
    shelf: Shelf, token_for: Any, changes: dict[str, Any], field: str
) -> None:
    before = _counts()
    answer = upload(_client(token_for, shelf.li), "medicine", metadata(**changes), [("a.pdf", pdf_bytes())])
    assert answer.status_code == 400, answer.content
    assert answer.json()["field"] == field
    _nothing_stored(*before)


def test_metadata_that_is_not_json_is_refused(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    answer = li.post("/api/v1/alliances/medicine/documents", {"metadata": "{not json"})
    assert answer.status_code == 400 and answer.json()["field"] == "metadata"
    answer = li.post("/api/v1/alliances/medicine/documents", {"file": b"x"})
    assert answer.status_code == 400 and answer.json()["field"] == "metadata"


def test_a_json_body_adds_a_document_without_files(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    answer = li.post("/api/v1/alliances/medicine/documents", metadata(), content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["files"] == []


def _add(client: Client, slug: str, **changes: Any) -> str:
    answer = upload(client, slug, metadata(**changes), [("doc.pdf", pdf_bytes())])
    assert answer.status_code == 201, answer.content
    return str(answer.json()["id"])


def test_an_outsider_finds_nothing_and_gets_404(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    secret = _add(li, "medicine", audience={"members": ["CN"]}, tlp="AMBER", title={"en": "Secret protocol"})
    carol = _client(token_for, shelf.world.carol)  # KZ: outside the audience
    assert carol.get(f"/api/v1/documents/{secret}").status_code == 404
    assert carol.get(f"/api/v1/documents/{secret}/files/doc.pdf").status_code == 404
    listed = carol.get("/api/v1/library", {"q": "secret protocol"}).json()
    assert listed["count"] == 0 and listed["items"] == []
    assert carol.get("/api/v1/alliances/medicine/documents").json()["count"] == 0
    assert carol.get(f"/api/v1/documents/{secret}/withdraw").status_code == 405
    withdraw = carol.post(f"/api/v1/documents/{secret}/withdraw", {"reason": "x"}, content_type="application/json")
    assert withdraw.status_code == 404
    # the same 404 as for no document at all
    missing = carol.get("/api/v1/documents/00000000-0000-4000-8000-000000000000")
    assert missing.json()["detail"] == carol.get(f"/api/v1/documents/{secret}").json()["detail"]
    alice = _client(token_for, shelf.world.alice)  # CN: inside
    assert alice.get("/api/v1/library", {"q": "secret protocol"}).json()["count"] == 1
    assert alice.get(f"/api/v1/documents/{secret}/files/doc.pdf").status_code == 200
    assert alice.get(f"/api/v1/documents/{secret}/files/other.pdf").status_code == 404


def test_search_in_chinese_russian_and_english(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    brucellosis = _add(
        li,
        "medicine",
        title={"zh": "布鲁氏菌病实验室诊断", "en": "Laboratory diagnosis of brucellosis"},
        abstract={"ru": "Рекомендации по лабораторной диагностике бруцеллёза у овец и коз."},
    )
    measles = _add(
        li,
        "medicine",
        title={"ru": "Вакцинация против кори", "en": "Measles vaccination campaigns"},
        abstract={"zh": "麻疹疫苗接种运动的经验。"},
        tags=["measles"],
    )
    carol = _client(token_for, shelf.world.carol)

    def found(q: str) -> set[str]:
        return {item["id"] for item in carol.get("/api/v1/library", {"q": q}).json()["items"]}

    assert found("实验室") == {brucellosis}  # a Chinese substring of a title
    assert found("疫苗接种") == {measles}  # of an abstract
    assert found("диагностика") == {brucellosis}  # another Russian word form than the abstract's "диагностике"
    assert found("козы") == {brucellosis}  # "коз" in the abstract
    assert found("корь") == {measles}  # the nominative finds the title's genitive "кори"
    assert found("laboratories") == {brucellosis}  # an English word form
    assert found("campaign") == {measles}
    assert found("vaccination brucellosis") == set()  # every word must match
    assert found("measles") == {measles}


def test_filters_by_alliance_type_tag_and_language(shelf: Shelf, token_for: Any) -> None:
    guideline = _add(_client(token_for, shelf.li), "medicine", tags=["Brucellosis", "One  Health"], languages=["ru"])
    curriculum = _add(
        _client(token_for, shelf.kamila), "agriculture", type="curriculum", languages=["kk", "ru"], tags=[]
    )
    carol = _client(token_for, shelf.world.carol)

    def ids(**query: str) -> set[str]:
        answer = carol.get("/api/v1/library", query)
        assert answer.status_code == 200, answer.content
        return {item["id"] for item in answer.json()["items"]}

    assert ids() == {guideline, curriculum}
    assert ids(alliance="agriculture") == {curriculum}
    assert ids(type="guideline") == {guideline}
    assert ids(tag="one health") == {guideline}  # tags match whole, ignoring case and repeated spaces
    assert ids(tag="one") == set()
    assert ids(language="kk") == {curriculum}
    assert ids(language="ru") == {guideline, curriculum}
    per_alliance = carol.get("/api/v1/alliances/medicine/documents").json()
    assert [item["id"] for item in per_alliance["items"]] == [guideline]
    assert carol.get("/api/v1/alliances/nowhere/documents").status_code == 404
    assert carol.get("/api/v1/library", {"type": "novel"}).status_code == 422


def test_withdrawing_unlists_and_stops_downloads(shelf: Shelf, token_for: Any) -> None:
    li = _client(token_for, shelf.li)
    document = _add(li, "medicine")
    lev = _client(token_for, shelf.lev)
    refused = lev.post(f"/api/v1/documents/{document}/withdraw", {"reason": "x"}, content_type="application/json")
    assert refused.status_code == 403  # another organisation's document
    answer = li.post(
        f"/api/v1/documents/{document}/withdraw", {"reason": "superseded"}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "withdrawn" and answer.json()["reason"] == "superseded"
    assert li.get("/api/v1/library").json()["count"] == 0
    assert li.get(f"/api/v1/documents/{document}").json()["state"] == "withdrawn"
    assert li.get(f"/api/v1/documents/{document}/files/doc.pdf").status_code == 404
    again = li.post(f"/api/v1/documents/{document}/withdraw", {"reason": "again"}, content_type="application/json")
    assert again.status_code == 409
    assert not LibraryDocumentView.objects.get(record__uuid=document).active


def test_a_member_organisation_adds_while_it_is_a_member(shelf: Shelf, token_for: Any) -> None:
    """Not only the council: an organisation whose application the council accepted may add to the alliance's library,
    and no longer once it has left."""
    from accord.alliances import membership_actions

    lev = _client(token_for, shelf.lev)  # RU university, on no council
    assert upload(lev, "medicine", metadata(), [("a.pdf", pdf_bytes())]).status_code == 403
    application = membership_actions.apply("medicine", acting_user=shelf.lev, motivation="demo")
    membership_actions.decide(application.record_uuid, acting_user=shelf.li, decision="accept", reason="welcome")
    assert upload(lev, "medicine", metadata(), [("a.pdf", pdf_bytes())]).status_code == 201
    membership_actions.leave("medicine", acting_user=shelf.lev, reason="demo")
    assert upload(lev, "medicine", metadata(), [("a.pdf", pdf_bytes())]).status_code == 403
