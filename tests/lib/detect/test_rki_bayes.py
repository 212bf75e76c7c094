"""RKI and Bayes (``accord.lib.detect.rki_bayes``) against R ``surveillance::algo.rki`` / ``algo.bayes`` 1.20.3."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from accord.lib.detect import DetectError, Series
from accord.lib.detect._glm_small import qnbinom
from accord.lib.detect.rki_bayes import bayes, rki, rki_table
from tests.lib.detect.test_ears import SUBSET, assert_conformance, reference_cases, reference_params


@pytest.mark.parametrize(("dataset", "control_id"), reference_params(("BAYES_", "RKI_")))
def test_rki_and_bayes_match_r(dataset: str, control_id: str) -> None:
    assert_conformance(reference_cases(dataset, control_id))


def test_the_subset_covers_every_variant() -> None:
    ids = {cid for _, cid in reference_params(("BAYES_", "RKI_"))}
    assert ids == {"BAYES_1", "BAYES_2", "BAYES_3", "RKI_1", "RKI_2", "RKI_3"}


def test_the_packaged_table_is_rs_cidata() -> None:
    with (SUBSET / "rki_CIdata.csv").open(newline="", encoding="utf-8") as handle:
        reference = [float(r["O"]) for r in csv.DictReader(handle)]
    assert rki_table().tolist() == reference
    assert len(reference) == 21  # floor(mean) = 0 .. 20
    packaged = Path(__file__).resolve().parents[3] / "accord" / "lib" / "detect" / "data" / "rki_CIdata.csv"
    assert packaged.read_bytes() == (SUBSET / "rki_CIdata.csv").read_bytes()


# Monthly series used with R below: y <- c(rep(c(3,5,4,6,2,5,4,7), 10), 9, 25, 30, 22, 28, 40, 35, 50, 45, 38)
Y = [3.0, 5, 4, 6, 2, 5, 4, 7] * 10 + [9.0, 25, 30, 22, 28, 40, 35, 50, 45, 38]
MONTHLY = Series(observed=np.asarray(Y), freq=12)


def test_rki_table_lookup_and_mean_above_20_like_r() -> None:
    # R: algo.rki(dp, control = list(range = 70:85, b = 1, w = 2, actY = TRUE))$upperbound
    res = rki(MONTHLY, {"b": 1, "w": 2, "actY": True}, 70, 85)
    assert res.upperbound.tolist() == [
        9.598,
        8.102,
        9.598,
        9.598,
        9.598,
        9.598,
        9.598,
        9.598,
        9.598,
        8.102,
        9.598,
        9.598,
        11.177,
        13.765,
        19.050,
        17.633,
    ]
    # R: algo.rki(dp, control = list(range = 86:90, b = 0, w = 4, actY = TRUE)): means 25.75 .. > 20 -> mu + 2 sd
    high = rki(MONTHLY, {"b": 0, "w": 4, "actY": True}, 86, 90)
    assert high.upperbound == pytest.approx(
        [33.25, 44.9666295470958, 47.0297338380595, 56.7522521151706, 55.4099444873581], rel=1e-12
    )
    base = Y[85 - 4 : 85]  # t = 86: y[82..85]
    mean = sum(base) / 4
    assert mean > 20
    assert high.upperbound[0] == pytest.approx(mean + 2 * math.sqrt(sum((v - mean) ** 2 for v in base) / 3))
    assert high.alarm.tolist() == [float(y > u) for y, u in zip(Y[85:90], high.upperbound.tolist(), strict=True)]


def test_rki_boundary_mean_of_exactly_20_uses_the_table() -> None:
    series = Series(observed=np.asarray([20.0] * 10 + [31.0, 30.0]), freq=52)
    res = rki(series, {"b": 0, "w": 6, "actY": True}, 11, 11)
    assert res.upperbound.tolist() == [30.017]  # O[20 + 1], not 20 + 2 * 0
    assert res.alarm.tolist() == [1.0]
    just_above = Series(observed=np.asarray([20.0] * 9 + [21.0, 20.5]), freq=52)
    res2 = rki(just_above, {"b": 0, "w": 6, "actY": True}, 11, 11)
    base = [20.0] * 5 + [21.0]
    mean = sum(base) / 6
    assert res2.upperbound[0] == pytest.approx(mean + 2 * math.sqrt(sum((v - mean) ** 2 for v in base) / 5))


def test_bayes_quantile_like_r() -> None:
    # R: qnbinom(0.95, size = c(0.5, 10.5, 100.5, 3.5, 2000.5), prob = c(6/7, 6/7, 13/14, 0.5, 19/20))
    got = qnbinom(0.95, np.array([0.5, 10.5, 100.5, 3.5, 2000.5]), np.array([6 / 7, 6 / 7, 13 / 14, 0.5, 19 / 20]))
    assert got.tolist() == [1.0, 4.0, 13.0, 9.0, 123.0]
    # R: algo.bayes(dp, control = list(range = 70:85, b = 1, w = 2, actY = TRUE, alpha = 0.01))$upperbound
    res = bayes(MONTHLY, {"b": 1, "w": 2, "actY": True, "alpha": 0.01}, 70, 85)
    assert res.upperbound.tolist() == [11, 10, 11, 11, 11, 10, 11, 11, 11, 10, 11, 11, 13, 16, 21, 20]
    assert res.alarm.tolist() == [float(y > u) for y, u in zip(Y[69:85], res.upperbound.tolist(), strict=True)]


def test_defaults_base_vector_and_errors() -> None:
    # algo.rki defaults to rki3 (b 2, w 4, no actY), algo.bayes to bayes1 (b 0, w 6, actY, alpha 0.05)
    y = Series(observed=np.arange(1.0, 200.0) % 9, freq=52)
    assert np.array_equal(rki(y, {}, 150, 160).upperbound, rki(y, {"b": 2, "w": 4, "actY": False}, 150, 160).upperbound)
    assert np.array_equal(
        bayes(y, {}, 150, 160).upperbound, bayes(y, {"b": 0, "w": 6, "actY": True, "alpha": 0.05}, 150, 160).upperbound
    )
    with pytest.raises(DetectError, match="too short"):
        rki(y, {"b": 2, "w": 4}, 108, 120)  # needs t - 2*52 - 4 >= 1
    rki(y, {"b": 2, "w": 4}, 109, 120)
    with pytest.raises(DetectError, match="too short"):
        bayes(y, {"b": 0, "w": 6}, 6, 10)
    with pytest.raises(DetectError, match="empty"):
        rki(y, {"b": 0, "actY": False}, 150, 160)
