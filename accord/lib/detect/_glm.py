"""Batched quasi-Poisson (log link) GLM fits that reproduce R's ``glm.fit`` iteration by iteration.

Many small, independent GLMs with the same number of columns are stacked along a leading batch axis
``B``: ``X`` is ``(B, n, p)``, ``y`` and the prior weights are ``(B, n)``. Problems with fewer rows are
padded with rows of prior weight 0 (which R's ``glm.fit`` leaves out of the fit, the deviance and the
residual degrees of freedom, exactly like a padded row here).

The iteration is R's: start at ``mu = y + 0.1``, solve the weighted least-squares problem of the
working response, stop when ``|dev - devold| / (|dev| + 0.1) < epsilon`` or after ``maxit``
iterations. Like R, the working weights (and hence the covariance, the hat values and the Pearson
dispersion) that come back are those of the *last* solve, i.e. computed from the fitted means of the
iteration before the final one. Pure numpy; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAXIT = 25
EPSILON = 1e-8
_EPS = float(np.finfo(np.float64).eps)
_LOG_EPS = float(np.log(_EPS))
_HAT_ONE = 1.0 - 10.0 * _EPS


def linkinv(eta: FloatArray) -> FloatArray:
    """R's ``make.link("log")$linkinv`` (also its ``mu.eta``): ``pmax(exp(eta), .Machine$double.eps)``."""
    with np.errstate(over="ignore"):
        out: FloatArray = np.maximum(np.exp(eta), _EPS)
    return out


@dataclass
class GlmFit:
    """Result of :func:`fit_quasipoisson` for a batch of ``B`` problems with ``n`` rows and ``p`` columns."""

    beta: FloatArray  # (B, p)
    mu: FloatArray  # (B, n) fitted means of the final iterate
    weights: FloatArray  # (B, n) working weights of the last solve (R's ``model$weights``)
    cov: FloatArray  # (B, p, p) (X' W X)^-1 with the working weights above (R's ``cov.unscaled``)
    converged: BoolArray  # (B,)
    df_residual: FloatArray  # (B,) number of rows with positive prior weight minus p


def _solve_sym(a: FloatArray, r: FloatArray) -> FloatArray:
    """Solve the stacked symmetric positive (semi)definite systems ``a x = r`` after equilibration."""
    d = np.sqrt(np.einsum("bii->bi", a))
    d = np.where(d > 0, d, 1.0)
    scaled = a / (d[:, :, None] * d[:, None, :])
    p = a.shape[1]
    if p == 1:
        x = (r / d) / scaled[:, :, 0]
    elif p == 2:
        a00, a01, a11 = scaled[:, 0, 0], scaled[:, 0, 1], scaled[:, 1, 1]
        rs = r / d
        det = a00 * a11 - a01 * a01
        x = np.empty_like(rs)
        x[:, 0] = (a11 * rs[:, 0] - a01 * rs[:, 1]) / det
        x[:, 1] = (a00 * rs[:, 1] - a01 * rs[:, 0]) / det
    else:
        x = np.linalg.solve(scaled, (r / d)[:, :, None])[:, :, 0]
    out: FloatArray = x / d
    return out


def _inv_sym(a: FloatArray) -> FloatArray:
    """Inverse of stacked symmetric positive definite matrices (with equilibration)."""
    d = np.sqrt(np.einsum("bii->bi", a))
    d = np.where(d > 0, d, 1.0)
    scaled = a / (d[:, :, None] * d[:, None, :])
    p = a.shape[1]
    if p == 1:
        inv = 1.0 / scaled
    elif p == 2:
        a00, a01, a11 = scaled[:, 0, 0], scaled[:, 0, 1], scaled[:, 1, 1]
        det = a00 * a11 - a01 * a01
        inv = np.empty_like(scaled)
        inv[:, 0, 0] = a11 / det
        inv[:, 1, 1] = a00 / det
        inv[:, 0, 1] = inv[:, 1, 0] = -a01 / det
    else:
        inv = np.linalg.inv(scaled)
    out: FloatArray = inv / (d[:, :, None] * d[:, None, :])
    return out


