"""How much an upload of counts may hold, checked before it is parsed, so no upload can exhaust a node.

Each limit is a setting (see README, Configuration). `scan` checks an upload against them cheaply and in
bounded memory, without building its rows: for XLSX the ZIP central directory (part sizes, total size,
compression ratio, number of parts) and then every XML part streamed through a size-capped reader into expat
(rows, columns, cells, cell length, declared dimensions; no DTD); for CSV the lines, columns and field lengths;
for JSON the nesting depth, the number of values and the length of every string. The parsers run `scan` first,
and `submit_upload` runs it before anything is stored, so a hostile upload is refused with a 413 that names
the limit passed.

A `LimitError` is a `ShapeError`: the worker refuses an upload that passes a limit like any other of the wrong
shape. Its message is translated (the request's language when refused on submission).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

from accord.lib import safezip

REPORT_ERRORS = 100  # an upload's error report keeps the first 100 problems ...
REPORT_VALUE_CHARS = 200  # ... each value in them cut to 200 characters


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ShapeError(Exception):
    """The file cannot be read as counts at all."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(message)
        self.error = RowError(row, column, message)


class LimitError(ShapeError):
    """The upload passes one of this node's limits; `setting` names the setting that holds it."""

    def __init__(self, setting: str, message: str, row: int = 0, column: str = "") -> None:
        super().__init__(row, column, message)
        self.setting = setting


@dataclass(frozen=True)
class Limits:
    max_lines: int = 100_000
    max_columns: int = 100
    max_cell_chars: int = 1_000
    max_cells: int = 500_000
    max_json_depth: int = 20
    max_part_bytes: int = 32 * 1_048_576
    max_unzipped_bytes: int = 64 * 1_048_576
    max_ratio: int = 100
    max_parts: int = 200
    max_small_part_bytes: int = 2 * 1_048_576

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_lines=settings.ACCORD_UPLOAD_MAX_LINES,
            max_columns=settings.ACCORD_UPLOAD_MAX_COLUMNS,
            max_cell_chars=settings.ACCORD_UPLOAD_MAX_CELL_CHARS,
            max_cells=settings.ACCORD_UPLOAD_MAX_CELLS,
            max_json_depth=settings.ACCORD_UPLOAD_MAX_JSON_DEPTH,
            max_part_bytes=settings.ACCORD_UPLOAD_MAX_PART_BYTES,
            max_unzipped_bytes=settings.ACCORD_UPLOAD_MAX_UNZIPPED_BYTES,
            max_ratio=settings.ACCORD_UPLOAD_MAX_RATIO,
            max_parts=settings.ACCORD_UPLOAD_MAX_PARTS,
        )

    def zip_limits(self) -> safezip.ZipLimits:
        return safezip.ZipLimits(
            max_parts=self.max_parts,
            max_part_bytes=self.max_part_bytes,
            max_total_bytes=self.max_unzipped_bytes,
            max_ratio=self.max_ratio,
            max_small_part_bytes=self.max_small_part_bytes,
            small=is_small_part,
        )


def is_small_part(name: str) -> bool:
    """Every part but the worksheets and the shared strings is small (workbook, styles, themes, relationships)."""
    lowered = name.lower()
    return not (lowered.startswith("xl/worksheets/") or lowered == "xl/sharedstrings.xml")


