"""Farrington detectors (``accord.lib.detect.farrington``) against R ``surveillance`` 1.20.3, and their quirks.

The comparison uses only the in-repo subset tests/data/surveillance (datasets ha, salmonella.agona, rotaBB,
syn_int_A) and every ``FF_*`` / ``F_*`` control that R ran on them. Expected values in the quirk tests were
printed by R 4.2.2 / surveillance 1.20.3 (the R call is quoted next to each).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy import stats  # type: ignore[import-untyped]

from accord.lib.detect import DetectError, Result, Series, run
from accord.lib.detect.farrington import (
    _block_template,
    _ref_points_flexible,
    _ref_rows_original_dates,
    farrington,
    farrington_flexible,
    farrington_flexible_many,
    farrington_many,
)
from tests.lib.detect.test_ears import _controls, _number
from tests.lib.detect.test_ears import _dataset_series as _series

FloatArray = npt.NDArray[np.float64]
SUBSET = Path(__file__).resolve().parents[2] / "data" / "surveillance"
COLUMNS = ("upperbound", "alarm", "expected", "score", "pvalue", "dispersion", "trend_used", "trend_coef")

# R's trend decision at these points rests on a t value of ~1e-16 for a slope that is zero up to rounding
# (all counts of the baseline in one seasonal block): R keeps the trend (p = 1 - 2e-16 < pThresholdTrend = 1).
# Ours depends on the machine's floating-point kernels: on some the slope is exactly 0 (p = 1, trend dropped), on
# others ~1e-17 (kept, as R). Upper bound and alarm are NA/0 there either way (limit54).
ROUNDING_NOISE = {("ha", "lich", "FF_noufaily", 270)}


# --- reference data ------------------------------------------------------------------------------------------


@cache
def _outputs(dataset: str) -> dict[tuple[str, str], dict[str, FloatArray]]:
    rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with (SUBSET / "outputs" / f"{dataset}.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["control_id"].startswith(("FF_", "F_")):
                rows[(row["unit"], row["control_id"])].append(row)
    out = {}
    for key, unit_rows in rows.items():
        unit_rows.sort(key=lambda r: int(r["t"]))
        cols = {c: np.array([_number(r[c]) for r in unit_rows]) for c in COLUMNS}
        cols["t"] = np.array([float(r["t"]) for r in unit_rows])
        cols["warning"] = np.array([1.0 if r["r_warning"] else 0.0 for r in unit_rows])
        out[key] = cols
    return out


def _params() -> list[tuple[str, str]]:
    meta = _controls()["datasets"]
    return [
        (ds, cid)
        for ds in sorted(p.stem for p in (SUBSET / "data").glob("*.csv"))
        for cid in meta[ds]["control_ids"]
        if cid.startswith(("FF_", "F_"))
    ]


def _same(ours: FloatArray, theirs: FloatArray, rtol: float) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        close = np.abs(ours - theirs) <= 1e-8 + rtol * np.abs(theirs)
    out: npt.NDArray[np.bool_] = (np.isnan(ours) & np.isnan(theirs)) | close
    return out


def _column(result: Result, name: str) -> FloatArray:
    return result.extra[name] if name in result.extra else np.asarray(getattr(result, name), dtype=np.float64)


# --- against R -----------------------------------------------------------------------------------------------


def test_the_subset_covers_every_farrington_control() -> None:
    ids = {cid for _, cid in _params()}
    assert ids == {
        "FF_default",
        "FF_noufaily",
        "FF_muan",
        "FF_noufaily_m",
        "FF_delta_alt",
        "F_default",
        "F_b3_w3_a01",
        "F_alt",
    }


@pytest.mark.parametrize(("dataset", "control_id"), _params())
def test_matches_r(dataset: str, control_id: str) -> None:
    """Alarms identical everywhere; upper bound within 1e-4 on >= 99 % of the points without R warning (here:
    all, within 1e-6); the other columns within 1e-6 wherever R gave no warning."""
    control = _controls()["controls"][control_id]
    meta = _controls()["datasets"][dataset]
    first, last = int(meta["range"]["t_first"]), int(meta["range"]["t_last"])
    series = _series(dataset)
    units = [u for u in series if (u, control_id) in _outputs(dataset)]
    fn = farrington_flexible_many if control["algorithm"] == "farringtonFlexible" else farrington_many
    results = fn([series[u] for u in units], control["resolved"], first, last)
    points = ub_close = clean_points = 0
    for unit, result in zip(units, results, strict=True):
        r = _outputs(dataset)[(unit, control_id)]
        where = f"{dataset}/{unit}/{control_id}"
        assert result.t.tolist() == r["t"].astype(int).tolist()
        bad = np.nonzero(~_same(result.alarm, r["alarm"], 0.0))[0]
        assert bad.size == 0, f"{where}: alarms differ at t={(first + bad).tolist()}"
        clean = r["warning"] == 0
        points += result.t.shape[0]
        clean_points += int(clean.sum())
        ub_close += int(_same(result.upperbound, r["upperbound"], 1e-4)[clean].sum())
        for name in COLUMNS:
            if np.isnan(r[name]).all() and name not in result.extra and name != "score":
                continue
            if name in ("dispersion", "trend_coef") and control["algorithm"] == "farrington":
                continue  # R reports neither for the original
            ok = _same(_column(result, name), r[name], 1e-6) | ~clean
            for t in (first + np.nonzero(~ok)[0]).tolist():
                assert (dataset, unit, control_id, t) in ROUNDING_NOISE and name.startswith("trend"), (
                    f"{where}: {name} differs at t={t}: ours {_column(result, name)[t - first]} R {r[name][t - first]}"
                )
    assert points > 0
    assert ub_close / clean_points >= 0.99


def test_the_rounding_noise_exception_is_rounding_noise() -> None:
    """The one point allowed to differ is a decision on a slope that is zero up to rounding, in R and here (R kept
    a trend with coefficient ~1e-17; ours is dropped, or kept with a coefficient as small), and whichever way it
    goes the upper bound is NA, as R's."""
    ((dataset, unit, control_id, t),) = ROUNDING_NOISE
    r = _outputs(dataset)[(unit, control_id)]
    i = int(t - r["t"][0])
    assert r["trend_used"][i] == 1 and abs(r["trend_coef"][i]) < 1e-15
    meta = _controls()["datasets"][dataset]
    result = farrington_flexible(_series(dataset)[unit], _controls()["controls"][control_id]["resolved"], t, t)
    assert result.extra["trend_used"][0] == 0 or abs(result.extra["trend_coef"][0]) < 1e-15
    assert np.isnan(result.upperbound[0]) and np.isnan(r["upperbound"][i]) and meta["freq"] == 52