def _xtwx(x: FloatArray, w: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("bni,bn,bnj->bij", x, w, x, optimize=False)
    return out


def _poisson_deviance(y: FloatArray, ylogy: FloatArray, eta: FloatArray, mu: FloatArray,
                      prior: FloatArray) -> FloatArray:
    # R: 2 * sum(wt * (y * log(y / mu) - (y - mu))), with y * log(y / mu) = 0 for y = 0; log(mu) is eta
    # except where linkinv floors mu at eps
    out: FloatArray = 2.0 * np.einsum("bn,bn->b", prior, ylogy - y * np.maximum(eta, _LOG_EPS) - y + mu)
    return out


def fit_quasipoisson(x: FloatArray, y: FloatArray, prior: FloatArray,
                     maxit: int = MAXIT, epsilon: float = EPSILON) -> GlmFit:
    """Fit ``y ~ x`` (x includes the intercept column) by R's IRLS for every problem in the batch."""
    nb, n, p = x.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    eta = np.log(y + 0.1)
    mu = linkinv(eta)
    devold = _poisson_deviance(y, ylogy, eta, mu, prior)

    beta_out = np.zeros((nb, p))
    mu_out = np.empty((nb, n))
    w_out = np.empty((nb, n))
    converged = np.zeros(nb, dtype=bool)

    active = np.arange(nb)
    xa, ya, pa, la = x, y, prior, ylogy
    for _ in range(maxit):
        w = pa * mu
        a = _xtwx(xa, w)
        r = np.einsum("bni,bn->bi", xa, w * eta + pa * (ya - mu))
        beta = _solve_sym(a, r)
        eta = np.einsum("bni,bi->bn", xa, beta)
        mu = linkinv(eta)
        dev = _poisson_deviance(ya, la, eta, mu, pa)
        done = np.abs(dev - devold) / (0.1 + np.abs(dev)) < epsilon
        if done.all():
            beta_out[active], mu_out[active], w_out[active] = beta, mu, w
            converged[active] = True
            active = active[:0]
            break
        if done.any():
            idx = active[done]
            beta_out[idx], mu_out[idx], w_out[idx] = beta[done], mu[done], w[done]
            converged[idx] = True
            keep = ~done
            active = active[keep]
            xa, ya, pa, la = xa[keep], ya[keep], pa[keep], la[keep]
            eta, mu, dev, beta, w = eta[keep], mu[keep], dev[keep], beta[keep], w[keep]
        devold = dev
    else:
        if active.size:
            beta_out[active], mu_out[active], w_out[active] = beta, mu, w

    cov = _inv_sym(_xtwx(x, w_out))
    n_ok = np.count_nonzero(prior > 0, axis=1).astype(np.float64)
    return GlmFit(beta=beta_out, mu=mu_out, weights=w_out, cov=cov, converged=converged,
                  df_residual=n_ok - p)


def hat_values(x: FloatArray, fit: GlmFit) -> FloatArray:
    """R's ``hatvalues()`` of the fit: diagonal of ``W^1/2 X (X'WX)^-1 X' W^1/2``, 1 when within 10 eps of 1."""
    h: FloatArray = fit.weights * np.einsum("bni,bij,bnj->bn", x, fit.cov, x, optimize=False)
    h[h > _HAT_ONE] = 1.0
    return h


def pearson_dispersion(y: FloatArray, fit: GlmFit, weights: FloatArray | None = None) -> FloatArray:
    """R's ``summary.glm(model)$dispersion``: ``sum(weights * ((y - mu) / mu)^2) / df`` over weights > 0.

    ``weights`` defaults to the fit's working weights; pass other weights to reproduce what R computes
    after ``model$weights`` has been overwritten.
    """
    w = fit.weights if weights is None else weights
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = (y - fit.mu) / fit.mu
        contrib = np.where(w > 0, w * resid * resid, 0.0)
        out: FloatArray = np.where(fit.df_residual > 0, contrib.sum(axis=1) / fit.df_residual, np.nan)
    return out
