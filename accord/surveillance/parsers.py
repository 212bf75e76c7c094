"""Reading uploaded counts: CSV, XLSX, DHIS2 dataValueSets JSON and Accord's own JSON, and checking every row.

Every problem is reported as {row, column, message}: for CSV and XLSX the row is the line or sheet row (the
header is row 1) and the column is the header's name; for JSON the row is the position in `dataValues` or
`counts` (from 1) and the column the field's name. Reading stops at the first problem of the file's shape
(encoding, header, size); the rows are then all checked, so one upload reports every bad row at once.
Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from accord.surveillance import reference
from accord.surveillance.limits import (
    REPORT_ERRORS,
    REPORT_VALUE_CHARS,
    LimitError,
    Limits,
    RowError,
    ShapeError,
    cut,
    scan_csv_row,
    scan_json,
    scan_xlsx,
)

__all__ = ["LimitError", "Limits", "RowError", "ShapeError", "check_limits", "check_rows", "detect_format", "read"]

FIELDS = ("disease", "region", "period", "count")
FORMATS = ("csv", "xlsx", "dhis2", "json")
MAX_ERRORS = REPORT_ERRORS
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class RawRow:
    """One row as read: each field's value and the name of the column it came from."""

    row: int
    values: dict[str, Any]
    columns: dict[str, str]
    part: str = ""  # DHIS2: the disaggregation (categoryOptionCombo, attributeOptionCombo); summed over


@dataclass(frozen=True)
class CleanRow:
    row: int
    disease: reference.Disease
    region: reference.Region
    period: reference.Period
    count: int
    part: str = ""


@dataclass
class Parsed:
    rows: list[CleanRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS problems
    error_count: int = 0  # all the problems
    total: int = 0


def detect_format(data: bytes, filename: str = "", declared: str | None = None) -> str:
    """The format of an upload: as declared, else by the file's first bytes and name."""
    if declared:
        return declared
    name = filename.lower()
    if data.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        return "xlsx"
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") or name.endswith(".json"):
        try:
            parsed = json.loads(stripped)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return "json"
        return "dhis2" if isinstance(parsed, dict) and "dataValues" in parsed else "json"
    return "csv"


# ---- CSV -------------------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        raise ShapeError(
            line,
            "",
            f"the file is not UTF-8 text: byte 0x{byte:02X} on line {line} cannot be read; "
            "save it as 'CSV UTF-8' (or export it as UTF-8) and upload it again",
        ) from None


def _header(names: list[str], row: int = 1) -> dict[str, int]:
    """Column index of each field; ShapeError naming the missing column."""
    normalised = [str(n or "").strip().lower() for n in names]
    found: dict[str, int] = {}
    for index, name in enumerate(normalised):
        if name in FIELDS and name not in found:
            found[name] = index
        elif name in FIELDS:
            raise ShapeError(row, name, f"the column {name!r} appears twice in the header")
    for name in FIELDS:
        if name not in found:
            raise ShapeError(
                row, name, f"the header has no column {name!r}; it must name the columns disease, region, period, count"
            )
    return found


def _delimiter(text: str) -> str:
    first_line = text.lstrip()[:65536].split("\n", 1)[0]
    return max((",", ";", "\t"), key=first_line.count)


