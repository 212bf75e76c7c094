"""``accord.lib.detect.io``: reading series from the long CSV format, writing results, and input errors.

These tests do not need the algorithm modules: where a detector must run, a small reference EARS C1
written here (``reference_c1``) stands in, and its output is checked against R's so that the plumbing
(units, 1-based ``t``, the monitored range, number formatting) is known to be right on its own.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

import accord.lib.detect as detect_pkg
from accord.lib.detect import DetectError, Detector, Result, Series
from accord.lib.detect import io as detect_io

SURVEILLANCE = Path(__file__).resolve().parents[2] / "data" / "surveillance"
DATA = SURVEILLANCE / "data"
OUTPUTS = SURVEILLANCE / "outputs"
HEADER = "dataset,unit,t,year,epoch_in_year,date,observed,freq,epoch_as_date\n"


def reference_c1(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """EARS C1 as R's earsC computes it (baseline before t, sd with n-1, z = qnorm(1-alpha)); tests only."""
    result = Result.empty(first, last)
    y = series.observed
    baseline, min_sigma = int(control["baseline"]), float(control["minSigma"])
    z = NormalDist().inv_cdf(1 - float(control["alpha"]))
    for i, t in enumerate(range(first, last + 1)):
        window = y[t - 1 - baseline : t - 1]
        bound = float(window.mean() + z * max(float(window.std(ddof=1)), min_sigma))
        result.upperbound[i] = bound
        result.alarm[i] = float(y[t - 1] > bound)
    return result


def use_detector(monkeypatch: pytest.MonkeyPatch, name: str, fn: Detector) -> None:
    """Make ``name`` resolve to ``fn`` for ``run`` and for ``io`` (whatever modules exist)."""
    real = detect_pkg.detector

    def fake(wanted: str) -> Detector:
        return fn if wanted == name else real(wanted)

    monkeypatch.setattr(detect_pkg, "detector", fake)
    monkeypatch.setattr(detect_io, "detector", fake)


def r_rows(dataset: str, control_id: str) -> list[dict[str, str]]:
    with (OUTPUTS / f"{dataset}.csv").open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["control_id"] == control_id]


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


# --- reading -------------------------------------------------------------------------------------------------


def test_reads_every_unit_of_an_integer_epoch_file() -> None:
    units = detect_io.read_units(DATA / "ha.csv")
    assert len(units) == 12
    assert [u.unit for u in units[:3]] == ["chwi", "frkr", "lich"]
    first = units[0]
    assert first.dataset == "ha"
    assert first.series.n == 290
    assert first.series.freq == 52
    assert first.series.dates is None
    assert first.series.start == (2001, 1)
    assert first.series.name == "chwi"
    assert first.series.observed.dtype == np.float64


def test_reads_date_epochs_as_datetime64_days() -> None:
    units = detect_io.read_units(DATA / "rotaBB.csv")
    series = units[0].series
    assert series.freq == 12
    assert series.dates is not None
    assert series.dates.dtype == np.dtype("datetime64[D]")
    assert series.dates[0] == np.datetime64("2002-01-01")
    assert series.dates[-1] == np.datetime64("2013-12-01")
    assert series.start == (2002, 1)


def test_start_comes_from_the_first_row_unless_given(tmp_path: Path) -> None:
    path = write(tmp_path, "d,u,1,2004,2,,3,52,0\nd,u,2,2004,3,,0,52,0\n")
    assert detect_io.read_units(path)[0].series.start == (2004, 2)
    assert detect_io.read_units(path, start=(2000, 1))[0].series.start == (2000, 1)


