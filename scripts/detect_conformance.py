"""Detector conformance: Accord's re-implementations against the R ``surveillance`` 1.20.3 reference outputs.

Usage: python scripts/detect_conformance.py SHARED_DIR [--algorithm NAME ...] [--no-cli] [--details N]
(reads SHARED_DIR/surveillance/controls.json, data/*.csv and outputs/*.csv; see docs/surveillance.md)

Every dataset and control listed in controls.json runs in this process through ``accord.lib.detect.run``, on
series read by the same code as ``accord detect`` (with R's ``start`` slot from controls.json). Per control:

- **alarms**: % of R's time points where the alarm is identical (NA = NA agrees; NA vs 0/1 does not);
- **upperbound**: % agreement within 1e-4 relative, over the points where R emitted no warning
  (``r_warning`` empty) and at least one side is a number: R's number vs our NA, or our number where R
  has NA, counts as a disagreement; points where both are NA agree and are not counted.

A control fails below 99.5 % alarms or 99 % upperbound; an algorithm whose module cannot be imported is
"not implemented" and fails; an exception for a unit makes all of that unit's points disagree. Then, for
one dataset and control per algorithm, the real command ``accord detect`` runs as a subprocess and its CSV
must equal, cell for cell, what the in-process run gave. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accord.lib.detect import ALGORITHMS, DetectError, detector, run  # noqa: E402
from accord.lib.detect.io import OUTPUT_COLUMNS, Unit, read_units, result_rows  # noqa: E402

ALARM_MIN = 99.5
UPPERBOUND_MIN = 99.0
RTOL = 1e-4


@dataclass
class Tally:
    """Agreement of one control (or of a group of controls) with R."""

    algorithm: str
    control_id: str
    datasets: list[str] = field(default_factory=list)
    points: int = 0
    alarm_same: int = 0
    upper_points: int = 0
    upper_same: int = 0
    warned: int = 0
    seconds: float = 0.0
    r_seconds: float = 0.0
    implemented: bool = True
    crashed: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def alarm_pct(self) -> float | None:
        return 100.0 * self.alarm_same / self.points if self.points else None

    @property
    def upper_pct(self) -> float | None:
        return 100.0 * self.upper_same / self.upper_points if self.upper_points else None

    @property
    def passed(self) -> bool:
        alarm, upper = self.alarm_pct, self.upper_pct
        return (
            self.implemented
            and not self.crashed
            and self.points > 0
            and alarm is not None
            and alarm >= ALARM_MIN
            and (upper is None or upper >= UPPERBOUND_MIN)
        )

    @property
    def status(self) -> str:
        if not self.implemented:
            return "not implemented"
        if self.crashed:
            return "CRASHED"
        if self.points == 0:
            return "no points"
        notes = [f"{len(self.errors)} error(s)"] if self.errors else []
        return ("ok" if self.passed else "FAIL") + (f" ({', '.join(notes)})" if notes else "")

    def add(self, other: Tally) -> None:
        for name in ("points", "alarm_same", "upper_points", "upper_same", "warned", "seconds", "r_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.implemented = self.implemented and other.implemented
        self.crashed = self.crashed or other.crashed
        self.errors += other.errors
        self.datasets += [d for d in other.datasets if d not in self.datasets]


@dataclass
class Report:
    """Per-control tallies in controls.json order, and the in-process output rows of each (dataset, control)."""

    tallies: list[Tally]
    rows: dict[tuple[str, str], list[list[str]]]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems and all(tally.passed for tally in self.tallies)


def _float(text: str) -> float:
    text = text.strip()
    if text in ("", "NA", "NaN"):
        return math.nan
    return float(text.replace("Inf", "inf"))


def _same_alarm(ours: float, theirs: float) -> bool:
    if math.isnan(theirs) or math.isnan(ours):
        return math.isnan(theirs) and math.isnan(ours)
    return bool(ours) == bool(theirs)


def same_upperbound(ours: float, theirs: float) -> bool:
    """Within RTOL relative (exactly equal for 0 and ±Inf); NA only agrees with NA."""
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if ours == theirs:
        return True
    if math.isinf(ours) or math.isinf(theirs):
        return False
    return abs(ours - theirs) <= RTOL * max(abs(ours), abs(theirs))


Reference = dict[tuple[str, str], dict[int, tuple[float, float, str]]]


def load_reference(path: Path) -> Reference:
    """R's rows of one outputs/*.csv: (unit, control_id) → t → (alarm, upperbound, r_warning)."""
    reference: Reference = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["unit"], row["control_id"])
            reference.setdefault(key, {})[int(row["t"])] = (
                _float(row["alarm"]),
                _float(row["upperbound"]),
                row["r_warning"].strip(),
            )
    return reference