def cut(value: Any, limit: int = REPORT_VALUE_CHARS) -> str:
    """A value as shown in a message: at most `limit` characters, the cut marked with an ellipsis."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- messages ---------------------------------------------------------------------------------------


def _lines(limits: Limits, row: int) -> LimitError:
    return LimitError(
        "ACCORD_UPLOAD_MAX_LINES",
        _("the file has more than %(limit)d lines or sheet rows, the limit of this node; split it")
        % {"limit": limits.max_lines},
        row=row,
    )


def _columns(limits: Limits, row: int) -> LimitError:
    return LimitError(
        "ACCORD_UPLOAD_MAX_COLUMNS",
        _("row %(row)d has more than %(limit)d columns, the limit of this node")
        % {"row": row, "limit": limits.max_columns},
        row=row,
    )


def _cell(limits: Limits, row: int, column: str = "") -> LimitError:
    return LimitError(
        "ACCORD_UPLOAD_MAX_CELL_CHARS",
        _("a cell or value holds more than %(limit)d characters, the limit of this node")
        % {"limit": limits.max_cell_chars},
        row=row,
        column=column,
    )


def _cells(limits: Limits) -> LimitError:
    return LimitError(
        "ACCORD_UPLOAD_MAX_CELLS",
        _("the file holds more than %(limit)d cells or values, the limit of this node; split it")
        % {"limit": limits.max_cells},
    )


def _archive(error: safezip.ArchiveLimit) -> LimitError:
    """The LimitError for an archive's limit (a ShapeError raised for a file that is no ZIP archive)."""
    if error.limit == "parts":
        return LimitError(
            "ACCORD_UPLOAD_MAX_PARTS",
            _("the workbook has %(found)d parts, more than the %(limit)d this node accepts")
            % {"found": error.found, "limit": error.allowed},
        )
    if error.limit == "part_bytes":
        return LimitError(
            "ACCORD_UPLOAD_MAX_PART_BYTES",
            _("the part %(part)s of the workbook inflates to more than %(limit)d bytes, the limit of this node")
            % {"part": cut(error.part), "limit": error.allowed},
        )
    if error.limit == "total_bytes":
        return LimitError(
            "ACCORD_UPLOAD_MAX_UNZIPPED_BYTES",
            _("the workbook inflates to more than %(limit)d bytes in all, the limit of this node")
            % {"limit": error.allowed},
        )
    if error.limit == "ratio":
        return LimitError(
            "ACCORD_UPLOAD_MAX_RATIO",
            _(
                "the part %(part)s of the workbook is compressed %(found)d to 1, more than the %(limit)d to 1 "
                "this node accepts (a zip bomb?)"
            )
            % {"part": cut(error.part), "found": error.found, "limit": error.allowed},
        )
    if error.limit == "lying":
        return LimitError(
            "ACCORD_UPLOAD_MAX_PART_BYTES",
            _("the workbook is damaged: the part %(part)s is not what the archive's directory declares")
            % {"part": cut(error.part)},
        )
    # Not a limit: the file is no workbook at all, which the worker reports like any other wrong shape.
    raise ShapeError(1, "", _("the file is not an Excel workbook (.xlsx): it is not a ZIP archive"))


# ---- XLSX ------------------------------------------------------------------------------------------

_MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + (ord(letter) - 64)
    return number


class _PartScan:
    """Stream one XML part through expat, counting rows, cells and the characters of each value."""

    def __init__(self, name: str, limits: Limits, totals: dict[str, int]) -> None:
        self.name = name
        self.limits = limits
        self.totals = totals
        self.row = 0
        self.column = 0
        self.chars = 0
        self.in_text = 0
        self.parser = expat.ParserCreate(namespace_separator="}")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.parser.EntityDeclHandler = self.doctype

    def doctype(self, *args: Any) -> None:
        raise LimitError(
            "",
            _("the part %(part)s of the workbook declares a document type or entities, which are not accepted")
            % {"part": cut(self.name)},
        )

    def start(self, name: str, attrs: dict[str, str]) -> None:
        namespace, _sep, local = name.rpartition("}")
        if namespace not in _MAIN_NAMESPACES:
            return
        limits = self.limits
        if local == "dimension":
            self.dimension(attrs.get("ref", ""))
        elif local == "row":
            self.row = self.row + 1
            declared = attrs.get("r", "")
            if declared.isdigit():
                self.row = int(declared)
            if self.row > limits.max_lines:
                raise _lines(limits, self.row)
            self.column = 0
        elif local in ("c", "si"):
            self.totals["cells"] += 1
            if self.totals["cells"] > limits.max_cells:
                raise _cells(limits)
            self.chars = 0
            if local == "c":
                self.column += 1
                match = _CELL_REF.fullmatch(attrs.get("r", ""))
                if match:
                    self.column = _column_number(match.group(1))
                if self.column > limits.max_columns:
                    raise _columns(limits, self.row)
        elif local in ("v", "t", "f"):
            self.in_text += 1

    def end(self, name: str) -> None:
        namespace, _sep, local = name.rpartition("}")
        if namespace in _MAIN_NAMESPACES and local in ("v", "t", "f"):
            self.in_text = max(0, self.in_text - 1)

    def text(self, data: str) -> None:
        if self.in_text:
            self.chars += len(data)
            if self.chars > self.limits.max_cell_chars:
                raise _cell(self.limits, self.row)

    def dimension(self, ref: str) -> None:
        last = ref.rsplit(":", maxsplit=1)[-1]
        match = _CELL_REF.fullmatch(last)
        if not match:
            return
        columns, rows = _column_number(match.group(1)), int(match.group(2))
        if rows > self.limits.max_lines or columns > self.limits.max_columns:
            raise LimitError(
                "ACCORD_UPLOAD_MAX_LINES" if rows > self.limits.max_lines else "ACCORD_UPLOAD_MAX_COLUMNS",
                _(
                    "the sheet %(part)s declares %(rows)d rows and %(columns)d columns; this node accepts at most "
                    "%(max_rows)d rows and %(max_columns)d columns"
                )
                % {
                    "part": cut(self.name),
                    "rows": rows,
                    "columns": columns,
                    "max_rows": self.limits.max_lines,
                    "max_columns": self.limits.max_columns,
                },
            )

    def feed(self, chunk: bytes, final: bool = False) -> None:
        self.parser.Parse(chunk, final)


