"""CUSUM (``accord.lib.detect.cusum``) against R ``surveillance::algo.cusum`` 1.20.3, and its quirks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accord.lib.detect import DetectError, Series, run
from accord.lib.detect.cusum import cusum
from tests.lib.detect.test_ears import assert_conformance, reference_cases, reference_params


@pytest.mark.parametrize(("dataset", "control_id"), reference_params(("CUSUM_",)))
def test_cusum_matches_r(dataset: str, control_id: str) -> None:
    # m (expected) and the CUSUM statistic too, not only the bound and the alarm
    assert_conformance(reference_cases(dataset, control_id), columns=("expected", "statistic"))


def test_the_subset_covers_every_cusum_control() -> None:
    ids = {cid for _, cid in reference_params(("CUSUM_",))}
    assert ids == {"CUSUM_default", "CUSUM_glm_anscombe", "CUSUM_glm_negbin"}


def _series(values: list[float], start: tuple[int, int] = (2000, 1), freq: int = 52) -> Series:
    return Series(observed=np.asarray(values, dtype=np.float64), freq=freq, start=start)


def test_standard_cusum_by_hand_and_no_reset_after_an_alarm() -> None:
    """m = mean of ALL observations before the range; S keeps accumulating after an alarm (no reset)."""
    before = [4.0, 6, 5, 3, 7, 5]  # m = 5
    after = [12.0, 11, 5, 5, 2]
    res = cusum(_series(before + after), {}, 7, 11)
    m, k, h = 5.0, 1.04, 2.26
    s, stats, bounds = 0.0, [], []
    for x in after:
        bounds.append(math.ceil(math.sqrt(m) * (h + k - s) + m))
        s = max(0.0, s + (x - m) / math.sqrt(m) - k)
        stats.append(s)
    assert res.expected.tolist() == [m] * 5
    assert res.extra["statistic"] == pytest.approx(stats, rel=1e-14)
    assert res.upperbound.tolist() == bounds
    assert res.alarm.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0]
    # y = 5 = m still alarms after the alarm of y = 11: the statistic was not reset (with a reset it would be
    # max(0, 0 + 0 - k) = 0)
    assert after[2] == m and stats[2] >= h
    # for "standard" the bound is the smallest count that alarms
    assert all((x >= b) == bool(a) for x, b, a in zip(after, bounds, res.alarm.tolist(), strict=True))


def test_m_zero_gives_na_alarms_like_r() -> None:
    res = cusum(_series([0.0] * 10 + [0.0, 2.0, 0.0]), {}, 11, 13)
    assert np.isnan(res.alarm).all()
    assert np.isnan(res.extra["statistic"]).all()
    assert res.upperbound.tolist() == [0.0, 0.0, 0.0]  # NA bounds become 0


def test_glm_m_uses_the_start_slot_for_the_season() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(1, 209)
    y = rng.poisson(10 * np.exp(0.8 * np.cos(2 * np.pi * t / 52))).astype(float).tolist()
    control = {"m": "glm", "trans": "anscombe"}
    jan = cusum(_series(y, start=(2000, 1)), control, 157, 208)
    jul = cusum(_series(y, start=(2000, 27)), control, 157, 208)
    # the same fit, seen through a half-year phase shift of t, gives the same m
    assert jan.expected == pytest.approx(jul.expected, rel=1e-6)
    assert float(np.max(jan.expected)) / float(np.min(jan.expected)) > 3  # a real seasonal curve
    monthly = cusum(_series(y[:96], freq=12), control, 85, 96)
    assert monthly.expected.shape == (12,)


def test_transforms_and_their_bounds() -> None:
    y = [3.0, 5, 4, 6, 2, 5, 4, 7, 9, 4, 1, 8]
    s = _series(y)
    m = sum(y[:6]) / 6
    nb = cusum(s, {"trans": "pearsonNegBin", "alpha": 0.2, "k": 0.5, "h": 4}, 7, 12)
    z = [(x - m) / math.sqrt(m + 0.2 * m * m) for x in y[6:]]
    stat, c = [], 0.0
    for zi in z:
        c = max(0.0, c + zi - 0.5)
        stat.append(c)
    assert nb.extra["statistic"] == pytest.approx(stat, rel=1e-13)
    prev = [0.0, *stat[:-1]]
    assert nb.upperbound == pytest.approx([math.sqrt(m + 0.2 * m * m) * (4 + 0.5 - p) + m for p in prev])
    none = cusum(s, {"trans": "none", "h": 30}, 7, 12)
    assert none.upperbound == pytest.approx(np.maximum(0.0, 30 - none.extra["statistic"]))
    with pytest.raises(DetectError, match="trans"):
        cusum(s, {"trans": "log"}, 7, 12)
    with pytest.raises(DetectError, match="anscombeNegBin"):
        cusum(s, {"trans": "anscombeNegBin", "m": "glm"}, 7, 12)  # R fails too
    assert np.isfinite(cusum(s, {"trans": "anscombeNegBin"}, 7, 12).extra["statistic"]).all()


def test_resolved_control_strings_mean_null() -> None:
    y = _series([float(v % 5) for v in range(40)])
    plain = run("cusum", y, {}, 30, 40)
    resolved = run(
        "cusum",
        y,
        {
            "k": 1.04,
            "h": 2.26,
            "m": "NULL (mean of observed[1:(range[1]-1)])",
            "trans": "standard",
            "alpha": "NULL (=0.1, only used by NB transforms)",
        },
        30,
        40,
    )
    assert np.array_equal(plain.upperbound, resolved.upperbound)
    assert np.array_equal(plain.extra["statistic"], resolved.extra["statistic"])
    with pytest.raises(DetectError):
        run("cusum", y, {"m": "glm"}, 1, 10)  # nothing before the range to fit
