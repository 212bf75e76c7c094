"""Hostile uploads, generated in the tests: zip bombs, lying archives, giant cells, endless rows, deep JSON.

Every generator streams what it writes, so building a fixture that inflates to 512 MiB costs the test process
no more than a few megabytes. Each result is at most 1 MiB (the default ACCORD_MAX_BODY_BYTES).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Iterator
from itertools import chain

MIB = 1_048_576
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{MAIN}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="counts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>disease</t></is></c><c r="B1" t="inlineStr"><is><t>region</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>period</t></is></c><c r="D1" t="inlineStr"><is><t>count</t></is></c></row>'
)


def _sheet(rows: str, dimension: str = "A1:D2") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{_HEADER_ROW}{rows}</sheetData></worksheet>'
    )


_ONE_ROW = (
    '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>KZ-19</t></is></c>'
    '<c r="C2" t="inlineStr"><is><t>2026-W07</t></is></c><c r="D2"><v>3</v></c></row>'
)


def _chunks(head: bytes, filler: bytes, size: int, tail: bytes) -> Iterator[bytes]:
    yield head
    block = filler * (MIB // len(filler))
    left = size
    while left > 0:
        piece = block[: min(left, len(block))]
        left -= len(piece)
        yield piece
    yield tail


def _workbook(parts: dict[str, bytes | Iterator[bytes]]) -> bytes:
    """A workbook with the sheet "counts" and shared strings; `parts` replaces or adds parts (streamed)."""
    base: dict[str, bytes | Iterator[bytes]] = {
        "[Content_Types].xml": _CONTENT_TYPES.encode(),
        "_rels/.rels": _ROOT_RELS.encode(),
        "xl/workbook.xml": _WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS.encode(),
        "xl/worksheets/sheet1.xml": _sheet(_ONE_ROW).encode(),
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>A00</t></si></sst>'.encode(),
    }
    base.update(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in base.items():
            with archive.open(name, "w") as handle:  # every part under 2 GiB: no zip64 fields
                if isinstance(content, bytes):
                    handle.write(content)
                else:
                    for chunk in content:
                        handle.write(chunk)
    return out.getvalue()


def good_xlsx() -> bytes:
    """A small, correct workbook in the same hand-made shape as the hostile ones (one row of counts)."""
    return _workbook({})


def bomb_shared_string(size: int = 512 * MIB) -> bytes:
    """The report's workbook: about 0.5 MB whose shared strings inflate to one cell of `size` characters."""
    head = f'<sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
    return _workbook({"xl/sharedStrings.xml": _chunks(head, b"A", size, b"</t></si></sst>")})


def bomb_inline_string(size: int = 30 * MIB) -> bytes:
    """A giant inline string in the sheet itself, under the part limit: only the cell length stops it."""
    head = _sheet("").split("</sheetData>")[0].encode() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    return _workbook(
        {"xl/worksheets/sheet1.xml": _chunks(head, b"B", size, b"</t></is></c></row></sheetData></worksheet>")}
    )


def huge_dimension() -> bytes:
    """A sheet that declares 1,048,576 rows and 16,384 columns and holds one row."""
    return _workbook({"xl/worksheets/sheet1.xml": _sheet(_ONE_ROW, "A1:XFD1048576").encode()})


def far_row() -> bytes:
    """One row of counts numbered 1,048,576: openpyxl would yield a million empty rows before it."""
    far = _ONE_ROW.replace('r="2"', 'r="1048576"').replace('2"', '1048576"')
    return _workbook({"xl/worksheets/sheet1.xml": _sheet(far, "A1:D2").encode()})


def many_rows(count: int = 150_000) -> bytes:
    """Many real (small) rows: more than the lines allowed."""
    rows = (f'<row r="{n}"><c r="D{n}"><v>1</v></c></row>'.encode() for n in range(2, count + 2))
    head = _sheet("").split("</sheetData>")[0].encode()
    return _workbook({"xl/worksheets/sheet1.xml": chain([head], rows, [b"</sheetData></worksheet>"])})