def _implemented(algorithm: str) -> str | None:
    """None when the implementation imports, else why not."""
    try:
        detector(algorithm)
    except (ImportError, AttributeError) as error:
        return f"{type(error).__name__}: {error}"
    except DetectError as error:
        return str(error)
    return None


def _r_seconds(folder: Path) -> dict[tuple[str, str], float]:
    path = folder / "run_log.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {(row["dataset"], row["control_id"]): float(row["seconds"] or 0) for row in csv.DictReader(handle)}


@dataclass
class _Dataset:
    name: str
    meta: dict[str, Any]
    units: dict[str, Unit]
    reference: Reference


def _load_datasets(folder: Path, spec: dict[str, Any], require_all: bool, problems: list[str]) -> list[_Dataset]:
    datasets: list[_Dataset] = []
    for dataset, meta in spec["datasets"].items():
        data_path, output_path = folder / "data" / f"{dataset}.csv", folder / "outputs" / f"{dataset}.csv"
        if not (data_path.is_file() and output_path.is_file()):
            if require_all:
                problems.append(f"{dataset}: {data_path if not data_path.is_file() else output_path} not found")
            continue
        start = (int(meta["start_slot"][0]), int(meta["start_slot"][1]))
        try:
            units = {unit.unit: unit for unit in read_units(data_path, start=start)}
        except DetectError as error:
            problems.append(f"{dataset}: {error}")
            continue
        absent = [name for name in meta["units"] if name not in units]
        if absent:
            problems.append(f"{dataset}: units {', '.join(absent)} of controls.json are not in {data_path.name}")
        datasets.append(_Dataset(dataset, meta, units, load_reference(output_path)))
    return datasets


Rows = dict[tuple[str, str], list[list[str]]]


def _tally_algorithm(
    algorithm: str,
    controls: dict[str, Any],
    datasets: list[_Dataset],
    r_seconds: dict[tuple[str, str], float],
    unavailable: str | None,
) -> tuple[list[Tally], Rows]:
    """Every control of ``algorithm`` on every dataset; with ``unavailable`` set, count R's points only."""
    tallies = {cid: Tally(algorithm, cid) for cid, c in controls.items() if c["algorithm"] == algorithm}
    rows: Rows = {}
    for data in datasets:
        first, last = int(data.meta["range"]["t_first"]), int(data.meta["range"]["t_last"])
        for cid in data.meta["control_ids"]:
            tally = tallies.get(cid)
            if tally is None:
                continue
            tally.datasets.append(data.name)
            tally.r_seconds += r_seconds.get((data.name, cid), 0.0)
            out: list[list[str]] = []
            for name in data.meta["units"]:
                expected = data.reference.get((name, cid))
                if expected is None:
                    continue  # R itself failed for this unit (see run_log.csv)
                tally.points += len(expected)
                tally.warned += sum(1 for _a, _u, warning in expected.values() if warning)
                unit = data.units.get(name)
                if unit is None or unavailable is not None:
                    tally.upper_points += sum(
                        1 for _a, upper, warning in expected.values() if not warning and not math.isnan(upper)
                    )
                    continue
                _compare_unit(
                    tally,
                    unit,
                    dataset=data.name,
                    cid=cid,
                    control=controls[cid]["resolved"],
                    first=first,
                    last=last,
                    expected=expected,
                    out=out,
                )
            rows[(data.name, cid)] = out
    if unavailable is not None:
        for tally in tallies.values():
            tally.errors.append(unavailable)
    return list(tallies.values()), rows