def test_single_and_batched_entry_points_agree() -> None:
    control = _controls()["controls"]["FF_noufaily"]["resolved"]
    units = list(_series("ha").values())[:4]
    many = farrington_flexible_many(units, control, 264, 290)
    for series, batched in zip(units, many, strict=True):
        single = run("farringtonFlexible", series, control, 264, 290)
        assert np.array_equal(single.alarm, batched.alarm, equal_nan=True)
        for name in COLUMNS:  # the same up to the order of floating-point sums
            np.testing.assert_allclose(_column(single, name), _column(batched, name), rtol=1e-10, atol=1e-300)


# --- reference weeks -----------------------------------------------------------------------------------------


def _weekly(first: str, last: str) -> Series:
    dates = np.arange(np.datetime64(first), np.datetime64(last) + 1, 7)
    return Series(observed=np.ones(dates.shape[0]), freq=52, dates=dates)


def test_date_epochs_go_back_calendar_years_to_the_nearest_same_weekday() -> None:
    """2021-01-04 back 1..5 years: 2018-01-04 is a Thursday, its nearest Monday is 2018-01-01, so that
    reference week lies 157 weeks back (2020 is a 53-week ISO year).

    R: algo.farrington.referencetimepoints(as.Date("2021-01-04"), b = 5, freq = 52, epochAsDate = TRUE,
    epochStr = "week") -> 2021-01-04 2020-01-06 2019-01-07 2018-01-01 2017-01-02 2016-01-04.
    """
    series = _weekly("2014-01-06", "2021-12-27")
    assert series.dates is not None
    k = int(np.nonzero(series.dates == np.datetime64("2021-01-04"))[0][0]) + 1
    refs = _ref_points_flexible(series, np.array([k]), 5)[0]
    assert (k - 1 - refs).tolist() == [0, 52, 104, 157, 209, 261]
    assert series.dates[refs].astype(str).tolist() == [
        "2021-01-04",
        "2020-01-06",
        "2019-01-07",
        "2018-01-01",
        "2017-01-02",
        "2016-01-04",
    ]
    # integer epochs: always multiples of freq
    plain = Series(observed=np.ones(400), freq=52)
    assert (300 - 1 - _ref_points_flexible(plain, np.array([300]), 5)[0]).tolist() == [0, 52, 104, 156, 208, 260]


