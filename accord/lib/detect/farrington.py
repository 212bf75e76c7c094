"""Farrington detectors: R ``surveillance`` 1.20.3 ``farringtonFlexible`` and ``algo.farrington``.

Both fit, for every monitored time point independently, a quasi-Poisson log-linear GLM to reference
values from earlier years, optionally reweight it with Anscombe residuals, keep a linear time trend only
if it is significant, does not extrapolate and at least three years are used, and compare the current
count with an upper prediction bound. The details and quirks reproduced here are described in
``docs/surveillance.md`` (date-epoch reference weeks, ``noPeriods`` seasonal blocks,
``pastWeeksNotIncluded``, the ``D*`` dispersion that R's flexible variant uses for the prediction
variance and the trend test, the ``eta0`` score for NB thresholds, ``limit54``).

The GLMs of all monitored time points (and, through :func:`farrington_flexible_many` /
:func:`farrington_many`, of many series) are stacked and fitted together by
:func:`accord.lib.detect._glm.fit_levels`, which follows R's IRLS step by step. Pure numpy/scipy; no Django.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import DetectError, FloatArray, Result, Series
from ._glm import Layout, LevelFit, fit_levels, hat_values, linkinv, pearson_dispersion

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_POWERS = {"2/3": 2.0 / 3.0, "1/2": 0.5, "none": 1.0}


def _scipy(name: str) -> Any:
    """``scipy.<name>``, imported on first use (scipy is slow to import and untyped)."""
    return importlib.import_module(f"scipy.{name}")


# --------------------------------------------------------------------------------------------------
# controls


@dataclass(frozen=True)
class _Control:
    b: int
    w: int
    reweight: bool
    weights_threshold: float
    alpha: float
    trend: bool
    p_threshold_trend: float
    limit54: tuple[float, int]
    powertrans: str
    no_periods: int
    past_weeks_not_included: int
    threshold_method: str
    flexible: bool


def _get(control: Mapping[str, Any], key: str, default: Any) -> Any:
    value = control.get(key, default)
    return default if value is None else value


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise DetectError(f"control {name} must be an integer, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DetectError(f"control {name} must be an integer, got {value!r}") from None
    if not number.is_integer():
        raise DetectError(f"control {name} must be an integer, got {value!r}")
    return int(number)


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise DetectError(f"control {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DetectError(f"control {name} must be a number, got {value!r}") from None


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise DetectError(f"control {name} must be TRUE or FALSE, got {value!r}")


def _parse_control(control: Mapping[str, Any], flexible: bool) -> _Control:
    b = _as_int(_get(control, "b", 5), "b")
    w = _as_int(_get(control, "w", 3), "w")
    if b < 1:
        raise DetectError("control b must be at least 1")
    if w < 0:
        raise DetectError("control w must be non-negative")
    limit = _get(control, "limit54", [5, 4])
    if not isinstance(limit, list | tuple) or len(limit) != 2:
        raise DetectError(f"control limit54 must be a pair (cases, period), got {limit!r}")
    cases, period = _as_float(limit[0], "limit54[1]"), _as_int(limit[1], "limit54[2]")
    if not (cases >= 0 and period > 0):
        raise DetectError("The limit54 arguments are out of bounds: cases >= 0 and period > 0.")
    powertrans = str(_get(control, "powertrans", "2/3"))
    if powertrans not in _POWERS:
        raise DetectError(f"control powertrans must be one of 2/3, 1/2, none; got {powertrans!r}")
    alpha = _as_float(_get(control, "alpha", 0.05), "alpha")
    if not 0 < alpha < 1:
        raise DetectError("control alpha must be in (0, 1)")
    if _as_bool(_get(control, "populationOffset", False), "populationOffset"):
        raise DetectError("populationOffset = TRUE is not supported (series carry no population)")
    if flexible:
        fit_fun = _get(control, "fitFun", "algo.farrington.fitGLM.flexible")
        if fit_fun != "algo.farrington.fitGLM.flexible":
            raise DetectError(f"fitFun {fit_fun!r} is not supported by farringtonFlexible")
        method = str(_get(control, "thresholdMethod", "delta"))
        if method not in ("delta", "nbPlugin", "muan"):
            raise DetectError(f"thresholdMethod must be delta, nbPlugin or muan; got {method!r}")
        no_periods = _as_int(_get(control, "noPeriods", 1), "noPeriods")
        if no_periods < 1:
            raise DetectError("control noPeriods must be at least 1")
        pwni = _as_int(_get(control, "pastWeeksNotIncluded", w), "pastWeeksNotIncluded")
        if pwni < 0:
            raise DetectError("control pastWeeksNotIncluded must be non-negative")
        return _Control(
            b=b,
            w=w,
            reweight=_as_bool(_get(control, "reweight", True), "reweight"),
            weights_threshold=_as_float(_get(control, "weightsThreshold", 2.58), "weightsThreshold"),
            alpha=alpha,
            trend=_as_bool(_get(control, "trend", True), "trend"),
            p_threshold_trend=_as_float(_get(control, "pThresholdTrend", 0.05), "pThresholdTrend"),
            limit54=(cases, period),
            powertrans=powertrans,
            no_periods=no_periods,
            past_weeks_not_included=pwni,
            threshold_method=method,
            flexible=True,
        )
    fit_fun = _get(control, "fitFun", "algo.farrington.fitGLM.fast")
    if fit_fun != "algo.farrington.fitGLM.fast":
        raise DetectError(f"fitFun {fit_fun!r} is not supported by farrington")
    return _Control(
        b=b,
        w=w,
        reweight=_as_bool(_get(control, "reweight", True), "reweight"),
        weights_threshold=1.0,
        alpha=alpha,
        trend=_as_bool(_get(control, "trend", True), "trend"),
        p_threshold_trend=0.05,
        limit54=(cases, period),
        powertrans=powertrans,
        no_periods=1,
        past_weeks_not_included=0,
        threshold_method="delta",
        flexible=False,
    )


# --------------------------------------------------------------------------------------------------
# calendar arithmetic as R's seq.Date does it (out-of-range days roll over into the next month)


def _days(series: Series) -> IntArray:
    """The epoch dates of a date-indexed series as days since 1970-01-01 (checked to be increasing)."""
    assert series.dates is not None
    out: IntArray = np.asarray(series.dates, dtype="datetime64[D]").astype(np.int64)
    if out.shape != series.observed.shape:
        raise DetectError("dates and observed counts differ in length")
    if np.any(np.diff(out) <= 0):
        raise DetectError("epoch dates must be strictly increasing")
    return out


def _civil(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(year, month 1..12, day 1..31) of days since 1970-01-01."""
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    mon_index = months.astype(np.int64)
    year = mon_index // 12 + 1970
    month = mon_index % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _make_date(year: IntArray, month: IntArray, day: IntArray) -> IntArray:
    """Days since 1970-01-01 of (year, month, day), normalised like R's ``as.Date(POSIXlt)``."""
    mon_index = (year - 1970) * 12 + (month - 1)
    first: IntArray = mon_index.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return first + day - 1


