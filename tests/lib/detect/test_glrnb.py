"""GLR (``accord.lib.detect.glrnb``) against R ``surveillance::algo.glrnb`` 1.20.3, and against plain scalar
ports of its C routines (``glr_cusum`` and ``glr_nb_window``) written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accord.lib.detect import DetectError, Series, run
from accord.lib.detect._glm_small import glm_nb
from accord.lib.detect.glrnb import glrnb
from tests.lib.detect.test_ears import assert_conformance, reference_cases, reference_params


@pytest.mark.parametrize(("dataset", "control_id"), reference_params(("GLR",)))
def test_glr_matches_r(dataset: str, control_id: str) -> None:
    # mu0 (expected), alpha (dispersion, from our MASS::glm.nb) and the statistic too
    assert_conformance(reference_cases(dataset, control_id), columns=("expected", "dispersion", "statistic"))


def test_the_subset_covers_both_glr_controls_and_fragile_glm_nb_fits() -> None:
    assert {cid for _, cid in reference_params(("GLR",))} == {"GLRNB_default", "GLRPOIS_cases"}
    # ha has units where glm.nb stops at theta.ml's iteration limit; R's alpha is still reproduced there
    fragile = [c for c in reference_cases("ha", "GLRNB_default") if c.r_warning.all()]
    assert fragile
    for case in fragile:
        res = run("glrnb", case.series, case.control, case.first, case.last)
        assert res.extra["dispersion"] == pytest.approx(case.r["dispersion"], rel=1e-6)
        assert res.upperbound == pytest.approx(case.r["upperbound"], rel=1e-6, abs=1e-9)


# --- scalar ports of the C code (tests only) -------------------------------------------------------------------


def c_glr_pois(x: list[float], mu: list[float], n: int) -> float:
    """C ``glr(n, x, mu0, dir = 1)``."""
    best, sx, sm = -1e99, 0.0, 0.0
    for k in range(n, -1, -1):
        sx += x[k]
        sm += mu[k]
        kappa = max(0.0, math.log(sx / sm)) if sx > 0 else 0.0
        best = max(best, kappa * sx + (1 - math.exp(kappa)) * sm)
    return best


def c_glr_nb(x: list[float], mu: list[float], alpha: float, n: int) -> float:
    """C ``glr_nb_window`` for one n (M = -1, Mtilde = 1, dir = 1)."""
    best, kappa_ml = -1e99, 0.5
    for k in range(n + 1):
        old, new, it = 0.4, kappa_ml, 0
        while new > -18 and abs(new - old) > 1e-6 and it < 1000:
            it += 1
            old = new
            e = math.exp(old)
            score = sum((x[i] - e * mu[i]) / (1 + alpha * e * mu[i]) for i in range(k, n + 1))
            fisher = e * sum(mu[i] * (alpha * x[i] + 1) / (1 + alpha * e * mu[i]) ** 2 for i in range(k, n + 1))
            new = old + score / fisher
        kappa_ml = max(0.0, new)
        lnk = sum(
            kappa_ml * x[i]
            + (x[i] + 1 / alpha) * math.log((1 + alpha * mu[i]) / (1 + alpha * mu[i] * math.exp(kappa_ml)))
            for i in range(k, n + 1)
        )
        best = max(best, lnk)
    return best


def _series(values: list[float]) -> Series:
    return Series(observed=np.asarray(values, dtype=np.float64), freq=52)


def test_poisson_glr_with_given_mu0_and_restart_after_each_alarm() -> None:
    rng = np.random.default_rng(5)
    x = rng.poisson(4, 40).astype(float)
    x[12] = x[13] = 15.0  # an outbreak
    x[30] = 0.0
    mu = list(np.linspace(3.5, 4.5, 30))
    series = _series([4.0] * 10 + x[:30].tolist())
    res = glrnb(series, {"alpha": 0, "mu0": mu, "ret": "value", "c.ARL": 5}, 11, 40)
    assert res.extra["dispersion"].tolist() == [0.0] * 30
    assert res.expected.tolist() == mu
    # replay: the chart restarts after an alarm and ignores the earlier data
    xs = x[:30].tolist()
    start, expected_stat, expected_alarm = 0, [], []
    for n in range(30):
        g = c_glr_pois(xs[start:], mu[start:], n - start)
        expected_stat.append(g)
        expected_alarm.append(float(g >= 5))
        if g >= 5:
            start = n + 1
    assert sum(expected_alarm) >= 1
    assert res.alarm.tolist() == expected_alarm
    assert res.upperbound == pytest.approx(expected_stat, rel=1e-12, abs=1e-12)
    assert res.extra["statistic"] == pytest.approx(expected_stat, rel=1e-12, abs=1e-12)
    first_alarm = expected_alarm.index(1.0)
    # right after the alarm only the new point counts
    nxt = xs[first_alarm + 1]
    kappa = max(0.0, math.log(nxt / mu[first_alarm + 1])) if nxt > 0 else 0.0
    assert res.upperbound[first_alarm + 1] == pytest.approx(
        kappa * nxt + (1 - math.exp(kappa)) * mu[first_alarm + 1], abs=1e-12
    )


def test_poisson_cases_are_the_smallest_count_that_alarms() -> None:
    rng = np.random.default_rng(9)
    x = rng.poisson(6, 25).astype(float).tolist()
    mu = [6.0] * 25
    res = glrnb(_series([6.0] * 5 + x), {"alpha": 0, "mu0": mu, "ret": "cases"}, 6, 30)
    assert np.isnan(res.extra["statistic"]).all()  # R reports no statistic with ret = "cases"
    alarms = np.nonzero(res.alarm)[0].tolist()
    stop = alarms[0] if alarms else 24
    for n in range(stop + 1):
        c = int(res.upperbound[n])
        trial = list(x)
        trial[n] = c
        assert c_glr_pois(trial, mu, n) >= 5
        if c > 0:
            trial[n] = c - 1
            assert c_glr_pois(trial, mu, n) < 5


def test_negative_binomial_glr_equals_the_c_loop() -> None:
    """The vectorised kernel (with its Newton warm starts and the shortcut for MLEs truncated to 0)
    equals a literal port of the C loop, including windows of zeros and an outbreak."""
    rng = np.random.default_rng(21)
    mu = (5 + 3 * np.sin(np.arange(30) / 3)).tolist()
    x = rng.negative_binomial(3, 3 / (3 + np.asarray(mu))).astype(float)
    x[5:9] = 0.0
    x[20:23] += 25
    series = _series([5.0] * 10 + x.tolist())
    alpha = 0.3
    res = glrnb(series, {"alpha": alpha, "mu0": mu, "c.ARL": 1e9}, 11, 40)  # no alarm: one long run
    expected = [c_glr_nb(x.tolist(), mu, alpha, n) for n in range(30)]
    assert res.upperbound == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert res.alarm.tolist() == [0.0] * 30
    with_alarms = glrnb(series, {"alpha": alpha, "mu0": mu, "c.ARL": 5}, 11, 40)
    first = int(np.argmax(with_alarms.alarm))
    assert with_alarms.alarm[first] == 1.0 and expected[first] >= 5 and max(expected[:first], default=0) < 5


def test_negative_binomial_cases_brute_force_quirks() -> None:
    """R's brute-force search for NB cases: a zero count never enters the loop (1e99)."""
    mu = [4.0] * 12
    x = [3.0, 0.0, 5.0, 4.0, 2.0, 20.0, 3.0, 0.0, 4.0, 5.0, 3.0, 4.0]
    res = glrnb(_series([4.0] * 5 + x), {"alpha": 0.2, "mu0": mu, "ret": "cases", "c.ARL": 4}, 6, 17)
    assert res.upperbound[1] == 1e99 and res.upperbound[7] == 1e99
    alarm_at = int(np.argmax(res.alarm))
    assert res.alarm[alarm_at] == 1.0 and x[alarm_at] == 20.0
    c = res.upperbound[alarm_at]
    assert 4 < c <= 20


