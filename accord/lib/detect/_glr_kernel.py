"""Compiled (numba) kernel of the negative-binomial GLR chart, C ``glr_nb_window`` of surveillance 1.20.3,
with ``algo.glrnb``'s restart after each alarm, for the intercept chart with ``ret = "value"``.

For each time point ``n`` of a run (from its last restart) the statistic is ``max_k l_nk`` over
``k = low .. n - Mtilde + 1`` (``low = 0``, or ``n - M`` when ``M > 0``). ``kappa`` for each ``k`` comes
from Newton-Raphson started at the previous k's truncated estimate (0.5 for the first k; the "old"
value starts at 0.4), stopping when ``|dkappa| <= 1e-6``, ``kappa <= -18`` or after 1000 steps, then
truncated at 0 (``dir = "inc"``; at 0 from above for ``"dec"``); ``l_nk = sum kappa x_i + (x_i + 1/alpha)
log((1 + alpha mu_i) / (1 + alpha mu_i e^kappa))``. The loops and their order are the C code's.

One shortcut, exact: the score ``sum (x_i - e^kappa mu_i) / (1 + alpha e^kappa mu_i)`` is decreasing in
``kappa``, so when ``dir * score(0) <= 0`` (a prefix sum gives it) the C code's Newton ends on the
truncated side and leaves ``kappa = 0`` and ``l_nk = 0`` exactly; those pairs skip the iterations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]

_NEG_INF_GLR = -1e99  # the C code's initial maximum


@njit(cache=True, nogil=True, error_model="numpy")
def _run(  # noqa: PLR0917 - a compiled kernel takes positional arguments
    x: FloatArray, mu: FloatArray, alpha: float, c_arl: float, big_m: int, mtilde: int, direction: int
) -> tuple[FloatArray, int]:
    """One call of ``glr_nb_window`` on a run: (statistics, 0-based index of the first alarm or len)."""
    length = x.shape[0]
    val = np.zeros(length)
    prefix = np.zeros(length + 1)
    for i in range(length):
        prefix[i + 1] = prefix[i] + (x[i] - mu[i]) / (1.0 + alpha * mu[i])
    inv_alpha = 1.0 / alpha
    for n in range(max(mtilde - 1, 0), length):
        low = 0 if big_m == -1 else max(0, n - big_m)
        best = _NEG_INF_GLR
        kappa_ml = 0.5
        for k in range(low, n - mtilde + 2):
            kappa_new = kappa_ml
            kappa_old = 0.4
            if direction * (prefix[n + 1] - prefix[k]) <= 0.0 and abs(kappa_new - kappa_old) > 1e-6:
                kappa_ml = 0.0
                best = max(best, 0.0)
                continue
            it = 0
            while kappa_new > -18.0 and abs(kappa_new - kappa_old) > 1e-6 and it < 1000:
                it += 1
                kappa_old = kappa_new
                e = math.exp(kappa_old)
                score = 0.0
                fisher = 0.0
                for i in range(k, n + 1):
                    em = e * mu[i]
                    denom = 1.0 + alpha * em
                    score += (x[i] - em) / denom
                    fisher += mu[i] * (alpha * x[i] + 1.0) / (denom * denom)
                fisher *= e
                kappa_new = kappa_old + score / fisher
            kappa_ml = max(0.0, kappa_new) if direction == 1 else -max(0.0, -kappa_new)
            ek = math.exp(kappa_ml)
            lnk = 0.0
            for i in range(k, n + 1):
                lnk += kappa_ml * x[i] + (x[i] + inv_alpha) * math.log(
                    (1.0 + alpha * mu[i]) / (1.0 + alpha * mu[i] * ek)
                )
            best = max(best, lnk)
        val[n] = best
        if best >= c_arl:
            return val, n
    return val, length


@njit(cache=True, nogil=True, error_model="numpy")
def _chart(  # noqa: PLR0917 - a compiled kernel takes positional arguments
    x: FloatArray, mu: FloatArray, alpha: float, c_arl: float, big_m: int, mtilde: int, direction: int
) -> tuple[FloatArray, FloatArray]:
    length = x.shape[0]
    stat = np.zeros(length)
    alarm = np.zeros(length)
    done = 0
    while done < length:
        val, n_alarm = _run(x[done:], mu[done:], alpha, c_arl, big_m, mtilde, direction)
        if n_alarm < length - done:
            stat[done : done + n_alarm + 1] = val[: n_alarm + 1]
            alarm[done + n_alarm] = 1.0
            done += n_alarm + 1
        else:
            stat[done:] = val
            done = length
    return stat, alarm


def nb_chart(
    x: FloatArray, mu: FloatArray, alpha: float, *, c_arl: float, big_m: int, mtilde: int, direction: int
) -> tuple[FloatArray, FloatArray]:
    """(statistic, alarm) over the monitored time points; ``x`` already truncated to integers."""
    result: Any = _chart(
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(mu, dtype=np.float64),
        float(alpha),
        float(c_arl),
        int(big_m),
        int(mtilde),
        int(direction),
    )
    stat, alarm = result
    return np.asarray(stat, dtype=np.float64), np.asarray(alarm, dtype=np.float64)
