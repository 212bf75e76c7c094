"""Uploads cannot exhaust a node: limits checked before parsing, a 413 naming the limit, nothing stored, a
bounded error report (the first 100 problems, values cut to 200 characters, and the total count)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accord.lib import safezip
from accord.records.models import AuditEntry, Version
from accord.surveillance import actions, limits, parsers
from accord.surveillance.models import Upload
from tests.conftest import client_for
from tests.surveillance import hostile
from tests.surveillance.conftest import KZ_SCO, People, Uploader
from tests.surveillance.support import csv_bytes, rows_for, week_labels

# (fixture, format, content type, the setting named by the refusal)
HOSTILE: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "bomb": (hostile.bomb_shared_string, "xlsx", "ACCORD_UPLOAD_MAX_PART_BYTES"),
    "inline bomb": (hostile.bomb_inline_string, "xlsx", "ACCORD_UPLOAD_MAX_RATIO"),
    "long inline string": (lambda: hostile.bomb_inline_string(5_000), "xlsx", "ACCORD_UPLOAD_MAX_CELL_CHARS"),
    "lying directory": (hostile.lying_directory, "xlsx", "ACCORD_UPLOAD_MAX_PART_BYTES"),
    "dimension": (hostile.huge_dimension, "xlsx", "ACCORD_UPLOAD_MAX_LINES"),
    "far row": (hostile.far_row, "xlsx", "ACCORD_UPLOAD_MAX_LINES"),
    "many rows": (hostile.many_rows, "xlsx", "ACCORD_UPLOAD_MAX_LINES"),
    "many columns": (hostile.many_columns, "xlsx", "ACCORD_UPLOAD_MAX_COLUMNS"),
    "csv field": (hostile.csv_giant_field, "csv", "ACCORD_UPLOAD_MAX_CELL_CHARS"),
    "csv columns": (hostile.csv_many_columns, "csv", "ACCORD_UPLOAD_MAX_COLUMNS"),
    "csv lines": (hostile.csv_many_lines, "csv", "ACCORD_UPLOAD_MAX_LINES"),
    "dhis2 deep": (hostile.dhis2_deep, "dhis2", "ACCORD_UPLOAD_MAX_JSON_DEPTH"),
    "dhis2 value": (hostile.dhis2_giant_value, "dhis2", "ACCORD_UPLOAD_MAX_CELL_CHARS"),
    "dhis2 wide": (hostile.dhis2_wide, "dhis2", "ACCORD_UPLOAD_MAX_CELLS"),
    "json deep": (lambda: b'{"counts": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", "json", "ACCORD_UPLOAD_MAX_JSON_DEPTH"),
    "json long string": (
        lambda: b'{"counts": [{"disease": "' + b"\xd0\x96" * 1_001 + b'"}]}',
        "json",
        "ACCORD_UPLOAD_MAX_CELL_CHARS",
    ),
}
CONTENT_TYPES = {"xlsx": parsers.XLSX_MEDIA_TYPE, "csv": "text/csv", "dhis2": "application/json"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_every_hostile_file_is_refused_before_parsing_naming_the_limit(name: str) -> None:
    make, fmt, setting = HOSTILE[name]
    data = make()
    with pytest.raises(limits.LimitError) as caught:
        parsers.check_limits(data, fmt)
    assert caught.value.setting == setting, caught.value.error.message
    # The worker's own read refuses it too, should the check on submission ever be passed by.
    with pytest.raises(limits.LimitError):
        parsers.read(data, fmt, max_rows=50_000)


def test_a_lower_limit_set_in_the_settings_is_the_one_applied(settings: Any) -> None:
    data = csv_bytes(rows_for("A00", "KZ-19", [(w, 1) for w in week_labels(8)]))
    parsers.check_limits(data, "csv")
    settings.ACCORD_UPLOAD_MAX_LINES = 5
    with pytest.raises(limits.LimitError) as caught:
        parsers.check_limits(data, "csv")
    assert "more than 5 lines" in caught.value.error.message


def test_the_directory_check_reads_no_part() -> None:
    infos = safezip.check_directory(hostile.good_xlsx(), limits.Limits().zip_limits())
    assert "xl/sharedStrings.xml" in {i.filename for i in infos}
    with pytest.raises(safezip.ArchiveLimit) as caught:
        safezip.check_directory(hostile.bomb_shared_string(), limits.Limits().zip_limits())
    assert caught.value.limit == "part_bytes" and caught.value.found > 512 * hostile.MIB
    with pytest.raises(safezip.ArchiveLimit) as not_zip:
        safezip.check_directory(b"PK\x03\x04 and then nothing", limits.Limits().zip_limits())
    assert not_zip.value.limit == "not_zip"


def test_a_capped_stream_stops_at_its_cap_whatever_the_directory_says() -> None:
    tight = limits.Limits(max_part_bytes=100_000, max_small_part_bytes=100_000)
    data = hostile.bomb_shared_string(90_000)
    with safezip.CappedZipFile(data, tight.zip_limits()) as archive, archive.open("xl/sharedStrings.xml") as part:
        inflated = part.read()
    assert 90_000 < len(inflated) < 100_000 and inflated.endswith(b"</sst>")
    # The directory of the lying workbook declares 1,000 bytes: the part is refused once it gives other bytes.
    lying = hostile.lying_directory(real=4 * hostile.MIB)
    with (
        safezip.CappedZipFile(lying, limits.Limits().zip_limits()) as archive,
        archive.open("xl/sharedStrings.xml") as part,
        pytest.raises(safezip.ArchiveLimit) as caught,
    ):
        part.read()
    assert caught.value.limit == "lying"


def _counts() -> tuple[int, int, int]:
    return Upload.objects.count(), Version.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize("name", ["bomb", "lying directory", "csv field", "dhis2 deep", "many columns"])
def test_the_api_answers_413_naming_the_limit_and_stores_nothing(
    name: str, people: People, upload: Uploader, token_for: Any
) -> None:
    upload(csv_bytes(rows_for("A00", "KZ-19", [(w, 2) for w in week_labels(2)])))
    make, fmt, _setting = HOSTILE[name]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.kira)}")
    before = _counts()
    response = client.post("/api/v1/surveillance/uploads?tlp=AMBER&filename=x", make(), content_type=CONTENT_TYPES[fmt])
    assert response.status_code == 413, response.content
    body = response.json()
    assert body["field"] == "file"
    assert (
        "the limit of this node" in body["detail"]
        or "this node accepts" in body["detail"]
        or ("not what the archive's directory declares" in body["detail"])
    ), body
    assert _counts() == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "больше 20 уровней"), ("zh-hans", "超过 20 层")],
)
def test_the_refusal_is_in_the_reader_s_language(language: str, expected: str, people: People, token_for: Any) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.kira)}", HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/api/v1/surveillance/uploads", hostile.dhis2_deep(), content_type="application/json")
    assert response.status_code == 413
    assert expected in response.json()["detail"], response.json()


def test_the_web_page_shows_the_limit_passed_and_stores_nothing(people: People) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _counts()
    page = client_for(people.kira).post(
        "/surveillance/upload/",
        {
            "file": SimpleUploadedFile("bomb.xlsx", hostile.bomb_shared_string(), parsers.XLSX_MEDIA_TYPE),
            "audience": "named",
            "members": ["KZ", "SCO"],
            "tlp": "AMBER",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 413
    text = page.content.decode()
    assert "xl/sharedStrings.xml of the workbook inflates to more than 33554432 bytes" in text
    assert _counts() == before


def test_an_error_report_keeps_the_first_100_problems_cut_and_counts_them_all(
    people: People, upload: Uploader, token_for: Any
) -> None:
    week = week_labels(1)[0]
    long = "Z" * 900
    rows = [(long, "KZ-19", week, str(n)) for n in range(1_000)]
    done = upload(csv_bytes(rows))
    assert done.status == Upload.Status.FAILED
    assert len(done.errors) == limits.REPORT_ERRORS
    assert done.summary["errors"] == 1_000
    assert all(len(e["message"]) <= 2 * limits.REPORT_VALUE_CHARS for e in done.errors)
    assert "Z" * (limits.REPORT_VALUE_CHARS - 1) + "…" in done.errors[0]["message"]
    assert long not in json.dumps(done.errors)
    assert len(json.dumps(done.errors)) < 1_048_576
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.kira)}")
    # kira did not upload it; carol did
    carol = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.carol)}")
    state = carol.get(f"/api/v1/surveillance/uploads/{done.uuid}").json()
    assert state["error_count"] == 1_000 and len(state["errors"]) == 100
    assert client.get(f"/api/v1/surveillance/uploads/{done.uuid}").status_code == 404
    page = client_for(people.world.carol).get(f"/surveillance/uploads/{done.uuid}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "1000 problems" in text and "The first 100 of 1000 problems are listed." in text
    status = client_for(people.world.carol).get(f"/surveillance/uploads/{done.uuid}/status.json").json()
    assert status["error_count"] == 1_000 and len(status["errors"]) == 100


def test_a_report_stored_before_the_limits_is_shown_bounded(people: People, token_for: Any) -> None:
    submitted = actions.submit_upload(
        b"disease,region,period,count\n", acting_user=people.world.carol, audience=KZ_SCO, tlp="AMBER"
    )
    huge = [{"row": n, "column": "c" * 5_000, "message": "m" * 100_000} for n in range(500)]
    Upload.objects.filter(pk=submitted.pk).update(status=Upload.Status.FAILED, errors=huge)
    carol = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.carol)}")
    response = carol.get(f"/api/v1/surveillance/uploads/{submitted.uuid}")
    assert response.status_code == 200
    assert len(response.content) < 100_000
    state = response.json()
    assert state["error_count"] == 500 and len(state["errors"]) == 100
    assert all(len(e["message"]) <= 400 and len(e["column"]) <= 100 for e in state["errors"])


def test_the_worker_refuses_a_hostile_file_that_got_past_submission(people: People) -> None:
    """An upload queued before these limits existed: the worker's own read refuses it, with a bounded report."""
    submitted = actions.submit_upload(
        b"disease,region,period,count\n", acting_user=people.world.carol, audience=KZ_SCO, tlp="AMBER"
    )
    Upload.objects.filter(pk=submitted.pk).update(data=hostile.lying_directory(), format="xlsx")
    done = actions.process_upload(submitted.pk)
    assert done is not None and done.status == Upload.Status.FAILED
    assert "not what the archive's directory declares" in done.errors[0]["message"]
    assert done.data == b"" and done.summary["errors"] == 1


