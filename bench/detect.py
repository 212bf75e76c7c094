"""Benchmark: aberration detection, series per second, Accord against R ``surveillance`` 1.20.3 in the same run.

    make bench   (or: .venv/bin/python bench/detect.py [--series 1000] [--r-series 50] [--r-series-fast 200] [--json])

Generates synthetic weekly negative-binomial series of 520 weeks (seeded; like the series behind the shared
``r_benchmark.json``: mean 1-200 log-uniform, seasonal amplitude 0-0.8, trend ±5 %/year, size 1-20, three
injected 4-week outbreaks) and monitors the last 104 weeks (t = 417..520) with every algorithm, each with its
default control (as resolved in controls.json): ``farringtonFlexible`` (FF_default), ``farrington``
(F_default), ``earsC`` (EARS_C1), ``cusum`` (CUSUM_default), ``glrnb`` (GLRNB_default: ``MASS::glm.nb`` for
mu0 and the NB GLR chart), ``rki`` (RKI_1) and ``bayes`` (BAYES_1).

Accord runs in one process with the batch entry point ``accord.lib.detect.run_many`` (all series of one
algorithm in one call), after one warm-up call per algorithm (imports, compiled kernels). When ``Rscript`` is on
the PATH and ``library(surveillance)`` loads, R runs on the same series in the same run (``system.time`` around
the calls only, so R's start-up is not counted): the two Farrington methods, which are slow in R, on the first
``--r-series``, the others on the first ``--r-series-fast``. Prints series/s for both, the ratio R time / Accord
time per series, and how often the two agree (alarms; upper bounds within 1e-4 relative) on the series both ran.
Timings move with the machine's load (printed); the ratio much less.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.lib.detect import Series, run_many  # noqa: E402

WEEKS, FREQ, FIRST, LAST = 520, 52, 417, 520
START = (2010, 1)
SEED = 20240601

# controls.json "FF_default" → resolved (surveillance 1.20.3 defaults), and "EARS_C1" → resolved.
FF_DEFAULT: dict[str, Any] = {
    "b": 5,
    "w": 3,
    "reweight": True,
    "weightsThreshold": 2.58,
    "alpha": 0.05,
    "trend": True,
    "pThresholdTrend": 0.05,
    "limit54": [5, 4],
    "powertrans": "2/3",
    "fitFun": "algo.farrington.fitGLM.flexible",
    "populationOffset": False,
    "noPeriods": 1,
    "pastWeeksNotIncluded": 3,
    "thresholdMethod": "delta",
}
EARS_C1: dict[str, Any] = {"method": "C1", "baseline": 7, "minSigma": 0, "alpha": 0.001}
F_DEFAULT: dict[str, Any] = {
    "b": 5,
    "w": 3,
    "reweight": True,
    "alpha": 0.05,
    "trend": True,
    "limit54": [5, 4],
    "powertrans": "2/3",
    "fitFun": "algo.farrington.fitGLM.fast",
}
CUSUM_DEFAULT: dict[str, Any] = {"k": 1.04, "h": 2.26, "trans": "standard"}
GLRNB_DEFAULT: dict[str, Any] = {"c.ARL": 5, "Mtilde": 1, "M": -1, "change": "intercept", "dir": "inc", "ret": "value"}
RKI_1: dict[str, Any] = {"b": 0, "w": 6, "actY": True}
BAYES_1: dict[str, Any] = {"b": 0, "w": 6, "actY": True, "alpha": 0.05}

# (name in the report, Accord algorithm, control, R expression on the sts `s`, "slow" = R on --r-series)
ALGOS: list[tuple[str, str, dict[str, Any], str, bool]] = [
    ("farringtonFlexible", "farringtonFlexible", FF_DEFAULT, "farringtonFlexible(s, control = ff)", True),
    ("farrington", "farrington", F_DEFAULT, "farrington(s, control = list(range = range))", True),
    ("earsC_C1", "earsC", EARS_C1, "earsC(s, control = list(range = range, method = 'C1'))", False),
    ("cusum", "cusum", CUSUM_DEFAULT, "cusum(s, control = list(range = range))", False),
    ("glrnb", "glrnb", GLRNB_DEFAULT, "glrnb(s, control = list(range = range))", False),
    ("rki", "rki", RKI_1, "rki(s, control = list(range = range, b = 0, w = 6, actY = TRUE))", False),
    (
        "bayes",
        "bayes",
        BAYES_1,
        "bayes(s, control = list(range = range, b = 0, w = 6, actY = TRUE, alpha = 0.05))",
        False,
    ),
]

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(surveillance))
y <- unname(as.matrix(read.csv(args[1], header = FALSE)))
n_slow <- as.integer(args[2])
n_fast <- as.integer(args[3])
out <- args[4]
range <- as.integer(args[5]):as.integer(args[6])
ff <- list(range = range, b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, alpha = 0.05, trend = TRUE,
           pThresholdTrend = 0.05, limit54 = c(5, 4), powertrans = "2/3",
           fitFun = "algo.farrington.fitGLM.flexible", populationOffset = FALSE, noPeriods = 1,
           pastWeeksNotIncluded = 3, thresholdMethod = "delta", glmWarnings = FALSE)
exprs <- list(%(exprs)s)
slow <- c(%(slow)s)
secs <- list()
for (name in names(exprs)) {
  n <- if (slow[[name]]) n_slow else n_fast
  if (n < 1) next
  s <- sts(observed = y[, seq_len(n), drop = FALSE], start = c(2010, 1), frequency = 52)
  res <- NULL
  t <- system.time(invisible(capture.output(suppressMessages(suppressWarnings(res <- eval(exprs[[name]]))))))
  secs[[name]] <- c(t[["elapsed"]], n, t[["user.self"]] + t[["sys.self"]])
  write.table(upperbound(res), file.path(out, paste0(name, "_upperbound.csv")), sep = ",", row.names = FALSE,
              col.names = FALSE, na = "")
  write.table(alarms(res) * 1, file.path(out, paste0(name, "_alarm.csv")), sep = ",", row.names = FALSE,
              col.names = FALSE, na = "")
}
parts <- vapply(names(secs), function(k) {
  sprintf('"%%s": [%%s, %%d, %%s]', k, format(secs[[k]][1]), as.integer(secs[[k]][2]), format(secs[[k]][3]))
}, "")
cat(sprintf('{"seconds": {%%s}, "version": "%%s", "r": "%%s"}\n', paste(parts, collapse = ", "),
            as.character(packageVersion("surveillance")), R.version.string))
"""


