"""Aberration detection for count time series: faithful re-implementations of R ``surveillance`` 1.20.3.

numpy/scipy (two loops compiled with numba); nothing here imports Django. Every algorithm has the
signature of :data:`Detector`: it takes one :class:`Series`, the *resolved* control (the R names and defaults, as in
``controls.json``), and the monitored range ``first..last`` of 1-based time indices, and returns a
:class:`Result` with one entry per monitored time point. ``NaN`` stands for R's ``NA``.

The registry :data:`ALGORITHMS` maps the R function names to the implementations; :func:`run` is the
one entry point the command line, the worker and the conformance check use. See ``docs/surveillance.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class DetectError(ValueError):
    """Bad input or control for a detector; the message names what was wrong."""


@dataclass(frozen=True)
class Series:
    """One count series, as R's ``sts`` object holds it.

    ``observed[i]`` is the count at time index ``t = i + 1``. ``dates`` holds the epoch dates when R
    indexes the series by dates (``epoch_as_date``), else ``None``; Farrington picks its reference
    weeks differently in the two cases. ``start`` is R's ``start`` slot ``(year, epoch)``.
    """

    observed: FloatArray
    freq: int
    dates: npt.NDArray[np.datetime64] | None = None
    start: tuple[int, int] = (2000, 1)
    name: str = ""

    @property
    def n(self) -> int:
        return int(self.observed.shape[0])


@dataclass
class Result:
    """Per monitored time point (``t`` = 1-based index); ``NaN`` where the algorithm gives none."""

    t: npt.NDArray[np.int64]
    upperbound: FloatArray
    alarm: FloatArray
    expected: FloatArray
    score: FloatArray
    pvalue: FloatArray
    extra: dict[str, FloatArray] = field(default_factory=dict)

    @classmethod
    def empty(cls, first: int, last: int) -> Result:
        t = np.arange(first, last + 1, dtype=np.int64)
        nan = np.full(t.shape[0], np.nan)
        return cls(
            t=t, upperbound=nan.copy(), alarm=nan.copy(), expected=nan.copy(), score=nan.copy(), pvalue=nan.copy()
        )


Detector = Callable[[Series, Mapping[str, Any], int, int], Result]
ManyDetector = Callable[[Sequence[Series], Mapping[str, Any], int, int], list[Result]]

# R name -> "module:function" inside this package; imported on first use so that the command line
# only pays for the algorithm it runs.
_REGISTRY: dict[str, str] = {
    "farringtonFlexible": "farrington:farrington_flexible",
    "farrington": "farrington:farrington",
    "earsC": "ears:ears_c",
    "cusum": "cusum:cusum",
    "glrnb": "glrnb:glrnb",
    "rki": "rki_bayes:rki",
    "bayes": "rki_bayes:bayes",
}
ALGORITHMS: tuple[str, ...] = tuple(_REGISTRY)


def detector(name: str) -> Detector:
    """The implementation of the R algorithm ``name``; :class:`DetectError` if there is none."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise DetectError(f"unknown algorithm {name!r}; known: {', '.join(ALGORITHMS)}") from None
    module_name, function = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    fn: Detector = getattr(module, function)
    return fn


def run(name: str, series: Series, control: Mapping[str, Any], first: int, last: int) -> Result:
    """Run algorithm ``name`` over ``series`` for the monitored time points ``first..last`` (1-based)."""
    _check(series, first, last)
    return detector(name)(series, control, first, last)


def _check(series: Series, first: int, last: int) -> None:
    if not 1 <= first <= last <= series.n:
        raise DetectError(f"range {first}:{last} is outside the series (1..{series.n})")
    if series.freq not in (52, 12, 365, 7, 1):
        raise DetectError(f"frequency {series.freq} is not supported")
    observed = series.observed
    if np.any(np.isnan(observed[:last])) or np.any(observed[:last] < 0):
        raise DetectError("observed counts must be non-negative numbers up to the end of the range")


def run_many(name: str, series: Sequence[Series], control: Mapping[str, Any], first: int, last: int) -> list[Result]:
    """:func:`run` over many series with the same control and range; the algorithms that have a batch
    form (``<function>_many``) compute all series together, which amortises the per-series overhead.
    The results are the same as from :func:`run` series by series."""
    one = detector(name)
    for s in series:
        if not 1 <= first <= last <= s.n:
            raise DetectError(f"range {first}:{last} is outside the series (1..{s.n})")
        if s.freq not in (52, 12, 365, 7, 1):
            raise DetectError(f"frequency {s.freq} is not supported")
    lengths = {s.n for s in series}
    if len(lengths) == 1 and series:  # one check over all series (NaN propagates through min)
        lowest = float(np.min(np.stack([s.observed[:last] for s in series])))
    else:
        lowest = min((float(np.min(s.observed[:last])) for s in series), default=0.0)
    if not lowest >= 0:
        raise DetectError("observed counts must be non-negative numbers up to the end of the range")
    module = importlib.import_module(one.__module__)
    many: ManyDetector | None = getattr(module, f"{one.__name__}_many", None)
    if many is None:
        return [one(s, control, first, last) for s in series]
    return many(series, control, first, last)
