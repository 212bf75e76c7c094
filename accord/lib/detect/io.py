"""Reading count series from CSV and writing detector results as CSV, for ``accord detect``.

Input is the long format of the shared surveillance data (one row per unit and time index ``t``; the
columns of :data:`INPUT_COLUMNS`, others are ignored). Output has exactly :data:`OUTPUT_COLUMNS`, one row per
unit and monitored time point, empty where R gives ``NA`` and ``alarm`` as 0/1. Every problem with the
input raises :class:`DetectError` with a one-line message that names the file, row and column; nothing is
written unless every unit was computed. No Django here.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accord.lib.detect import ALGORITHMS, DetectError, Result, Series, detector, run

INPUT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "unit",
    "t",
    "year",
    "epoch_in_year",
    "date",
    "observed",
    "freq",
    "epoch_as_date",
)
OUTPUT_COLUMNS: tuple[str, ...] = (
    "dataset",
    "unit",
    "algorithm",
    "control_id",
    "t",
    "observed",
    "upperbound",
    "alarm",
    "expected",
    "score",
    "pvalue",
)


@dataclass(frozen=True)
class Unit:
    """One series of an input file, with the dataset and unit names it carries in the CSV."""

    dataset: str
    unit: str
    series: Series


def _integer(text: str, where: str, column: str, *, minimum: int | None = 0) -> int:
    """``text`` as an integer (``"3"`` or ``"3.0"``); :class:`DetectError` naming ``where`` otherwise."""
    value = text.strip()
    try:
        number = int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            shown = repr(text) if value else "empty"
            raise DetectError(f"{where}, column {column}: {shown} is not an integer") from None
        if not math.isfinite(as_float) or not as_float.is_integer():
            raise DetectError(f"{where}, column {column}: {text!r} is not an integer") from None
        number = int(as_float)
    if minimum is not None and number < minimum:
        what = "negative" if minimum == 0 else f"below {minimum}"
        raise DetectError(f"{where}, column {column}: {number} is {what}")
    return number


def _is_date(text: str) -> bool:
    try:
        return not np.isnat(np.datetime64(text, "D")) if text else False
    except ValueError:
        return False


def parse_start(text: str) -> tuple[int, int]:
    """``"YEAR,EPOCH"`` (as for ``--start``) as a pair of integers."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isdigit() for part in parts) or int(parts[1]) < 1:
        raise DetectError(f"--start {text!r} is not YEAR,EPOCH with whole numbers, EPOCH >= 1 (e.g. 2010,1)")
    return int(parts[0]), int(parts[1])


def parse_range(text: str) -> tuple[int, int]:
    """``"FIRST:LAST"`` (1-based, inclusive) as a pair; both positive and FIRST ≤ LAST."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise DetectError(f"range {text!r} is not FIRST:LAST with whole numbers (e.g. 417:520)")
    first, last = int(parts[0]), int(parts[1])
    if first < 1 or last < first:
        raise DetectError(f"range {text!r} must satisfy 1 <= FIRST <= LAST")
    return first, last


def parse_control(text: str) -> dict[str, Any]:
    """The resolved control: a JSON object given inline, or ``@FILE`` to read it from a file."""
    source = "--control"
    if text.startswith("@"):
        path = Path(text[1:])
        source = f"control file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise DetectError(f"cannot read control file {path}: {error.strerror or error}") from None
        except UnicodeDecodeError:
            raise DetectError(f"control file {path} is not UTF-8 text") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise DetectError(
            f"{source} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(value, dict):
        raise DetectError(f"{source} must be a JSON object (the resolved control), not {type(value).__name__}")
    return value


def read_units(path: str | Path, start: tuple[int, int] | None = None) -> list[Unit]:
    """Every unit of the CSV file at ``path``, in order of first appearance.

    ``start`` overrides R's ``start`` slot, which otherwise is the ``(year, epoch_in_year)`` of the unit's
    first row. Rows of a unit may come in any order, but its ``t`` must run 1..n without gaps or repeats.
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise DetectError(f"cannot read {path}: {error.strerror or error}") from None
    rows: dict[tuple[str, str], list[tuple[int, int, int, int, int, str, int, int]]] = {}
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise DetectError(f"{path} is empty")
            header = [name.strip().lstrip("\ufeff") for name in header]
            missing = [name for name in INPUT_COLUMNS if name not in header]
            if missing:
                raise DetectError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
            index = {name: header.index(name) for name in INPUT_COLUMNS}
            for number, record in enumerate(reader, start=2):
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if len(record) != len(header):
                    raise DetectError(f"{path} line {number}: {len(record)} fields, the header has {len(header)}")
                where = f"{path} line {number} (data row {number - 1})"

                def cell(name: str, record: list[str] = record) -> str:
                    return record[index[name]]

                t = _integer(cell("t"), where, "t", minimum=1)
                observed = _integer(cell("observed"), where, "observed")
                freq = _integer(cell("freq"), where, "freq", minimum=1)
                as_date = _integer(cell("epoch_as_date"), where, "epoch_as_date")
                if as_date not in (0, 1):
                    raise DetectError(f"{where}, column epoch_as_date: {as_date} is not 0 or 1")
                year = _integer(cell("year"), where, "year", minimum=None)
                epoch = _integer(cell("epoch_in_year"), where, "epoch_in_year", minimum=None)
                date = cell("date").strip()
                if as_date and not _is_date(date):
                    shown = repr(date) if date else "empty"
                    raise DetectError(f"{where}, column date: {shown} is not an ISO date (epoch_as_date is 1)")
                key = (cell("dataset"), cell("unit"))
                rows.setdefault(key, []).append((t, number, observed, freq, as_date, date, year, epoch))
        except csv.Error as error:
            raise DetectError(f"{path} line {reader.line_num}: {error}") from None
        except UnicodeDecodeError:
            raise DetectError(f"{path} is not UTF-8 text") from None
    if not rows:
        raise DetectError(f"{path} has no data rows")
    return [_unit(path, dataset, unit, sorted(unit_rows), start) for (dataset, unit), unit_rows in rows.items()]


