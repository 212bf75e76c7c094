"""GLR detector for count data as in R ``surveillance::algo.glrnb`` 1.20.3 (intercept chart).

In-control mean ``mu0``: by default a model fitted on ``1 .. first-1`` with ``t`` = index,
``y ~ 1 (+ t) + sum_{s <= S} cos(2 s pi t / freq) + sin(2 s pi t / freq)``:

* ``alpha`` NULL: ``MASS::glm.nb`` (see :mod:`._glm_small`), and ``alpha = 1 / theta``;
* ``alpha = 0``: Poisson ``glm``; ``alpha > 0``: ``glm`` with ``negative.binomial(1 / alpha)``.

``mu0`` may also be given as numbers (one per monitored time point).

Statistics (``x``, ``mu0`` restricted to the current run; n, k 0-based inside it):

* Poisson (alpha = 0): ``GLR_n = max_k [kappa S_x + (1 - e^kappa) S_mu]`` over ``k..n`` with
  ``kappa = max(0, log(S_x / S_mu))`` (C ``glr_cusum``; ``glr_cusum_window`` when ``M > 0``).
* Negative binomial: ``kappa`` from Newton-Raphson started at the previous k's (truncated) value,
  0.5 for the first k, stopping when ``|dkappa| <= 1e-6``, ``kappa <= -18`` or after 1000 steps, then
  truncated at 0 (C ``glr_nb_window``); ``l_nk = sum kappa x_i + (x_i + 1/alpha) log((1 + alpha mu_i) /
  (1 + alpha mu_i e^kappa))``.
* Known change ``theta`` (LR charts ``lr_cusum`` / ``lr_cusum_nb``): recursive CUSUM of the LR.

An alarm is raised when the statistic reaches ``c.ARL`` (``>=``; ``>`` for the LR charts) and the
chart **restarts at the next time point**, ignoring the earlier data (with ``mu0$refit`` the model is
refitted on all data before the restart, with alpha kept fixed, as R does).

``ret = "value"`` puts the statistic into the upperbound; ``ret = "cases"`` the smallest count that
would have raised an alarm (for the negative binomial, R's brute-force search, including its quirks:
a zero count gives 1e99, an alarm that no lower count removes gives NA -> 0).

The computations are vectorised over the time points of a run (and, for the count searches, over
candidate counts); the Newton chain over k is kept sequential per time point as in the C code.

Result: ``expected`` = mu0, ``extra["statistic"]`` = the GLR/LR statistic (``ret = "value"``; NaN for
``"cases"``, as in R's output), ``extra["dispersion"]`` = alpha.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import DetectError, FloatArray, Result, Series
from ._glm_batch import glm_nb_many
from ._glm_small import Family, ctl_bool, ctl_float, ctl_get, ctl_int, glm_fit, glm_nb, match_arg
from ._glr_kernel import nb_chart

IntArray = npt.NDArray[np.int64]

_NEG_INF_GLR = -1e99  # the C code's initial maximum
_MAX_EXACT_COUNT = float(2**52)


@dataclass(frozen=True)
class _Chart:
    c_arl: float
    mtilde: int
    big_m: int
    direction: int  # 1 = "inc", -1 = "dec"
    ret_cases: bool
    alpha: float
    theta: float | None
    x_max: float


# --- in-control mean ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mu0Model:
    s: int
    trend: bool
    refit: bool


def _design(t: FloatArray, model: _Mu0Model, freq: int) -> FloatArray:
    cols = [np.ones_like(t)]
    if model.trend:
        cols.append(t)
    for s in range(1, model.s + 1):
        w = 2 * s * math.pi / freq * t
        cols += [np.cos(w), np.sin(w)]
    return np.column_stack(cols)


def _fit_mu0(
    observed: FloatArray, freq: int, model: _Mu0Model, *, first: int, last: int, alpha: float | None
) -> tuple[FloatArray, float]:
    """estimateGLRNbHook: fit on 1..first-1, predict over first..last; returns (mu0, alpha used)."""
    if first < 2:
        raise DetectError("glrnb: the model for mu0 needs observations before the range")
    train = np.arange(1, first, dtype=np.float64)
    y = np.asarray(observed[: first - 1], dtype=np.float64)
    x = _design(train, model, freq)
    x_new = _design(np.arange(first, last + 1, dtype=np.float64), model, freq)
    if alpha is None:
        nb = glm_nb(x, y)
        return nb.fit.predict_response(x_new), (1 / nb.theta if nb.theta != 0 else math.inf)
    family = Family() if alpha == 0 else Family(theta=1 / alpha)
    return glm_fit(x, y, family).predict_response(x_new), alpha


# --- Poisson GLR -------------------------------------------------------------------------------


def _pois_glr(rows: IntArray, xn: FloatArray, x: FloatArray, mu: FloatArray, chart: _Chart) -> FloatArray:
    """GLR at time ``rows[r]`` of the run with ``x[rows[r]]`` replaced by ``xn[r]`` (C ``glr`` /
    ``glr_window``), summing in the C code's order."""
    d = chart.direction
    n_rows = rows.shape[0]
    if chart.big_m > 0:  # glr_window: block n-Mtilde+1..n, then k = n-Mtilde down to max(0, n-M)
        block = chart.mtilde
        lows = np.maximum(0, rows - chart.big_m)
        first_candidate = block
    else:  # glr: k = n down to 0
        block = 1
        lows = np.zeros(n_rows, dtype=np.int64)
        first_candidate = 0
    length = int(np.max(rows - lows + 1))
    pos = np.arange(max(length, block), dtype=np.int64)[None, :]
    # index at position p: the ascending block first, then descending from n - block.
    idx = np.where(pos < block, rows[:, None] - block + 1 + pos, rows[:, None] - pos)
    valid = (idx >= lows[:, None]) | (pos < block)
    idx_c = np.clip(idx, 0, x.shape[0] - 1)
    xs = np.where(valid, np.where(idx_c == rows[:, None], xn[:, None], x[idx_c]), 0.0)
    ms = np.where(valid, mu[idx_c], 0.0)
    sx = np.cumsum(xs, axis=1)
    sm = np.cumsum(ms, axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kappa = d * np.fmax(0.0, d * np.log(sx / sm))
        val = kappa * sx + (1 - np.exp(kappa)) * sm
    cand = valid & (pos >= first_candidate)
    val = np.where(cand & ~np.isnan(val), val, -np.inf)
    best = val.max(axis=1)
    return np.where(np.isneginf(best), _NEG_INF_GLR, best)


# --- negative binomial GLR ---------------------------------------------------------------------


def _nb_glr(rows: IntArray, xrows: FloatArray, mu: FloatArray, chart: _Chart) -> FloatArray:
    """GLR at time ``rows[r]`` for the data ``xrows[r]`` (C ``glr_nb_window``), vectorised over rows.

    ``rows`` must be non-decreasing. For each row the k loop runs forward from ``low`` to
    ``n - Mtilde + 1`` with the Newton start at the previous k's truncated MLE (0.5 for the first k),
    exactly as the C code; the rows active at a given k then form a contiguous block.
    """
    alpha, d = chart.alpha, chart.direction
    inv_alpha = 1 / alpha
    n_rows = rows.shape[0]
    best = np.full(n_rows, _NEG_INF_GLR)
    if n_rows == 0:
        return best
    lows = np.zeros(n_rows, dtype=np.int64) if chart.big_m == -1 else np.maximum(0, rows - chart.big_m)
    ups = rows - (chart.mtilde - 1)
    width_all = int(rows.max()) + 1
    inside = np.arange(width_all)[None, :] <= rows[:, None]
    xs_all = np.where(inside, xrows[:, :width_all], 0.0)
    ms_all = np.where(inside, mu[None, :width_all], 0.0)
    fisher_num_all = ms_all * (alpha * xs_all + 1)
    lg_num_all = 1 + alpha * ms_all
    lg_weight_all = xs_all + inv_alpha
    kappa_ml = np.full(n_rows, 0.5)
    k_from, k_to = int(lows.min()), int(ups.max())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(k_from, k_to + 1):
            act_idx = np.nonzero((lows <= k) & (k <= ups))[0]
            if act_idx.shape[0] == 0:
                continue
            a, b = int(act_idx[0]), int(act_idx[-1]) + 1
            width = int(rows[a:b].max()) + 1
            xs = xs_all[a:b, k:width]
            ms = ms_all[a:b, k:width]
            fisher_num = fisher_num_all[a:b, k:width]
            kn = kappa_ml[a:b].copy()
            ko = np.full(b - a, 0.4)
            iters = 0
            live = (kn > -18) & (np.abs(kn - ko) > 1e-6)
            # Shortcut: the score is decreasing in kappa, so when d * score(0) <= 0 the MLE is on the
            # truncated side and the C code ends with kappa_ml = 0 (Newton either converges there, or
            # runs down to -18); skip those iterations (up to ~18 per k for empty windows).
            score0 = ((xs - ms) / (1 + alpha * ms)).sum(axis=1)
            truncated = live & (d * score0 <= 0)
            kn = np.where(truncated, 0.0, kn)
            live = live & ~truncated
            while live.any():
                e = np.exp(kn)
                em = e[:, None] * ms
                denom = 1 + alpha * em
                score = ((xs - em) / denom).sum(axis=1)
                fisher = e * (fisher_num / (denom * denom)).sum(axis=1)
                ko = np.where(live, kn, ko)
                kn = np.where(live, kn + score / fisher, kn)
                iters += 1
                live = live & (kn > -18) & (np.abs(kn - ko) > 1e-6) & (iters < 1000)
            km = d * np.fmax(0.0, d * kn)
            kappa_ml[a:b] = km
            ek = np.exp(km)[:, None]
            lnk = (
                km[:, None] * xs
                + lg_weight_all[a:b, k:width] * np.log(lg_num_all[a:b, k:width] / (1 + alpha * ms * ek))
            ).sum(axis=1)
            seg = best[a:b]
            best[a:b] = np.where(lnk > seg, lnk, seg)
    return best


# --- one run of the chart (from a (re)start to its first alarm) --------------------------------


def _first_alarm(
    stat_of: Callable[[IntArray], FloatArray], start: int, length: int, c_arl: float, strict: bool
) -> tuple[FloatArray, int]:
    """Statistics for n = start.. in growing chunks until the first alarm; returns (val, N) with N the
    0-based alarm index or ``length`` if none. ``val`` is 0 before ``start`` and after N."""
    val = np.zeros(length)
    n = start
    chunk = 8
    while n < length:
        rows = np.arange(n, min(length, n + chunk), dtype=np.int64)
        stat = stat_of(rows)
        hit = np.nonzero(stat > c_arl if strict else stat >= c_arl)[0]
        if hit.shape[0]:
            stop = int(hit[0])
            val[rows[: stop + 1]] = stat[: stop + 1]
            return val, int(rows[stop])
        val[rows] = stat
        n += chunk
        chunk *= 2
    return val, length


def _search_counts(
    rows: IntArray,
    glr_at: Callable[[IntArray, FloatArray], FloatArray],
    keep_going: Callable[[FloatArray], npt.NDArray[np.bool_]],
) -> FloatArray:
    """Smallest integer X >= 0 at which ``keep_going(glr_at(rows, X))`` is false (R/C linear search
    from 0; the statistic is monotone in X, so an exponential + binary search finds the same X)."""
    lo = np.full(rows.shape[0], -1.0)  # keep_going holds at lo (or lo = -1)
    hi = np.zeros(rows.shape[0])
    todo = np.arange(rows.shape[0])
    # exponential phase: find hi with keep_going false
    for _ in range(64):
        if todo.shape[0] == 0:
            break
        going = keep_going(glr_at(rows[todo], hi[todo]))
        lo[todo[going]] = hi[todo[going]]
        hi[todo[going]] = np.maximum(1.0, 2 * hi[todo[going]])
        todo = todo[going]
        if todo.shape[0] and float(hi[todo].max()) > _MAX_EXACT_COUNT:
            # R's linear search from 0 never returns here; above 2^52 the counts are not exact in a double
            raise DetectError("glrnb: no count up to 2^52 reaches the threshold (R's search does not return)")
    if todo.shape[0]:
        raise DetectError("glrnb: no count reaches the threshold")
    # binary phase on (lo, hi]
    while True:
        gap = np.nonzero(hi - lo > 1)[0]
        if gap.shape[0] == 0:
            return hi
        mid = np.floor((lo[gap] + hi[gap]) / 2)
        going = keep_going(glr_at(rows[gap], mid))
        lo[gap[going]] = mid[going]
        hi[gap[~going]] = mid[~going]


def _run_glr(x: FloatArray, mu: FloatArray, chart: _Chart) -> tuple[FloatArray, FloatArray, int]:
    """One call of the C routine on the remaining run: (val, cases, N) with N 0-based (len if none)."""
    length = x.shape[0]
    d = chart.direction
    cases = np.zeros(length)
    if chart.alpha == 0:
        start = chart.mtilde if chart.big_m > 0 else max(chart.mtilde - 1, 0)
        val, n_alarm = _first_alarm(
            lambda rows: _pois_glr(rows, x[rows], x, mu, chart), start, length, chart.c_arl, strict=False
        )
        if chart.ret_cases:
            rows = np.arange(start, min(n_alarm + 1, length), dtype=np.int64)
            if rows.shape[0]:
                cases[rows] = _search_counts(
                    rows, lambda r, xn: _pois_glr(r, xn, x, mu, chart), lambda g: np.asarray(d * g < chart.c_arl * d)
                )
        return val, cases, n_alarm
    start = max(chart.mtilde - 1, 0)

    def nb_stat(rows: IntArray) -> FloatArray:
        return _nb_glr(rows, np.broadcast_to(x, (rows.shape[0], length)), mu, chart)

    val, n_alarm = _first_alarm(nb_stat, start, length, chart.c_arl, strict=False)
    if chart.ret_cases:
        cases = _nb_cases(x, mu, chart, n_alarm)
    return val, cases, n_alarm


def _nb_cases(x: FloatArray, mu: FloatArray, chart: _Chart, n_alarm: int) -> FloatArray:
    """R's brute-force count search for the NB chart (1.20.3): step x[pos] by +1 (no alarm yet) or
    -1 (the alarm) while x[pos] is within [1, xMax], until the alarm status at pos changes; 1e99
    (no alarm reached) or NA (the alarm stays) when it never does. Candidates are tried in batches."""
    length = x.shape[0]
    start = max(chart.mtilde - 1, 0)
    cases = np.zeros(length)
    batch = 32
    for pos in range(min(length, n_alarm + 1)):
        got_alarm = pos == n_alarm
        step = -1.0 if got_alarm else 1.0
        current = float(x[pos])
        found: float | None = None
        while found is None and chart.x_max >= current >= 1 and pos >= start:
            cands: list[float] = []
            value = current
            while len(cands) < batch and chart.x_max >= value >= 1:
                value += step
                cands.append(value)
            xrows = np.repeat(x[None, :], len(cands), axis=0)
            xrows[:, pos] = cands
            stat = _nb_glr(np.full(len(cands), pos, dtype=np.int64), xrows, mu, chart)
            alarm_now = stat >= chart.c_arl
            hit = np.nonzero(~alarm_now if got_alarm else alarm_now)[0]
            if hit.shape[0]:
                found = cands[int(hit[0])] + 1 if got_alarm else cands[int(hit[0])]
            current = value
        if found is None:
            found = math.nan if got_alarm else 1e99
        cases[pos] = found
    return cases


def _run_lr(x: FloatArray, mu: FloatArray, chart: _Chart) -> tuple[FloatArray, FloatArray, int]:
    """C ``lr_cusum`` / ``lr_cusum_nb``: the LR CUSUM for a known change ``theta`` (= kappa)."""
    kappa = float(chart.theta) if chart.theta is not None else math.nan
    alpha, c = chart.alpha, chart.c_arl
    length = x.shape[0]
    val = np.zeros(length)
    cases = np.zeros(length)
    prev = 0.0
    for n in range(length):
        xn, mn = float(x[n]), float(mu[n])
        if alpha == 0:
            zn = kappa * xn + (1 - math.exp(kappa)) * mn
            cases[n] = (c - prev + mn * (math.exp(kappa) - 1)) / kappa
        else:
            lg = math.log((1 + alpha * mn) / (1 + alpha * mn * math.exp(kappa)))
            zn = kappa * xn + (xn + 1 / alpha) * lg
            cases[n] = -(prev * alpha + lg - c * alpha) / alpha / (kappa + lg)
        cur = max(0.0, prev + zn) if not math.isnan(prev + zn) else 0.0
        val[n] = cur
        if cur > c:
            return val, cases, n
        prev = cur
    return val, cases, length


# --- the detector ------------------------------------------------------------------------------


def _parse(control: Mapping[str, Any]) -> tuple[_Chart, Any, str]:
    what = "glrnb"
    c_arl = ctl_float(control, "c.ARL", 5.0, what)
    change = match_arg(ctl_get(control, "change", "intercept"), ("intercept", "epi"), "change", what)
    if change != "intercept":
        raise DetectError('glrnb: change = "epi" is not implemented')
    mtilde = ctl_int(control, "Mtilde", 1, what)
    big_m = ctl_int(control, "M", -1, what)
    direction = match_arg(ctl_get(control, "dir", "inc"), ("inc", "dec"), "dir", what)
    ret = match_arg(ctl_get(control, "ret", "value"), ("value", "cases"), "ret", what)
    x_max = ctl_float(control, "xMax", 10000.0, what)
    theta_raw = ctl_get(control, "theta")
    theta = None if theta_raw is None else ctl_float(control, "theta", 0.0, what)
    if theta is not None and theta == 1:
        raise DetectError("glrnb: theta has to be larger than 1!")
    alpha_raw = ctl_get(control, "alpha")
    alpha = math.nan if alpha_raw is None else ctl_float(control, "alpha", 0.0, what)
    if mtilde < 1:
        raise DetectError("glrnb: Mtilde must be at least 1")
    chart = _Chart(
        c_arl=c_arl,
        mtilde=mtilde,
        big_m=big_m,
        direction=1 if direction == "inc" else -1,
        ret_cases=ret == "cases",
        alpha=alpha,
        theta=theta,
        x_max=x_max,
    )
    return chart, ctl_get(control, "mu0"), ret


@dataclass(frozen=True)
class _Prepared:
    chart: _Chart
    mu0: FloatArray
    model: _Mu0Model | None
    ret: str
    observed: FloatArray


def _prepare(
    series: Series, control: Mapping[str, Any], first: int, last: int, fitted: tuple[FloatArray, float] | None = None
) -> _Prepared:
    """Parse the control and fit mu0 (unless ``fitted`` holds mu0 and alpha already)."""
    chart, mu0_ctl, ret = _parse(control)
    observed = np.asarray(series.observed, dtype=np.float64)
    n_range = last - first + 1
    model: _Mu0Model | None = None
    if mu0_ctl is None or isinstance(mu0_ctl, Mapping):
        spec: Mapping[str, Any] = mu0_ctl or {}
        model = _Mu0Model(
            s=ctl_int(spec, "S", 1, "glrnb mu0"),
            trend=ctl_bool(spec, "trend", False, "glrnb mu0"),
            refit=ctl_bool(spec, "refit", False, "glrnb mu0"),
        )
        alpha_in = None if math.isnan(chart.alpha) else chart.alpha
        if fitted is not None:
            mu0, alpha = fitted
        else:
            mu0, alpha = _fit_mu0(observed, series.freq, model, first=first, last=last, alpha=alpha_in)
        chart = _Chart(**{**chart.__dict__, "alpha": alpha})
    else:
        values = np.atleast_1d(np.asarray(mu0_ctl, dtype=np.float64))
        mu0 = np.resize(values, n_range) if values.shape[0] != n_range else values.copy()
        if math.isnan(chart.alpha):
            raise DetectError("glrnb: alpha must be given with a numeric mu0 (R: argument is of length zero)")
    if chart.alpha < 0 or math.isnan(chart.alpha):
        raise DetectError(f"glrnb: alpha must be >= 0, not {chart.alpha}")
    if not np.all(np.isfinite(mu0)):
        raise DetectError("glrnb: the in-control mean mu0 is not finite (R: NA/NaN/Inf in foreign function call)")
    return _Prepared(chart, mu0, model, ret, observed)


def _result(
    first: int,
    last: int,
    prep: _Prepared,
    *,
    upperbound: FloatArray,
    alarm: FloatArray,
    statistic: FloatArray,
    mu0: FloatArray,
) -> Result:
    n_range = last - first + 1
    upperbound[np.isnan(upperbound)] = 0.0
    upperbound[upperbound < 0] = 0.0
    res = Result.empty(first, last)
    res.upperbound = upperbound
    res.alarm = alarm
    res.expected = mu0
    res.extra["statistic"] = statistic if prep.ret == "value" else np.full(n_range, np.nan)
    res.extra["dispersion"] = np.full(n_range, prep.chart.alpha)
    return res


def glrnb(series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """R ``algo.glrnb(disProg, control = list(range = first:last, c.ARL, mu0, alpha, Mtilde, M,
    change = "intercept", theta, dir, ret, xMax))``."""
    prep = _prepare(series, control, first, last)
    if _batchable(prep):
        return glrnb_many([series], control, first, last)[0]
    return _glrnb_prepared(series, prep, first, last)


def _batchable(prep: _Prepared) -> bool:
    chart = prep.chart
    return (
        chart.theta is None and chart.alpha > 0 and not chart.ret_cases and (prep.model is None or not prep.model.refit)
    )


def glrnb_many(series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`glrnb` for many series (the in-control models of all series are fitted together)."""
    fitted = _fit_mu0_many(series_list, control, first, last)
    preps = [_prepare(s, control, first, last, fitted.get(j)) for j, s in enumerate(series_list)]
    batch = [j for j, p in enumerate(preps) if _batchable(p)]
    results: list[Result | None] = [None] * len(preps)
    for j in batch:
        prep = preps[j]
        chart = prep.chart
        stat, alarm = nb_chart(
            np.trunc(prep.observed[first - 1 : last]),
            prep.mu0,
            chart.alpha,
            c_arl=chart.c_arl,
            big_m=chart.big_m,
            mtilde=chart.mtilde,
            direction=chart.direction,
        )
        results[j] = _result(
            first, last, prep, upperbound=stat.copy(), alarm=alarm, statistic=stat, mu0=prep.mu0.copy()
        )
    for j, prep in enumerate(preps):
        if results[j] is None:
            results[j] = _glrnb_prepared(series_list[j], prep, first, last)
    return [r for r in results if r is not None]


def _fit_mu0_many(
    series_list: Sequence[Series], control: Mapping[str, Any], first: int, last: int
) -> dict[int, tuple[FloatArray, float]]:
    """mu0 and alpha of the series whose model is the default ``glm.nb`` fit, fitted together (per
    frequency); the series the batch leaves out are fitted one by one in :func:`_prepare`."""
    chart, mu0_ctl, _ = _parse(control)
    if not (mu0_ctl is None or isinstance(mu0_ctl, Mapping)) or not math.isnan(chart.alpha) or first < 2:
        return {}
    spec: Mapping[str, Any] = mu0_ctl or {}
    model = _Mu0Model(
        s=ctl_int(spec, "S", 1, "glrnb mu0"),
        trend=ctl_bool(spec, "trend", False, "glrnb mu0"),
        refit=ctl_bool(spec, "refit", False, "glrnb mu0"),
    )
    by_freq: dict[int, list[int]] = {}
    for j, s in enumerate(series_list):
        by_freq.setdefault(s.freq, []).append(j)
    out: dict[int, tuple[FloatArray, float]] = {}
    for freq, idx in by_freq.items():
        x = _design(np.arange(1, first, dtype=np.float64), model, freq)
        x_new = _design(np.arange(first, last + 1, dtype=np.float64), model, freq)
        y = np.stack([np.asarray(series_list[j].observed[: first - 1], dtype=np.float64) for j in idx])
        for j, fit in zip(idx, glm_nb_many(x, y), strict=True):
            if fit is not None:
                out[j] = (fit.predict_response(x_new), 1 / fit.theta)
    return out


def _glrnb_prepared(series: Series, prep: _Prepared, first: int, last: int) -> Result:
    chart, mu0, model, observed = prep.chart, prep.mu0, prep.model, prep.observed
    n_range = last - first + 1
    x_all = np.trunc(observed[first - 1 : last])  # as.integer()
    upperbound = np.zeros(n_range)
    alarm = np.zeros(n_range)
    statistic = np.zeros(n_range)
    mu0_all = mu0.copy()
    done = 0
    mu_cur = mu0.copy()
    while done < n_range:
        x = x_all[done:]
        if chart.theta is not None:
            val, cases, n_alarm = _run_lr(x, mu_cur, chart)
        else:
            val, cases, n_alarm = _run_glr(x, mu_cur, chart)
        out = cases if chart.ret_cases else val
        if n_alarm < x.shape[0]:
            upperbound[done : done + n_alarm + 1] = out[: n_alarm + 1]
            statistic[done : done + n_alarm + 1] = val[: n_alarm + 1]
            alarm[done + n_alarm] = 1.0
            if model is not None and model.refit:
                if done + n_alarm + 1 >= n_range:
                    raise DetectError(
                        "glrnb: with mu0$refit, an alarm at the last time point makes R fail "
                        "(1:(range[1] - 1): NA/NaN argument)"
                    )
                mu_cur, _ = _fit_mu0(
                    observed, series.freq, model, first=first + done + n_alarm + 1, last=last, alpha=chart.alpha
                )
                mu0_all[done + n_alarm + 1 :] = mu_cur
            else:
                mu_cur = mu_cur[n_alarm + 1 :]
            done += n_alarm + 1
        else:
            upperbound[done:] = out
            statistic[done:] = val
            done = n_range
    return _result(first, last, prep, upperbound=upperbound, alarm=alarm, statistic=statistic, mu0=mu0_all)