def test_a_dtd_in_a_workbook_is_refused_with_400_and_a_file_that_is_no_zip_is_left_to_the_worker(
    people: People, token_for: Any
) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.kira)}")
    before = _counts()
    response = client.post("/api/v1/surveillance/uploads", hostile.doctype_xlsx(), content_type=CONTENT_TYPES["xlsx"])
    assert response.status_code == 400, response.content
    assert "declares a document type or entities" in response.json()["detail"]
    assert _counts() == before
    # Not a ZIP archive at all: no limit is passed; the worker refuses it as a file of the wrong shape.
    response = client.post("/api/v1/surveillance/uploads", b"PK\x03\x04 garbage", content_type=CONTENT_TYPES["xlsx"])
    assert response.status_code == 202
    done = actions.process_upload(Upload.objects.get(uuid=response.json()["uuid"]).pk)
    assert done is not None and done.status == Upload.Status.FAILED
    assert "not an Excel workbook" in done.errors[0]["message"]


def test_the_settings_default_to_the_documented_limits() -> None:
    assert limits.Limits.from_settings() == limits.Limits()
    assert limits.Limits().max_cells == 500_000 and limits.Limits().max_part_bytes == 32 * hostile.MIB


def test_json_strings_are_counted_in_characters_not_bytes() -> None:
    cyrillic = "Ж" * 999
    parsers.check_limits(json.dumps({"counts": [{"disease": cyrillic}]}, ensure_ascii=False).encode(), "json")
    with pytest.raises(limits.LimitError):
        parsers.check_limits(
            json.dumps({"counts": [{"disease": cyrillic + "ЖЖ"}]}, ensure_ascii=False).encode(), "json"
        )
