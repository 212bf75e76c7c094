"""Reading and checking uploaded counts: every bad input names its row and column (no database here)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from accord.surveillance import parsers, reference
from tests.surveillance.support import csv_bytes, dhis2

TODAY = date(2026, 3, 4)  # a Wednesday of 2026-W10
NAMES = {"KZ": ("Kazakhstan", "Казахстан", "哈萨克斯坦"), "KG": ("Kyrgyzstan", "Кыргызстан", "吉尔吉斯斯坦")}


def check(data: bytes, fmt: str = "csv", member: str = "KZ", **kwargs: Any) -> parsers.Parsed:
    raw = parsers.read(data, fmt, max_rows=kwargs.pop("max_rows", 100), mapping=kwargs.pop("mapping", None))
    return parsers.check_rows(raw, member=member, today=TODAY, member_names=NAMES)


def errors(data: bytes, fmt: str = "csv", **kwargs: Any) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in check(data, fmt, **kwargs).errors]


def shape_error(data: bytes, fmt: str = "csv", max_rows: int = 100) -> parsers.RowError:
    with pytest.raises(parsers.ShapeError) as caught:
        parsers.read(data, fmt, max_rows=max_rows)
    return caught.value.error


def test_a_good_csv_gives_clean_rows_with_icd11_codes_and_subcodes_mapped_to_the_series_key() -> None:
    data = csv_bytes(
        [("A00", "KZ-19", "2026-W07", 3), ("1A00", "kz-19", "2026-W08", "4"), ("A15.0", "KZ", "2026-02-14", "5.0")]
    )
    parsed = check(data)
    assert parsed.errors == []
    assert [(r.disease.code, r.region.code, r.period.label, r.count) for r in parsed.rows] == [
        ("A00", "KZ-19", "2026-W07", 3),
        ("A00", "KZ-19", "2026-W08", 4),
        ("A15", "KZ", "2026-02-14", 5),
    ]
    assert parsed.rows[2].region.whole_member and parsed.rows[2].period.resolution == "day"


def test_semicolons_a_byte_order_mark_and_blank_lines_are_read() -> None:
    data = b"\xef\xbb\xbfdisease;region;period;count\n\nA00;KZ-19;2026-W07;3\n"
    assert [r.count for r in check(data).rows] == [3]


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("A00", "KZ-19", "2026-W07", "-2"), "count", "negative"),
        (("A00", "KZ-19", "2026-W07", "2.5"), "count", "not a whole number"),
        (("A00", "KZ-19", "2026-W07", "many"), "count", "not a whole number"),
        (("A00", "KZ-19", "2026-W07", ""), "count", "empty"),
        (("X99", "KZ-19", "2026-W07", "1"), "disease", "unknown disease"),
        (("A00", "KZ-99", "2026-W07", "1"), "region", "unknown region"),
        (("A00", "KG-C", "2026-W07", "1"), "region", "not a region of KZ"),
        (("A00", "KZ-19", "2026-W30", "1"), "period", "in the future"),
        (("A00", "KZ-19", "2026-03-07", "1"), "period", "in the future"),
        (("A00", "KZ-19", "2025-W54", "1"), "period", "week 54"),
        (("A00", "KZ-19", "2026-02-30", "1"), "period", "not a date"),
        (("A00", "KZ-19", "February", "1"), "period", "neither an ISO week"),
    ],
)
def test_each_bad_cell_is_named_by_row_and_column(row: tuple[str, ...], column: str, words: str) -> None:
    data = csv_bytes([("A00", "KZ-19", "2026-W06", "1"), row])
    parsed = check(data)
    assert [(e.row, e.column) for e in parsed.errors] == [(3, column)]
    assert words in parsed.errors[0].message


def test_every_bad_row_is_reported_at_once_and_the_good_ones_are_not_enough() -> None:
    data = csv_bytes([("A00", "KZ-19", "2026-W06", "1"), ("A00", "KZ-19", "2026-W07", "-1"), ("Q", "KZ-19", "x", "")])
    assert errors(data) == [(3, "count"), (4, "disease"), (4, "period"), (4, "count")]


def test_a_duplicate_period_names_the_row_it_repeats() -> None:
    data = csv_bytes(
        [("A00", "KZ-19", "2026-W07", "1"), ("B05", "KZ-19", "2026-W07", "1"), ("1A00", "KZ-19", "2026-W7", 2)]
    )
    parsed = check(data)
    assert [(e.row, e.column) for e in parsed.errors] == [(4, "period")]
    assert "row 2 already gives A00 in KZ-19 for 2026-W07" in parsed.errors[0].message


@pytest.mark.parametrize(
    ("data", "row", "column", "words"),
    [
        (b"", 1, "", "empty"),
        (b"  \n\n", 1, "", "empty"),
        (b"disease,region,period,count\n", 2, "", "no rows"),
        (b"disease,region,period\nA00,KZ-19,2026-W07\n", 1, "count", "no column 'count'"),
        (b"disease,region,period,count\nA00,KZ-19,2026-W07,1,extra\n", 2, "", "5 cells"),
        (
            "disease,region,period,count\nA00,KZ-19,2026-W07,1\nA00,Кызылорда,2026-W08,1\n".encode("cp1251"),
            3,
            "",
            "not UTF-8",
        ),
    ],
)
def test_a_file_of_the_wrong_shape_or_encoding_is_refused_with_its_place(
    data: bytes, row: int, column: str, words: str
) -> None:
    error = shape_error(data)
    assert (error.row, error.column) == (row, column)
    assert words in error.message


def test_too_many_rows_are_refused_at_the_first_row_over_the_limit() -> None:
    data = csv_bytes([("A00", "KZ-19", f"2026-W{w:02d}", "1") for w in range(1, 9)])
    error = shape_error(data, max_rows=5)
    assert error.row == 7 and "more than 5 rows" in error.message


def _xlsx(rows: list[list[Any]], title: str = "counts") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_with_numbers_and_dates_are_read_and_errors_name_the_sheet_row() -> None:
    data = _xlsx(
        [
            ["Disease", "Region", "Period", "Count", "note"],
            ["A00", "KZ-19", "2026-W07", 3, "ok"],
            ["A00", "KZ-19", date(2026, 2, 14), 4.0, None],
            [None, None, None, None, None],
            ["A00", "KZ-19", "2026-W08", 2.5, None],
        ]
    )
    assert parsers.detect_format(data, "counts.xlsx") == "xlsx"
    parsed = check(data, "xlsx")
    assert [(r.period.label, r.count) for r in parsed.rows] == [("2026-W07", 3), ("2026-02-14", 4)]
    assert [(e.row, e.column) for e in parsed.errors] == [(5, "count")]


def test_a_file_that_is_not_a_workbook_is_refused() -> None:
    error = shape_error(b"PK\x03\x04 not really a zip", "xlsx")
    assert error.row == 1 and "not an Excel workbook" in error.message


def test_dhis2_values_map_codes_add_up_disaggregations_and_name_the_json_fields() -> None:
    values: list[dict[str, Any]] = [
        {
            "dataElement": "deCholera",
            "orgUnit": "ouAlmaty",
            "period": "2026W7",
            "categoryOptionCombo": "m",
            "value": "3",
        },
        {
            "dataElement": "deCholera",
            "orgUnit": "ouAlmaty",
            "period": "2026W7",
            "categoryOptionCombo": "f",
            "value": "2",
        },
        {"dataElement": "B05", "orgUnit": "KZ-19", "period": "20260214", "value": 1},
        {"dataElement": "B05", "orgUnit": "KZ-19", "period": "20260215", "value": "1", "deleted": True},
        {"dataElement": "B05", "orgUnit": "KZ-19", "period": "202602", "value": "1"},
        {"dataElement": "B05", "orgUnit": "ouUnknown", "period": "2026W8", "value": "-1"},
    ]
    data = dhis2(values)
    assert parsers.detect_format(data) == "dhis2"
    mapping = {("dataElement", "deCholera"): "A00", ("orgUnit", "ouAlmaty"): "KZ-19"}
    parsed = check(data, "dhis2", mapping=mapping)
    assert [(e.row, e.column) for e in parsed.errors] == [(5, "period"), (6, "orgUnit"), (6, "value")]
    assert "not weekly (2026W7) or daily" in parsed.errors[0].message
    assert [(r.disease.code, r.period.label, r.count, r.part) for r in parsed.rows] == [
        ("A00", "2026-W07", 3, "m|"),
        ("A00", "2026-W07", 2, "f|"),
        ("B05", "2026-02-14", 1, "|"),
    ]


def test_dhis2_set_level_period_and_org_unit_apply_to_every_value() -> None:
    data = dhis2([{"dataElement": "A00", "value": "7"}], period="2026W9", orgUnit="KZ-61")
    parsed = check(data, "dhis2")
    assert parsed.errors == [] and parsed.rows[0].region.code == "KZ-61" and parsed.rows[0].period.label == "2026-W09"


def test_json_of_the_wrong_shape_is_refused() -> None:
    assert "not valid JSON" in shape_error(b'{"counts": [', "json").message
    assert shape_error(b'{"rows": []}', "json").column == "counts"
    assert shape_error(b'{"dataValues": []}', "dhis2").column == "dataValues"


def test_periods_parse_and_know_their_year_and_week() -> None:
    assert reference.parse_period("2026-W7").label == "2026-W07"
    assert reference.parse_period("2020-W53").year == 2020
    assert reference.parse_period("2021-01-01").week().label == "2020-W53"
    assert reference.parse_dhis2_period("2026W10").start == date(2026, 3, 2)
    with pytest.raises(reference.PeriodError):
        reference.parse_period("2021-W53")


def test_the_reference_tables_are_consistent() -> None:
    diseases = reference.diseases()
    assert len(diseases) >= 30
    for code in ("A00", "B05", "U07.1", "A20", "J09", "J10", "J11", "A22", "A98.0", "A23", "A15"):
        assert code in diseases and diseases[code].name_ru and diseases[code].name_zh
    assert reference.find_disease("RA01.0") is diseases["U07.1"]
    assert reference.find_disease("A98.05") is diseases["A98.0"]
    assert reference.find_disease("U07.2") is None
    regions = reference.regions()
    for a, others in reference.adjacency().items():
        assert a in regions
        for b in others:
            assert b in regions and a in reference.adjacency()[b]
            assert regions[a].member != regions[b].member, (a, b)
    assert reference.adjacent("KZ-19", "KG-C") and not reference.adjacent("KZ-19", "KZ-31")


def test_the_templates_name_the_columns_and_list_the_codes() -> None:
    assert parsers.csv_template().decode().strip() == "disease,region,period,count"
    book = load_workbook(io.BytesIO(parsers.xlsx_template("KZ", NAMES)))
    assert [c.value for c in book["counts"][1]] == ["disease", "region", "period", "count"]
    regions = [row[0] for row in book["regions"].iter_rows(min_row=2, values_only=True)]
    assert regions[0] == "KZ" and "KZ-19" in regions and "KG-C" not in regions
    assert book["diseases"].max_row == len(reference.diseases()) + 1
    # The template itself uploads (as an empty file: a header and no rows).
    assert "no rows" in shape_error(parsers.xlsx_template("KZ", NAMES), "xlsx").message
