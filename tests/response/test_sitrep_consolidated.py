"""The consolidated situation report: sums, corrections never counted twice, gaps, missing members, the audience;
its CSV with HXL hashtags (read back with libhxl) and its PDF (text extracted with pypdf)."""

from __future__ import annotations

import io
from typing import Any

import hxl
import pypdf
import pytest
from django.test import Client

from tests.response.conftest import Api, People
from tests.response.sitrep_support import consolidated, day, file, open_incident, report

pytestmark = pytest.mark.django_db


def _three_members(people: People) -> tuple[Api, Api, str]:
    carol, kira = Api(people.world.carol), Api(people.kira)
    incident = open_incident(
        carol, affected_members=["KZ", "KG", "UZ"], audience={"members": ["KZ", "KG", "UZ", "CN", "SCO"]}
    )
    # KZ reports daily (days 0-6, a gap on day 3), corrects day 6 twice; KG reports the week at once; UZ nothing.
    cumulative = 0
    for offset in (0, 1, 2, 4, 5, 6):
        cumulative += offset + 1
        file(carol, incident, report(day(offset), new=offset + 1, cumulative=cumulative, deaths=0))
    file(carol, incident, report(day(6), new=10, cumulative=cumulative + 3, deaths=1, cumulative_deaths=1), 200)
    file(carol, incident, report(day(6), new=8, cumulative=cumulative + 1, deaths=1, cumulative_deaths=1), 200)
    file(
        kira,
        incident,
        report(
            day(0),
            day(6),
            new=20,
            cumulative=50,
            deaths=2,
            cumulative_deaths=4,
            figures={
                "by_region": [{"region": "KG-O", "new_cases": 15, "new_deaths": 2}, {"region": "KG-J", "new_cases": 5}]
            },
        ),
    )
    return carol, kira, incident


def test_week_merges_members_counts_corrections_once_and_names_the_missing(people: People) -> None:
    carol, _, incident = _three_members(people)
    week = consolidated(carol, incident, period_end=day(6), period_start=day(0))
    kz, kg, uz = week["members"]
    # KZ: days 0,1,2,4,5 = 1+2+3+5+6, day 6 as last corrected: 8 (not 7, 10 and 8).
    assert kz["member"] == "KZ" and kz["new_cases"] == 1 + 2 + 3 + 5 + 6 + 8
    assert kz["cumulative_cases"] == 1 + 2 + 3 + 5 + 6 + 7 + 1 and kz["new_deaths"] == 1
    assert kz["status"] == "partial" and kz["gaps"] == [{"start": day(3), "end": day(3)}]
    corrected = [r for r in kz["reports"] if r["corrected"]]
    assert len(kz["reports"]) == 6 and [(r["period_end"], r["seq"]) for r in corrected] == [(day(6), 3)]
    assert kg["status"] == "reported" and kg["new_cases"] == 20 and kg["cumulative_deaths"] == 4
    assert kg["by_region"] == [
        {"region": "KG-J", "new_cases": 5, "new_deaths": 0},
        {"region": "KG-O", "new_cases": 15, "new_deaths": 2},
    ]
    assert uz["status"] == "missing" and uz["cumulative_cases"] is None and uz["reports"] == []
    assert week["missing_members"] == ["UZ"]
    assert week["totals"]["new_cases"] == kz["new_cases"] + 20
    assert week["totals"]["new_deaths"] == 1 + 2
    assert week["totals"]["cumulative_cases"] == kz["cumulative_cases"] + 50
    assert week["totals"]["cumulative_deaths"] == 1 + 4
    assert week["totals"]["reporting_members"] == 2


def test_default_period_follows_the_schedule_and_cumulative_is_carried_forward(people: People) -> None:
    carol, _, incident = _three_members(people)
    # Level 0: weekly, so period_end alone is the seven days up to it.
    assert consolidated(carol, incident, period_end=day(6))["period_start"] == day(0)
    # A daily view of day 3: KZ has no report ending that day; its day-2 cumulative is carried forward.
    one_day = consolidated(carol, incident, period_end=day(3), period_start=day(3))
    kz = one_day["members"][0]
    assert kz["status"] == "missing" and kz["carried_forward"] and kz["cumulative_cases"] == 1 + 2 + 3
    assert kz["cumulative_as_of"] == day(2)
    assert one_day["missing_members"] == ["KZ", "KG", "UZ"]  # KG's week ends on day 6
    assert one_day["totals"]["cumulative_cases"] == 6 and one_day["totals"]["carried_forward"] == ["KZ"]
    assert one_day["totals"]["new_cases"] == 0


