"""``cap validate`` and ``cap convert``: output contract and exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accord.lib.cap import parse, validate
from accord.lib.cap.commands import add_commands, main
from accord.lib.cap.leaves import difference, leaves
from accord.lib.cap.secure import parse_xml
from tests.lib.test_cap_rules import GOOD_ALERT, GOOD_ATOM, alert

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
KEYS = ["file", "kind", "version", "valid_xsd", "valid", "errors"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    documents = {
        "good.xml": GOOD_ALERT.encode(),
        "zero.xml": alert("<circle>43.25,76.95 10</circle>", "<circle>43.25,76.95 0</circle>").encode(),
        "bad.xml": alert("<web>https://moh.example.kz/alerts/42</web>", "<web>nope</web>").encode(),
        "feed.atom": GOOD_ATOM.encode(),
        "text.txt": b"\x89PNG\r\n\x1a\n not xml at all",
        "empty.xml": b"",
        "cap11.cap": (DATA / "google-cap-library__earthquake.cap").read_bytes(),
    }
    for name, content in documents.items():
        (tmp_path / name).write_bytes(content)
    return {name: tmp_path / name for name in documents}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_json_lines_follow_the_contract(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    names = ["good.xml", "zero.xml", "feed.atom", "cap11.cap"]
    code, out, _ = run(capsys, "validate", "--json", *(str(files[name]) for name in names))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [list(line) for line in lines] == [KEYS] * 4
    assert [line["file"] for line in lines] == [str(files[name]) for name in names]
    good, zero, feed, cap11 = lines
    assert good == {
        "file": str(files["good.xml"]),
        "kind": "alert",
        "version": "1.2",
        "valid_xsd": True,
        "valid": True,
        "errors": [],
    }
    assert zero["valid"] is True
    assert zero["errors"] == [
        {
            "rule": "CAP-CIRCLE-ZERO",
            "severity": "warning",
            "path": "/alert/info[1]/area[1]/circle[1]",
            "message": "a circle of radius 0 covers no area",
        }
    ]
    assert (feed["kind"], feed["version"], feed["valid_xsd"]) == ("atom-feed", None, None)
    assert (cap11["version"], cap11["valid_xsd"], cap11["valid"]) == ("1.1", False, True)


def test_validate_exit_1_when_any_file_is_invalid(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "validate", "--json", str(files["good.xml"]), str(files["text.txt"]), str(files["empty.xml"])
    )
    assert code == 1
    good, text, empty = (json.loads(line) for line in out.splitlines())
    assert good["valid"] is True
    for line in (text, empty):
        assert (line["kind"], line["version"], line["valid_xsd"], line["valid"]) == ("other", None, None, False)
        assert [error["rule"] for error in line["errors"]] == ["CAP-XML"]


def test_validate_human_output(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(files["good.xml"]), str(files["bad.xml"]))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{files['good.xml']}: valid"
    assert lines[1] == f"{files['bad.xml']}: invalid"
    assert lines[2].startswith("  error CAP-WEB-URI /alert/info[1]/web: ")


def test_validate_missing_file_is_a_usage_error(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(files["good.xml"]), str(files["good.xml"].parent / "missing.xml"))
    assert code == 2
    assert out == ""
    assert "missing.xml" in err


def test_validate_max_bytes(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--json", "--max-bytes", "100", str(files["good.xml"]))
    assert code == 1
    assert [error["rule"] for error in json.loads(out)["errors"]] == ["CAP-SIZE"]


def test_convert_to_json_and_back(files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "convert", "--to", "json", str(files["good.xml"]))
    assert code == 0
    form = json.loads(out)
    assert form["identifier"] == "KZ-MOH-2026-0042"
    (tmp_path / "alert.json").write_text(out, encoding="utf-8")
    code, xml, _ = run(capsys, "convert", "--to", "xml", str(tmp_path / "alert.json"))
    assert code == 0
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert parse(xml.encode()).alert == parse(GOOD_ALERT.encode()).alert
    assert validate(xml.encode()).valid


@pytest.mark.parametrize(
    "name",
    [
        "google-cap-library__canada_signed.cap",  # empty <addresses/> and <incidents/>, an XML signature
        "google-cap-library__canada_errors.cap",  # empty <addresses/> and <references/>
        "sahana-eden__Flood.xml",  # an <info> without <language>
        "meteoalert-api__ireland_sample_detail.xml",
    ],
)
def test_convert_to_json_then_to_xml_keeps_every_leaf(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "convert", "--to", "json", str(DATA / name))
    assert code == 0
    (tmp_path / "alert.json").write_text(out, encoding="utf-8")
    code, xml, _ = run(capsys, "convert", "--to", "xml", str(tmp_path / "alert.json"))
    assert code == 0
    original = parse_xml((DATA / name).read_bytes(), 1 << 22)
    assert difference(leaves(original), leaves(parse_xml(xml.encode(), 1 << 22))) == []


def test_convert_upgrades_old_versions_and_notes_it(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, xml, err = run(capsys, "convert", "--to", "xml", str(files["cap11.cap"]))
    assert code == 0
    assert "urn:oasis:names:tc:emergency:cap:1.2" in xml
    assert "note: CAP 1.1 → 1.2" in err
    assert validate(xml.encode()).version == "1.2"


@pytest.mark.parametrize("content", [b"{not json", b'{"identifier": 1}', b"<notcap/>", b"plain text"])
def test_convert_refuses_what_it_cannot_read(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "input").write_bytes(content)
    code, out, err = run(capsys, "convert", "--to", "xml", str(tmp_path / "input"))
    assert code == 1
    assert out == ""
    assert err.startswith("accord: ")


def test_convert_missing_file_and_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", "--to", "json", str(tmp_path / "nope"))[0] == 2
    with pytest.raises(SystemExit) as caught:
        main(["convert", "--to", "yaml", str(tmp_path / "nope")])
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        main(["validate"])
    assert caught.value.code == 2


def test_add_commands_plugs_into_a_host_parser(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="accord")
    add_commands(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(["cap", "validate", "--json", str(files["good.xml"]), "--data-dir", "/tmp/x"])
    assert args.django is False and args.data_dir == "/tmp/x"
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    args = parser.parse_args(["cap", "convert", "--to", "json", str(files["good.xml"])])
    assert args.django is False and args.func(args) == 0


def test_module_entry_point_runs_as_a_subprocess(files: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "accord.lib.cap.commands", "validate", "--json", str(files["text.txt"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 1, result.stderr
    line = json.loads(result.stdout)
    assert (line["kind"], line["valid"], line["errors"][0]["rule"]) == ("other", False, "CAP-XML")
    assert "Traceback" not in result.stderr
