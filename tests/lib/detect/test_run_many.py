"""``run_many`` (the batch forms of the detectors) gives what ``run`` gives series by series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from accord.lib.detect import DetectError, Series, run, run_many
from accord.lib.detect._glm_batch import glm_nb_many
from accord.lib.detect._glm_small import glm_nb
from accord.lib.detect.glrnb import _design, _Mu0Model

CONTROLS: dict[str, dict[str, Any]] = {
    "farringtonFlexible": {"b": 3, "w": 3, "noPeriods": 1, "pastWeeksNotIncluded": 3},
    "farrington": {"b": 3, "w": 3},
    "earsC": {"method": "C1"},
    "cusum": {"k": 1.04, "h": 2.26, "trans": "standard"},
    "glrnb": {},
    "rki": {"b": 0, "w": 6, "actY": True},
    "bayes": {"b": 0, "w": 6, "actY": True, "alpha": 0.05},
}


def _series(count: int, seed: int = 3) -> list[Series]:
    rng = np.random.default_rng(seed)
    t = np.arange(1, 261)
    out = []
    for j in range(count):
        mu = rng.uniform(1, 40) * np.exp(rng.uniform(0, 0.8) * np.sin(2 * np.pi * t / 52 + j))
        counts = rng.negative_binomial(rng.uniform(1, 10), 0.5, 260) if j % 4 == 3 else rng.poisson(mu)
        y = np.asarray(counts, dtype=np.float64)
        y[200 + j % 40 : 204 + j % 40] += rng.poisson(2 * mu[200:204])
        out.append(Series(observed=y, freq=52, start=(2015, 1)))
    return out


@pytest.mark.parametrize("name", list(CONTROLS))
def test_run_many_equals_run_one_by_one(name: str) -> None:
    series = _series(9)
    many = run_many(name, series, CONTROLS[name], 209, 260)
    assert len(many) == len(series)
    for s, got in zip(series, many, strict=True):
        one = run(name, s, CONTROLS[name], 209, 260)
        np.testing.assert_allclose(got.upperbound, one.upperbound, rtol=1e-9, atol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(got.alarm, one.alarm)
        np.testing.assert_allclose(got.expected, one.expected, rtol=1e-9, equal_nan=True)


def test_run_many_checks_every_series() -> None:
    series = _series(3)
    bad = Series(observed=np.concatenate([series[0].observed[:-1], [np.nan]]), freq=52)
    with pytest.raises(DetectError, match="non-negative"):
        run_many("earsC", [*series, bad], {"method": "C1"}, 209, 260)
    with pytest.raises(DetectError, match="outside the series"):
        run_many("rki", series, {}, 209, 261)


def test_batched_glm_nb_equals_the_one_series_fit_and_hands_back_the_hard_ones() -> None:
    series = _series(12)
    model = _Mu0Model(s=1, trend=False, refit=False)
    x = _design(np.arange(1, 209, dtype=np.float64), model, 52)
    ys = np.stack([s.observed[:208] for s in series])
    ys[0] = 0.0
    ys[0][[10, 100]] = [400.0, 3.0]  # a fit R and the one-series code halve or fail on
    fits = glm_nb_many(x, ys)
    assert fits[0] is None
    for y, fit in zip(ys[1:], fits[1:], strict=True):
        assert fit is not None
        one = glm_nb(x, y)
        # alpha = 1/theta: near-Poisson series have theta ~ 1e5 on a flat likelihood (as in R)
        assert 1 / fit.theta == pytest.approx(1 / one.theta, rel=1e-6, abs=1e-9)
        np.testing.assert_allclose(fit.coefficients, one.fit.coefficients, rtol=1e-7, atol=1e-10)