def test_what_a_member_may_not_see_is_not_counted(people: People) -> None:
    _, _, incident = _three_members(people)
    # Umid (UZ) sees the incident and its reports; Ivan (IN) sees neither.
    assert consolidated(Api(people.umid), incident, period_end=day(6))["totals"]["reporting_members"] == 2
    assert (
        Api(people.ivan).get(f"/api/v1/incidents/{incident}/sitreps/consolidated", period_end=day(6)).status_code == 404
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "period_end"),
        ({"period_end": "2026-13-01"}, "period_end"),
        ({"period_end": day(0), "period_start": day(1)}, "period_start"),
        ({"period_end": day(0), "period_start": "2024-01-01"}, "period_start"),
        ({"period_end": day(0), "format": "xml"}, "format"),
    ],
)
def test_bad_consolidation_queries(people: People, params: dict[str, Any], field: str) -> None:
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    response = carol.get(f"/api/v1/incidents/{incident}/sitreps/consolidated", **params)
    assert 400 <= response.status_code < 500 and response.json()["field"] == field, response.content


def test_csv_carries_hxl_hashtags_that_libhxl_reads(people: People) -> None:
    carol, _, incident = _three_members(people)
    week = consolidated(carol, incident, period_end=day(6))
    for path, params in (("consolidated.csv", {}), ("consolidated", {"format": "csv"})):
        response = carol.get(f"/api/v1/incidents/{incident}/sitreps/{path}", period_end=day(6), **params)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        source = hxl.data(hxl.input.make_input(io.BytesIO(response.content), hxl.input.InputOptions()))
        tags = source.display_tags
        for tag in ("#country+code", "#adm1+code", "#affected+infected+new", "#affected+killed+new", "#date+end"):
            assert tag in tags, tags
        rows = list(source)
        countries = [r for r in rows if r.get("#meta+level") == "country"]
        assert [r.get("#country+code") for r in countries] == ["KZ", "KG", "UZ"]
        assert sum(int(r.get("#affected+infected+new")) for r in countries) == week["totals"]["new_cases"]
        assert sum(int(r.get("#affected+killed+new")) for r in countries) == week["totals"]["new_deaths"]
        assert sum(int(r.get("#affected+infected+total") or 0) for r in countries) == week["totals"]["cumulative_cases"]
        regions = {
            r.get("#adm1+code"): int(r.get("#affected+infected+new")) for r in rows if r.get("#meta+level") == "adm1"
        }
        assert regions == {"KG-O": 15, "KG-J": 5}
        assert {r.get("#date+end") for r in rows} == {day(6)}
        assert next(r for r in countries if r.get("#country+code") == "UZ").get("#status") == "missing"


def test_pdf_renders_with_the_totals_curves_and_map(people: People) -> None:
    carol, _, incident = _three_members(people)
    week = consolidated(carol, incident, period_end=day(6))
    response = carol.get(f"/api/v1/incidents/{incident}/sitreps/consolidated.pdf", period_end=day(6))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Consolidated situation report" in text and "Measles across the Fergana valley" in text
    totals = week["totals"]
    line = f"{totals['new_cases']} {totals['new_deaths']} {totals['cumulative_cases']} {totals['cumulative_deaths']}"
    assert line in text, text
    assert "No report for this period from: UZ" in text
    assert "KG-O" in text
    # In the caller's language, the labels translated and the Cyrillic and Chinese text drawn.
    for language, heading in (("ru", "Сводный ситуационный отчёт"), ("zh-hans", "综合情况报告")):
        localised = Client().get(
            f"/api/v1/incidents/{incident}/sitreps/consolidated",
            {"period_end": day(6), "format": "pdf"},
            headers={**carol._auth(), "Accept-Language": language},
        )
        assert localised.status_code == 200
        pages = pypdf.PdfReader(io.BytesIO(localised.content)).pages
        assert heading in pages[0].extract_text()