def test_original_date_windows_follow_refvalidxbydate() -> None:
    """R: k - refvalIdxByDate(t0 = as.Date("2021-01-04"), b = 5, w = 1, epochStr = "1 week", epochs) ->
    53 52 51 105 104 103 158 157 156 210 209 208 262 261 260."""
    series = _weekly("2014-01-06", "2021-12-27")
    assert series.dates is not None
    k = int(np.nonzero(series.dates == np.datetime64("2021-01-04"))[0][0]) + 1
    rows, found = _ref_rows_original_dates(series, np.array([k]), 5, 1)
    assert found.all()
    assert (k - 1 - rows[0]).tolist() == [53, 52, 51, 105, 104, 103, 158, 157, 156, 210, 209, 208, 262, 261, 260]


def test_missing_reference_weeks_are_an_error() -> None:
    series = Series(observed=np.ones(300), freq=52)
    with pytest.raises(DetectError, match="reference time points"):
        farrington_flexible(series, {"b": 5, "w": 3}, 200, 210)


# --- noPeriods blocks ----------------------------------------------------------------------------------------


def test_noperiods_splits_each_gap_into_blocks_with_the_rest_in_the_first_ones() -> None:
    """w = 2, p = 10: each gap has 52 - 5 = 47 weeks = 9 blocks, 47 %/% 9 = 5 and 47 %% 9 = 2, so levels 1 and
    2 have 6 weeks and levels 3..9 have 5; the windows (and the current one) are level 10.

    R: blocks(c(300, 248, 196), 1:300, 52, 300, b = 2, w = 2, p = 10, epochAsDate = FALSE).
    """
    rel, levels = _block_template((0, 52, 104), 2, 10, 0)
    got = dict(zip(rel.tolist(), levels.tolist(), strict=True))
    assert min(got) == -106
    assert all(got[r] == 10 for r in [*range(-106, -101), *range(-54, -49), -2, -1])
    assert 0 not in got  # dropped by pastWeeksNotIncluded (here 0: only the current week)
    for lo in (-101, -49):
        sizes = [sum(1 for r, lv in got.items() if lv == level and lo <= r < lo + 47) for level in range(1, 10)]
        assert sizes == [6, 6, 5, 5, 5, 5, 5, 5, 5]
        assert [got[r] for r in range(lo, lo + 47)] == sorted(got[r] for r in range(lo, lo + 47))


def test_past_weeks_not_included_drops_the_most_recent_weeks() -> None:
    rel, _ = _block_template((0, 52, 104, 156, 208), 3, 10, 26)
    assert rel.max() == -27 and rel.min() == -211
    rel, _ = _block_template((0, 52, 104), 3, 1, 3)
    assert rel.tolist() == [*range(-107, -100), *range(-55, -48)]


def test_more_periods_than_gap_weeks_give_r_s_overlapping_blocks() -> None:
    """Monthly, w = 2, p = 10: 7 months per gap for 9 blocks, so blocks 8 and 9 are empty and R's a:(a-1)
    writes level 8 and then 9 over the last weeks of block 7 (levels 7 and 8 vanish).

    R: blocks(c(100, 88, 76), 1:100, 12, 100, b = 2, w = 2, p = 10, epochAsDate = FALSE).
    """
    rel, levels = _block_template((0, 12, 24), 2, 10, 0)
    assert rel.tolist() == list(range(-26, 0))
    assert levels.tolist() == [10, 10, 10, 10, 10, 1, 2, 3, 4, 5, 6, 9, 9, 10, 10, 10, 10, 1, 2, 3, 4, 5, 6, 9, 9, 10]
    with pytest.raises(DetectError, match="factors"):  # R: stop("Number of factors too big!")
        _block_template((0, 8, 16), 2, 10, 2)


# --- limit54 -------------------------------------------------------------------------------------------------


def _seasonal(n: int = 312, level: float = 10.0, seed: int = 7) -> Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return Series(observed=rng.poisson(level * np.exp(0.4 * np.sin(2 * np.pi * t / 52))).astype(np.float64), freq=52)