def read_csv(data: bytes, max_rows: int, limits: Limits | None = None) -> list[RawRow]:
    limits = limits or Limits.from_settings()
    text = _text(data)
    if not text.strip():
        raise ShapeError(1, "", "the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[RawRow] = []
    columns: dict[str, int] | None = None
    width = 0
    counted = [0]
    try:
        for cells in reader:
            line = reader.line_num
            scan_csv_row(cells, line, limits, counted)
            if columns is None:
                if not any(c.strip() for c in cells):
                    continue
                columns = _header(cells, line)
                width = len(cells)
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ShapeError(line, "", f"the file has more than {max_rows} rows of counts; split it")
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                raise ShapeError(line, "", f"this row has {len(cells)} cells but the header names {width} columns")
            values = {name: (cells[index] if index < len(cells) else "") for name, index in columns.items()}
            rows.append(RawRow(line, values, {name: name for name in FIELDS}))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            scan_csv_row(["x" * (limits.max_cell_chars + 1)], reader.line_num, limits, counted)
        raise ShapeError(reader.line_num, "", f"the file is not valid CSV: {cut(error)}") from None
    if columns is None:
        raise ShapeError(1, "", "the file is empty")
    if not rows:
        raise ShapeError(2, "", "the file has a header but no rows of counts")
    return rows


# ---- XLSX ------------------------------------------------------------------------------------------


def _open_workbook(data: bytes, limits: Limits) -> Any:
    """openpyxl's read-only workbook, every part of it read through the caps of `accord.lib.safezip`."""
    from openpyxl.reader.excel import ExcelReader

    from accord.lib import safezip

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.archive.close()
    reader.archive = safezip.CappedZipFile(data, limits.zip_limits())
    reader.valid_files = reader.archive.namelist()
    reader.read()
    return reader.wb


def read_xlsx(data: bytes, max_rows: int, limits: Limits | None = None) -> list[RawRow]:
    """The rows of the sheet "counts" (or the first), after `scan_xlsx` has checked every part of the workbook."""
    from openpyxl.utils.exceptions import InvalidFileException

    from accord.lib import safezip
    from accord.surveillance.limits import _archive

    limits = limits or Limits.from_settings()
    if not data:
        raise ShapeError(1, "", "the file is empty")
    scan_xlsx(data, limits)
    try:
        workbook = _open_workbook(data, limits)
    except safezip.ArchiveLimit as error:
        raise _archive(error) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ShapeError(1, "", f"the file is not an Excel workbook (.xlsx): {cut(error)}") from None
    try:
        sheet = workbook["counts"] if "counts" in workbook.sheetnames else workbook.worksheets[0]
        rows: list[RawRow] = []
        columns: dict[str, int] | None = None
        # At most max_columns cells a row and max_lines rows (scan_xlsx refused more), so the padding openpyxl
        # adds for missing cells and rows stays bounded.
        declared = sheet.max_column if isinstance(sheet.max_column, int) else None
        width = min(declared, limits.max_columns) if declared else limits.max_columns
        cells_of = sheet.iter_rows(max_col=width, max_row=limits.max_lines, values_only=True)
        for number, cells in enumerate(cells_of, start=1):
            values = list(cells)
            for index, value in enumerate(values):
                if isinstance(value, str) and len(value) > limits.max_cell_chars:
                    raise LimitError(
                        "ACCORD_UPLOAD_MAX_CELL_CHARS",
                        _cell_message(limits),
                        row=number,
                        column=str(index + 1),
                    )
            blank = all(v is None or (isinstance(v, str) and not v.strip()) for v in values)
            if columns is None:
                if blank:
                    continue
                columns = _header([str(v) if v is not None else "" for v in values], number)
                continue
            if blank:
                continue
            if len(rows) >= max_rows:
                raise ShapeError(number, "", f"the sheet has more than {max_rows} rows of counts; split it")
            picked = {name: (values[index] if index < len(values) else None) for name, index in columns.items()}
            rows.append(RawRow(number, picked, {name: name for name in FIELDS}))
    except safezip.ArchiveLimit as error:  # a sheet read through its cap (scan_xlsx read it whole already)
        raise _archive(error) from None
    finally:
        workbook.close()
    if columns is None:
        raise ShapeError(1, "", "the sheet is empty")
    if not rows:
        raise ShapeError(2, "", "the sheet has a header but no rows of counts")
    return rows


def _cell_message(limits: Limits) -> str:
    from accord.surveillance.limits import _cell

    return _cell(limits, 0).error.message


# ---- JSON ------------------------------------------------------------------------------------------


def _json(data: bytes, limits: Limits) -> Any:
    scan_json(data, limits)
    text = _text(data)
    if not text.strip():
        raise ShapeError(1, "", "the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ShapeError(
            1, "", f"the file is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None


def read_json(data: bytes, max_rows: int, limits: Limits | None = None) -> list[RawRow]:
    """Accord's JSON: {"counts": [{"disease": "A00", "region": "KZ-19", "period": "2026-W07", "count": 3}, ...]}."""
    document = _json(data, limits or Limits.from_settings())
    items = document.get("counts") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ShapeError(1, "counts", 'the JSON must be an object with a list "counts" (or a DHIS2 dataValueSet)')
    if not items:
        raise ShapeError(1, "counts", "the list of counts is empty")
    if len(items) > max_rows:
        raise ShapeError(max_rows + 1, "", f"there are more than {max_rows} counts; split them")
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(RawRow(number, {}, {}, part="not-an-object"))
            continue
        rows.append(RawRow(number, {name: item.get(name) for name in FIELDS}, {name: name for name in FIELDS}))
    return rows


def read_dhis2(
    data: bytes, max_rows: int, mapping: Mapping[tuple[str, str], str], limits: Limits | None = None
) -> list[RawRow]:
    """A DHIS2 dataValueSet: dataElement -> disease, orgUnit -> region, period (2026W7 or 20260214) -> period.

    `mapping` maps ("dataElement" | "orgUnit", the value in the file) to a disease or region code; a value
    with no mapping is taken as a code itself. Values of one dataElement, orgUnit and period in several
    categoryOptionCombos (age groups, sexes) are added up; `deleted` values are left out."""
    document = _json(data, limits or Limits.from_settings())
    if not isinstance(document, dict) or not isinstance(document.get("dataValues"), list):
        raise ShapeError(1, "dataValues", 'a DHIS2 dataValueSet is an object with a list "dataValues"')
    values = document["dataValues"]
    if not values:
        raise ShapeError(1, "dataValues", "the dataValueSet has no dataValues")
    if len(values) > max_rows:
        raise ShapeError(max_rows + 1, "", f"there are more than {max_rows} dataValues; split them")
    default_period = document.get("period")
    default_unit = document.get("orgUnit")
    default_aoc = document.get("attributeOptionCombo", "")
    rows = []
    for number, item in enumerate(values, start=1):
        if not isinstance(item, dict):
            rows.append(RawRow(number, {}, {}, part="not-an-object"))
            continue
        if item.get("deleted") is True:
            continue
        element = item.get("dataElement")
        unit = item.get("orgUnit", default_unit)
        period = item.get("period", default_period)
        raw_period: Any = period
        if isinstance(period, str) and period.strip():
            try:
                raw_period = reference.parse_dhis2_period(period)
            except reference.PeriodError as error:
                raw_period = error
        rows.append(
            RawRow(
                number,
                {
                    "disease": mapping.get(("dataElement", str(element)), element) if element is not None else None,
                    "region": mapping.get(("orgUnit", str(unit)), unit) if unit is not None else None,
                    "period": raw_period,
                    "count": item.get("value"),
                },
                {"disease": "dataElement", "region": "orgUnit", "period": "period", "count": "value"},
                part=f"{item.get('categoryOptionCombo', '')}|{item.get('attributeOptionCombo', default_aoc)}",
            )
        )
    if not rows:
        raise ShapeError(1, "dataValues", "every dataValue is marked deleted")
    return rows


# ---- checking rows ---------------------------------------------------------------------------------


def _count(value: Any) -> tuple[int | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "the count is empty (write 0 for a period without cases)"
    if isinstance(value, bool):
        return None, f"{cut(repr(value))} is not a whole number"
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None, f"{cut(repr(value))} is not a whole number"
        number = int(value)
    else:
        text = str(value).strip()
        try:
            number = int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                return None, f"{cut(text)!r} is not a whole number"
            if not math.isfinite(as_float) or not as_float.is_integer():
                return None, f"{cut(text)!r} is not a whole number"
            number = int(as_float)
    if number < 0:
        return None, f"{number} is negative; counts are 0 or more"
    if number > 10**9:
        return None, f"{number} is larger than any count this node accepts (10^9)"
    return number, None


def _period(value: Any) -> tuple[reference.Period | None, str | None]:
    if isinstance(value, reference.Period):
        return value, None
    if isinstance(value, reference.PeriodError):
        return None, str(value)
    if isinstance(value, datetime):
        return reference.Period(value.date(), "day"), None
    if isinstance(value, date):
        return reference.Period(value, "day"), None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "the period is empty"
    try:
        return reference.parse_period(str(value)), None
    except reference.PeriodError as error:
        return None, cut(error)


def check_rows(
    raw: Iterable[RawRow],
    *,
    member: str,
    today: date,
    member_names: dict[str, tuple[str, str, str]],
    progress: Callable[[int], None] | None = None,
    disease: reference.Disease | None = None,
) -> Parsed:
    """Check every row; the clean rows, and an error for each bad cell (at most MAX_ERRORS).

    `disease`: the upload is of this disease only: an empty disease is this one, another is an error."""
    result = Parsed()
    only = disease
    first_of: dict[tuple[str, str, str, str], int] = {}

    def fail(row: int, column: str, message: str) -> None:
        result.error_count += 1
        if len(result.errors) < MAX_ERRORS:
            result.errors.append(RowError(row, cut(column, 100), cut(message, 2 * REPORT_VALUE_CHARS)))

    for index, item in enumerate(raw, start=1):
        result.total += 1
        if progress is not None and index % 500 == 0:
            progress(index)
        if item.part == "not-an-object":
            fail(item.row, "", "this entry is not a JSON object")
            continue
        col = item.columns
        bad = False
        disease_text = str(item.values.get("disease") or "").strip() or (only.code if only else "")
        disease = reference.find_disease(disease_text) if disease_text else None
        if not disease_text:
            fail(item.row, col["disease"], "the disease is empty")
            bad = True
        elif only is not None and disease is not None and disease.code != only.code:
            fail(
                item.row,
                col["disease"],
                f"{disease.code} is not {only.code}, the only disease of this upload (--disease)",
            )
            bad = True
        elif disease is None:
            fail(
                item.row,
                col["disease"],
                f"unknown disease {cut(disease_text)!r}: "
                "give an ICD-10 or ICD-11 code of the list of notifiable diseases",
            )
            bad = True
        region_text = str(item.values.get("region") or "").strip().upper()
        region = reference.find_region(region_text, member_names) if region_text else None
        if not region_text:
            fail(item.row, col["region"], "the region is empty")
            bad = True
        elif region is None:
            fail(item.row, col["region"], f"unknown region {cut(region_text)!r}: give an ISO 3166-2 code such as KZ-19")
            bad = True
        elif region.member != member:
            fail(item.row, col["region"], f"{region.code} is not a region of {member}, the member you upload for")
            bad = True
        period, problem = _period(item.values.get("period"))
        if problem is not None:
            fail(item.row, col["period"], problem)
            bad = True
        elif period is not None and reference.is_future(period, today):
            fail(item.row, col["period"], f"{period.label} is in the future")
            bad = True
        count, problem = _count(item.values.get("count"))
        if problem is not None:
            fail(item.row, col["count"], problem)
            bad = True
        if bad or disease is None or region is None or period is None or count is None:
            continue
        key = (disease.code, region.code, period.label, item.part)
        if key in first_of:
            fail(
                item.row,
                col["period"],
                f"duplicate: row {first_of[key]} already gives {disease.code} in {region.code} for {period.label}",
            )
            continue
        first_of[key] = item.row
        result.rows.append(CleanRow(item.row, disease, region, period, count, item.part))
    return result


def read(
    data: bytes,
    fmt: str,
    *,
    max_rows: int,
    mapping: Mapping[tuple[str, str], str] | None = None,
    limits: Limits | None = None,
) -> list[RawRow]:
    """The rows of an upload in format `fmt`; ShapeError when its shape is wrong, LimitError when it passes a
    limit of this node (checked before it is parsed)."""
    limits = limits or Limits.from_settings()
    if fmt == "csv":
        return read_csv(data, max_rows, limits)
    if fmt == "xlsx":
        return read_xlsx(data, max_rows, limits)
    if fmt == "dhis2":
        return read_dhis2(data, max_rows, mapping or {}, limits)
    if fmt == "json":
        return read_json(data, max_rows, limits)
    raise ShapeError(1, "", f"unknown format {cut(fmt)!r}; use one of {', '.join(FORMATS)}")


def check_limits(data: bytes, fmt: str, limits: Limits | None = None) -> None:
    """Refuse (LimitError) an upload that passes a limit, cheaply and before anything of it is stored; other
    problems of its shape are left to `read`, which the worker runs."""
    limits = limits or Limits.from_settings()
    try:
        if fmt == "csv":
            from accord.surveillance.limits import scan_csv

            text = _text(data)
            scan_csv(text, _delimiter(text), limits)
        elif fmt == "xlsx":
            scan_xlsx(data, limits)
        elif fmt in ("dhis2", "json"):
            scan_json(data, limits)
    except LimitError:
        raise
    except ShapeError:
        return


# ---- templates -------------------------------------------------------------------------------------


def csv_template() -> bytes:
    return b"disease,region,period,count\n"


def xlsx_template(member: str | None, member_names: dict[str, tuple[str, str, str]]) -> bytes:
    """A workbook with the sheet "counts" to fill in, and the diseases and regions it may name."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    counts = workbook.active
    counts.title = "counts"
    counts.append(list(FIELDS))
    for cell in counts[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (12, 12, 14, 10), strict=True):
        counts.column_dimensions[letter].width = width
        counts.column_dimensions[letter].number_format = "@" if letter != "D" else "0"
    notes = workbook.create_sheet("about")
    for line in (
        ["One row per disease, region and period."],
        ["disease: an ICD-10 or ICD-11 code of the sheet 'diseases' (A00, 1A00)."],
        ["region: an ISO 3166-2 code of the sheet 'regions' (KZ-19), or the member code for the whole member."],
        ["period: an ISO week (2026-W07) or a day (2026-02-14), typed as text."],
        ["count: the number of cases, a whole number, 0 or more."],
        ["Uploading a period again corrects it: a new version is shared, the old one is kept."],
    ):
        notes.append(line)
    diseases = workbook.create_sheet("diseases")
    diseases.append(["ICD-10", "ICD-11", "English", "Русский", "中文"])
    for d in reference.diseases().values():
        diseases.append([d.code, d.icd11 or "", d.name_en, d.name_ru, d.name_zh])
    regions = workbook.create_sheet("regions")
    regions.append(["code", "member", "English", "Русский", "中文"])
    if member and member in member_names:
        en, ru, zh = member_names[member]
        regions.append([member, member, en, ru, zh])
    for r in reference.regions().values():
        if member is None or r.member == member:
            regions.append([r.code, r.member, r.name_en, r.name_ru, r.name_zh])
    for sheet in (diseases, regions):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
