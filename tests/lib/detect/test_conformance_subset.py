"""The conformance check of scripts/detect_conformance.py over the in-repo subset of the R reference data.

``test_subset_meets_the_thresholds`` is the real check: every control of every algorithm on the datasets kept
under tests/data/surveillance must agree with R on ≥ 99.5 % of alarms and ≥ 99 % of upper bounds. It fails
while an algorithm is missing ("not implemented") or wrong, by design. The other tests check the checker itself
with a stand-in EARS C1, so that a pass means something.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import accord.lib.detect as detect_pkg
from accord.lib.detect import ALGORITHMS, Detector, Result, Series
from tests.lib.detect.test_io import reference_c1

ROOT = Path(__file__).resolve().parents[3]
SUBSET = ROOT / "tests" / "data" / "surveillance"


def _load() -> ModuleType:
    name = "detect_conformance"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "detect_conformance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


conformance = _load()


def use_detector(monkeypatch: pytest.MonkeyPatch, name: str, fn: Detector) -> None:
    real = detect_pkg.detector

    def fake(wanted: str) -> Detector:
        return fn if wanted == name else real(wanted)

    monkeypatch.setattr(detect_pkg, "detector", fake)
    monkeypatch.setattr(conformance, "detector", fake)


def _table(tallies: list[Any]) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return "\n".join(
        f"{t.algorithm:19} {t.control_id:19} points {t.points:5}  alarms {pct(t.alarm_pct):>6} %  "
        f"upperbound {pct(t.upper_pct):>6} % of {t.upper_points:5}  {t.status}"
        + (f"  first error: {t.errors[0]}" if t.errors else "")
        for t in tallies
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_subset_meets_the_thresholds(algorithm: str) -> None:
    report = conformance.compare(SUBSET, require_all=False, algorithms=[algorithm])
    assert report.problems == []
    # FF_b2 and F_b2 run only on measlesDE, which is not in the subset.
    tested = [t for t in report.tallies if t.datasets]
    assert tested, f"no control of {algorithm} runs on the subset"
    assert all(t.points > 0 for t in tested), _table(tested)
    failing = [t for t in tested if not t.passed]
    assert not failing, (
        f"{len(failing)} of {len(tested)} {algorithm} controls below "
        f"{conformance.ALARM_MIN} % alarms / {conformance.UPPERBOUND_MIN} % upper bounds:\n" + _table(failing)
    )


# --- the checker itself --------------------------------------------------------------------------------------


def test_a_faithful_detector_scores_full_agreement(monkeypatch: pytest.MonkeyPatch) -> None:
    use_detector(monkeypatch, "earsC", reference_c1)
    report = conformance.compare(SUBSET, require_all=False, algorithms=["earsC"])
    c1 = {t.control_id: t for t in report.tallies}["EARS_C1"]
    # ha 12 units x 27, rotaBB 5 x 48, salmonella.agona 1 x 49, syn_int_A 4 x 104
    assert c1.points == 12 * 27 + 5 * 48 + 49 + 4 * 104
    assert c1.datasets == ["salmonella.agona", "ha", "rotaBB", "syn_int_A"]
    assert (c1.alarm_pct, c1.upper_pct, c1.errors, c1.passed) == (100.0, 100.0, [], True)


def test_a_wrong_detector_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def off_by_a_bit(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        result = reference_c1(series, control, first, last)
        result.upperbound *= 1.001  # bounds off by 0.1 %, alarms mostly the same
        return result

    use_detector(monkeypatch, "earsC", off_by_a_bit)
    report = conformance.compare(SUBSET, require_all=False, algorithms=["earsC"])
    c1 = {t.control_id: t for t in report.tallies}["EARS_C1"]
    assert c1.upper_pct is not None and c1.upper_pct < 50
    assert not c1.passed and c1.status == "FAIL"


def test_a_crash_for_one_unit_counts_its_points_as_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails_on_sparse(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        if series.name == "sparse":
            raise FloatingPointError("overflow")
        return reference_c1(series, control, first, last)

    use_detector(monkeypatch, "earsC", fails_on_sparse)
    report = conformance.compare(SUBSET, require_all=False, algorithms=["earsC"])
    c1 = {t.control_id: t for t in report.tallies}["EARS_C1"]
    assert c1.alarm_same == c1.points - 104
    assert len(c1.errors) == 1 and "syn_int_A/sparse: FloatingPointError: overflow" in c1.errors[0]
    assert not c1.passed


def test_a_native_crash_is_reported_and_does_not_end_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def aborts(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        faulthandler.disable()  # in the forked child only: no traceback dump in the test output
        os.abort()  # as a C library's std::terminate would

    use_detector(monkeypatch, "earsC", aborts)
    report = conformance.compare(SUBSET, require_all=False, algorithms=["earsC", "rki"])
    ears = [t for t in report.tallies if t.algorithm == "earsC"]
    assert ears and all(t.status == "CRASHED" and not t.passed and t.points > 0 for t in ears)
    assert "SIGABRT" in ears[0].errors[0]
    rki = [t for t in report.tallies if t.algorithm == "rki"]
    assert rki and all(t.status != "CRASHED" for t in rki)


def test_an_algorithm_that_cannot_be_imported_is_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Detector:
        raise ModuleNotFoundError(f"No module named 'accord.lib.detect.{name}'")

    monkeypatch.setattr(conformance, "detector", missing)
    report = conformance.compare(SUBSET, require_all=False, algorithms=["cusum"])
    assert [t.status for t in report.tallies] == ["not implemented"] * 3
    assert all(t.points > 0 and t.alarm_same == 0 and not t.passed for t in report.tallies)


def test_require_all_reports_missing_datasets() -> None:
    report = conformance.compare(SUBSET, require_all=True, algorithms=["earsC"])
    assert any("salmNewport" in problem for problem in report.problems)
    assert not report.passed


@pytest.mark.parametrize(
    ("ours", "theirs", "same"),
    [
        (10.0, 10.0, True),
        (10.0, 10.0009, True),
        (10.0, 10.0011, False),
        (0.0, 0.0, True),
        (0.0, 1e-9, False),
        (math.nan, math.nan, True),
        (math.nan, 3.0, False),
        (3.0, math.nan, False),
        (math.inf, math.inf, True),
        (math.inf, 1e300, False),
    ],
)
def test_upperbound_tolerance(ours: float, theirs: float, same: bool) -> None:
    assert conformance.same_upperbound(ours, theirs) is same


def test_reference_rows_with_an_r_warning_are_left_out_of_the_upperbound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # One unit, two points: R warned on the second, whose bound we get wrong; the first agrees.
    folder = tmp_path / "surveillance"
    (folder / "data").mkdir(parents=True)
    (folder / "outputs").mkdir()
    header = "dataset,unit,t,year,epoch_in_year,date,observed,freq,epoch_as_date\n"
    (folder / "data" / "d.csv").write_text(header + "d,u,1,2010,1,,1,52,0\nd,u,2,2010,2,,5,52,0\n")
    (folder / "outputs" / "d.csv").write_text(
        "dataset,unit,algorithm,control_id,t,observed,upperbound,alarm,r_warning\n"
        "d,u,earsC,X,1,1,2,0,\nd,u,earsC,X,2,5,3,1,glm_not_converged\n"
    )
    (folder / "controls.json").write_text(
        '{"controls": {"X": {"algorithm": "earsC", "resolved": {}}}, "datasets": {"d": {"units": ["u"], '
        '"start_slot": [2010, 1], "range": {"t_first": 1, "t_last": 2}, "control_ids": ["X"]}}}'
    )

    def fixed(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
        result = Result.empty(first, last)
        result.upperbound[:] = [2.0, 99.0]
        result.alarm[:] = np.array([0.0, 1.0])
        return result

    use_detector(monkeypatch, "earsC", fixed)
    (tally,) = conformance.compare(folder, algorithms=["earsC"]).tallies
    assert (tally.points, tally.alarm_same, tally.upper_points, tally.upper_same, tally.warned) == (2, 2, 1, 1, 1)
