"""CUSUM for count data as in R ``surveillance::algo.cusum`` 1.20.3.

* Reference mean ``m``: ``NULL`` = mean of *all* observations ``1 .. first-1``; a number; or ``"glm"``
  = Poisson GLM ``x ~ 1 + cos(2 pi t / freq) + sin(2 pi t / freq)`` fitted on ``1 .. first-1`` with
  ``t = start[2] + index - 1`` (R's ``start`` slot), predicted over the range.
* Transforms (``trans``): ``standard`` (x-m)/sqrt(m), ``rossi``, ``anscombe``, ``anscombe2nd``,
  ``pearsonNegBin`` (x-m)/sqrt(m + alpha m^2), ``anscombeNegBin``, ``none``.
* ``S_t = max(0, S_{t-1} + z_t - k)`` from ``S = 0`` before the range; alarm iff ``S_t >= h``; there
  is **no reset** after an alarm. R's ``max(0, NaN)`` is NaN, so a NaN statistic (e.g. ``m = 0``)
  propagates and gives NA alarms.
* Upperbound: the count that would make ``S_t = h`` (``ceiling`` for ``standard``); NA and negative
  values become 0, as in R.

Result: ``expected`` = m, ``extra["statistic"]`` = S_t.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import DetectError, FloatArray, Result, Series
from ._glm_small import Family, ctl_float, ctl_get, glm_fit, match_arg

_TRANSFORMS = ("rossi", "standard", "anscombe", "anscombe2nd", "pearsonNegBin", "anscombeNegBin", "none")


def _training_index(first: int) -> list[int]:
    """R's ``1:(first - 1)`` (which is ``c(1, 0)`` when first == 1), as 1-based indices."""
    return list(range(1, first)) if first > 1 else [1, 0]


def _reference_mean(series: Series, control: Mapping[str, Any], first: int, last: int) -> FloatArray:
    observed = series.observed
    n_range = last - first + 1
    m_ctl = ctl_get(control, "m")
    if m_ctl is None:
        # observed[1:(first-1)]; index 0 selects nothing in R.
        idx = [i - 1 for i in _training_index(first) if i >= 1]
        values = observed[idx].tolist()
        return np.full(n_range, math.fsum(values) / len(values))
    if isinstance(m_ctl, int | float) and not isinstance(m_ctl, bool):
        return np.full(n_range, float(m_ctl))
    if isinstance(m_ctl, list | tuple) and all(isinstance(v, int | float) for v in m_ctl):
        values = np.asarray(m_ctl, dtype=np.float64)
        return values if values.shape[0] == n_range else np.resize(values, n_range)
    if m_ctl != "glm":
        raise DetectError(f"cusum: control 'm' must be NULL, a number or \"glm\", not {m_ctl!r}")
    if first < 2:
        raise DetectError('cusum: m = "glm" needs at least one observation before the range')
    p = series.freq
    training = np.arange(1, first, dtype=np.float64)
    t = series.start[1] + training - 1
    x = observed[: first - 1].astype(np.float64)

    def design(tt: FloatArray) -> FloatArray:
        w = 2 * math.pi / p * tt
        return np.column_stack((np.ones_like(tt), np.cos(w), np.sin(w)))

    fit = glm_fit(design(t), x, Family())
    t_new = series.start[1] + np.arange(first, last + 1, dtype=np.float64) - 1
    return fit.predict_response(design(t_new))


def _hypgeom_table() -> tuple[FloatArray, FloatArray]:
    """surveillance's ``surveillance.gvar.z`` / ``.hyp``: 2F1(1/3, 2/3; 5/3; z) on z = 0, -0.01, ..., -10,
    -11, ..., -100 (R's stored values agree with scipy's hyp2f1 to 3e-10)."""
    import importlib

    special: Any = importlib.import_module("scipy.special")
    z = np.concatenate((-np.arange(0, 1001) / 100, -np.arange(11, 101, dtype=np.float64)))
    return z, np.asarray(special.hyp2f1(1 / 3, 2 / 3, 5 / 3, z), dtype=np.float64)


def _hypgeom2f1_special(x: float) -> float:
    """surveillance's ``hypgeom2F1special(x)``: nearest grid value for x >= -10, else R's interpolation."""
    z, hyp = _hypgeom_table()
    idx = int(np.argmin(np.abs(z - x)))
    if x >= -10:
        return float(hyp[idx])
    low, up = (idx + 1, idx) if x - z[idx] < 0 else (idx, idx - 1)
    if low >= z.shape[0]:
        return math.nan
    return float(hyp[low] + (hyp[up] - hyp[low]) * (x - z[low]))


