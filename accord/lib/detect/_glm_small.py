"""Small, R-faithful GLM machinery for the cusum / glrnb detectors.

* :func:`glm_fit` follows ``stats::glm.fit`` (IRLS from ``mustart``/``etastart``, ``maxit`` 25,
  convergence on the relative deviance change ``< 1e-8``, step halving on a non-finite deviance) for
  the log-link Poisson and negative-binomial families of R (``linkinv`` floored at machine epsilon).
* :func:`glm_nb` follows ``MASS::glm.nb`` 7.3-58 including its alternation quirk (``theta.ml`` is
  called with the fitted means of the *previous* fit) and :func:`theta_ml` its Newton iteration.
* :func:`qnbinom`, :func:`qnorm` mirror R's quantile functions.

The least-squares step uses a Householder QR of the weighted design (LAPACK via numpy) instead of
LINPACK's ``dqrdc2``; for the full-rank designs used here both give the same solution to about
1e-13. A column that is numerically collinear (R would pivot it out) gets coefficient 0, as in R.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from . import DetectError

FloatArray = npt.NDArray[np.float64]


def _sp() -> Any:
    """``scipy.special``, imported on first use (it is slow to import and untyped)."""
    return importlib.import_module("scipy.special")


DBL_EPSILON = float(np.finfo(np.float64).eps)
_QR_TOL = 1e-11  # min(1e-7, epsilon / 1000) in glm.fit


# --- control objects ---------------------------------------------------------------------------


def is_null(value: Any) -> bool:
    """R's ``is.null`` for a resolved control item: ``None`` or a ``"NULL (...)"`` description."""
    return value is None or (isinstance(value, str) and value.strip().upper().startswith("NULL"))


