"""``MASS::glm.nb`` (:func:`._glm_small.glm_nb`) for many series with the same design at once.

The same arithmetic as the one-series code, on stacked arrays: IRLS steps solve each series' weighted
least squares with a stacked Householder QR, ``theta.ml`` and the alternation run with a per-series
"still iterating" set. A series that leaves the ordinary path (a non-finite deviance or invalid fitted
means that ``glm.fit`` answers with step halving, a rank-deficient design, a degenerate ``theta.ml``)
is handed back as ``None``: the caller fits it with the one-series code, which follows R on those paths
(and raises R's errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from ._glm_small import _QR_TOL, DBL_EPSILON, lgamma

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class NbFit:
    coefficients: FloatArray
    theta: float

    def predict_response(self, x_new: FloatArray) -> FloatArray:
        with np.errstate(over="ignore"):
            return np.maximum(np.exp(x_new @ self.coefficients), DBL_EPSILON)


def _linkinv(eta: FloatArray) -> FloatArray:
    with np.errstate(over="ignore"):
        return np.maximum(np.exp(eta), DBL_EPSILON)


def _dev(y: FloatArray, mu: FloatArray, theta: FloatArray | None) -> FloatArray:
    """Row sums of the deviance residuals (poisson when ``theta`` is None)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if theta is None:
            r = np.where(y > 0, y * np.log(y / mu) - (y - mu), mu)
            return np.asarray(2 * r.sum(axis=1), dtype=np.float64)
        th = theta[:, None]
        r = y * np.log(np.maximum(1.0, y) / mu) - (y + th) * np.log((y + th) / (mu + th))
        return np.asarray(2 * r.sum(axis=1), dtype=np.float64)