def _weekday(days: IntArray) -> IntArray:
    """R's ``format(date, "%w")``: 0 = Sunday (1970-01-01 was a Thursday)."""
    out: IntArray = (days + 4) % 7
    return out


def _lookup(days: IntArray, wanted: IntArray) -> tuple[IntArray, BoolArray]:
    """0-based positions of ``wanted`` dates in the sorted ``days``, and whether each was found."""
    pos = np.searchsorted(days, wanted)
    pos_c = np.minimum(pos, days.shape[0] - 1)
    found = days[pos_c] == wanted
    return pos_c.astype(np.int64), found


# --------------------------------------------------------------------------------------------------
# reference values


@dataclass
class _Chunk:
    """GLM problems of one series that share the pattern of reference rows relative to ``k``."""

    series: int
    k: IntArray  # (g,) monitored 1-based time indices
    rows: IntArray  # (g, m) 0-based indices into observed (clipped to >= 0)
    mask: BoolArray  # (g, m) row used
    wtime: FloatArray  # (g, m) time covariate centred at the prediction time
    levels: IntArray  # (m,) seasonal level of each row (all equal when noPeriods = 1)


def _ref_points_flexible(series: Series, ks: IntArray, b: int) -> IntArray:
    """``algo.farrington.referencetimepoints``: 0-based indices (g, b+1) of the reference epochs."""
    if series.dates is None:
        refs = ks[:, None] - 1 - np.arange(b + 1)[None, :] * series.freq
        if np.any(refs < 0):
            raise DetectError("Some reference time points did not exist; decrease 'b' or postpone 'range'.")
        return refs
    if series.freq not in (52, 12, 365):
        raise DetectError(f"date epochs with frequency {series.freq} are not supported by farringtonFlexible")
    days = _days(series)
    now = days[ks - 1]
    year, month, day = _civil(now)
    back = np.arange(b + 1)[None, :]
    ref = _make_date(year[:, None] - back, month[:, None] + 0 * back, day[:, None] + 0 * back)
    if series.freq == 52:
        diff = _weekday(ref) - _weekday(now)[:, None]
        a = ref - diff
        ref = np.where(np.abs(diff) <= 3, a, a + np.where(a > ref, -7, 7))
    pos, found = _lookup(days, ref)
    if not found.all():
        raise DetectError("Some reference time points did not exist; decrease 'b' or postpone 'range'.")
    return pos