def test_rows_may_come_in_any_order_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d,a,2,2010,2,,5,52,0,x\nd,b,1,2010,1,,7,52,0,y\nd,a,1,2010,1,,4.0,52,0,z\nd,b,2,2010,2,,8,52,0,w\n",
        header=HEADER.rstrip("\n") + ",state\n",
    )
    units = detect_io.read_units(path)
    assert [u.unit for u in units] == ["a", "b"]
    assert units[0].series.observed.tolist() == [4.0, 5.0]
    assert units[1].series.observed.tolist() == [7.0, 8.0]


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("d,u,1,2010,1,,3,52,0\nd,u,2,2010,2,,2.5,52,0\n", ["line 3", "observed", "'2.5'", "not an integer"]),
        ("d,u,1,2010,1,,3,52,0\nd,u,2,2010,2,,-1,52,0\n", ["line 3", "observed", "negative"]),
        ("d,u,1,2010,1,,,52,0\n", ["line 2", "observed", "empty"]),
        ("d,u,1,2010,1,,abc,52,0\n", ["line 2", "observed", "'abc'"]),
        ("d,u,x,2010,1,,3,52,0\n", ["line 2", "column t"]),
        ("d,u,1,2010,1,,3,fifty,0\n", ["line 2", "column freq"]),
        ("d,u,1,2010,1,,3,52,2\n", ["line 2", "epoch_as_date", "0 or 1"]),
        ("d,u,1,2010,1,,3,52,1\n", ["line 2", "column date", "empty"]),
        ("d,u,1,2010,1,2010-13-01,3,52,1\n", ["line 2", "column date", "2010-13-01"]),
        ("d,u,1,2010,1,,3,52\n", ["line 2", "8 fields"]),
        ("d,u,1,2010,1,,3,52,0\nd,u,2,2010,2,,3,52,0\nd,u,4,2010,4,,3,52,0\n", ["unit 'u'", "gap in t", "t 3 missing"]),
        ("d,u,2,2010,1,,3,52,0\n", ["unit 'u'", "gap in t", "t 1 missing"]),
        ("d,u,1,2010,1,,3,52,0\nd,u,1,2010,1,,3,52,0\n", ["unit 'u'", "t 1 appears twice"]),
        ("d,u,1,2010,1,,3,52,0\nd,u,2,2010,2,,3,12,0\n", ["unit 'u'", "freq", "not the same"]),
        ("d,u,1,2010,1,2010-01-11,3,52,1\nd,u,2,2010,2,2010-01-04,3,52,1\n", ["unit 'u'", "dates do not increase"]),
        ("", ["no data rows"]),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, body: str, needles: list[str]) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DetectError) as caught:
        detect_io.read_units(path)
    message = str(caught.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message


def test_missing_columns_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "d,u,1,2010,1,,3,0\n", header="dataset,unit,t,year,epoch_in_year,date,observed,state\n")
    with pytest.raises(DetectError, match="missing columns freq, epoch_as_date"):
        detect_io.read_units(path)


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DetectError, match=r"cannot read .*nope\.csv"):
        detect_io.read_units(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DetectError, match="empty"):
        detect_io.read_units(tmp_path / "empty.csv")
    (tmp_path / "latin1.csv").write_bytes(HEADER.encode() + "d,\xe9,1,2010,1,,3,52,0\n".encode("latin-1"))
    with pytest.raises(DetectError, match="not UTF-8"):
        detect_io.read_units(tmp_path / "latin1.csv")


# --- arguments -----------------------------------------------------------------------------------------------


def test_parse_range() -> None:
    assert detect_io.parse_range("417:520") == (417, 520)
    assert detect_io.parse_range("5:5") == (5, 5)
    for bad in ("417", "a:b", "10:5", "0:5", "-1:5", "1:2:3", "1.5:3", ""):
        with pytest.raises(DetectError, match="range"):
            detect_io.parse_range(bad)


def test_parse_start() -> None:
    assert detect_io.parse_start("2010,1") == (2010, 1)
    for bad in ("2010", "2010,0", "x,1", "2010,1,1"):
        with pytest.raises(DetectError, match="--start"):
            detect_io.parse_start(bad)


def test_parse_control(tmp_path: Path) -> None:
    assert detect_io.parse_control('{"b": 5, "w": 3}') == {"b": 5, "w": 3}
    (tmp_path / "c.json").write_text('{"method": "C1"}', encoding="utf-8")
    assert detect_io.parse_control(f"@{tmp_path / 'c.json'}") == {"method": "C1"}
    with pytest.raises(DetectError, match="not valid JSON"):
        detect_io.parse_control('{"b": 5')
    with pytest.raises(DetectError, match="JSON object"):
        detect_io.parse_control("[5]")
    with pytest.raises(DetectError, match="cannot read control file"):
        detect_io.parse_control(f"@{tmp_path / 'missing.json'}")


def test_check_algorithm_knows_the_r_names() -> None:
    for name in detect_pkg.ALGORITHMS:
        detect_io.check_algorithm(name)
    with pytest.raises(DetectError, match="unknown algorithm 'farringtonflexible'"):
        detect_io.check_algorithm("farringtonflexible")