def _irls(
    x: FloatArray, y: FloatArray, theta: FloatArray | None, eta: FloatArray, *, maxit: int, epsilon: float
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """``glm.fit`` from ``etastart`` for each row of ``y``: (coefficients, fitted, ordinary path)."""
    count, _ = y.shape
    p = x.shape[1]
    eta = eta.copy()
    mu = _linkinv(eta)
    ok = np.all(mu > 0, axis=1) & np.all(np.isfinite(mu), axis=1)
    devold = _dev(y, mu, theta)
    coef = np.full((count, p), np.nan)
    live = np.flatnonzero(ok)
    norms_tol = _QR_TOL
    for _ in range(maxit):
        if live.shape[0] == 0:
            break
        yl, etal, mul = y[live], eta[live], mu[live]
        th = None if theta is None else theta[live]
        varmu = mul if th is None else mul + mul**2 / th[:, None]
        bad = np.any(np.isnan(varmu) | (varmu == 0), axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = etal + (yl - mul) / mul  # mu.eta = linkinv(eta) = mu for the log link
            w = np.sqrt(mul**2 / varmu)
            xw = x[None, :, :] * w[:, :, None]
            bad |= ~np.all(np.isfinite(xw), axis=(1, 2)) | ~np.all(np.isfinite(z * w), axis=1)
            xw[bad] = x[None, :, :]
            q, r = np.linalg.qr(xw)
            d = np.abs(np.diagonal(r, axis1=1, axis2=2))
            norms = np.linalg.norm(xw, axis=1)
            bad |= ~np.all((d >= np.where(norms == 0, 1.0, norms) * norms_tol) & (norms > 0), axis=1)
            r[bad] = np.eye(p)
            rhs = np.einsum("snp,sn->sp", q, np.where(bad[:, None], 0.0, z * w))
            start = np.linalg.solve(r, rhs[:, :, None])[:, :, 0]
            bad |= ~np.all(np.isfinite(start), axis=1)
            eta_new = start @ x.T
            mu_new = _linkinv(eta_new)
            dev = _dev(yl, mu_new, th)
        bad |= ~np.isfinite(dev) | ~np.all(mu_new > 0, axis=1) | ~np.all(np.isfinite(mu_new), axis=1)
        ok[live[bad]] = False
        eta[live] = eta_new
        mu[live] = mu_new
        coef[live] = start
        conv = np.abs(dev - devold[live]) / (0.1 + np.abs(dev)) < epsilon
        devold[live] = dev
        live = live[~bad & ~conv]
    return coef, mu, ok


@njit(cache=True, nogil=True, error_model="numpy")
def _digamma1(v: float) -> float:
    """digamma for v > 0: the recurrence up to v >= 10, then the asymptotic series (as for trigamma)."""
    acc = 0.0
    while v < 10.0:
        acc -= 1.0 / v
        v += 1.0
    r2 = 1.0 / (v * v)
    series = r2 * (
        1.0 / 12.0
        - r2 * (1.0 / 120.0 - r2 * (1.0 / 252.0 - r2 * (1.0 / 240.0 - r2 * (1.0 / 132.0 - r2 * 691.0 / 32760.0))))
    )
    return acc + math.log(v) - 0.5 / v - series


@njit(cache=True, nogil=True, error_model="numpy")
def _trigamma1(v: float) -> float:
    """trigamma for v > 0: psi1(v) = psi1(v + 1) + 1 / v^2 up to v >= 10, then the asymptotic series (error
    below 1e-17 relative there); scipy's zeta(2, x) is several times slower."""
    acc = 0.0
    while v < 10.0:
        acc += 1.0 / (v * v)
        v += 1.0
    r = 1.0 / v
    r2 = r * r
    series = r * (
        1.0
        + r
        * (
            0.5
            + r
            * (
                1.0 / 6.0
                + r2
                * (
                    -1.0 / 30.0
                    + r2
                    * (1.0 / 42.0 + r2 * (-1.0 / 30.0 + r2 * (5.0 / 66.0 + r2 * (-691.0 / 2730.0 + r2 * 7.0 / 6.0))))
                )
            )
        )
    )
    return acc + series


@njit(cache=True, nogil=True, error_model="numpy")
def _theta_ml_kernel(
    y: FloatArray, mu: FloatArray, limit: int, t_out: FloatArray, ok_out: npt.NDArray[np.bool_]
) -> None:
    """``MASS::theta.ml`` for each row (unit weights); ``ok_out`` False where the one-series code decides."""
    count, n = y.shape
    eps = DBL_EPSILON**0.25
    for s in range(count):
        acc = 0.0
        for i in range(n):
            d = y[s, i] / mu[s, i] - 1.0
            acc += d * d
        t0 = n / acc
        ok = math.isfinite(t0)
        delta = 1.0
        it = 0
        while ok:
            it += 1
            if not it < limit:
                break
            if not abs(delta) > eps:
                break
            th = abs(t0)
            if not th > 0.0:
                ok = False
                break
            score = 0.0
            info = 0.0
            dg_th = _digamma1(th)
            tg_th = _trigamma1(th)
            log_th = math.log(th)
            for i in range(n):
                yi = y[s, i]
                mi = mu[s, i]
                mt = mi + th
                score += _digamma1(th + yi) - dg_th + log_th + 1.0 - math.log(mt) - (yi + th) / mt
                info += -_trigamma1(th + yi) + tg_th - 1.0 / th + 2.0 / mt - (yi + th) / (mt * mt)
            if info == 0.0:
                ok = False
                break
            delta = score / info
            if not math.isfinite(delta):
                ok = False
                break
            t0 = th + delta
        t_out[s] = t0
        ok_out[s] = ok and math.isfinite(t0) and t0 >= 0.0


def _theta_ml(y: FloatArray, mu: FloatArray, limit: int) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    t0 = np.empty(y.shape[0])
    ok = np.empty(y.shape[0], dtype=np.bool_)
    _theta_ml_kernel(np.ascontiguousarray(y), np.ascontiguousarray(mu), limit, t0, ok)
    return t0, ok


def _loglik(th: FloatArray, mu: FloatArray, y: FloatArray) -> FloatArray:
    t = th[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.sum(
                lgamma(t + y)
                - lgamma(t)
                - lgamma(y + 1)
                + t * np.log(t)
                + y * np.log(mu + (y == 0))
                - (t + y) * np.log(t + mu),
                axis=1,
            ),
            dtype=np.float64,
        )


def glm_nb_many(x: FloatArray, y: FloatArray, maxit: int = 25, epsilon: float = 1e-8) -> list[NbFit | None]:
    """``MASS::glm.nb(y[j] ~ x)`` for each row of ``y``; ``None`` where the one-series code must decide."""
    count, nobs = y.shape
    p = x.shape[1]
    coef, mu, ok = _irls(x, y, None, np.log(y + 0.1), maxit=maxit, epsilon=epsilon)
    th, ok_t = _theta_ml(y, mu, maxit)
    ok &= ok_t
    d1 = math.sqrt(2 * max(1, nobs - p))
    d2 = 1.0
    delta = np.ones(count)
    lm = _loglik(th, mu, y)
    lm0 = lm + 2 * d1
    live = np.flatnonzero(ok)
    for _ in range(maxit):
        crit = np.abs(lm0[live] - lm[live]) / d1 + np.abs(delta[live]) / d2
        bad = np.isnan(crit)
        ok[live[bad]] = False
        live = live[~bad & (crit > epsilon)]
        if live.shape[0] == 0:
            break
        with np.errstate(divide="ignore"):
            eta = np.log(mu[live])
        c_new, mu_new, ok_fit = _irls(x, y[live], th[live], eta, maxit=maxit, epsilon=epsilon)
        t_new, ok_t = _theta_ml(y[live], mu[live], maxit)
        ok[live[~(ok_fit & ok_t)]] = False
        delta[live] = th[live] - t_new
        th[live] = t_new
        mu[live] = mu_new
        coef[live] = c_new
        lm0[live] = lm[live]
        lm[live] = _loglik(t_new, mu_new, y[live])
        live = live[ok_fit & ok_t]
    out: list[NbFit | None] = []
    for j in range(count):
        if not ok[j] or th[j] == 0:
            out.append(None)
        else:
            out.append(NbFit(coefficients=np.where(np.isnan(coef[j]), 0.0, coef[j]), theta=float(th[j])))
    return out