def _groups(offsets: IntArray) -> list[tuple[tuple[int, ...], IntArray]]:
    """The distinct rows of ``offsets`` (g, m) and the indices of the rows equal to each."""
    if offsets.shape[0] == 0:
        return []
    if bool((offsets == offsets[:1]).all()):
        return [(tuple(int(v) for v in offsets[0]), np.arange(offsets.shape[0]))]
    uniq, inverse = np.unique(offsets, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [(tuple(int(v) for v in row), np.nonzero(inverse == j)[0]) for j, row in enumerate(uniq)]


@functools.lru_cache(maxsize=256)
def _block_template(offsets: tuple[int, ...], w: int, p: int, pwni: int) -> tuple[IntArray, IntArray]:
    """R's ``blocks()`` plus ``pastWeeksNotIncluded`` for reference epochs ``offsets`` back from now.

    Returns the row positions relative to now (ascending, <= 0) and their seasonal levels (cached: callers
    must not modify the arrays).
    """
    span = offsets[-1] + w
    factors = np.zeros(span + 1, dtype=np.int64)  # index = position relative to now + span; 0 = NA

    def assign(lo: int, hi: int, level: int) -> None:
        # R's lo:hi, which counts down when hi < lo
        idx = np.arange(lo, hi + 1) if hi >= lo else np.arange(lo, hi - 1, -1)
        factors[idx + span] = level

    assign(-w, 0, p)
    for i in range(1, len(offsets)):
        ref_week = -offsets[i]
        assign(ref_week - w, ref_week + w, p)
        if p != 1:
            period = -offsets[i - 1] - 2 * w - 1 - ref_week
            if period < p - (2 * w + 1):
                raise DetectError("Number of factors too big! (noPeriods does not fit between the windows)")
            lengths = np.full(p - 1, period // (p - 1), dtype=np.int64)
            lengths[: period % (p - 1)] += 1
            cum = np.concatenate(([0], np.cumsum(lengths)))
            for j in range(1, p):
                assign(ref_week + w + 1 + int(cum[j - 1]), ref_week + w + 1 + int(cum[j]) - 1, j)
    lo = max(-pwni, -span)
    factors[lo + span :] = 0
    rel = np.nonzero(factors)[0]
    return (rel - span).astype(np.int64), factors[rel]


def _chunks_flexible(series: Series, index: int, ctl: _Control, first: int, last: int) -> list[_Chunk]:
    ks = np.arange(first, last + 1, dtype=np.int64)
    refs = _ref_points_flexible(series, ks, ctl.b)
    offsets = ks[:, None] - 1 - refs
    days = _days(series) if series.dates is not None else None
    chunks: list[_Chunk] = []
    for key, members in _groups(offsets):
        rel, levels = _block_template(key, ctl.w, ctl.no_periods, ctl.past_weeks_not_included)
        k = ks[members]
        rows = k[:, None] - 1 + rel[None, :]
        if np.any(rows < -1):
            raise DetectError("Some reference values lie before the start of the series; postpone 'range'.")
        mask = rows >= 0
        rows = np.maximum(rows, 0)
        if days is None:
            wtime = np.broadcast_to(rel.astype(np.float64), rows.shape).copy()
        else:
            step = float(days[1] - days[0]) if days.shape[0] > 1 else 1.0
            wtime = (days[rows] - days[k - 1][:, None]).astype(np.float64) / step
        chunks.append(_Chunk(series=index, k=k, rows=rows, mask=mask, wtime=wtime, levels=levels))
    return chunks


def _ref_rows_original_dates(series: Series, ks: IntArray, b: int, w: int) -> tuple[IntArray, BoolArray]:
    """``refvalIdxByDate``: 0-based indices (g, b*(2w+1)) of the reference values and whether they exist."""
    assert series.dates is not None
    if series.freq not in (52, 12, 365):
        raise DetectError(f"date epochs with frequency {series.freq} are not supported by farrington")
    days = _days(series)
    now = days[ks - 1]
    year, month, day = _civil(now)
    back = np.arange(1, b + 1)[None, :, None]
    steps = np.arange(-w, w + 1)[None, None, :]
    zero = 0 * back * steps
    ref_year, ref_month, ref_day = (
        year[:, None, None] - back + zero,
        month[:, None, None] + zero,
        day[:, None, None] + zero,
    )
    if series.freq == 12:
        # seq(refPoint, by = "-1 month") / by = "1 month", then the day of t0 within that month
        shifted = _make_date(ref_year, ref_month + steps, ref_day)
        _, _, sday = _civil(shifted)
        ref = shifted - (sday - day[:, None, None])
    else:
        centre = _make_date(ref_year, ref_month, ref_day)
        ref = centre + steps * (7 if series.freq == 52 else 1)
        if series.freq == 52:
            wd0 = _weekday(now)[:, None, None]
            forward = (wd0 - _weekday(ref)) % 7
            backward = (_weekday(ref) - wd0) % 7
            ref = ref + np.where(forward < backward, forward, -backward)
    ref = ref.reshape(ks.shape[0], -1)
    pos, found = _lookup(days, ref)
    return pos, found


def _chunks_original(series: Series, index: int, ctl: _Control, first: int, last: int) -> list[_Chunk]:
    ks = np.arange(first, last + 1, dtype=np.int64)
    b, w = ctl.b, ctl.w
    if series.dates is None:
        rel = np.concatenate([np.arange(-series.freq * i - w, -series.freq * i + w + 1) for i in range(b, 0, -1)])
        rows = ks[:, None] - 1 + rel[None, :]
        found = rows >= 0
    else:
        rows, found = _ref_rows_original_dates(series, ks, b, w)
    offsets = np.where(found, ks[:, None] - 1 - rows, -1)
    chunks: list[_Chunk] = []
    for _, members in _groups(offsets):
        k = ks[members]
        sel = found[members[0]]
        g_rows = np.maximum(rows[members][:, sel], 0)
        mask = np.ones(g_rows.shape, dtype=bool)
        wtime = (g_rows - (k[:, None] - 1)).astype(np.float64)
        chunks.append(
            _Chunk(
                series=index, k=k, rows=g_rows, mask=mask, wtime=wtime, levels=np.ones(g_rows.shape[1], dtype=np.int64)
            )
        )
    return chunks


# --------------------------------------------------------------------------------------------------
# stacked problems and the fitting pipeline


@dataclass
class _Batch:
    series: IntArray  # (B,)
    k: IntArray  # (B,)
    layout: Layout  # rows sorted by level, level noPeriods first (that is the level R predicts for)
    t: FloatArray  # (B, n) time covariate centred at the prediction time, so x0 is "level noPeriods, t = 0"
    y: FloatArray  # (B, n)
    mask: BoolArray  # (B, n)
    ymax: FloatArray  # (B,)


def _pack(chunks: list[_Chunk], observed: Sequence[FloatArray], p_level: int) -> list[_Batch]:
    by_levels: dict[tuple[int, ...], list[_Chunk]] = {}
    for chunk in chunks:
        present = tuple(int(v) for v in np.unique(chunk.levels))
        if p_level not in present:
            raise DetectError("the current window has no reference values")
        by_levels.setdefault(present, []).append(chunk)
    batches: list[_Batch] = []
    for present, group in by_levels.items():
        order = np.array([p_level] + [lv for lv in present if lv != p_level], dtype=np.int64)
        rank = np.zeros(max(present) + 1, dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        counts = np.zeros(order.shape[0], dtype=np.int64)
        for c in group:
            counts = np.maximum(counts, np.bincount(rank[c.levels], minlength=order.shape[0]))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        n = int(counts.sum())
        total = sum(c.k.shape[0] for c in group)
        t = np.zeros((total, n))
        y = np.zeros((total, n))
        mask = np.zeros((total, n), dtype=bool)
        series = np.empty(total, dtype=np.int64)
        k = np.empty(total, dtype=np.int64)
        at = 0
        for c in group:
            g = c.rows.shape[0]
            r = rank[c.levels]
            by_rank = np.argsort(r, kind="stable")
            # destination column of each (rank-sorted) row: its level's segment start + position within it
            within = np.arange(by_rank.shape[0]) - np.searchsorted(r[by_rank], r[by_rank])
            dest = starts[r[by_rank]] + within
            sl = slice(at, at + g)
            series[sl] = c.series
            k[sl] = c.k
            m = c.mask[:, by_rank]
            mask[sl, dest] = m
            y[sl, dest] = np.where(m, observed[c.series][c.rows[:, by_rank]], 0.0)
            t[sl, dest] = np.where(m, c.wtime[:, by_rank], 0.0)
            at += g
        ymax = np.where(mask, y, -np.inf).max(axis=1)
        shared = t[0].copy() if bool((t == t[:1]).all()) else None
        batches.append(
            _Batch(
                series=series, k=k, layout=Layout(starts=starts, n=n, shared_t=shared), t=t, y=y, mask=mask, ymax=ymax
            )
        )
    return batches


def _slice(batch: _Batch, sel: slice) -> _Batch:
    return _Batch(
        series=batch.series[sel],
        k=batch.k[sel],
        layout=batch.layout,
        t=batch.t[sel],
        y=batch.y[sel],
        mask=batch.mask[sel],
        ymax=batch.ymax[sel],
    )


@dataclass
class _Stage:
    """One ``fitFun`` call (fit, and with reweighting a second weighted fit) for a batch of problems."""

    converged: BoolArray  # convergence of the first (unweighted) fit
    fit: LevelFit  # the final fit (the weighted one when reweighting)
    phi: FloatArray  # max(1, Pearson dispersion of the final fit)
    pearson: FloatArray  # Pearson dispersion of the final fit, not floored
    dstar: FloatArray  # flexible: what summary.glm reports after model$weights <- omega


def _stage(
    layout: Layout,
    t: FloatArray,
    slope_on: BoolArray,
    y: FloatArray,
    mask: BoolArray,
    *,
    reweight: bool,
    threshold: float,
) -> _Stage:
    prior = mask.astype(np.float64)
    fit1 = fit_levels(layout, t, slope_on, y, prior)
    pearson1 = pearson_dispersion(y, fit1)
    if not reweight:
        return _Stage(converged=fit1.converged, fit=fit1, phi=np.fmax(pearson1, 1.0), pearson=pearson1, dstar=pearson1)
    phi1 = np.fmax(pearson1, 1.0)
    h = hat_values(layout, t, slope_on, fit1)
    mu = fit1.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        # anscombe.residuals(): 3/2 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h))
        a = 1.5 * (np.cbrt(y) ** 2 / np.sqrt(np.cbrt(mu)) - np.sqrt(mu))
        s = a / np.sqrt(phi1[:, None] * (1.0 - h))
        # algo.farrington.assign.weights(): only residuals above the threshold are downweighted
        high = (s > threshold) & mask
        inv2 = np.where(high, 1.0 / (s * s), 1.0)
        gamma = mask.sum(axis=1) / np.where(mask, inv2, 0.0).sum(axis=1)
        omega = np.where(mask, gamma[:, None] * inv2, 0.0)
    fit2 = fit_levels(layout, t, slope_on, y, omega)
    pearson2 = pearson_dispersion(y, fit2)
    dstar = pearson_dispersion(y, fit2, weights=omega)
    return _Stage(converged=fit1.converged, fit=fit2, phi=np.fmax(pearson2, 1.0), pearson=pearson2, dstar=dstar)


@dataclass
class _Fitted:
    """Per problem: what the threshold needs, after the trend decision."""

    null: BoolArray
    eta0: FloatArray
    var_eta0: FloatArray  # x0' (X'WX)^-1 x0 times the dispersion used for the prediction
    phi: FloatArray
    do_trend: BoolArray
    trend_coef: FloatArray


def _fit_batch(batch: _Batch, ctl: _Control) -> _Fitted:
    """The fits of ``algo.farrington.glm`` (flexible) / the body of ``algo.farrington`` (original).

    With a trend, the model without trend is needed wherever the trend fit does not converge or the trend
    is dropped; it is fitted for every problem alongside the trend model (one stacked call is cheaper than
    a second pass) and used where needed.
    """
    nb = batch.k.shape[0]
    if ctl.trend:
        t = np.concatenate((batch.t, batch.t))
        slope_on = np.repeat(np.array([True, False]), nb)
        y = np.concatenate((batch.y, batch.y))
        mask = np.concatenate((batch.mask, batch.mask))
    else:
        t, slope_on, y, mask = batch.t, np.zeros(nb, dtype=bool), batch.y, batch.mask
    st = _stage(batch.layout, t, slope_on, y, mask, reweight=ctl.reweight, threshold=ctl.weights_threshold)
    fit = st.fit
    # the dispersion predict.glm uses: R's model$phi in the original; in the flexible version summary.glm's
    # dispersion after model$weights <- omega (D*), unfloored
    pred_disp = st.dstar if ctl.flexible else st.phi
    eta0_all = fit.level_coef[:, 0]
    var_all = pred_disp * fit.level_var[:, 0]

    use_trend = np.zeros(nb, dtype=bool)
    if ctl.trend:
        tr = slice(0, nb)
        disp_test = st.dstar[tr] if ctl.flexible else st.pearson[tr]
        with np.errstate(divide="ignore", invalid="ignore"):
            tval = fit.slope[tr] / np.sqrt(disp_test * fit.slope_var[tr])
            pval = 2.0 * _scipy("special").stdtr(fit.df_residual[tr], -np.abs(tval))
        mu0 = linkinv(eta0_all[tr])
        use_trend = st.converged[tr] & (ctl.b >= 3) & (pval < ctl.p_threshold_trend) & (mu0 <= batch.ymax)
        pick = np.where(use_trend, np.arange(nb), np.arange(nb) + nb)
    else:
        pick = np.arange(nb)
    # flexible: no convergence without trend -> no result (R returns NULL, or fails when the trend was dropped)
    null = ~st.converged[pick] if ctl.flexible else np.zeros(nb, dtype=bool)
    trend_coef = np.where(use_trend, fit.slope[:nb], np.nan)
    return _Fitted(
        null=null,
        eta0=eta0_all[pick],
        var_eta0=var_all[pick],
        phi=st.phi[pick],
        do_trend=use_trend,
        trend_coef=trend_coef,
    )


# --------------------------------------------------------------------------------------------------
# thresholds


def _pnorm_upper(x: FloatArray, mean: FloatArray, sd: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(sd > 0, _scipy("special").ndtr((mean - x) / sd), np.where(x < mean, 1.0, 0.0))
    return np.where(np.isnan(sd) | (sd < 0), np.nan, out)


def _delta_threshold(
    mu0: FloatArray, se: FloatArray, phi: FloatArray, power: str, z: float
) -> tuple[FloatArray, FloatArray]:
    """Upper bound and sd on the transformed scale (``algo.farrington.threshold[.farrington]``)."""
    e = _POWERS[power]
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = phi + se**2 / mu0
        if power == "none":
            sd = np.sqrt(mu0 * tau)
        elif power == "1/2":
            sd = np.sqrt(0.25 * tau)
        else:
            sd = np.sqrt(4.0 / 9.0 * np.cbrt(mu0) * tau)
        upper = (mu0**e + z * sd) ** (1.0 / e)
    return upper, sd


def _qnbinom(p: float, size: FloatArray, prob: FloatArray) -> FloatArray:
    """R's ``qnbinom(p, size, prob)``.

    Means beyond 1e15 (from runaway fits) crash the boost quantile inside scipy, so there the
    Cornish-Fisher value is used; at that size it agrees with R's search to far below 1e-10 relative.
    """
    mean = size * (1.0 - prob) / prob
    huge = ~(mean <= 1e15)
    out = np.empty(size.shape)
    ok = ~huge
    if ok.any():
        out[ok] = _scipy("stats").nbinom.ppf(p, size[ok], prob[ok])
    if huge.any():
        z = float(_scipy("special").ndtri(p))
        m, pr, sz = mean[huge], prob[huge], size[huge]
        sd = np.sqrt(m / pr)
        gamma = (2.0 - pr) / np.sqrt(sz * (1.0 - pr))
        out[huge] = np.ceil(m + sd * (z + gamma * (z * z - 1.0) / 6.0))
    return out


def _qpois(p: float, mu: FloatArray) -> FloatArray:
    """R's ``qpois(p, mu)``, with the Cornish-Fisher value beyond 1e15 as in :func:`_qnbinom`."""
    huge = ~(mu <= 1e15)
    out = np.empty(mu.shape)
    ok = ~huge
    if ok.any():
        out[ok] = _scipy("stats").poisson.ppf(p, mu[ok])
    if huge.any():
        z = float(_scipy("special").ndtri(p))
        m = mu[huge]
        out[huge] = np.ceil(m + np.sqrt(m) * (z + (z * z - 1.0) / (6.0 * np.sqrt(m))))
    return out


def _flexible_threshold(
    ctl: _Control, fitted: _Fitted, y: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(upper, expected-if-upper-exists, pvalue, score) for ``farringtonFlexible``."""
    eta0 = fitted.eta0
    phi = fitted.phi
    with np.errstate(over="ignore", invalid="ignore"):
        se_eta = np.sqrt(fitted.var_eta0)
        mu0 = np.exp(eta0)
    alpha = ctl.alpha
    z = float(_scipy("special").ndtri(1.0 - alpha))
    if ctl.threshold_method == "delta":
        mu0 = linkinv(eta0)  # predict.glm(type = "response")
        se = mu0 * se_eta
        upper, sd = _delta_threshold(mu0, se, phi, ctl.powertrans, z)
        e = _POWERS[ctl.powertrans]
        with np.errstate(invalid="ignore"):
            pvalue = _pnorm_upper(y**e, mu0**e, sd)
        centre = mu0
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            mq = mu0 if ctl.threshold_method == "nbPlugin" else np.exp(eta0 + z * se_eta)
        finite = np.isfinite(mq)
        upper = np.full(y.shape, np.nan)
        pvalue = np.full(y.shape, np.nan)
        nb = finite & (phi > 1)
        po = finite & ~(phi > 1) & ~np.isnan(phi)
        if nb.any():
            size = mq[nb] / (phi[nb] - 1.0)
            prob = 1.0 / phi[nb]
            upper[nb] = _qnbinom(1.0 - alpha, size, prob)
            pvalue[nb] = _scipy("stats").nbinom.sf(y[nb] - 1.0, size, prob)
            point = size == 0  # mu0 underflowed to 0: R's NB with size 0 is a point mass at 0
            upper[np.nonzero(nb)[0][point]] = 0.0
            pvalue[np.nonzero(nb)[0][point]] = (y[nb][point] <= 0).astype(np.float64)
        if po.any():
            upper[po] = _qpois(1.0 - alpha, mq[po])
            pvalue[po] = _scipy("stats").poisson.sf(y[po] - 1.0, mq[po])
        centre = eta0
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(np.isnan(upper), np.nan, (y - centre) / (upper - centre))
    expected = np.where(np.isnan(upper), np.nan, mu0)
    return upper, expected, pvalue, score


# --------------------------------------------------------------------------------------------------
# drivers


def _enough_cases(observed: FloatArray, ks: IntArray, limit54: tuple[float, int]) -> BoolArray:
    cases, period = limit54
    csum = np.concatenate(([0.0], np.cumsum(observed)))
    lo = np.maximum(ks - period, 0)
    out: BoolArray = (csum[ks] - csum[lo]) >= cases
    return out


def _check_range(series: Series, first: int, last: int) -> None:
    if not 1 <= first <= last <= series.n:
        raise DetectError(f"range {first}:{last} is outside the series (1..{series.n})")
    obs = series.observed[:last]
    if np.any(np.isnan(obs)) or np.any(obs < 0):
        raise DetectError("observed counts must be non-negative numbers up to the end of the range")


_BLOCK = 768  # problems fitted together: large enough to amortise numpy's per-call cost, small enough for cache


def _run(
    series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int, flexible: bool
) -> list[Result]:
    ctl = _parse_control(control, flexible)
    observed = [np.asarray(s.observed, dtype=np.float64) for s in series_list]
    ks = np.arange(first, last + 1, dtype=np.int64)
    chunks: list[_Chunk] = []
    for i, s in enumerate(series_list):
        _check_range(s, first, last)
        make = _chunks_flexible if flexible else _chunks_original
        chunks.extend(make(s, i, ctl, first, last))
    y_now = np.stack([obs[first - 1 : last] for obs in observed])
    enough_all = np.stack([_enough_cases(obs, ks, ctl.limit54) for obs in observed])
    names = ["upperbound", "alarm", "expected", "score", "pvalue"]
    names += ["dispersion", "trend_used", "trend_coef"] if flexible else ["trend_used"]
    out = {name: np.full(y_now.shape, np.nan) for name in names}
    for batch in _pack(chunks, observed, ctl.no_periods):
        for lo in range(0, batch.k.shape[0], _BLOCK):
            part = _slice(batch, slice(lo, lo + _BLOCK))
            fitted = _fit_batch(part, ctl)
            col = part.k - first
            y = y_now[part.series, col]
            enough = enough_all[part.series, col]
            cols = _flexible_columns(ctl, fitted, y, enough) if flexible else _original_columns(ctl, fitted, y, enough)
            for name, values in cols.items():
                out[name][part.series, col] = values
    results = []
    for i in range(len(series_list)):
        res = Result.empty(first, last)
        res.upperbound, res.alarm, res.expected = out["upperbound"][i], out["alarm"][i], out["expected"][i]
        res.score, res.pvalue = out["score"][i], out["pvalue"][i]
        res.extra = {name: out[name][i] for name in names[5:]}
        results.append(res)
    return results


def _flexible_columns(ctl: _Control, fitted: _Fitted, y: FloatArray, enough: BoolArray) -> dict[str, FloatArray]:
    upper, expected, pvalue, score = _flexible_threshold(ctl, fitted, y)
    alarm = np.where(enough & ~np.isnan(score), ((score > 1) & (y != 0)).astype(np.float64), 0.0)
    null = fitted.null
    nan = np.nan
    return {
        "upperbound": np.where(null | ~enough, nan, upper),
        "alarm": np.where(null, nan, alarm),
        # R leaves expected at its initial 0 when no model could be fitted
        "expected": np.where(null, 0.0, np.where(enough, expected, nan)),
        "score": np.where(null, nan, score),
        "pvalue": np.where(null, nan, pvalue),
        "dispersion": np.where(null, nan, fitted.phi),
        "trend_used": np.where(null, nan, fitted.do_trend.astype(np.float64)),
        "trend_coef": np.where(null, nan, fitted.trend_coef),
    }


def _original_columns(ctl: _Control, fitted: _Fitted, y: FloatArray, enough: BoolArray) -> dict[str, FloatArray]:
    with np.errstate(over="ignore", invalid="ignore"):
        mu0 = linkinv(fitted.eta0)
        se = mu0 * np.sqrt(fitted.var_eta0)
    z = float(_scipy("special").ndtri(1.0 - ctl.alpha / 2.0))
    upper, sd = _delta_threshold(mu0, se, fitted.phi, ctl.powertrans, z)
    e = _POWERS[ctl.powertrans]
    with np.errstate(divide="ignore", invalid="ignore"):
        lower_tail = 1.0 - _pnorm_upper(y**e, mu0**e, sd)
        median = np.where(np.isnan(sd), np.nan, (mu0**e) ** (1.0 / e))
        score = np.where(enough, (y - mu0) / (upper - mu0), 0.0)
    alarm = np.where(np.isnan(score), np.nan, (score > 1).astype(np.float64))
    return {
        "upperbound": np.where(enough, upper, 0.0),
        "alarm": alarm,
        "expected": median,
        "pvalue": 1.0 - lower_tail,
        "trend_used": fitted.do_trend.astype(np.float64),
    }


def farrington_flexible(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``farringtonFlexible(sts, control)`` for one series over ``range = first:last``."""
    return _run([series], control, first, last, flexible=True)[0]


def farrington_flexible_many(
    series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int
) -> list[Result]:
    """:func:`farrington_flexible` for many series at once (the GLMs of all of them are fitted together)."""
    if not series_list:
        return []
    return _run(series_list, control, first, last, flexible=True)


def farrington(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``algo.farrington(disProg, control)`` (= ``farrington(sts, control)``) over ``range = first:last``."""
    return _run([series], control, first, last, flexible=False)[0]


def farrington_many(series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`farrington` for many series at once."""
    if not series_list:
        return []
    return _run(series_list, control, first, last, flexible=False)
