"""RKI and Bayes detectors as in R ``surveillance::algo.rki`` and ``algo.bayes`` 1.20.3.

Both take, for each monitored t, the base vector ``y[t-w] .. y[t-1]`` (if ``actY``) followed by
``y[t - i*freq - w] .. y[t - i*freq + w]`` for i = 1..b (offsets in index units, also for Date
epochs).

* Bayes: ``U = qnbinom(1 - alpha, size = sum(base) + 1/2, prob = n / (n + 1))``; alarm iff ``y > U``.
* RKI: ``mu = mean(base)``; if ``mu > 20``, ``U = mu + 2 sd``; else ``U = O[floor(mu) + 1]`` from the
  lookup table ``data/rki_CIdata.csv`` (surveillance's ``CIdata``); alarm iff ``y > U``.
* Variants (defaults of R's ``rki1/2/3`` and ``bayes1/2/3``): 1 = (b 0, w 6, actY), 2 = (b 1, w 6,
  actY), 3 = (b 2, w 4, no actY). The control carries b, w and actY; ``algo.rki`` itself defaults to
  variant 3 and ``algo.bayes`` to variant 1 (alpha 0.05), as in R.

Everything is vectorised over time points (one gather of all base vectors).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from . import DetectError, FloatArray, Result, Series
from ._glm_small import ctl_bool, ctl_float, ctl_int, qnbinom


@cache
def rki_table() -> FloatArray:
    """Column ``O`` of surveillance's ``CIdata``: the upper limit for ``floor(mu) = 0 .. 20``."""
    text = resources.files(__package__).joinpath("data", "rki_CIdata.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    table = np.array([float(r["O"]) for r in rows], dtype=np.float64)
    mus = [int(float(r["mu"])) for r in rows]
    if mus != list(range(len(rows))):
        raise DetectError("rki_CIdata.csv: column mu must be 0, 1, 2, ...")
    table.setflags(write=False)
    return table


@dataclass(frozen=True)
class _Base:
    b: int
    w: int
    act_y: bool


def _parse(control: Mapping[str, Any], what: str, default: _Base) -> _Base:
    b = ctl_int(control, "b", default.b, what)
    w = ctl_int(control, "w", default.w, what)
    act_y = ctl_bool(control, "actY", default.act_y, what)
    if b < 0 or w < 0:
        raise DetectError(f"{what}: b and w must be non-negative")
    return _Base(b, w, act_y)


def _base_matrix(series: Series, base: _Base, first: int, last: int, what: str) -> FloatArray:
    """Rows = monitored t, columns = the base vector of t, in R's order."""
    freq = series.freq
    if first - base.b * freq - base.w < 1:
        raise DetectError(f"{what}: the vector of observed is too short!")
    offsets: list[int] = list(range(-base.w, 0)) if base.act_y else []
    for i in range(1, base.b + 1):
        offsets += list(range(-i * freq - base.w, -i * freq + base.w + 1))
    t0 = np.arange(first - 1, last, dtype=np.int64)  # 0-based index of t
    index = t0[:, None] + np.asarray(offsets, dtype=np.int64)[None, :]
    values: FloatArray = np.asarray(series.observed, dtype=np.float64)[index]
    return values


def _alarm(y: FloatArray, upper: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(upper), np.nan, (y > upper).astype(np.float64))


def _observed(series_list: Sequence[Series], first: int, last: int) -> FloatArray:
    return np.concatenate([np.asarray(s.observed[first - 1 : last], dtype=np.float64) for s in series_list])


def _split(first: int, last: int, count: int, upper: FloatArray, alarm: FloatArray) -> list[Result]:
    width = last - first + 1
    out: list[Result] = []
    for j in range(count):
        res = Result.empty(first, last)
        res.upperbound = upper[j * width : (j + 1) * width].copy()
        res.alarm = alarm[j * width : (j + 1) * width].copy()
        out.append(res)
    return out


def rki(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``algo.rki(disProg, control = list(range = first:last, b, w, actY))``."""
    return rki_many([series], control, first, last)[0]


def rki_many(series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`rki` for many series in one vectorised pass (the base vectors of all series stacked)."""
    what = "rki"
    base = _parse(control, what, _Base(2, 4, False))
    if not series_list:
        return []
    values = np.concatenate([_base_matrix(s, base, first, last, what) for s in series_list])
    n_base = values.shape[1]
    if n_base == 0:
        raise DetectError("rki: the base vector is empty (b = 0 and actY = FALSE); R fails")
    mu = values.sum(axis=1) / n_base
    table = rki_table()
    upper = np.empty(mu.shape[0])
    high = mu > 20
    if np.any(high):
        sd = (
            np.sqrt(((values[high] - mu[high, None]) ** 2).sum(axis=1) / (n_base - 1))
            if n_base > 1
            else np.full(int(high.sum()), np.nan)
        )
        upper[high] = mu[high] + 2 * sd
    low = ~high
    if np.any(low):
        if np.any(np.isnan(mu[low])):
            raise DetectError("rki: missing values in the base vector")
        upper[low] = table[np.floor(mu[low]).astype(np.int64)]
    return _split(first, last, len(series_list), upper, _alarm(_observed(series_list, first, last), upper))


def bayes(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``algo.bayes(disProg, control = list(range = first:last, b, w, actY, alpha))``."""
    return bayes_many([series], control, first, last)[0]


def bayes_many(series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`bayes` for many series in one vectorised pass (one ``qnbinom`` over all time points)."""
    what = "bayes"
    base = _parse(control, what, _Base(0, 6, True))
    alpha = ctl_float(control, "alpha", 0.05, what)
    if not 0 < alpha < 1:
        raise DetectError(f"bayes: alpha must be in (0, 1), not {alpha}")
    if not series_list:
        return []
    values = np.concatenate([_base_matrix(s, base, first, last, what) for s in series_list])
    present = ~np.isnan(values)
    total = np.where(present, values, 0.0).sum(axis=1)
    n_base = present.sum(axis=1).astype(np.float64)
    upper = qnbinom(1 - alpha, total + 0.5, n_base / (n_base + 1))
    return _split(first, last, len(series_list), upper, _alarm(_observed(series_list, first, last), upper))