def many_columns() -> bytes:
    """A row with 16,384 cells."""
    cells = "".join(f'<c r="{_letters(n)}2"><v>1</v></c>' for n in range(1, 16_385))
    return _workbook({"xl/worksheets/sheet1.xml": _sheet(f'<row r="2">{cells}</row>').encode()})


def many_shared_strings(count: int = 1_200_000, period: int = 400) -> bytes:
    """More tiny shared strings than the cells allowed, repeating every `period` (to compress under 100:1)."""
    strings = (f"<si><t>{n % period:07d}</t></si>".encode() for n in range(count))
    head = f'<sst xmlns="{MAIN}">'.encode()
    return _workbook({"xl/sharedStrings.xml": chain([head], strings, [b"</sst>"])})


def heavy_within_limits(count: int = 499_990) -> bytes:
    """What passes every default limit yet costs openpyxl most: nearly the cells allowed, as shared strings
    that are each a distinct string object, the part just under 32 MiB and compressed about 58 to 1 (two
    random letters of four in each string keep the ratio under 100)."""
    rng = random.Random(14)  # noqa: S311 (a fixture, not a secret)
    strings = (f"<si><t>{'x' * 48}{rng.choice('abcd')}{rng.choice('abcd')}</t></si>".encode() for _ in range(count))
    head = f'<sst xmlns="{MAIN}">'.encode()
    return _workbook({"xl/sharedStrings.xml": chain([head], strings, [b"</sst>"])})


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def lying_directory(real: int = 256 * MIB, declared: int = 1_000) -> bytes:
    """The shared strings inflate to `real` bytes; the central directory and the local header say `declared`
    (so the compression ratio they declare is harmless too)."""
    data = bytearray(bomb_shared_string(real))
    name = b"xl/sharedStrings.xml"
    patched = 0
    # Central directory entries: signature PK\x01\x02, uncompressed size at +24, name length at +28, name at +46.
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == name:
            struct.pack_into("<I", data, at + 24, declared)
            local = struct.unpack_from("<I", data, at + 42)[0]
            # Local header: signature PK\x03\x04, uncompressed size at +22.
            assert data[local : local + 4] == b"PK\x03\x04"
            struct.pack_into("<I", data, local + 22, declared)
            patched += 1
        at = data.find(b"PK\x01\x02", at + 4)
    assert patched == 1, "the directory entry of the shared strings was not found"
    return bytes(data)


def csv_giant_field(size: int = MIB - 100) -> bytes:
    return b'disease,region,period,count\n"' + b"A" * size + b'",KZ-19,2026-W07,1\n'


def csv_many_columns(count: int = 50_000) -> bytes:
    return b"disease,region,period,count\n" + b",".join([b"1"] * count) + b"\n"


def csv_many_lines(size: int = MIB - 100) -> bytes:
    return b"disease,region,period,count\n" + b"\n,\n" * (size // 3)


def dhis2_deep(depth: int = 200_000) -> bytes:
    return b'{"dataValues": ' + b"[" * depth + b"]" * depth + b"}"


def dhis2_wide(size: int = MIB - 100) -> bytes:
    """As many tiny values as fit in 1 MiB."""
    return b'{"dataValues": [' + b",".join([b"0"] * (size // 2)) + b"]}"


def dhis2_giant_value(size: int = MIB - 200) -> bytes:
    return b'{"dataValues": [{"dataElement": "' + b"A" * size + b'", "orgUnit": "KZ-19", "value": "1"}]}'


def csv_bad_rows(count: int = 50_000) -> bytes:
    """As many rows as counted, each wrong in every field with values near the cell limit: a long report."""
    row = b"D" * 900 + b"," + b"R" * 20 + b",never," + b"C" * 10 + b"\n"
    per = (MIB - 100) // len(row)
    return b"disease,region,period,count\n" + row * min(count, per)


def doctype_xlsx() -> bytes:
    """A workbook part with a DTD declaring entities (the billion laughs start this way)."""
    sheet = _sheet(_ONE_ROW).replace(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    )
    return _workbook({"xl/worksheets/sheet1.xml": sheet.encode()})
