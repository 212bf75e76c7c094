"""`accord counts upload`: the web upload's checks and records from the shell, with real CSV, XLSX and DHIS2 files.

Run in this process through `accord.cli.main` (on the test database, SQLite and PostgreSQL passes), and once as a
separate process on a node of its own."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from accord.cli import main
from accord.records.models import Record, Version
from accord.surveillance import actions
from accord.surveillance.models import SeriesView, Upload
from tests.cli_support import new_node
from tests.surveillance.conftest import KZ_SCO, People
from tests.surveillance.support import csv_bytes, dhis2, rows_for, week_labels


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["counts", "upload", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _xlsx(rows: list[tuple[Any, ...]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["disease", "region", "period", "count"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _dhis2_week(label: str) -> str:
    return label.replace("-W0", "W").replace("-W", "W")  # 2026-W07 -> 2026W7


def test_csv_xlsx_and_dhis2_files_are_stored_as_the_web_upload_stores_them(
    people: People, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weeks = week_labels(3)
    csv_file = tmp_path / "kz.csv"
    csv_file.write_bytes(csv_bytes(rows_for("A00", "KZ-19", [(w, i + 1) for i, w in enumerate(weeks)])))
    code, out, err = _run(capsys, str(csv_file), "--member", "KZ", "--as", "carol", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "done" and report["format"] == "csv" and report["rows"] == 3
    assert report["published"] >= 1 and report["errors"] == [] and report["error_count"] == 0
    upload = Upload.objects.get(uuid=report["upload"])
    assert upload.uploader == people.world.carol and upload.filename == "kz.csv"
    view = SeriesView.objects.get(disease="A00", region="KZ-19", year=int(weeks[-1][:4]))
    version = view.record.current_version
    assert version is not None and version.author == people.world.carol.uuid and version.tlp == "AMBER"
    assert version.envelope()["audience"]["members"] == ["KZ", "SCO"]

    # The same counts through the web upload's own path: nothing new (the same record, unchanged).
    again = actions.submit_upload(
        csv_file.read_bytes(), acting_user=people.world.carol, audience=KZ_SCO, tlp="AMBER", filename="kz.csv"
    )
    done = actions.process_upload(again.pk)
    assert done is not None and done.summary["unchanged"] >= 1 and done.summary["published"] == 0

    xlsx_file = tmp_path / "kz.xlsx"
    xlsx_file.write_bytes(_xlsx([("B05", "KZ-61", weeks[-1], 4), ("B05", "KZ-61", weeks[-2], 2)]))
    code, out, err = _run(capsys, str(xlsx_file), "--member", "KZ", "--as", "kira")
    assert code == 0, err
    assert "2 rows stored" in out and "records published" in out
    assert SeriesView.objects.filter(disease="B05", region="KZ-61").exists()

    dhis2_file = tmp_path / "kz.json"
    dhis2_file.write_bytes(
        dhis2(
            [
                {"dataElement": "A02", "orgUnit": "KZ-19", "period": _dhis2_week(weeks[-1]), "value": "3"},
                {"dataElement": "A02", "orgUnit": "KZ-19", "period": _dhis2_week(weeks[-2]), "value": "1"},
            ]
        )
    )
    code, out, err = _run(capsys, str(dhis2_file), "--member", "KZ", "--as", "carol", "--format", "dhis2", "--json")
    assert code == 0, out
    assert json.loads(out)["format"] == "dhis2"
    assert SeriesView.objects.filter(disease="A02", region="KZ-19").exists()


def test_every_bad_row_is_reported_and_nothing_is_stored(
    people: People, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weeks = week_labels(2)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            [
                ("A00", "KZ-19", weeks[0], 3),
                ("A00", "KZ-19", weeks[1], -2),
                ("ZZZ", "KZ-19", weeks[1], 1),
                ("A00", "CN-BJ", weeks[1], 1),
            ]
        )
    )
    before = Version.objects.count()
    code, out, err = _run(capsys, str(bad), "--member", "KZ", "--as", "carol")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"{bad}: row 3, column count: ")
    assert lines[1].startswith(f"{bad}: row 4, column disease: unknown disease 'ZZZ'")
    assert lines[2] == f"{bad}: row 5, column region: CN-BJ is not a region of KZ, the member you upload for"
    assert lines[-1] == f"accord: {bad} was refused; nothing was stored"
    assert Version.objects.count() == before
    code, out, _ = _run(capsys, str(bad), "--member", "KZ", "--as", "carol", "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "failed" and report["error_count"] == 3
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "count"), (4, "disease"), (5, "region")]

    # A file that is not one at all: refused before any row is read.
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    code, _, err = _run(capsys, str(broken), "--member", "KZ", "--as", "carol")
    assert code == 1 and "nothing was stored" in err
    assert Version.objects.count() == before


def test_disease_names_the_only_disease_of_the_file(
    people: People, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weeks = week_labels(2)
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(csv_bytes([("", "KZ-19", weeks[0], 3), ("B05", "KZ-19", weeks[1], 1)]))
    code, _, err = _run(capsys, str(mixed), "--member", "KZ", "--as", "carol", "--disease", "A00")
    assert code == 1
    assert f"{mixed}: row 3, column disease: B05 is not A00, the only disease of this upload" in err
    only = tmp_path / "only.csv"
    only.write_bytes(csv_bytes([("", "KZ-19", weeks[0], 3), ("A00", "KZ-19", weeks[1], 1)]))
    code, out, err = _run(capsys, str(only), "--member", "KZ", "--as", "carol", "--disease", "A00", "--json")
    assert code == 0, err
    assert json.loads(out)["rows"] == 2
    assert SeriesView.objects.filter(disease="A00", region="KZ-19").count() >= 1


def test_usage_errors_exit_2_and_store_nothing(
    people: People, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(rows_for("A00", "KZ-19", [(week_labels(1)[0], 1)])))
    cases = [
        ((str(tmp_path / "missing.csv"), "--member", "KZ", "--as", "carol"), "cannot read"),
        ((str(good), "--member", "XX", "--as", "carol"), "no member with code 'XX'"),
        ((str(good), "--member", "KZ", "--as", "nobody"), "no account 'nobody'"),
        ((str(good), "--member", "KZ", "--as", "alice"), "account alice belongs to CN, not to KZ"),
        ((str(good), "--member", "KZ"), "name an account of KZ with --as"),
        ((str(good), "--member", "KZ", "--as", "carol", "--disease", "Q99.9"), "unknown disease 'Q99.9'"),
        ((str(good), "--member", "KZ", "--as", "carol", "--audience", "K"), "--audience"),
    ]
    for args, message in cases:
        code, out, err = _run(capsys, *args)
        assert code == 2 and out == "" and message in err, (args, code, err)
    with pytest.raises(SystemExit) as exited:
        main(["counts", "upload", str(good)])  # --member is required
    assert exited.value.code == 2
    capsys.readouterr()
    # Who may not upload (a viewer) is refused like on the web: exit 1, nothing stored.
    code, _, err = _run(capsys, str(good), "--member", "KZ", "--as", "dave")
    assert code == 1 and "analyst or focal_point" in err
    assert not Record.objects.filter(kind="case_counts").exists()


@pytest.mark.sqlite_pass
def test_a_node_uploads_from_the_shell(tmp_path: Path) -> None:
    """As an operator runs it: a separate process on a node of its own (its service account, its member)."""
    weeks = week_labels(2)
    with new_node(tmp_path, "kz") as kz:
        kz.run("init", "--name", "accord-kz", "--member", "KZ")
        data = tmp_path / "weekly.csv"
        data.write_bytes(csv_bytes(rows_for("A00", "KZ-19", [(w, 2) for w in weeks])))
        result = kz.run("counts", "upload", str(data), "--member", "KZ", "--json")
        report = json.loads(result.stdout)
        assert report["status"] == "done" and report["rows"] == 2 and report["published"] >= 1
        kinds = {json.loads(line)["kind"] for line in kz.run("records", "list", "--json").stdout.splitlines()}
        assert "case_counts" in kinds
        again = json.loads(kz.run("counts", "upload", str(data), "--member", "KZ", "--json").stdout)
        assert again["published"] == 0 and again["unchanged"] >= 1
        refused = kz.run("counts", "upload", str(data), "--member", "KZ", "--tlp", "AMBER", "--as", "x", check=False)
        assert refused.returncode == 2 and "no account 'x'" in refused.stderr
        assert kz.run("audit", "verify", "--no-peers", check=False).returncode == 0
