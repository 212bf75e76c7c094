"""Batched quasi-Poisson (log link) GLM fits that reproduce R's ``glm.fit`` iteration by iteration.

The models are the ones the Farrington detectors fit: one factor (``seasgroups``; a single level when there
is none) plus, optionally, a linear time trend,

    log mu_i = a[level(i)] + slope * t_i,

for many small independent problems at once. The problems are stacked along a leading batch axis ``B``;
``t``, ``y`` and the prior weights are ``(B, n)``. The rows of every problem are sorted by level, and the
levels occupy the same column segments ``starts[j]:starts[j+1]`` in all problems of a batch. Problems with
fewer rows are padded with rows of prior weight 0, which R's ``glm.fit`` leaves out of the fit, the deviance
and the residual degrees of freedom, exactly like a padded row here.

The factor is coded by cell means (one intercept per level): the same model as R's treatment contrasts.
Each weighted least-squares step then has a closed form, a diagonal block plus the trend solved through
its Schur complement, which is fast and stays well conditioned when the fitted means of a level run off to
zero. When all problems share the same ``t`` (integer epochs) and there is one level, the sums of a step are
one small matrix product.

The iteration is R's: start at ``mu = y + 0.1``, solve the weighted least-squares problem of the working
response, stop when ``|dev - devold| / (|dev| + 0.1) < epsilon`` or after ``maxit`` iterations; the link
inverse floors ``mu`` at the machine epsilon like R's ``make.link("log")``. Like R, the working weights (and
hence the covariance, the hat values and the Pearson dispersion) that come back are those of the *last*
solve, i.e. computed from the fitted means of the iteration before the final one. Pure numpy; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

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


@dataclass(frozen=True)
class Layout:
    """Where the levels are: level j occupies columns ``starts[j]:starts[j+1]`` (the last one runs to n)."""

    starts: IntArray  # (q,)
    n: int
    shared_t: FloatArray | None = None  # (n,) when every problem has this t (rows of prior weight 0 aside)

    @property
    def q(self) -> int:
        return int(self.starts.shape[0])

    @property
    def counts(self) -> IntArray:
        out: IntArray = np.diff(np.append(self.starts, self.n))
        return out

    def level_sums(self, rows: FloatArray) -> FloatArray:
        """``(B, q)`` sums over the columns of each level."""
        if self.q == 1:
            out: FloatArray = rows.sum(axis=1)[:, None]
            return out
        out = np.add.reduceat(rows, self.starts, axis=1)
        return out

    def spread(self, per_level: FloatArray) -> FloatArray:
        """``(B, n)`` from ``(B, q)``: each row gets the value of its level."""
        if self.q == 1:
            out: FloatArray = np.broadcast_to(per_level, (per_level.shape[0], self.n))
            return out
        out = np.repeat(per_level, self.counts, axis=1)
        return out


@dataclass
class LevelFit:
    """Result of :func:`fit_levels` for ``B`` problems with ``n`` rows and ``q`` levels."""

    level_coef: FloatArray  # (B, q) log mean of each level at t = 0
    slope: FloatArray  # (B,) 0 where the problem has no trend
    mu: FloatArray  # (B, n) fitted means of the final iterate
    weights: FloatArray  # (B, n) working weights of the last solve (R's ``model$weights``)
    converged: BoolArray  # (B,)
    df_residual: FloatArray  # (B,) rows with positive prior weight minus the number of coefficients
    # pieces of (X'WX)^-1 for the working weights above:
    level_var: FloatArray  # (B, q) diagonal entries of the levels (R's cov.unscaled)
    level_slope_cov: FloatArray  # (B, q) covariances level/slope (0 without trend)
    slope_var: FloatArray  # (B,) NaN without trend


def fit_levels(
    layout: Layout,
    t: FloatArray,
    slope_on: BoolArray,
    y: FloatArray,
    prior: FloatArray,
    *,
    maxit: int = MAXIT,
    epsilon: float = EPSILON,
) -> LevelFit:
    """Fit ``log mu = a[level] (+ slope * t)`` by R's IRLS for every problem of the batch.

    Each step solves the weighted least-squares problem in closed form: with ``D_j = sum_j w``,
    ``c_j = sum_j w t`` and ``r_j = sum_j w z`` (sums over the rows of level j; z the working response) the
    slope is ``(sum w z t - sum_j c_j r_j / D_j) / S`` with the Schur complement
    ``S = sum w t^2 - sum_j c_j^2 / D_j``, and the level coefficients are ``(r_j - c_j slope) / D_j``.
    """
    nb, n = y.shape
    q = layout.q
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    py = prior * y
    # deviance = 2 * (sum(prior * (y log y - y)) + sum(prior * mu - prior * y * log(mu)))
    dev_const = (prior * (ylogy - y)).sum(axis=1)
    eta = np.log(y + 0.1)
    mu = linkinv(eta)
    w = prior * mu
    devold = 2.0 * (dev_const + (w - py * np.maximum(eta, _LOG_EPS)).sum(axis=1))

    shared = layout.shared_t
    design: FloatArray | None = None
    # (with several levels the product gets large enough for OpenBLAS to go multi-threaded, which costs far
    # more than it saves on these sizes; the per-level reductions are used then)
    if shared is not None and q == 1:
        # one product gives sum_j w, sum_j w t, sum w t^2 (and the same for w z)
        design = np.zeros((n, 2 * q + 1))
        for j, (lo, cnt) in enumerate(zip(layout.starts, layout.counts, strict=True)):
            design[lo : lo + cnt, j] = 1.0
            design[lo : lo + cnt, q + j] = shared[lo : lo + cnt]
        design[:, 2 * q] = shared * shared

    level_out = np.zeros((nb, q))
    slope_out = np.zeros(nb)
    mu_out = np.empty((nb, n))
    w_out = np.empty((nb, n))
    d_out = np.empty((nb, q))
    c_out = np.empty((nb, q))
    schur_out = np.empty(nb)
    converged = np.zeros(nb, dtype=bool)

    active = np.arange(nb)
    ta, sa, pa, pya, ka = t, slope_on, prior, py, dev_const
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for it in range(maxit):
            b = active.shape[0]
            wz = w * (eta - 1.0)  # w * (working response), as w = prior * mu
            wz += pya
            if design is not None:
                sums = np.concatenate((w, wz)) @ design
                d, c, dt2 = sums[:b, :q], sums[:b, q : 2 * q], sums[:b, 2 * q]
                r, rt_level = sums[b:, :q], sums[b:, q : 2 * q]
            else:
                wt = w * ta
                d, c, r = layout.level_sums(w), layout.level_sums(wt), layout.level_sums(wz)
                dt2, rt_level = (wt * ta).sum(axis=1), layout.level_sums(wz * ta)
            if q == 1:
                d1, c1 = d[:, 0], c[:, 0]
                den = d1 * dt2 - c1 * c1
                slope = np.where(sa, (d1 * rt_level[:, 0] - c1 * r[:, 0]) / den, 0.0)
                schur = den / d1
                level = (r - c * slope[:, None]) / d
                eta = slope[:, None] * ta
                eta += level
            else:
                c_over_d = c / d
                schur = dt2 - (c * c_over_d).sum(axis=1)
                slope = np.where(sa, (rt_level.sum(axis=1) - (c_over_d * r).sum(axis=1)) / schur, 0.0)
                level = (r - c * slope[:, None]) / d
                eta = layout.spread(level) + slope[:, None] * ta
            mu_new = np.exp(eta)
            np.maximum(mu_new, _EPS, out=mu_new)
            w_new = pa * mu_new
            dev = (w_new - pya * np.maximum(eta, _LOG_EPS)).sum(axis=1)
            dev += ka
            dev *= 2.0
            crit = np.abs(dev - devold)
            crit /= 0.1 + np.abs(dev)
            done = crit < epsilon
            n_done = int(np.count_nonzero(done))
            last = n_done == b or it == maxit - 1
            if last or n_done:
                # at maxit R keeps the last iterate (not converged); its working weights are those of the solve
                sel = np.ones(b, dtype=bool) if last else done
                idx = active[sel]
                level_out[idx], slope_out[idx], mu_out[idx], w_out[idx] = level[sel], slope[sel], mu_new[sel], w[sel]
                d_out[idx], c_out[idx], schur_out[idx] = d[sel], c[sel], schur[sel]
                converged[idx] = done[sel]
                if last:
                    break
                keep = ~done
                active = active[keep]
                ta, sa, pa, pya, ka = ta[keep], sa[keep], pa[keep], pya[keep], ka[keep]
                eta, w_new, dev = eta[keep], w_new[keep], dev[keep]
            w = w_new
            devold = dev
        slope_var = np.where(slope_on, 1.0 / schur_out, np.nan)
        c_over_d = c_out / d_out
        sv = np.where(slope_on, slope_var, 0.0)[:, None]
        level_var = 1.0 / d_out + c_over_d * c_over_d * sv
        level_slope_cov = -c_over_d * sv
    n_ok = np.count_nonzero(prior > 0, axis=1).astype(np.float64)
    return LevelFit(
        level_coef=level_out,
        slope=slope_out,
        mu=mu_out,
        weights=w_out,
        converged=converged,
        df_residual=n_ok - q - slope_on,
        level_var=level_var,
        level_slope_cov=level_slope_cov,
        slope_var=slope_var,
    )


def hat_values(layout: Layout, t: FloatArray, slope_on: BoolArray, fit: LevelFit) -> FloatArray:
    """R's ``hatvalues()``: diagonal of ``W^1/2 X (X'WX)^-1 X' W^1/2``, set to 1 within 10 eps of 1."""
    sv = np.where(slope_on, fit.slope_var, 0.0)
    tt = np.where(slope_on[:, None], t, 0.0)
    quad = layout.spread(fit.level_var) + tt * (2.0 * layout.spread(fit.level_slope_cov) + tt * sv[:, None])
    h: FloatArray = fit.weights * quad
    h[h > _HAT_ONE] = 1.0
    return h


def pearson_dispersion(y: FloatArray, fit: LevelFit, weights: FloatArray | None = None) -> FloatArray:
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