def _anscombe_nb(x: FloatArray, m: FloatArray, alpha: float) -> FloatArray:
    """surveillance's ``anscombeNB(x, mu = m, alpha)``; R fails for a non-constant m (``if`` on a vector)."""
    if np.unique(m).shape[0] != 1:
        raise DetectError('cusum: trans = "anscombeNegBin" needs a single m (R fails with m = "glm")')
    mu = float(m[0])
    hyp_mu = 3 / 2 * mu ** (2 / 3) * _hypgeom2f1_special(-alpha * mu)
    down = (mu + alpha * mu**2) ** (1 / 6)
    return np.array(
        [(3 / 2 * xi ** (2 / 3) * _hypgeom2f1_special(-alpha * xi) - hyp_mu) / down for xi in x.tolist()],
        dtype=np.float64,
    )


def _transform(trans: str, x: FloatArray, m: FloatArray, alpha: float) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if trans == "rossi":
            return np.asarray((x - 3 * m + 2 * np.sqrt(x * m)) / (2 * np.sqrt(m)), dtype=np.float64)
        if trans == "standard":
            return np.asarray((x - m) / np.sqrt(m), dtype=np.float64)
        if trans == "anscombe":
            return np.asarray(3 / 2 * (x ** (2 / 3) - m ** (2 / 3)) / m ** (1 / 6), dtype=np.float64)
        if trans == "anscombe2nd":
            return np.asarray(
                (x ** (2 / 3) - (m ** (2 / 3) - m ** (-1 / 3) / 9)) / (2 / 3 * m ** (1 / 6)), dtype=np.float64
            )
        if trans == "pearsonNegBin":
            return np.asarray((x - m) / np.sqrt(m + alpha * m**2), dtype=np.float64)
        if trans == "anscombeNegBin":
            return _anscombe_nb(x, m, alpha)
        return x.copy()  # "none"


def _cusum_path(z: FloatArray, k: float) -> FloatArray:
    """``S_t = max(0, S_{t-1} + z_t - k)``, S_0 = 0, with R's NaN-propagating ``max``.

    The recursion is sequential by nature; it is a cheap scalar loop (one pass, no reset).
    """
    out = np.empty(z.shape[0] + 1)
    s = 0.0
    out[0] = 0.0
    for i, zi in enumerate(z.tolist()):
        v = s + (zi - k)
        s = v if (v != v or v > 0.0) else 0.0  # noqa: PLR0124 - NaN test, as R's max(0, NaN) is NaN
        out[i + 1] = s
    return out


def _upperbound(
    trans: str, m: FloatArray, *, h: float, k: float, c_prev: FloatArray, s: FloatArray, alpha: float
) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if trans == "rossi":
            ub = (
                2 * h * m**0.5
                + 2 * k * m**0.5
                - 2 * c_prev * m**0.5
                + 5 * m
                - 2 * (4 * m**2 + 2 * m**1.5 * h + 2 * m**1.5 * k - 2 * m**1.5 * c_prev) ** 0.5
            )
        elif trans == "standard":
            ub = np.ceil(np.sqrt(m) * (h + k - c_prev) + m)
        elif trans == "anscombe":
            base = 2 / 3 * m ** (1 / 6) * (h + k - c_prev) + m ** (2 / 3)
            ub = np.where(base < 0, 0.0, np.abs(base) ** 1.5)
            ub = np.where(np.isnan(base), np.nan, ub)
        elif trans == "anscombe2nd":
            base = 2 / 3 * m ** (1 / 6) * (h + k - c_prev) + (m ** (2 / 3) - m ** (1 / 3) / 9)
            ub = np.where(base < 0, 0.0, np.abs(base) ** 1.5)
            ub = np.where(np.isnan(base), np.nan, ub)
        elif trans == "pearsonNegBin":
            ub = np.sqrt(m + alpha * m**2) * (h + k - c_prev) + m
        else:  # anscombeNegBin, none
            ub = h - s
    ub = np.asarray(ub, dtype=np.float64).copy()
    ub[np.isnan(ub)] = 0.0
    ub[ub < 0] = 0.0
    return ub


def cusum(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``algo.cusum(disProg, control = list(range = first:last, k, h, m, trans, alpha))``."""
    what = "cusum"
    k = ctl_float(control, "k", 1.04, what)
    h = ctl_float(control, "h", 2.26, what)
    trans = match_arg(ctl_get(control, "trans", "standard"), _TRANSFORMS, "trans", what)
    alpha = ctl_float(control, "alpha", 0.1, what)
    m = _reference_mean(series, control, first, last)
    x = np.asarray(series.observed[first - 1 : last], dtype=np.float64)
    z = _transform(trans, x, m, alpha)
    path = _cusum_path(z, k)
    s = path[1:]
    c_prev = path[:-1]
    with np.errstate(invalid="ignore"):
        alarm = np.where(np.isnan(s), np.nan, (s >= h).astype(np.float64))
    res = Result.empty(first, last)
    res.upperbound = _upperbound(trans, m, h=h, k=k, c_prev=c_prev, s=s, alpha=alpha)
    res.alarm = alarm
    res.expected = np.asarray(m, dtype=np.float64).copy()
    res.extra["statistic"] = s.copy()
    return res