# --- writing -------------------------------------------------------------------------------------------------


def test_result_rows_format_na_alarms_and_numbers() -> None:
    series = Series(observed=np.array([1.0, 2.0, 3.0]), freq=52)
    unit = detect_io.Unit(dataset="d", unit="u", series=series)
    result = Result.empty(2, 3)
    result.upperbound[:] = [5.0, 0.1 + 0.2]
    result.alarm[:] = [np.nan, 1.0]
    result.expected[:] = [2.5, np.nan]
    result.score[:] = [np.inf, -np.inf]
    rows = detect_io.result_rows(unit, "earsC", "X", result)
    assert rows == [
        ["d", "u", "earsC", "X", "2", "2", "5", "", "2.5", "Inf", ""],
        ["d", "u", "earsC", "X", "3", "3", "0.30000000000000004", "1", "", "-Inf", ""],
    ]
    assert math.isclose(float(rows[1][6]), 0.1 + 0.2, rel_tol=0, abs_tol=0)


def test_write_rows_has_exactly_the_contract_columns(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    detect_io.write_rows(out, [["d", "u", "earsC", "X", "1", "0", "", "0", "", "", ""]])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "dataset,unit,algorithm,control_id,t,observed,upperbound,alarm,expected,score,pvalue"
    assert lines[1] == "d,u,earsC,X,1,0,,0,,,"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left behind


def test_write_rows_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(DetectError, match="cannot write"):
        detect_io.write_rows(tmp_path / "no" / "out.csv", [])


# --- running -------------------------------------------------------------------------------------------------


def test_detect_with_a_reference_c1_reproduces_r(monkeypatch: pytest.MonkeyPatch) -> None:
    use_detector(monkeypatch, "earsC", reference_c1)
    control = {"method": "C1", "baseline": 7, "minSigma": 0, "alpha": 0.001}
    units = detect_io.read_units(DATA / "ha.csv")
    rows = detect_io.detect(units, "earsC", control, control_id="EARS_C1", first=264, last=290)
    expected = r_rows("ha", "EARS_C1")
    assert len(rows) == len(expected) == 12 * 27
    for ours, theirs in zip(rows, expected, strict=True):
        assert ours[:6] == [theirs[c] for c in detect_io.OUTPUT_COLUMNS[:6]]
        assert ours[7] == theirs["alarm"]
        assert math.isclose(float(ours[6]), float(theirs["upperbound"]), rel_tol=1e-9, abs_tol=1e-12)


def test_detect_checks_the_range_against_every_unit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_detector(monkeypatch, "earsC", reference_c1)
    path = write(
        tmp_path, "".join(f"d,long,{t},2010,{t},,1,52,0\n" for t in range(1, 21)) + "d,short,1,2010,1,,1,52,0\n"
    )
    units = detect_io.read_units(path)
    with pytest.raises(DetectError, match=r"range 10:20 goes beyond unit 'short', which has t 1\.\.1"):
        detect_io.detect(units, "earsC", {}, control_id="X", first=10, last=20)


def test_detect_names_the_unit_when_the_algorithm_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuses(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        raise DetectError("method 'C9' is not C1, C2 or C3")

    def breaks(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        control["alpha"]  # a control item the implementation requires
        return Result.empty(first, last)

    units = detect_io.read_units(DATA / "salmonella.agona.csv")
    use_detector(monkeypatch, "earsC", refuses)
    with pytest.raises(DetectError, match="unit 'observed1': method 'C9'"):
        detect_io.detect(units, "earsC", {}, control_id="X", first=264, last=312)
    use_detector(monkeypatch, "earsC", breaks)
    with pytest.raises(DetectError, match=r"unit 'observed1': earsC does not accept .*KeyError: 'alpha'"):
        detect_io.detect(units, "earsC", {}, control_id="X", first=264, last=312)


def test_detect_reports_an_algorithm_that_cannot_be_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Detector:
        raise ModuleNotFoundError(f"No module named 'accord.lib.detect.{name}'")

    monkeypatch.setattr(detect_io, "detector", missing)
    units = detect_io.read_units(DATA / "salmonella.agona.csv")
    with pytest.raises(DetectError, match="algorithm 'glrnb' is not implemented"):
        detect_io.detect(units, "glrnb", {}, control_id="X", first=264, last=312)