def r_script() -> str:
    exprs = ", ".join(f"{name} = quote({expr})" for name, _, _, expr, _ in ALGOS)
    slow = ", ".join(f"{name} = {'TRUE' if is_slow else 'FALSE'}" for name, _, _, _, is_slow in ALGOS)
    return R_SCRIPT % {"exprs": exprs, "slow": slow}


def generate(n_series: int, seed: int = SEED) -> npt.NDArray[np.int64]:
    """``WEEKS`` by ``n_series`` counts: NB around a seasonal, trending mean, with three 4-week outbreaks each."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, WEEKS + 1, dtype=np.float64)
    counts = np.empty((WEEKS, n_series), dtype=np.int64)
    for j in range(n_series):
        mean = math.exp(rng.uniform(math.log(1.0), math.log(200.0)))
        amplitude = rng.uniform(0.0, 0.8)
        trend = rng.uniform(-0.05, 0.05)  # relative change per year
        phase = rng.uniform(0.0, 2 * math.pi)
        size = rng.uniform(1.0, 20.0)
        mu = mean * np.exp(amplitude * np.sin(2 * np.pi * t / FREQ + phase) + np.log1p(trend) * t / FREQ)
        y = rng.negative_binomial(size, size / (size + mu))
        # One outbreak in the monitored weeks, two before; each adds Poisson(k·mu) cases for 4 weeks.
        starts = [int(rng.integers(FIRST, LAST - 3)), *rng.integers(FREQ * 2, FIRST - 4, size=2).tolist()]
        for begin in starts:
            weeks = slice(begin - 1, begin + 3)
            y[weeks] += rng.poisson(rng.uniform(1.0, 3.0) * mu[weeks])
        counts[:, j] = y
    return counts


@dataclass
class Timing:
    series: int = 0
    seconds: float = 0.0  # elapsed
    cpu_seconds: float = 0.0  # CPU time of the process (user + system)
    error: str | None = None

    @property
    def per_second(self) -> float | None:
        return self.series / self.seconds if self.series and self.seconds > 0 and self.error is None else None

    @property
    def cpu_per_series(self) -> float | None:
        return self.cpu_seconds / self.series if self.series and self.cpu_seconds > 0 and self.error is None else None


@dataclass
class Outcome:
    name: str
    accord: Timing
    r: Timing | None = None
    agreement: dict[str, float | int] = field(default_factory=dict)
    upperbound: npt.NDArray[np.float64] | None = None
    alarm: npt.NDArray[np.float64] | None = None

    @property
    def ratio(self) -> float | None:
        """Elapsed time per series, R's / Accord's."""
        ours, theirs = self.accord.per_second, self.r.per_second if self.r else None
        return ours / theirs if ours and theirs else None

    @property
    def cpu_ratio(self) -> float | None:
        """CPU time per series, R's / Accord's: what other processes on the machine change least."""
        ours, theirs = self.accord.cpu_per_series, self.r.cpu_per_series if self.r else None
        return theirs / ours if ours and theirs else None


def time_accord(label: str, name: str, control: dict[str, Any], counts: npt.NDArray[np.int64]) -> Outcome:
    n = counts.shape[1]
    series = [Series(observed=counts[:, j].astype(np.float64), freq=FREQ, start=START) for j in range(n)]
    timing = Timing()
    try:
        run_many(name, series[:2], control, FIRST, LAST)  # warm-up: imports and compiled kernels
        began, began_cpu = time.perf_counter(), time.process_time()
        results = run_many(name, series, control, FIRST, LAST)
        timing.seconds = time.perf_counter() - began
        timing.cpu_seconds = time.process_time() - began_cpu
    except Exception as error:  # noqa: BLE001 - a missing or failing algorithm is reported, not fatal
        timing.error = f"{type(error).__name__}: {error}"
        return Outcome(name=label, accord=timing)
    timing.series = n
    upper = np.stack([r.upperbound for r in results], axis=1)
    alarm = np.stack([r.alarm for r in results], axis=1)
    return Outcome(name=label, accord=timing, upperbound=upper, alarm=alarm)


def find_r() -> tuple[str | None, str | None]:
    """(path of Rscript, None) when it runs and loads surveillance, else (None, why not)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, "Rscript not found"
    probe = subprocess.run(
        [rscript, "-e", "suppressMessages(library(surveillance))"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        return None, "library(surveillance) does not load: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
    return rscript, None


def _matrix(path: Path) -> npt.NDArray[np.float64]:
    with path.open(newline="") as handle:
        return np.array([[float(v) if v not in ("", "NA") else np.nan for v in row] for row in csv.reader(handle)])


def time_r(
    rscript: str, counts: npt.NDArray[np.int64], r_series: int, r_fast: int
) -> tuple[dict[str, Any], dict[str, npt.NDArray[np.float64]]]:
    with tempfile.TemporaryDirectory(prefix="accord-bench-detect-") as tmp:
        folder = Path(tmp)
        np.savetxt(folder / "series.csv", counts, fmt="%d", delimiter=",")
        (folder / "bench.R").write_text(r_script(), encoding="utf-8")
        done = subprocess.run(
            [
                rscript,
                str(folder / "bench.R"),
                str(folder / "series.csv"),
                str(r_series),
                str(r_fast),
                tmp,
                str(FIRST),
                str(LAST),
            ],
            capture_output=True,
            text=True,
            timeout=7200,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError("R failed: " + " | ".join(done.stderr.strip().splitlines()[-3:]))
        info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        matrices = {path.stem: _matrix(path) for path in folder.glob("*.csv") if path.name != "series.csv"}
    return info, matrices


def agreement(
    ours_upper: npt.NDArray[np.float64],
    ours_alarm: npt.NDArray[np.float64],
    r_upper: npt.NDArray[np.float64],
    r_alarm: npt.NDArray[np.float64],
) -> dict[str, float | int]:
    """Alarm agreement (NA = NA) and upper bounds within 1e-4 relative (NA = NA, not counted), as in conformance."""
    cols = r_upper.shape[1]
    ou, oa = ours_upper[:, :cols], ours_alarm[:, :cols]
    same_alarm = (np.isnan(oa) & np.isnan(r_alarm)) | (oa == r_alarm)
    both_na = np.isnan(ou) & np.isnan(r_upper)
    with np.errstate(invalid="ignore"):
        close = np.abs(ou - r_upper) <= 1e-4 * np.maximum(np.abs(ou), np.abs(r_upper))
    counted = ~both_na
    return {
        "points": int(r_alarm.size),
        "alarm_pct": float(100 * same_alarm.mean()),
        "upperbound_points": int(counted.sum()),
        "upperbound_pct": float(100 * (close & counted).sum() / max(1, int(counted.sum()))),
    }


def _load() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=1000, metavar="N", help="synthetic series (default 1000)")
    parser.add_argument(
        "--r-series", type=int, default=50, metavar="N", help="series for R's two Farrington methods (default 50)"
    )
    parser.add_argument(
        "--r-series-fast", type=int, default=200, metavar="N", help="series for R's other algorithms (default 200)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-r", action="store_true", help="do not run R even when it is installed")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    args = parser.parse_args()
    if args.series < 1 or args.r_series < 0 or args.r_series_fast < 0:
        parser.error("--series must be at least 1 and --r-series, --r-series-fast not negative")
    r_series = min(args.r_series, args.series)
    r_fast = min(args.r_series_fast, args.series)

    counts = generate(args.series, args.seed)
    load_before = _load()
    outcomes = {label: time_accord(label, name, control, counts) for label, name, control, _, _ in ALGOS}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    r_note = "R skipped (--no-r)"
    r_info: dict[str, Any] = {}
    rscript, why_not = (None, "--no-r") if args.no_r else find_r()
    if rscript is None:
        r_note = (
            "R skipped (--no-r), ratio not measured"
            if args.no_r
            else f"R not installed, ratio not measured ({why_not})"
        )
    else:
        try:
            r_info, matrices = time_r(rscript, counts, r_series, r_fast)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            r_note = f"R failed, ratio not measured ({error})"
        else:
            r_note = f"{r_info.get('r', 'R')}, surveillance {r_info.get('version', '?')}"
            for label, outcome in outcomes.items():
                got = r_info.get("seconds", {}).get(label)
                if got is None:
                    continue
                outcome.r = Timing(series=int(got[1]), seconds=float(got[0]), cpu_seconds=float(got[2]))
                upper, alarm = matrices.get(f"{label}_upperbound"), matrices.get(f"{label}_alarm")
                if (
                    outcome.upperbound is not None
                    and outcome.alarm is not None
                    and upper is not None
                    and alarm is not None
                ):
                    outcome.agreement = agreement(outcome.upperbound, outcome.alarm, upper, alarm)
    load_after = _load()

    report = {
        "setup": {
            "series": args.series,
            "weeks": WEEKS,
            "monitored": f"t = {FIRST}..{LAST} ({LAST - FIRST + 1} weeks)",
            "seed": args.seed,
            "r_series_farrington": r_series,
            "r_series_other": r_fast,
            "peak_rss_accord_MiB": round(peak_mib, 1),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "r": r_note,
        },
        "results": {
            name: {
                "accord": {**asdict(o.accord), "series_per_second": o.accord.per_second},
                "r": None if o.r is None else {**asdict(o.r), "series_per_second": o.r.per_second},
                "ratio_elapsed": o.ratio,
                "ratio_cpu": o.cpu_ratio,
                "agreement_with_r": o.agreement or None,
            }
            for name, o in outcomes.items()
        },
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{args.series} synthetic NB series × {WEEKS} weeks, monitoring t = {FIRST}..{LAST}; "
        f"seed {args.seed}; Accord peak RSS {peak_mib:.0f} MiB; load average {load_before} (before), "
        f"{load_after} (after)"
    )
    for name, o in outcomes.items():
        ours = (
            f"not run ({o.accord.error})"
            if o.accord.error
            else f"{o.accord.per_second:9.1f} series/s ({o.accord.series} series, {o.accord.seconds:.3f} s)"
        )
        print(f"{name:19} Accord {ours}")
        if o.r is not None and o.r.per_second is not None:
            print(f"{'':19} R      {o.r.per_second:9.1f} series/s ({o.r.series} series, {o.r.seconds:.2f} s)")
        if o.ratio is not None:
            cpu = f"{o.cpu_ratio:.1f}×" if o.cpu_ratio is not None else "?"
            print(f"{'':19} ratio  R time / Accord time per series = {o.ratio:.1f}× elapsed, {cpu} CPU")
        if o.agreement:
            a = o.agreement
            print(
                f"{'':19} agree  alarms {a['alarm_pct']:.2f} % of {a['points']}, "
                f"upper bounds {a['upperbound_pct']:.2f} % of {a['upperbound_points']} (R's series)"
            )
    print(f"R: {r_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
