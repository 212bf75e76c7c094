"""EARS C1, C2 and C3 as in R ``surveillance::earsC`` 1.20.3.

* C1: baseline ``y[t-b] .. y[t-1]``; C2: ``y[t-b-2] .. y[t-3]``. ``U = mean + z * max(sd, minSigma)``
  with ``z = qnorm(1 - alpha)`` and the ``n - 1`` standard deviation.
* C3 is R's version, not the textbook one: with ``C2_i = (y_i - mean_i) / max(sd_i, minSigma)``,
  ``U_t = max(0, y_t + max(sd_t, minSigma) * (z - (C2_{t-2} - 1)^+ - (C2_{t-1} - 1)^+))``; with
  ``sd = 0`` (and ``minSigma = 0``) this gives NaN, i.e. NA upperbound and alarm, as R does.
* Alarm: ``y > U`` (NA when U is NA). Default ``alpha`` is 0.001 for C1/C2 and 0.025 for C3.

Everything is vectorised over time points (sliding windows); :func:`ears_c_many` also vectorises
over series of the same length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import DetectError, FloatArray, Result, Series
from ._glm_small import ctl_float, ctl_get, ctl_int, match_arg, qnorm

_METHODS = ("C1", "C2", "C3")


@dataclass(frozen=True)
class _Params:
    method: str
    baseline: int
    min_sigma: float
    alpha: float


def _parse_control(control: Mapping[str, Any]) -> _Params:
    what = "earsC"
    method = match_arg(ctl_get(control, "method", "C1"), _METHODS, "method", what)
    baseline = ctl_int(control, "baseline", 7, what)
    min_sigma = ctl_float(control, "minSigma", 0.0, what)
    if min_sigma < 0:
        raise DetectError("earsC: the minimum sigma parameter (minSigma) needs to be positive")
    if baseline < 3:
        raise DetectError("earsC: minimum baseline to use is 3")
    alpha = ctl_float(control, "alpha", 0.025 if method == "C3" else 0.001, what)
    if not 0 < alpha < 1:
        raise DetectError(f"earsC: alpha must be in (0, 1), not {alpha}")
    return _Params(method, baseline, min_sigma, alpha)


def _window_stats(y: FloatArray, baseline: int, lag: int, first: int, last: int) -> tuple[FloatArray, FloatArray]:
    """Mean and sd (n-1, two-pass as R's ``sd``) of ``y[..., t-b-lag .. t-1-lag]`` for t = first..last
    (1-based), over the last axis."""
    start = first - 1 - baseline - lag  # 0-based start of the window of t = first
    stop = last - 1 - lag  # exclusive end of the window of t = last
    seg = y[..., start:stop]
    windows = as_strided(
        seg,
        shape=(*seg.shape[:-1], seg.shape[-1] - baseline + 1, baseline),
        strides=(*seg.strides, seg.strides[-1]),
        writeable=False,
    )
    mean = np.add.reduce(windows, axis=-1) / baseline
    dev = windows - mean[..., None]
    sd = np.sqrt(np.einsum("...ij,...ij->...i", dev, dev) / (baseline - 1))
    return mean, sd


def _ears_matrix(y: FloatArray, params: _Params, first: int, last: int) -> tuple[FloatArray, FloatArray]:
    """Upperbound and alarm for ``y`` of shape (..., n); returns arrays of shape (..., last-first+1)."""
    method, baseline, min_sigma, alpha = params.method, params.baseline, params.min_sigma, params.alpha
    max_lag = {"C1": baseline, "C2": baseline + 2, "C3": baseline + 4}[method]
    if first - max_lag < 1:
        raise DetectError("earsC: the vector of observed is too short!")
    z = qnorm(1 - alpha)
    obs = y[..., first - 1 : last]
    if method != "C3":
        mean, sd = _window_stats(y, baseline, 0 if method == "C1" else 2, first, last)
        upper = mean + z * np.maximum(sd, min_sigma)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            mean, sd = _window_stats(y, baseline, 2, first - 2, last)
            sigma = np.maximum(sd, min_sigma)
            c2 = (y[..., first - 3 : last] - mean) / sigma
            part = np.maximum(0.0, c2[..., :-2] - 1) + np.maximum(0.0, c2[..., 1:-1] - 1)
            upper = np.maximum(0.0, obs + sigma[..., 2:] * (z - part))  # NaN stays NaN, as R's pmax
    alarm = np.greater(obs, upper).astype(np.float64)
    na = np.isnan(upper)
    if na.any():
        alarm[na] = np.nan  # y > NA is NA
    return upper, alarm


def _result(first: int, last: int, upper: FloatArray, alarm: FloatArray) -> Result:
    nan = np.full(upper.shape[-1], np.nan)
    return Result(
        t=np.arange(first, last + 1, dtype=np.int64),
        upperbound=upper,
        alarm=alarm,
        expected=nan,
        score=nan.copy(),
        pvalue=nan.copy(),
    )


def ears_c(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``earsC(sts, control = list(range = first:last, method, baseline, minSigma, alpha))``."""
    params = _parse_control(control)
    y = np.asarray(series.observed, dtype=np.float64)
    upper, alarm = _ears_matrix(y, params, first, last)
    return _result(first, last, upper, alarm)


def ears_c_many(series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`ears_c` over many series at once (one vectorised pass per group of equal length)."""
    params = _parse_control(control)
    results: list[Result | None] = [None] * len(series_list)
    by_length: dict[int, list[int]] = {}
    for i, s in enumerate(series_list):
        if not 1 <= first <= last <= s.n:
            raise DetectError(f"range {first}:{last} is outside the series (1..{s.n})")
        by_length.setdefault(s.n, []).append(i)
    t = np.arange(first, last + 1, dtype=np.int64)
    for idx in by_length.values():
        y = np.stack([np.asarray(series_list[i].observed, dtype=np.float64) for i in idx])
        upper, alarm = _ears_matrix(y, params, first, last)
        # one allocation for the NaN columns of the whole group; each result gets rows of its own
        nan = np.full((len(idx), 3, t.shape[0]), np.nan)
        for row, i in enumerate(idx):
            results[i] = Result(
                t=t.copy(),
                upperbound=upper[row],
                alarm=alarm[row],
                expected=nan[row, 0],
                score=nan[row, 1],
                pvalue=nan[row, 2],
            )
    return [r for r in results if r is not None]