def test_limit54_flexible_gives_na_bound_but_keeps_score_and_pvalue() -> None:
    series = _seasonal()
    y = series.observed.copy()
    y[296:300] = [0, 1, 2, 1]  # 4 cases in the 4 weeks up to t = 300
    series = Series(observed=y, freq=52)
    result = farrington_flexible(series, {"limit54": [5, 4]}, 299, 301)
    assert np.isnan(result.upperbound[1]) and np.isnan(result.expected[1]) and result.alarm[1] == 0
    assert np.isfinite(result.score[1]) and np.isfinite(result.pvalue[1]) and np.isfinite(result.extra["dispersion"][1])
    relaxed = farrington_flexible(series, {"limit54": [4, 4]}, 300, 300)
    assert np.isfinite(relaxed.upperbound[0]) and np.isfinite(relaxed.expected[0])
    assert relaxed.score[0] == result.score[1]


def test_limit54_original_gives_zero_bound_and_no_alarm() -> None:
    series = _seasonal()
    y = series.observed.copy()
    y[296:300] = [0, 0, 0, 4]  # a jump to 4 would alarm, but only 4 cases in 4 weeks
    series = Series(observed=y, freq=52)
    strict = farrington(series, {"limit54": [5, 4], "alpha": 0.5}, 300, 300)
    assert strict.upperbound[0] == 0 and strict.alarm[0] == 0 and strict.expected[0] > 0
    relaxed = farrington(series, {"limit54": [4, 4], "alpha": 0.5}, 300, 300)
    assert relaxed.upperbound[0] > 0
    assert relaxed.expected[0] == strict.expected[0]


def test_flexible_never_alarms_on_zero_counts() -> None:
    series = _seasonal(level=0.05, seed=3)
    result = farrington_flexible(series, {"limit54": [0, 4]}, 270, 312)
    assert (result.alarm[series.observed[269:312] == 0] == 0).all()


# --- reweighting and the prediction dispersion (independent re-implementation of one time point) ---------------


