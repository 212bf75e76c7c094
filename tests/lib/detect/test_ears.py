"""EARS C1/C2/C3 (``accord.lib.detect.ears``) against R ``surveillance::earsC`` 1.20.3, and its quirks.

The reference helpers here (``reference_cases``, ``check_against_r``) are shared with the tests of the
other R re-implementations (cusum, glrnb, rki/bayes). They read only the in-repo subset
tests/data/surveillance (datasets ha, salmonella.agona, rotaBB, syn_int_A).
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest

from accord.lib.detect import DetectError, FloatArray, Result, Series, run
from accord.lib.detect.ears import ears_c, ears_c_many

SUBSET = Path(__file__).resolve().parents[2] / "data" / "surveillance"


# --- reference data (shared) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefCase:
    """One (dataset, unit, control) of R's reference outputs, with the series to run it on."""

    dataset: str
    unit: str
    control_id: str
    algorithm: str
    control: dict[str, Any]
    series: Series
    first: int
    last: int
    r: dict[str, FloatArray]  # columns of R's output over first..last
    r_warning: np.ndarray[Any, np.dtype[np.bool_]]


@cache
def _controls() -> dict[str, Any]:
    with (SUBSET / "controls.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _number(text: str) -> float:
    return math.nan if text in ("", "NA") else float(text)


@cache
def _dataset_series(dataset: str) -> dict[str, Series]:
    meta = _controls()["datasets"][dataset]
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (SUBSET / "data" / f"{dataset}.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["unit"]].append(row)
    out: dict[str, Series] = {}
    for unit, unit_rows in rows.items():
        unit_rows.sort(key=lambda r: int(r["t"]))
        dates = np.array([r["date"] for r in unit_rows], dtype="datetime64[D]") if meta["epoch_as_date"] else None
        out[unit] = Series(
            observed=np.array([float(r["observed"]) for r in unit_rows]),
            freq=int(meta["freq"]),
            dates=dates,
            start=(int(meta["start_slot"][0]), int(meta["start_slot"][1])),
            name=unit,
        )
    return out


@cache
def _outputs(dataset: str) -> dict[tuple[str, str], list[dict[str, str]]]:
    out: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with (SUBSET / "outputs" / f"{dataset}.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            out[(row["unit"], row["control_id"])].append(row)
    return out


def datasets() -> list[str]:
    return sorted(p.stem for p in (SUBSET / "data").glob("*.csv"))


def reference_params(prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(dataset, control_id) for every in-repo dataset and every listed control starting with a prefix."""
    meta = _controls()["datasets"]
    return [(ds, cid) for ds in datasets() for cid in meta[ds]["control_ids"] if cid.startswith(prefixes)]


def reference_cases(dataset: str, control_id: str) -> list[RefCase]:
    meta = _controls()["datasets"][dataset]
    control = _controls()["controls"][control_id]
    first, last = int(meta["range"]["t_first"]), int(meta["range"]["t_last"])
    cases = []
    for unit, series in _dataset_series(dataset).items():
        rows = sorted(_outputs(dataset).get((unit, control_id), []), key=lambda r: int(r["t"]))
        if not rows:  # R failed for this unit
            continue
        assert [int(r["t"]) for r in rows] == list(range(first, last + 1))
        cols = {
            c: np.array([_number(r[c]) for r in rows])
            for c in ("observed", "upperbound", "alarm", "expected", "score", "pvalue", "dispersion", "statistic")
        }
        cases.append(
            RefCase(
                dataset=dataset,
                unit=unit,
                control_id=control_id,
                algorithm=control["algorithm"],
                control=control["resolved"],
                series=series,
                first=first,
                last=last,
                r=cols,
                r_warning=np.array([r["r_warning"] != "" for r in rows]),
            )
        )
    assert cases, f"no reference rows for {dataset}/{control_id}"
    return cases


def r_failed_units(dataset: str, control_id: str) -> list[str]:
    return [u for u in _dataset_series(dataset) if (u, control_id) not in _outputs(dataset)]


def _same(ours: FloatArray, theirs: FloatArray, rtol: float, atol: float) -> np.ndarray[Any, np.dtype[np.bool_]]:
    both_nan = np.isnan(ours) & np.isnan(theirs)
    with np.errstate(invalid="ignore"):
        close = np.abs(ours - theirs) <= atol + rtol * np.abs(theirs)
    numbers = ~np.isnan(ours) & ~np.isnan(theirs)
    same: np.ndarray[Any, np.dtype[np.bool_]] = both_nan | (close & numbers) | (ours == theirs)
    return same


def check_against_r(
    case: RefCase, result: Result, columns: tuple[str, ...] = (), rtol: float = 1e-6, atol: float = 1e-8
) -> tuple[int, int, int]:
    """Asserts identical alarms and, where R gave no warning, upper bounds (and ``columns`` of the result or
    of ``result.extra``) within rtol/atol; returns (points, alarms equal, upper bounds within 1e-4)."""
    where = f"{case.dataset}/{case.unit}/{case.control_id}"
    assert result.t.tolist() == list(range(case.first, case.last + 1)), where
    alarms_equal = _same(result.alarm, case.r["alarm"], 0.0, 0.0)
    clean = ~case.r_warning
    ub_1e4 = _same(result.upperbound, case.r["upperbound"], 1e-4, 0.0)[clean]
    bad = np.nonzero(~alarms_equal)[0]
    assert bad.shape[0] == 0, f"{where}: alarms differ at t={(case.first + bad).tolist()}"
    ub_ok = _same(result.upperbound, case.r["upperbound"], rtol, atol) | case.r_warning
    bad = np.nonzero(~ub_ok)[0]
    assert bad.shape[0] == 0, (
        f"{where}: upperbound differs at t={(case.first + bad).tolist()[:5]}: "
        f"ours {result.upperbound[bad][:5]} R {case.r['upperbound'][bad][:5]}"
    )
    for column in columns:
        ours = result.extra[column] if column in result.extra else getattr(result, column)
        ok = _same(np.asarray(ours, dtype=np.float64), case.r[column], rtol, atol) | case.r_warning
        bad = np.nonzero(~ok)[0]
        assert bad.shape[0] == 0, f"{where}: {column} differs at t={(case.first + bad).tolist()[:5]}"
    return alarms_equal.shape[0], int(alarms_equal.sum()), int(ub_1e4.sum())


def assert_conformance(cases: list[RefCase], columns: tuple[str, ...] = ()) -> None:
    """Every unit agrees with R (see ``check_against_r``) and the pooled fractions meet the targets."""
    points = alarms = ubs = clean = 0
    for case in cases:
        result = run(case.algorithm, case.series, case.control, case.first, case.last)
        n, a, u = check_against_r(case, result, columns)
        points, alarms, ubs, clean = points + n, alarms + a, ubs + u, clean + int((~case.r_warning).sum())
    assert alarms / points >= 0.995
    assert clean == 0 or ubs / clean >= 0.99


# --- against R -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dataset", "control_id"), reference_params(("EARS_",)))
def test_ears_matches_r(dataset: str, control_id: str) -> None:
    assert_conformance(reference_cases(dataset, control_id))


def test_the_subset_covers_every_ears_control() -> None:
    ids = {cid for _, cid in reference_params(("EARS_",))}
    assert ids == {"EARS_C1", "EARS_C2", "EARS_C3", "EARS_C1_alt", "EARS_C2_alt", "EARS_C3_alt"}


def test_c3_reference_has_na_rows_and_we_reproduce_them() -> None:
    """R's C3 gives NA bounds/alarms where the baseline sd is 0 (sparse units of ha); so do we."""
    cases = reference_cases("ha", "EARS_C3")
    na_points = sum(int(np.isnan(c.r["alarm"]).sum()) for c in cases)
    assert na_points > 0
    for case in cases:
        result = ears_c(case.series, case.control, case.first, case.last)
        assert np.array_equal(np.isnan(result.alarm), np.isnan(case.r["alarm"]))


# --- the formulas and R's quirks -----------------------------------------------------------------------------


def series_of(values: list[float]) -> Series:
    return Series(observed=np.asarray(values, dtype=np.float64), freq=52)


def _sd(values: list[float]) -> float:
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


Z999 = NormalDist().inv_cdf(0.999)


def test_c1_is_mean_plus_z_sd_of_the_seven_previous_points() -> None:
    y = [3.0, 5, 4, 6, 2, 5, 4, 7, 30, 4]
    res = ears_c(series_of(y), {"method": "C1"}, 8, 10)
    for i, t in enumerate(range(8, 11)):
        base = y[t - 8 : t - 1]
        assert res.upperbound[i] == pytest.approx(sum(base) / 7 + Z999 * _sd(base), rel=1e-12)
    assert res.alarm.tolist() == [0.0, 1.0, 0.0]
    assert np.isnan(res.expected).all() and np.isnan(res.score).all() and np.isnan(res.pvalue).all()
    assert res.extra == {}


def test_c2_skips_two_periods() -> None:
    y = [3.0, 5, 4, 6, 2, 5, 4, 7, 30, 4, 5]
    res = ears_c(series_of(y), {"method": "C2"}, 10, 11)
    for i, t in enumerate((10, 11)):
        base = y[t - 10 : t - 3]  # y[t-9] .. y[t-3] (1-based)
        assert res.upperbound[i] == pytest.approx(sum(base) / 7 + Z999 * _sd(base), rel=1e-12)


def test_c3_is_rs_version_where_only_the_two_previous_c2_values_count() -> None:
    """U_t = y_t + sd_t (z - (C2_{t-1} - 1)^+ - (C2_{t-2} - 1)^+): a spike does not alarm at its own time
    point under R's C3, but the two following (non-zero) points do."""
    rng = np.random.default_rng(7)
    y = rng.poisson(5, 40).astype(float)
    y[30] = 40.0
    s = series_of(y.tolist())
    res = ears_c(s, {"method": "C3"}, 12, 40)
    z = NormalDist().inv_cdf(0.975)  # C3's default alpha is 0.025

    def c2(t: int) -> tuple[float, float]:
        base = y[t - 10 : t - 3].tolist()
        sd = _sd(base)
        return (y[t - 1] - sum(base) / 7) / sd, sd

    for i, t in enumerate(range(12, 41)):
        part = max(0.0, c2(t - 1)[0] - 1) + max(0.0, c2(t - 2)[0] - 1)
        expected = max(0.0, y[t - 1] + c2(t)[1] * (z - part))
        assert res.upperbound[i] == pytest.approx(expected, rel=1e-10, abs=1e-12)
        assert res.alarm[i] == float(y[t - 1] > 0 and part > z)
    spike = 31 - 12
    assert res.alarm[spike] == 0.0
    assert res.alarm[spike + 1] == 1.0 and res.alarm[spike + 2] == 1.0


def test_zero_sd_gives_the_mean_for_c1_and_na_for_c3() -> None:
    y = [4.0] * 20 + [5.0, 4.0]
    c1 = ears_c(series_of(y), {"method": "C1"}, 20, 21)
    assert c1.upperbound.tolist() == [4.0, 4.0]  # y = 4 is not above the flat mean, y = 5 is
    assert c1.alarm.tolist() == [0.0, 1.0]
    c3 = ears_c(series_of(y), {"method": "C3"}, 21, 22)
    assert np.isnan(c3.upperbound).all() and np.isnan(c3.alarm).all()
    floor = ears_c(series_of(y), {"method": "C1", "minSigma": 1, "alpha": 0.05}, 21, 21)
    assert floor.upperbound[0] == pytest.approx(4.0 + NormalDist().inv_cdf(0.95))


def test_control_defaults_and_errors() -> None:
    y = series_of([float(v % 7) for v in range(60)])
    default = ears_c(y, {}, 20, 30)
    explicit = ears_c(y, {"method": "C1", "baseline": 7, "minSigma": 0, "alpha": 0.001}, 20, 30)
    assert np.array_equal(default.upperbound, explicit.upperbound)
    c3 = ears_c(y, {"method": "C3"}, 20, 30)
    c3_explicit = ears_c(y, {"method": "C3", "alpha": 0.025}, 20, 30)
    assert np.array_equal(c3.upperbound, c3_explicit.upperbound, equal_nan=True)
    resolved_nulls = ears_c(y, {"method": "C1", "alpha": "NULL (default)"}, 20, 30)
    assert np.array_equal(resolved_nulls.upperbound, default.upperbound)
    with pytest.raises(DetectError, match="too short"):
        ears_c(y, {"method": "C3"}, 11, 30)  # needs baseline + 4 = 11 points before
    ears_c(y, {"method": "C3"}, 12, 30)
    with pytest.raises(DetectError, match="baseline"):
        ears_c(y, {"baseline": 2}, 20, 30)
    with pytest.raises(DetectError, match="minSigma"):
        ears_c(y, {"minSigma": -1}, 20, 30)
    with pytest.raises(DetectError, match="method"):
        ears_c(y, {"method": "C"}, 20, 30)  # ambiguous partial match, as R's match.arg


def test_many_series_at_once_equals_one_by_one() -> None:
    rng = np.random.default_rng(3)
    series = [
        Series(observed=rng.poisson(rng.uniform(0.5, 50), n).astype(float), freq=52) for n in (120, 120, 150, 120, 150)
    ]
    series.append(Series(observed=np.r_[np.full(100, 3.0), rng.poisson(3, 20)].astype(float), freq=52))
    for method in ("C1", "C2", "C3"):
        control = {"method": method, "alpha": 0.01}
        many = ears_c_many(series, control, 100, 120)
        for s, got in zip(series, many, strict=True):
            one = ears_c(s, control, 100, 120)
            assert np.array_equal(got.upperbound, one.upperbound, equal_nan=True)
            assert np.array_equal(got.alarm, one.alarm, equal_nan=True)
    with pytest.raises(DetectError):
        ears_c_many(series, {"method": "C1"}, 100, 121)
