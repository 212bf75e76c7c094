"""The mutual assistance CSV exports with HXL hashtags, read back with libhxl (the HXL reference library)."""

from __future__ import annotations

import csv
import io

import hxl
import pytest

from accord.lib import hxl_csv
from accord.lib.hxl_csv import DeploymentRow, OfferRow, RequestRow


def _request(**changes: object) -> RequestRow:
    row: RequestRow = {
        "id": "0b6f1c1e-0000-4000-8000-000000000001",
        "incident": "0b6f1c1e-0000-4000-8000-0000000000aa",
        "member": "KZ",
        "organisation": "Ministry of Health",
        "resource_type": "pcr_tests",
        "resource_name": "PCR tests",
        "quantity": 10000,
        "unit": "tests",
        "needed_by": "2026-03-01",
        "region": "KZ-ALA",
        "priority": "high",
        "status": "partly_covered",
        "offered": 12000,
        "accepted": 6000,
        "committed": 6000,
        "delivered": 2000,
        "gap": 4000,
    }
    row.update(changes)  # type: ignore[typeddict-item]
    return row


def _read(data: bytes) -> hxl.model.Dataset:
    return hxl.data(hxl.input.make_input(io.BytesIO(data), hxl.input.InputOptions()))


def test_request_csv_has_names_then_hashtags_that_libhxl_reads() -> None:
    data = hxl_csv.requests_csv([_request(), _request(id="second", member="KG", region=None, gap=0)])
    source = _read(data)
    tags = [column.display_tag for column in source.columns]
    assert tags == [tag for _, _, tag in hxl_csv.REQUEST_COLUMNS]
    for wanted in ("#org+name", "#country+code", "#sector", "#adm1+code", "#item+name", "#item+code", "#status"):
        assert wanted in tags
    assert [column.header for column in source.columns][:3] == ["Request", "Incident", "Requesting member"]
    rows = list(source)
    assert len(rows) == 2
    first = rows[0]
    assert first.get("#meta+id") == "0b6f1c1e-0000-4000-8000-000000000001"
    assert first.get("#country+code") == "KZ"
    assert first.get("#adm1+code") == "KZ-ALA"
    assert first.get("#item+code") == "pcr_tests"
    assert first.get("#item+name") == "PCR tests"
    assert first.get("#sector") == "health"
    assert first.get("#item+num+requested") == "10000"
    assert first.get("#item+num+accepted") == "6000"
    assert first.get("#item+num+delivered") == "2000"
    assert first.get("#item+num+gap") == "4000"
    assert first.get("#date+needed") == "2026-03-01"
    assert first.get("#meta+priority") == "high"
    assert first.get("#status") == "partly_covered"
    # The first #item+num column is the requested quantity: a reader asking for "#item+num" gets it.
    assert first.get("#item+num") == "10000"
    assert rows[1].get("#adm1+code") is None and rows[1].get("#country+code") == "KG"
    # libhxl's own filters work on it: the gaps of the open requests, summed.
    total = sum(int(r.get("#item+num+gap")) for r in _read(data).with_rows("#country+code=KZ"))
    assert total == 4000


def test_offer_and_deployment_csvs() -> None:
    offer: OfferRow = {
        "id": "offer-1",
        "incident": "incident-1",
        "request": None,
        "member": "CN",
        "organisation": "National Health Commission",
        "resource_type": "emt_type1_mobile",
        "resource_name": "EMT type 1 mobile",
        "quantity": 2,
        "unit": "team",
        "accepted": 1,
        "available_from": "2026-02-10",
        "available_until": None,
        "status": "partly_accepted",
        "sector": "emergency_medical_teams",
    }
    rows = list(_read(hxl_csv.offers_csv([offer])))
    assert rows[0].get("#meta+id") == "offer-1"
    assert rows[0].get("#meta+request") is None  # libhxl reads an empty cell as None
    assert rows[0].get("#country+code+provider") == "CN"
    assert rows[0].get("#org+name+provider") == "National Health Commission"
    assert rows[0].get("#item+num+offered") == "2"
    assert rows[0].get("#item+num+accepted") == "1"
    assert rows[0].get("#date+start") == "2026-02-10"
    assert rows[0].get("#date+end") is None
    assert rows[0].get("#sector") == "emergency_medical_teams"

    deployment: DeploymentRow = {
        "id": "dep-1",
        "incident": "incident-1",
        "offer": "offer-1",
        "member": "CN",
        "organisation": "National Health Commission",
        "resource_type": "emt_type1_mobile",
        "resource_name": "EMT type 1 mobile",
        "quantity": 1,
        "unit": "team",
        "status": "arrived",
        "region": "KZ-ALA",
        "location": "Almaty City Hospital No. 7",
        "started": "2026-02-11",
        "arrived": "2026-02-12T08:30:00+05:00",
        "ended": None,
        "contact": "Dr Li, +86 10 0000 0000",
    }
    source = _read(hxl_csv.deployments_csv([deployment]))
    assert "#contact" in [c.display_tag for c in source.columns]
    row = next(iter(source))
    assert row.get("#org+provider") == "National Health Commission"
    assert row.get("#adm1+code") == "KZ-ALA"
    assert row.get("#loc+name") == "Almaty City Hospital No. 7"
    assert row.get("#item+num") == "1"
    assert row.get("#status") == "arrived"
    assert row.get("#date+arrived") == "2026-02-12T08:30:00+05:00"
    assert row.get("#contact") == "Dr Li, +86 10 0000 0000"


@pytest.mark.parametrize("text", ["=1+2", "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"])
def test_a_cell_a_spreadsheet_would_evaluate_is_neutralised(text: str) -> None:
    data = hxl_csv.requests_csv([_request(organisation=text, resource_name=text)])
    cells = list(csv.reader(io.StringIO(data.decode("utf-8"))))[2]
    assert cells[3] == "'" + text
    assert cells[6] == "'" + text
    assert all(not cell.startswith(hxl_csv.FORMULA_STARTS) for cell in cells)
    # libhxl reads a carriage return inside a cell as a newline
    assert next(iter(_read(data))).get("#org+name") == "'" + text.replace("\r", "\n")


def test_ordinary_text_commas_quotes_and_newlines_survive() -> None:
    text = 'Ministry of Health, "Almaty"\nsecond line — 卫生部'
    data = hxl_csv.requests_csv([_request(organisation=text, quantity=0)])
    row = next(iter(_read(data)))
    assert row.get("#org+name") == text
    assert row.get("#item+num+requested") == "0"


def test_only_text_numbers_and_none_are_cells() -> None:
    with pytest.raises(TypeError, match="quantity"):
        hxl_csv.requests_csv([_request(quantity=1.5)])


def test_no_rows_still_gives_both_header_rows() -> None:
    source = _read(hxl_csv.deployments_csv([]))
    assert [c.display_tag for c in source.columns] == [tag for _, _, tag in hxl_csv.DEPLOYMENT_COLUMNS]
    assert list(source) == []