def _irls(x: FloatArray, y: FloatArray, prior: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Quasi-Poisson IRLS by least squares on sqrt(W) X, with glm.fit's start (mu = y + 0.1) and stopping rule
    (relative deviance change < 1e-8). Returns beta, mu and, as glm.fit does, the working weights of the
    last solve (computed from the mu before the final update)."""

    def deviance(mu: FloatArray) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(2 * np.sum(prior * (np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu))))

    mu = y + 0.1
    eta = np.log(mu)
    devold = deviance(mu)
    beta: FloatArray = np.zeros(x.shape[1])
    w = prior * mu
    for _ in range(25):
        w = prior * mu
        z = eta + (y - mu) / mu
        beta = np.asarray(np.linalg.lstsq(x * np.sqrt(w)[:, None], z * np.sqrt(w), rcond=None)[0], dtype=np.float64)
        eta = x @ beta
        mu = np.exp(eta)
        dev = deviance(mu)
        if abs(dev - devold) / (abs(dev) + 0.1) < 1e-8:
            break
        devold = dev
    return beta, mu, w


def _reference_flexible_point(y_all: FloatArray, k: int, b: int, w: int, threshold: float) -> dict[str, float]:
    """farringtonFlexible at time k (1-based), integer epochs, noPeriods = 1, delta threshold, alpha 0.05."""
    idx = np.array([k - i * 52 + j for i in range(b, 0, -1) for j in range(-w, w + 1)])
    y = y_all[idx - 1]

    def fit(trend: bool) -> tuple[FloatArray, FloatArray, float, float, FloatArray, int]:
        x = np.column_stack([np.ones(idx.shape[0]), idx - k]) if trend else np.ones((idx.shape[0], 1))
        df = idx.shape[0] - x.shape[1]
        _, mu, ww = _irls(x, y, np.ones(idx.shape[0]))
        phi = max(1.0, float(np.sum(ww * ((y - mu) / mu) ** 2)) / df)
        cov = np.linalg.inv(x.T @ (ww[:, None] * x))
        hat = ww * np.einsum("ij,jk,ik->i", x, cov, x)
        s = 1.5 * (y ** (2 / 3) * mu ** (-1 / 6) - mu**0.5) / np.sqrt(phi * (1 - hat))
        inv2 = np.where(s > threshold, s**-2.0, 1.0)
        omega = idx.shape[0] / inv2.sum() * inv2
        beta, mu, ww = _irls(x, y, omega)
        phi = max(1.0, float(np.sum(ww * ((y - mu) / mu) ** 2)) / df)
        dstar = float(np.sum(omega * ((y - mu) / mu) ** 2)) / df
        cov = np.linalg.inv(x.T @ (ww[:, None] * x))
        return beta, cov, phi, dstar, omega, df

    beta, cov, phi, dstar, omega, df = fit(True)
    p = 2 * stats.t.sf(abs(beta[1]) / math.sqrt(dstar * cov[1, 1]), df)
    trend = bool(p < 0.05 and math.exp(beta[0]) <= y.max() and b >= 3)
    if not trend:
        beta, cov, phi, dstar, omega, df = fit(False)
    mu0 = math.exp(beta[0])
    var = mu0**2 * dstar * cov[0, 0]
    sd = math.sqrt(4 / 9 * mu0 ** (1 / 3) * (phi + var / mu0))
    upper = (mu0 ** (2 / 3) + stats.norm.ppf(0.95) * sd) ** 1.5
    return {
        "upperbound": upper,
        "expected": mu0,
        "dispersion": phi,
        "trend": float(trend),
        "downweighted": float(np.sum(omega < omega.max())),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reweighting_matches_an_independent_implementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(1, 313)
    y = rng.negative_binomial(5, 5 / (5 + 20 * np.exp(0.3 * np.sin(2 * np.pi * t / 52) + 0.004 * t))).astype(float)
    y[[300 - 52 - 1, 300 - 104, 300 - 156 + 1]] += [150, 120, 200]  # outbreaks in the baseline
    series = Series(observed=y, freq=52)
    ref = _reference_flexible_point(y, 300, 5, 3, 2.58)
    assert ref["downweighted"] >= 1  # the reweighting step matters here
    result = farrington_flexible(series, {}, 300, 300)
    assert result.upperbound[0] == pytest.approx(ref["upperbound"], rel=1e-7)
    assert result.expected[0] == pytest.approx(ref["expected"], rel=1e-7)
    assert result.extra["dispersion"][0] == pytest.approx(ref["dispersion"], rel=1e-7)
    assert result.extra["trend_used"][0] == ref["trend"]
    unweighted = farrington_flexible(series, {"reweight": False}, 300, 300)
    assert unweighted.upperbound[0] != pytest.approx(result.upperbound[0], rel=1e-3)


def test_only_high_residuals_are_downweighted() -> None:
    """A baseline week far *below* the fit is not downweighted (no absolute value in R); one far above is."""
    base = _seasonal(level=30.0, seed=11).observed.copy()
    low, high = base.copy(), base.copy()
    low[300 - 52 - 1] = 0.0
    high[300 - 52 - 1] += 90.0
    ref_low = _reference_flexible_point(low, 300, 5, 3, 2.58)
    ref_high = _reference_flexible_point(high, 300, 5, 3, 2.58)
    assert ref_low["downweighted"] == 0 and ref_high["downweighted"] >= 1
    for y, ref in ((low, ref_low), (high, ref_high)):
        result = farrington_flexible(Series(observed=y, freq=52), {}, 300, 300)
        assert result.upperbound[0] == pytest.approx(ref["upperbound"], rel=1e-7)


def test_nb_thresholds_score_uses_log_mu0() -> None:
    """For nbPlugin R's score is (y - eta0) / (U - eta0) with eta0 = log(mu0) (a quirk)."""
    series = _seasonal(level=20.0, seed=5)
    control = {
        "b": 4,
        "w": 3,
        "noPeriods": 10,
        "pastWeeksNotIncluded": 26,
        "pThresholdTrend": 1,
        "thresholdMethod": "nbPlugin",
    }
    result = farrington_flexible(series, control, 290, 312)
    y = series.observed[289:312]
    eta0 = np.log(result.expected)
    np.testing.assert_allclose(result.score, (y - eta0) / (result.upperbound - eta0), rtol=1e-12)
    assert np.array_equal(result.upperbound, np.round(result.upperbound))  # an NB quantile


def test_bad_controls_are_rejected() -> None:
    series = _seasonal()
    with pytest.raises(DetectError, match="thresholdMethod"):
        farrington_flexible(series, {"thresholdMethod": "exact"}, 300, 300)
    with pytest.raises(DetectError, match="limit54"):
        farrington(series, {"limit54": [5, 0]}, 300, 300)
    with pytest.raises(DetectError, match="powertrans"):
        farrington(series, {"powertrans": "1/3"}, 300, 300)