def _unit(
    path: Path,
    dataset: str,
    unit: str,
    rows: list[tuple[int, int, int, int, int, str, int, int]],
    start: tuple[int, int] | None,
) -> Unit:
    label = f"{path}: unit {unit!r}" + (f" of dataset {dataset!r}" if dataset else "")
    expected = 1
    for t, line, *_ in rows:
        if t == expected - 1:
            raise DetectError(f"{label}: t {t} appears twice (line {line})")
        if t != expected:
            missing = f"t {expected}" if t == expected + 1 else f"t {expected}..{t - 1}"
            raise DetectError(f"{label}: gap in t, {missing} missing (next is t {t} at line {line})")
        expected += 1
    for name, position in (("freq", 3), ("epoch_as_date", 4)):
        values = {row[position] for row in rows}
        if len(values) > 1:
            raise DetectError(f"{label}: column {name} is not the same on every row ({sorted(values)})")
    first = rows[0]
    freq, as_date = first[3], first[4]
    dates = np.array([row[5] for row in rows], dtype="datetime64[D]") if as_date else None
    if dates is not None and np.any(np.diff(dates) <= np.timedelta64(0, "D")):
        raise DetectError(f"{label}: dates do not increase with t")
    observed = np.array([row[2] for row in rows], dtype=np.float64)
    series = Series(observed=observed, freq=freq, dates=dates, start=start or (first[6], first[7]), name=unit)
    return Unit(dataset=dataset, unit=unit, series=series)


def _number(value: float) -> str:
    """R's NA (NaN) as empty; whole numbers without a decimal point; otherwise the shortest exact repr."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def result_rows(unit: Unit, algorithm: str, control_id: str, result: Result) -> list[list[str]]:
    """The output rows (:data:`OUTPUT_COLUMNS`) of one unit's result."""
    observed = unit.series.observed
    rows: list[list[str]] = []
    for i, t in enumerate(result.t.tolist()):
        alarm = float(result.alarm[i])
        rows.append(
            [
                unit.dataset,
                unit.unit,
                algorithm,
                control_id,
                str(t),
                _number(float(observed[t - 1])),
                _number(float(result.upperbound[i])),
                "" if math.isnan(alarm) else ("1" if alarm else "0"),
                _number(float(result.expected[i])),
                _number(float(result.score[i])),
                _number(float(result.pvalue[i])),
            ]
        )
    return rows


def write_rows(path: str | Path, rows: Iterable[Sequence[str]]) -> None:
    """Write the header and ``rows`` to ``path`` (``-``: standard output), replacing the file only when done."""
    if str(path) == "-":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        writer.writerows(rows)
        sys.stdout.flush()
        return
    target = Path(path)
    directory = target.parent if str(target.parent) else Path()
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise DetectError(f"cannot write {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            writer.writerows(rows)
        os.replace(temporary, target)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise DetectError(f"cannot write {target}: {error.strerror or error}") from None
        raise


def check_algorithm(name: str) -> None:
    """:class:`DetectError` unless ``name`` is one of the R algorithms of the registry."""
    if name not in ALGORITHMS:
        raise DetectError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}")


def load_algorithm(name: str) -> None:
    """Import the implementation of ``name``; :class:`DetectError` if it is unknown or cannot be loaded."""
    check_algorithm(name)
    try:
        detector(name)
    except (ImportError, AttributeError) as error:
        raise DetectError(f"algorithm {name!r} is not implemented in this build ({error})") from None


def detect(
    units: Sequence[Unit], algorithm: str, control: Mapping[str, Any], *, control_id: str, first: int, last: int
) -> list[list[str]]:
    """Run ``algorithm`` over every unit for ``first..last`` and return all output rows.

    The range is checked against every unit before anything runs; a :class:`DetectError` from the
    algorithm is re-raised with the unit named.
    """
    for unit in units:
        if last > unit.series.n:
            raise DetectError(f"range {first}:{last} goes beyond unit {unit.unit!r}, which has t 1..{unit.series.n}")
    load_algorithm(algorithm)
    rows: list[list[str]] = []
    for unit in units:
        try:
            result = run(algorithm, unit.series, control, first, last)
        except DetectError as error:
            raise DetectError(f"unit {unit.unit!r}: {error}") from None
        except (KeyError, TypeError, ValueError) as error:
            # A control item missing or of the wrong type, as the implementation found it.
            raise DetectError(
                f"unit {unit.unit!r}: {algorithm} does not accept this control or series "
                f"({type(error).__name__}: {error})"
            ) from None
        rows.extend(result_rows(unit, algorithm, control_id, result))
    return rows