def scan_xlsx(data: bytes, limits: Limits) -> None:
    """Check a workbook against `limits` without parsing it into cells; LimitError names the limit passed.

    Malformed XML is left for openpyxl to report; only limits are checked here."""
    try:
        archive = safezip.CappedZipFile(data, limits.zip_limits())
    except safezip.ArchiveLimit as error:
        raise _archive(error) from None
    totals = {"cells": 0}
    try:
        with archive:
            for info in archive.infolist():
                lowered = info.filename.lower()
                if info.is_dir() or not (lowered.endswith(".xml") or lowered.endswith(".rels")):
                    continue
                scan = _PartScan(info.filename, limits, totals)
                with archive.open(info) as stream:
                    while chunk := stream.read(64 * 1024):
                        scan.feed(chunk)
                    scan.feed(b"", final=True)
    except safezip.ArchiveLimit as error:
        raise _archive(error) from None
    except expat.ExpatError:
        return  # not well-formed: openpyxl says so in its own words
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
        # an encrypted part, an unsupported compression method, a truncated archive
        message = _("the file is not an Excel workbook (.xlsx): %(error)s") % {"error": cut(error)}
        raise ShapeError(1, "", message) from None


# ---- CSV -------------------------------------------------------------------------------------------


def scan_csv_row(cells: list[str], line: int, limits: Limits, counted: list[int]) -> None:
    """Check one CSV row as read (its line number, width, field lengths, and the cells so far)."""
    if line > limits.max_lines:
        raise _lines(limits, line)
    if len(cells) > limits.max_columns:
        raise _columns(limits, line)
    counted[0] += len(cells)
    if counted[0] > limits.max_cells:
        raise _cells(limits)
    for cell in cells:
        if len(cell) > limits.max_cell_chars:
            raise _cell(limits, line)


def scan_csv(text: str, delimiter: str, limits: Limits) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    counted = [0]
    try:
        for cells in reader:
            scan_csv_row(cells, reader.line_num, limits, counted)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _cell(limits, reader.line_num) from None
        return  # not valid CSV: the parser says so in its own words


# ---- JSON ------------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]|,')


def scan_json(data: bytes, limits: Limits) -> None:
    """Nesting depth, number of values and the length of every string, counted over the raw bytes."""
    depth = 0
    values = 0
    for match in _JSON_TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if first == b'"':
            # bytes count at least the characters they encode: refuse only what is surely over
            if len(token) - 2 > limits.max_cell_chars:
                chars = len(token.decode("utf-8", "replace")) - 2
                if chars > limits.max_cell_chars:
                    raise _cell(limits, 0)
        elif first in b"[{":
            depth += 1
            values += 1
            if depth > limits.max_json_depth:
                raise LimitError(
                    "ACCORD_UPLOAD_MAX_JSON_DEPTH",
                    _("the JSON is nested deeper than %(limit)d levels, the limit of this node")
                    % {"limit": limits.max_json_depth},
                )
        elif first in b"]}":
            depth = max(0, depth - 1)
        elif first == b",":
            values += 1
        if values > limits.max_cells:
            raise _cells(limits)


# ---- the error report ------------------------------------------------------------------------------


def bound_report(errors: Any) -> list[dict[str, Any]]:
    """At most the first REPORT_ERRORS problems, each {row, column, message} with its text cut: what is stored
    of a refused upload and what is shown of it (also of reports stored before these limits)."""
    if not isinstance(errors, list):
        return []
    bounded = []
    for item in errors[:REPORT_ERRORS]:
        if not isinstance(item, dict):
            continue
        row = item.get("row")
        bounded.append(
            {
                "row": row if isinstance(row, int) and not isinstance(row, bool) and 0 <= row < 2**31 else 0,
                "column": cut(item.get("column") or "", 100),
                "message": cut(item.get("message") or "", 2 * REPORT_VALUE_CHARS),
            }
        )
    return bounded


def error_count(errors: Any, summary: Any) -> int:
    """How many problems the upload had in all (the report keeps only the first REPORT_ERRORS)."""
    if isinstance(summary, dict):
        counted = summary.get("errors")
        if isinstance(counted, int) and not isinstance(counted, bool):
            return counted
    return len(errors) if isinstance(errors, list) else 0