def test_glm_nb_and_failures_like_r() -> None:
    # all-zero training data: MASS::glm.nb fails in R (measlesDE/Saarland), and so do we
    with pytest.raises(DetectError, match=r"glm\.nb|theta"):
        glrnb(_series([0.0] * 60 + [1.0] * 10), {}, 61, 70)
    # MASS::glm.nb on a fixed series; R 4.2.2 / MASS 7.3-58 gave these numbers
    i = np.arange(1, 121)
    y = ((i * 37) % 17 + (i * i) % 5 + 3 * (i % 13 == 0) * (i // 10)).astype(float)
    w = 2 * np.pi / 52 * i
    fit = glm_nb(np.column_stack((np.ones(120), np.cos(w), np.sin(w))), y)
    assert fit.fit.converged
    assert fit.theta == pytest.approx(3.03781885223728, rel=1e-7)
    assert fit.fit.coefficients == pytest.approx(
        [2.42436883010163, 0.0187447557241345, -0.000145580070107657], rel=1e-6, abs=1e-9
    )
    with pytest.raises(DetectError, match="alpha"):
        glrnb(_series([3.0] * 20), {"mu0": [3.0] * 5}, 16, 20)  # numeric mu0 needs alpha (R fails)
    with pytest.raises(DetectError, match="epi"):
        glrnb(_series([3.0] * 80), {"change": "epi"}, 60, 80)
