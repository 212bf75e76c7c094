"""``accord detect`` as a user runs it: a separate process, the in-repo subset of the R reference data.

The end-to-end cases need the algorithm modules; they compare the command's CSV with R's outputs using the
conformance thresholds (alarms 99.5 %, upper bounds 99 % within 1e-4 relative). Bad input must exit 1 with one
line on stderr that names the problem, and leave no output file (nor touch an existing one).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

SURVEILLANCE = Path(__file__).resolve().parents[2] / "data" / "surveillance"
DATA = SURVEILLANCE / "data"
OUTPUTS = SURVEILLANCE / "outputs"
SPEC = json.loads((SURVEILLANCE / "controls.json").read_text(encoding="utf-8"))
ACCORD = str(Path(sys.executable).with_name("accord"))
COLUMNS = ["dataset", "unit", "algorithm", "control_id", "t", "observed", "upperbound", "alarm", "expected", "score",
           "pvalue"]  # fmt: skip
HEADER = "dataset,unit,t,year,epoch_in_year,date,observed,freq,epoch_as_date\n"


def accord(*args: str) -> subprocess.CompletedProcess[str]:
    # No data dir, no database, no Django settings: the command must not need them.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "ACCORD_", "DATABASE_"))}
    return subprocess.run([ACCORD, "detect", *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def detect_args(dataset: str, control_id: str, output: Path, **override: str) -> list[str]:
    meta = SPEC["datasets"][dataset]
    options = {
        "--input": str(DATA / f"{dataset}.csv"),
        "--algorithm": SPEC["controls"][control_id]["algorithm"],
        "--control": json.dumps(SPEC["controls"][control_id]["resolved"]),
        "--control-id": control_id,
        "--range": f"{meta['range']['t_first']}:{meta['range']['t_last']}",
        "--start": f"{meta['start_slot'][0]},{meta['start_slot'][1]}",
        "--output": str(output),
    }
    options.update(override)
    return [item for pair in options.items() for item in pair]


def number(text: str) -> float:
    return math.nan if text == "" else float(text.replace("Inf", "inf"))


# --- end to end against R --------------------------------------------------------------------------------------

CASES = [
    ("salmonella.agona", "FF_default"),  # farringtonFlexible, integer epochs
    ("rotaBB", "FF_noufaily_m"),  # farringtonFlexible, monthly Date epochs, seasonal factor
    ("ha", "F_default"),  # farrington
    ("ha", "EARS_C3"),  # earsC
    ("syn_int_A", "CUSUM_glm_anscombe"),  # cusum, needs R's start slot
    ("salmonella.agona", "GLRNB_default"),  # glrnb
    ("rotaBB", "RKI_2"),  # rki
    ("syn_int_A", "BAYES_3"),  # bayes
]


@pytest.mark.parametrize(("dataset", "control_id"), CASES, ids=[f"{d}-{c}" for d, c in CASES])
def test_matches_r(tmp_path: Path, dataset: str, control_id: str) -> None:
    out = tmp_path / "out.csv"
    done = accord(*detect_args(dataset, control_id, out))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        ours = {(row["unit"], int(row["t"])): row for row in reader}
    with (OUTPUTS / f"{dataset}.csv").open(newline="", encoding="utf-8") as handle:
        theirs = {
            (row["unit"], int(row["t"])): row for row in csv.DictReader(handle) if row["control_id"] == control_id
        }
    assert theirs, f"no R rows for {control_id} in {dataset}"
    assert ours.keys() == theirs.keys()
    alarms = bounds = bound_points = 0
    for key, row in ours.items():
        r = theirs[key]
        assert [row[c] for c in ("dataset", "unit", "algorithm", "control_id", "observed")] == [
            r[c] for c in ("dataset", "unit", "algorithm", "control_id", "observed")
        ]
        assert row["alarm"] in ("", "0", "1")
        alarms += row["alarm"] == r["alarm"]
        a, b = number(row["upperbound"]), number(r["upperbound"])
        if r["r_warning"] or (math.isnan(a) and math.isnan(b)):
            continue
        bound_points += 1
        bounds += a == b or (not math.isnan(a) and not math.isnan(b) and abs(a - b) <= 1e-4 * max(abs(a), abs(b)))
    assert 100 * alarms / len(ours) >= 99.5, f"alarms agree on {alarms} of {len(ours)}"
    assert bound_points == 0 or 100 * bounds / bound_points >= 99, f"bounds agree on {bounds} of {bound_points}"


def test_output_to_stdout_and_start_from_the_file(tmp_path: Path) -> None:
    args = detect_args("ha", "EARS_C1", Path("-"))
    args = args[: args.index("--start")] + args[args.index("--start") + 2 :]
    done = accord(*args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + 12 * 27


# --- bad input ---------------------------------------------------------------------------------------------------


def bad_file(tmp_path: Path, body: str, header: str = HEADER) -> str:
    path = tmp_path / "bad.csv"
    path.write_text(header + body, encoding="utf-8")
    return str(path)


def good_rows(n: int = 20) -> str:
    return "".join(f"d,u,{t},2010,{t},,{t % 4},52,0\n" for t in range(1, n + 1))


BAD: dict[str, tuple[dict[str, str | tuple[str, str | None]], list[str]]] = {
    "missing file": ({"--input": "{tmp}/nope.csv"}, ["cannot read", "nope.csv"]),
    "missing columns": (
        {"--input": ("dataset,unit,t,year,epoch_in_year,date,freq\nd,u,1,2010,1,,52\n", None)},
        ["missing columns observed, epoch_as_date"],
    ),
    "non-integer count": (
        {"--input": (good_rows(5) + "d,u,6,2010,6,,2.5,52,0\n", HEADER)},
        ["line 7", "column observed", "'2.5' is not an integer"],
    ),
    "negative count": (
        {"--input": (good_rows(5) + "d,u,6,2010,6,,-3,52,0\n", HEADER)},
        ["line 7", "column observed", "-3 is negative"],
    ),
    "text count": ({"--input": ("d,u,1,2010,1,,many,52,0\n", HEADER)}, ["line 2", "column observed", "'many'"]),
    "gap in t": (
        {"--input": (good_rows(5) + "d,u,7,2010,7,,1,52,0\n", HEADER), "--range": "1:5"},
        ["unit 'u'", "gap in t", "t 6 missing"],
    ),
    "repeated t": ({"--input": (good_rows(5) + "d,u,5,2010,5,,1,52,0\n", HEADER)}, ["unit 'u'", "t 5 appears twice"]),
    "bad JSON": ({"--control": '{"method": "C1",'}, ["--control is not valid JSON"]),
    "JSON not an object": ({"--control": '["C1"]'}, ["must be a JSON object"]),
    "missing control file": ({"--control": "@{tmp}/none.json"}, ["cannot read control file", "none.json"]),
    "unknown algorithm": ({"--algorithm": "earsD"}, ["unknown algorithm 'earsD'", "earsC"]),
    "range not numbers": ({"--range": "first:last"}, ["range 'first:last' is not FIRST:LAST"]),
    "range reversed": ({"--range": "20:10"}, ["range '20:10'", "FIRST <= LAST"]),
    "range from zero": ({"--range": "0:10"}, ["range '0:10'"]),
    "range beyond the series": ({"--range": "300:310"}, ["range 300:310 goes beyond", "t 1..290"]),
    "range beyond a unit": ({"--range": "280:300"}, ["range 280:300 goes beyond unit 'chwi'", "t 1..290"]),
    "bad start": ({"--start": "2001"}, ["--start '2001' is not YEAR,EPOCH"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_exits_1_with_one_line_and_writes_nothing(tmp_path: Path, case: str) -> None:
    override: dict[str, str | tuple[str, str | None]]
    override, needles = BAD[case]
    options: dict[str, str] = {}
    for option, value in override.items():
        if isinstance(value, tuple):
            body, header = value
            options[option] = bad_file(tmp_path, body, header or "")
        else:
            options[option] = value.replace("{tmp}", str(tmp_path))
    out = tmp_path / "out.csv"
    done = accord(*detect_args("ha", "EARS_C1", out, **options))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("accord: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []


def test_bad_input_leaves_an_existing_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous results\n", encoding="utf-8")
    done = accord(*detect_args("ha", "EARS_C1", out, **{"--range": "280:300"}))
    assert done.returncode == 1
    assert out.read_text(encoding="utf-8") == "previous results\n"


def test_missing_option_is_a_usage_error(tmp_path: Path) -> None:
    args = detect_args("ha", "EARS_C1", tmp_path / "out.csv")
    done = accord(*args[: args.index("--range")])
    assert done.returncode == 2
    assert "--range" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_needs_neither_django_nor_a_database(tmp_path: Path) -> None:
    # Up to the algorithm, the command path imports no Django; bad range is checked after reading the data.
    code = (
        "import sys\nfrom accord.cli import main\n"
        f"status = main({['detect', *detect_args('ha', 'EARS_C1', tmp_path / 'o.csv', **{'--range': '280:300'})]!r})\n"
        "print(status, sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'accord')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_", "ACCORD_", "DATABASE_"))}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    status, modules = done.stdout.split(" ", 1)
    assert status == "1"
    assert "django" not in modules
    assert "accord.settings" not in modules