def ctl_get(control: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = control.get(key)
    return default if is_null(value) else value


def ctl_float(control: Mapping[str, Any], key: str, default: float, what: str) -> float:
    value = ctl_get(control, key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DetectError(f"{what}: control {key!r} must be a number, not {value!r}") from None


def ctl_int(control: Mapping[str, Any], key: str, default: int, what: str) -> int:
    value = ctl_float(control, key, default, what)
    if value != int(value):
        raise DetectError(f"{what}: control {key!r} must be an integer, not {value!r}")
    return int(value)


def ctl_bool(control: Mapping[str, Any], key: str, default: bool, what: str) -> bool:
    value = ctl_get(control, key, default)
    if isinstance(value, bool | int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.upper() in ("TRUE", "FALSE", "T", "F"):
        return value.upper().startswith("T")
    raise DetectError(f"{what}: control {key!r} must be TRUE or FALSE, not {value!r}")


def match_arg(value: Any, choices: tuple[str, ...], key: str, what: str) -> str:
    """R's ``match.arg``: an exact or unique partial match among ``choices``."""
    text = str(value)
    if text in choices:
        return text
    hits = [c for c in choices if text and c.startswith(text)]
    if len(hits) != 1:
        raise DetectError(f"{what}: control {key!r} must be one of {', '.join(choices)}, not {value!r}")
    return hits[0]


# --- R's distribution functions ----------------------------------------------------------------


def qnorm(p: float) -> float:
    """R's ``qnorm(p)`` (both use Wichura's AS 241)."""
    return NormalDist().inv_cdf(p)


def digamma(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp().psi(x), dtype=np.float64)


def trigamma(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp().zeta(2.0, x), dtype=np.float64)  # = polygamma(1, x) for x > 0


def lgamma(x: FloatArray | float) -> FloatArray:
    return np.asarray(_sp().gammaln(x), dtype=np.float64)


def pnbinom(q: FloatArray, size: FloatArray, prob: FloatArray) -> FloatArray:
    """R's ``pnbinom(q, size, prob)`` for integer ``q >= 0`` (= pbeta(prob, size, q + 1))."""
    return np.asarray(_sp().betainc(size, q + 1.0, prob), dtype=np.float64)


def qnbinom(p: float, size: FloatArray, prob: FloatArray) -> FloatArray:
    """R's ``qnbinom(p, size, prob)``: the smallest integer y with P(Y <= y) >= p (1 - 64 eps).

    R fuzzes ``p`` by ``1 - 64 DBL_EPSILON`` to keep the quantile left-continuous; the search here
    starts at the Cornish-Fisher approximation and steps to the same integer.
    """
    size = np.asarray(size, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    target = p * (1 - 64 * DBL_EPSILON)
    out = np.full(np.broadcast(size, prob).shape, np.nan)
    ok = np.isfinite(size) & (size > 0) & (prob > 0) & (prob <= 1)
    if not np.any(ok):
        return out
    s, pr = np.broadcast_arrays(size, prob)
    s, pr = s[ok], pr[ok]
    # Start near the quantile (Cornish-Fisher), then step down while the previous integer already
    # reaches the target and up until this one does: the same integer from any start, as the cdf is
    # monotone; each step recomputes only the values still moving.
    mean = s * (1 - pr) / pr
    sd = np.sqrt(mean / pr)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (2 - pr) / np.sqrt(s * (1 - pr))
    z = qnorm(p) if 0 < p < 1 else 0.0
    guess = mean + sd * (z + (z * z - 1) * np.where(np.isfinite(skew), skew, 0.0) / 6)
    y = np.where(np.isfinite(guess), np.maximum(np.floor(guess), 0.0), 0.0)
    todo = np.flatnonzero(y > 0)
    for _ in range(10_000):
        if todo.shape[0] == 0:
            break
        down = pnbinom(y[todo] - 1, s[todo], pr[todo]) >= target
        todo = todo[down]
        y[todo] -= 1
        todo = todo[y[todo] > 0]
    todo = np.arange(y.shape[0])
    for _ in range(100_000):
        if todo.shape[0] == 0:
            break
        up = pnbinom(y[todo], s[todo], pr[todo]) < target
        todo = todo[up]
        y[todo] += 1
    out[ok] = y
    return out


# --- families (log link) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """``poisson()`` when ``theta`` is None, else ``MASS::negative.binomial(theta)``; log link."""

    theta: float | None = None

    @property
    def is_poisson(self) -> bool:
        return self.theta is None

    @staticmethod
    def linkinv(eta: FloatArray) -> FloatArray:
        with np.errstate(over="ignore"):
            return np.maximum(np.exp(eta), DBL_EPSILON)

    mu_eta = linkinv

    def variance(self, mu: FloatArray) -> FloatArray:
        if self.theta is None:
            return mu
        return mu + mu**2 / self.theta

    def validmu(self, mu: FloatArray) -> bool:
        if self.theta is None:
            return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))
        return bool(np.all(mu > 0))

    def dev_resids(self, y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.theta is None:
                r = mu * wt
                pos = y > 0
                r[pos] = (wt * (y * np.log(y / mu) - (y - mu)))[pos]
                return 2 * r
            th = self.theta
            return 2 * wt * (y * np.log(np.maximum(1.0, y) / mu) - (y + th) * np.log((y + th) / (mu + th)))

    def mustart(self, y: FloatArray) -> FloatArray:
        if self.theta is None:
            return y + 0.1
        return np.asarray(y + (y == 0) / 6.0, dtype=np.float64)


@dataclass
class GlmFit:
    coefficients: FloatArray
    fitted: FloatArray
    eta: FloatArray
    deviance: float
    converged: bool
    boundary: bool
    iterations: int
    rank: int
    df_residual: int
    warnings: list[str] = field(default_factory=list)

    def predict_response(self, x_new: FloatArray) -> FloatArray:
        """``predict(fit, newdata, type = "response")``: linkinv of the linear predictor."""
        coef = np.where(np.isnan(self.coefficients), 0.0, self.coefficients)
        return Family.linkinv(np.asarray(x_new @ coef, dtype=np.float64))


def _wls(xw: FloatArray, zw: FloatArray) -> tuple[FloatArray, int]:
    """Least squares of zw on xw; columns whose residual norm falls below 1e-11 of their own norm are
    dropped (coefficient 0), like LINPACK ``dqrdc2`` with R's tolerance."""
    p = xw.shape[1]
    keep: list[int] = []
    for j in range(p):
        col = xw[:, j]
        norm = float(np.linalg.norm(col))
        if keep:
            basis = xw[:, keep]
            q, _ = np.linalg.qr(basis)
            resid = col - q @ (q.T @ col)
            rnorm = float(np.linalg.norm(resid))
        else:
            rnorm = norm
        if norm > 0 and rnorm >= norm * _QR_TOL:
            keep.append(j)
    coef = np.zeros(p)
    if keep:
        sol = np.linalg.lstsq(xw[:, keep], zw, rcond=None)[0]
        coef[keep] = sol
    return coef, len(keep)


def _full_rank_wls(xw: FloatArray, zw: FloatArray) -> tuple[FloatArray, int] | None:
    q, r = np.linalg.qr(xw)
    d = np.abs(np.diag(r))
    norms = np.linalg.norm(xw, axis=0)
    if np.all(d >= np.where(norms == 0, 1.0, norms) * _QR_TOL) and np.all(norms > 0):
        return np.asarray(np.linalg.solve(r, q.T @ zw), dtype=np.float64), xw.shape[1]
    return None


def glm_fit(
    x: FloatArray,
    y: FloatArray,
    family: Family,
    *,
    etastart: FloatArray | None = None,
    maxit: int = 25,
    epsilon: float = 1e-8,
) -> GlmFit:
    """``stats::glm.fit`` with unit prior weights, no offset and a log link."""
    nobs, nvars = x.shape
    weights = np.ones(nobs)
    warnings: list[str] = []
    if etastart is not None:
        eta = np.asarray(etastart, dtype=np.float64).copy()
    else:
        with np.errstate(divide="ignore"):
            eta = np.log(family.mustart(y))
    mu = family.linkinv(eta)
    if not family.validmu(mu):
        raise DetectError("glm: cannot find valid starting values")
    devold = float(np.sum(family.dev_resids(y, mu, weights)))
    dev = devold
    boundary = conv = False
    coef = np.full(nvars, np.nan)
    coefold: FloatArray | None = None
    rank = nvars
    it = 0
    for it in range(1, maxit + 1):  # noqa: B007 - the count is reported
        mu_eta = family.mu_eta(eta)
        varmu = family.variance(mu)
        if np.any(np.isnan(varmu)):
            raise DetectError("glm: NAs in V(mu)")
        if np.any(varmu == 0):
            raise DetectError("glm: 0s in V(mu)")
        z = eta + (y - mu) / mu_eta
        w = np.sqrt(weights * mu_eta**2 / varmu)
        xw = x * w[:, None]
        # C_Cdqrls checks its input: R stops here rather than fit non-finite values
        if not np.all(np.isfinite(xw)):
            raise DetectError("glm: NA/NaN/Inf in 'x'")
        if not np.all(np.isfinite(z * w)):
            raise DetectError("glm: NA/NaN/Inf in 'y'")
        solved = _full_rank_wls(xw, z * w)
        start, rank = solved if solved is not None else _wls(xw, z * w)
        if not np.all(np.isfinite(start)):
            warnings.append("glm_non_finite_coefficients")
            conv = False
            break
        eta = x @ start
        mu = family.linkinv(eta)
        dev = float(np.sum(family.dev_resids(y, mu, weights)))
        boundary = False
        if not math.isfinite(dev):
            if coefold is None:
                raise DetectError("glm: no valid set of coefficients has been found")
            ii = 1
            while not math.isfinite(dev):
                if ii > maxit:
                    raise DetectError("glm: inner loop 1; cannot correct step size")
                ii += 1
                start = (start + coefold) / 2
                eta = x @ start
                mu = family.linkinv(eta)
                dev = float(np.sum(family.dev_resids(y, mu, weights)))
            boundary = True
        if not family.validmu(mu):
            if coefold is None:
                raise DetectError("glm: no valid set of coefficients has been found")
            ii = 1
            while not family.validmu(mu):
                if ii > maxit:
                    raise DetectError("glm: inner loop 2; cannot correct step size")
                ii += 1
                start = (start + coefold) / 2
                eta = x @ start
                mu = family.linkinv(eta)
            boundary = True
            dev = float(np.sum(family.dev_resids(y, mu, weights)))
        if abs(dev - devold) / (0.1 + abs(dev)) < epsilon:
            conv = True
            coef = start
            break
        devold = dev
        coef = coefold = start
    if not conv:
        warnings.append("glm_not_converged")
    if boundary:
        warnings.append("glm_boundary")
    if family.is_poisson and np.any(mu < 10 * DBL_EPSILON):
        warnings.append("glm_fitted_rates_zero")
    return GlmFit(
        coefficients=np.asarray(coef, dtype=np.float64),
        fitted=mu,
        eta=eta,
        deviance=dev,
        converged=conv,
        boundary=boundary,
        iterations=it,
        rank=rank,
        df_residual=nobs - rank,
        warnings=warnings,
    )


# --- MASS::glm.nb -------------------------------------------------------------------------------


@dataclass
class ThetaResult:
    theta: float
    warnings: list[str]


def theta_ml(y: FloatArray, mu: FloatArray, limit: int = 25) -> ThetaResult:
    """``MASS::theta.ml(y, mu, n = length(y), limit)`` with unit weights."""
    n = float(y.shape[0])
    eps = DBL_EPSILON**0.25
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = float(np.float64(n) / np.sum((y / mu - 1) ** 2))  # R: n / 0 = Inf
    it = 0
    delta = 1.0
    warnings: list[str] = []
    while True:
        it += 1
        if not it < limit:
            break
        if math.isnan(delta):
            raise DetectError("glm.nb: theta.ml failed (missing value where TRUE/FALSE needed)")
        if not abs(delta) > eps:
            break
        t0 = abs(t0)
        th = np.float64(t0)  # numpy arithmetic: 1/0 = Inf and log(0) = -Inf as in R
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            score = float(
                np.sum(digamma(th + y) - digamma(th) + np.log(th) + 1 - np.log(th + mu) - (y + th) / (mu + th))
            )
            info = float(np.sum(-trigamma(th + y) + trigamma(th) - 1 / th + 2 / (mu + th) - (y + th) / (mu + th) ** 2))
            delta = score / info if info != 0 else (math.copysign(math.inf, score) if score else math.nan)
        t0 = t0 + delta
    if math.isnan(t0):
        raise DetectError("glm.nb: theta.ml failed (missing value where TRUE/FALSE needed)")
    if t0 < 0:
        t0 = 0.0
        warnings.append("glm.nb_theta_truncated")
    if it == limit:
        warnings.append("glm.nb_theta_iteration_limit")
    return ThetaResult(theta=t0, warnings=warnings)


def _nb_loglik(th: float, mu: FloatArray, y: FloatArray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(
            np.sum(
                lgamma(th + y)
                - lgamma(th)
                - lgamma(y + 1)
                + th * np.log(th)
                + y * np.log(mu + (y == 0))
                - (th + y) * np.log(th + mu)
            )
        )


@dataclass
class GlmNbFit:
    fit: GlmFit
    theta: float
    warnings: list[str]


def glm_nb(x: FloatArray, y: FloatArray, maxit: int = 25, epsilon: float = 1e-8) -> GlmNbFit:
    """``MASS::glm.nb(y ~ x)`` with ``control = glm.control()`` (maxit 25, epsilon 1e-8)."""
    warnings: list[str] = []
    fit = glm_fit(x, y, Family(), maxit=maxit, epsilon=epsilon)
    warnings += fit.warnings
    mu = fit.fitted
    tr = theta_ml(y, mu, limit=maxit)
    warnings += tr.warnings
    th = tr.theta
    iteration = 0
    d1 = math.sqrt(2 * max(1, fit.df_residual))
    d2 = delta = 1.0
    lm = _nb_loglik(th, mu, y)
    lm0 = lm + 2 * d1
    while True:
        iteration += 1
        if not iteration <= maxit:
            break
        crit = abs(lm0 - lm) / d1 + abs(delta) / d2
        if math.isnan(crit):
            raise DetectError("glm.nb failed (missing value where TRUE/FALSE needed)")
        if not crit > epsilon:
            break
        with np.errstate(divide="ignore"):
            eta = np.log(mu)
        fit = glm_fit(x, y, Family(theta=th), etastart=eta, maxit=maxit, epsilon=epsilon)
        warnings += fit.warnings
        t0 = th
        tr = theta_ml(y, mu, limit=maxit)
        warnings += tr.warnings
        th = tr.theta
        mu = fit.fitted
        delta = t0 - th
        lm0 = lm
        lm = _nb_loglik(th, mu, y)
    if iteration > maxit:
        warnings.append("glm.nb_alternation_limit")
    return GlmNbFit(fit=fit, theta=th, warnings=list(dict.fromkeys(warnings)))