def _in_child(work: Callable[[], tuple[list[Tally], Rows]]) -> tuple[list[Tally], Rows] | str:
    """``work()`` in a forked child, so that a native crash (abort, segfault) is a finding, not the end of the run.

    Returns what ``work`` returned, or a description of how the child died.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send back, leave without running the parent's exit handlers
        os.close(read_fd)
        try:
            payload = pickle.dumps(("ok", work()))
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            payload = pickle.dumps(("error", f"{type(error).__name__}: {error}"))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not payload:
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            return f"crashed: killed by signal {number} ({signal.Signals(number).name})"
        return f"crashed: exit status {os.waitstatus_to_exitcode(status)}"
    kind, value = pickle.loads(payload)  # noqa: S301 - our own child, through a private pipe
    if kind != "ok":
        return f"crashed: {value}"
    result: tuple[list[Tally], Rows] = value
    return result


def compare(
    folder: Path,
    *,
    require_all: bool = True,
    algorithms: Sequence[str] | None = None,
    isolate: bool = True,
) -> Report:
    """Run every dataset and control of ``folder``/controls.json and tally agreement with ``folder``/outputs.

    ``folder`` is the surveillance folder (controls.json, data/, outputs/). With ``require_all=False``,
    datasets whose data or outputs file is absent are skipped (the subset kept in the repository). With
    ``isolate`` (and ``os.fork``), each algorithm runs in a forked child of this process: a native crash of
    one algorithm is then reported as such ("crashed") instead of ending the check.
    """
    spec = json.loads((folder / "controls.json").read_text(encoding="utf-8"))
    controls: dict[str, Any] = spec["controls"]
    problems: list[str] = []
    datasets = _load_datasets(folder, spec, require_all, problems)
    r_seconds = _r_seconds(folder)
    wanted = dict.fromkeys(c["algorithm"] for c in controls.values())
    if algorithms:
        wanted = dict.fromkeys(a for a in wanted if a in algorithms)
    by_control: dict[str, Tally] = {}
    rows: Rows = {}
    for algorithm in wanted:
        missing = _implemented(algorithm)
        if missing is None and isolate and hasattr(os, "fork"):
            outcome = _in_child(partial(_tally_algorithm, algorithm, controls, datasets, r_seconds, None))
        else:
            outcome = _tally_algorithm(algorithm, controls, datasets, r_seconds, missing)
        if isinstance(outcome, str):  # the child crashed: count R's points, all as disagreements
            tallies, found = _tally_algorithm(algorithm, controls, datasets, r_seconds, outcome)
            for tally in tallies:
                tally.crashed = True
        else:
            tallies, found = outcome
        for tally in tallies:
            tally.implemented = missing is None
        by_control.update((t.control_id, t) for t in tallies)
        rows.update(found)
    ordered = [by_control[cid] for cid in controls if cid in by_control]
    return Report(tallies=ordered, rows=rows, problems=problems)


def _compare_unit(
    tally: Tally,
    unit: Unit,
    *,
    dataset: str,
    cid: str,
    control: dict[str, Any],
    first: int,
    last: int,
    expected: dict[int, tuple[float, float, str]],
    out: list[list[str]],
) -> None:
    began = time.perf_counter()
    try:
        result = run(tally.algorithm, unit.series, control, first, last)
    except Exception as error:  # noqa: BLE001 - a crash for one unit is a finding, not the end of the check
        tally.seconds += time.perf_counter() - began
        where = traceback.extract_tb(error.__traceback__)[-1]
        tally.errors.append(
            f"{dataset}/{unit.unit}: {type(error).__name__}: {error} ({Path(where.filename).name}:{where.lineno})"
        )
        tally.upper_points += sum(
            1 for _a, upper, warning in expected.values() if not warning and not math.isnan(upper)
        )
        return
    tally.seconds += time.perf_counter() - began
    out.extend(result_rows(unit, tally.algorithm, cid, result))
    ours = {int(t): (float(result.alarm[i]), float(result.upperbound[i])) for i, t in enumerate(result.t.tolist())}
    for t, (alarm, upper, warning) in expected.items():
        got = ours.get(t)
        if got is None:
            if not warning and not math.isnan(upper):
                tally.upper_points += 1
            continue
        if _same_alarm(got[0], alarm):
            tally.alarm_same += 1
        if warning or (math.isnan(upper) and math.isnan(got[1])):
            continue
        tally.upper_points += 1
        if same_upperbound(got[1], upper):
            tally.upper_same += 1


def _accord_command() -> list[str]:
    script = Path(sys.executable).with_name("accord")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "accord.cli"]


def cli_samples(folder: Path, report: Report) -> list[tuple[str, str, str, bool, str]]:
    """Run ``accord detect`` on one dataset and control per algorithm; (algorithm, dataset, control, ok, note)."""
    spec = json.loads((folder / "controls.json").read_text(encoding="utf-8"))
    controls: dict[str, Any] = spec["controls"]
    results: list[tuple[str, str, str, bool, str]] = []
    tested = {t.control_id for t in report.tallies}
    implemented = {t.algorithm for t in report.tallies if t.implemented}
    for algorithm in ALGORITHMS:
        choice = next(
            (
                (dataset, cid)
                for dataset, meta in spec["datasets"].items()
                for cid in meta["control_ids"]
                if cid in tested and controls[cid]["algorithm"] == algorithm and (dataset, cid) in report.rows
            ),
            None,
        )
        if choice is None:
            continue
        dataset, cid = choice
        meta = spec["datasets"][dataset]
        with tempfile.TemporaryDirectory(prefix="accord-detect-") as tmp:
            output = Path(tmp) / "out.csv"
            command = [
                *_accord_command(),
                "detect",
                "--input",
                str(folder / "data" / f"{dataset}.csv"),
                "--algorithm",
                algorithm,
                "--control",
                json.dumps(controls[cid]["resolved"]),
                "--control-id",
                cid,
                "--range",
                f"{meta['range']['t_first']}:{meta['range']['t_last']}",
                "--start",
                f"{meta['start_slot'][0]},{meta['start_slot'][1]}",
                "--output",
                str(output),
            ]
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
            seconds = time.perf_counter() - began
            message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
            if algorithm not in implemented:
                # Still a failure; but the command must say so cleanly (exit 1, one line, no file).
                clean = done.returncode == 1 and not output.exists() and "not implemented" in message
                note = "not implemented, reported cleanly" if clean else "not implemented, and not reported cleanly"
                results.append((algorithm, dataset, cid, False, f"{note} (exit {done.returncode}: {message})"))
                continue
            if done.returncode != 0:
                results.append((algorithm, dataset, cid, False, f"exit {done.returncode}: {message}"))
                continue
            with output.open(newline="", encoding="utf-8") as handle:
                got = list(csv.reader(handle))
        want = report.rows[(dataset, cid)]
        if not got or tuple(got[0]) != OUTPUT_COLUMNS:
            results.append((algorithm, dataset, cid, False, f"header is {got[0] if got else 'missing'}"))
        elif got[1:] != want:
            pairs = list(zip(got[1:], want, strict=False))
            differ = [i for i, (a, b) in enumerate(pairs) if a != b]
            note = f"{len(got) - 1} rows vs {len(want)} in process, {len(differ)} differ"
            if differ:
                a, b = pairs[differ[0]]
                column = next(c for c, x, y in zip(OUTPUT_COLUMNS, a, b, strict=False) if x != y)
                note += f"; first: unit {a[1]} t {a[4]} {column} {a[OUTPUT_COLUMNS.index(column)]!r} vs "
                note += f"{b[OUTPUT_COLUMNS.index(column)]!r} in process"
            results.append((algorithm, dataset, cid, False, note))
        else:
            results.append((algorithm, dataset, cid, True, f"{len(want)} rows identical, {seconds:.2f} s"))
    return results


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def print_report(report: Report, samples: Iterable[tuple[str, str, str, bool, str]], details: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 150)
    table = Table(title="Detectors vs R surveillance 1.20.3", show_lines=False)
    for name, justify in (
        ("algorithm", "left"),
        ("control", "left"),
        ("datasets", "right"),
        ("points", "right"),
        ("alarm %", "right"),
        ("ub points", "right"),
        ("ub %", "right"),
        ("ours s", "right"),
        ("R s", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]

    def add(tally: Tally, label: str, style: str | None = None) -> None:
        status = tally.status
        colour = "green" if status.startswith("ok") else "red"
        table.add_row(
            tally.algorithm if label == "control" else label,
            tally.control_id,
            str(len(tally.datasets)),
            str(tally.points),
            _pct(tally.alarm_pct),
            str(tally.upper_points),
            _pct(tally.upper_pct),
            f"{tally.seconds:.1f}",
            f"{tally.r_seconds:.1f}",
            f"[{colour}]{status}[/{colour}]",
            style=style,
        )

    total = Tally(algorithm="all", control_id="")
    for algorithm in dict.fromkeys(t.algorithm for t in report.tallies):
        group = [t for t in report.tallies if t.algorithm == algorithm]
        subtotal = Tally(algorithm=algorithm, control_id="(all)")
        for tally in group:
            add(tally, "control")
            subtotal.add(tally)
        subtotal.implemented = all(t.implemented for t in group)
        failed = sum(1 for t in group if not t.passed)
        subtotal_status = Tally(algorithm=algorithm, control_id=f"{len(group) - failed}/{len(group)} pass")
        subtotal_status.add(subtotal)
        add(subtotal_status, algorithm, style="bold")
        table.add_section()
        total.add(subtotal)
    passed = sum(1 for t in report.tallies if t.passed)
    total.control_id = f"{passed}/{len(report.tallies)} pass"
    add(total, "TOTAL", style="bold")
    console.print(table)
    console.print(
        f"Thresholds per control: alarms ≥ {ALARM_MIN} %, upperbound ≥ {UPPERBOUND_MIN} % "
        f"(rtol {RTOL:g}; rows with an R warning excluded from the upperbound)."
    )
    for problem in report.problems:
        console.print(f"[red]problem:[/red] {problem}")
    missing = {t.algorithm: t.errors[0] for t in report.tallies if not t.implemented and t.errors}
    for algorithm, why in missing.items():
        console.print(f"[red]{algorithm}: not implemented[/red] ({why})", highlight=False)
    if details:
        for tally in report.tallies:
            if not tally.implemented:
                continue
            errors = list(dict.fromkeys(tally.errors))
            for error in errors[:details]:
                console.print(f"[red]{tally.control_id}:[/red] {error}", highlight=False)
            if len(errors) > details:
                console.print(f"[red]{tally.control_id}:[/red] … and {len(errors) - details} more", highlight=False)
    samples = list(samples)
    if samples:
        console.print("accord detect (subprocess), one dataset per algorithm:")
        for algorithm, dataset, cid, ok, note in samples:
            mark = "[green]ok[/green]" if ok else "[red]FAIL[/red]"
            console.print(f"  {mark} {algorithm:19} {dataset}/{cid}: {note}", highlight=False)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("shared", metavar="SHARED_DIR", help="holds surveillance/controls.json, data/, outputs/")
    parser.add_argument("--algorithm", action="append", choices=ALGORITHMS, help="only this algorithm (repeat)")
    parser.add_argument("--no-cli", action="store_true", help="skip the accord detect subprocess samples")
    parser.add_argument("--details", type=int, default=3, metavar="N", help="errors shown per control (default 3)")
    args = parser.parse_args(argv)
    folder = Path(args.shared) / "surveillance"
    if not (folder / "controls.json").is_file():
        print(f"detect conformance: {folder / 'controls.json'} not found", file=sys.stderr)
        return 2
    began = time.perf_counter()
    report = compare(folder, algorithms=args.algorithm)
    samples = [] if args.no_cli else cli_samples(folder, report)
    print_report(report, samples, args.details)
    ok = report.passed and all(sample[3] for sample in samples)
    print(f"detect conformance: {'passed' if ok else 'FAILED'} in {time.perf_counter() - began:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
