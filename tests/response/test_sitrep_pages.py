"""The situation report pages (Django test client): file a report from the form, correct it, the errors named on
their fields with nothing stored, the reports on the incident page and the consolidated report of two members."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.urls import reverse

from accord.records.models import Record
from accord.response.sitrep_periods import today_anywhere
from tests.conftest import client_for
from tests.response.conftest import People, measles, text_of


def _report(day: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "period_start": day,
        "period_end": day,
        "figures-new_cases": "5",
        "figures-new_deaths": "1",
        "figures-cumulative_cases": "20",
        "figures-cumulative_deaths": "2",
        "region-0-region": "KZ-61",
        "region-0-new_cases": "4",
        "region-0-new_deaths": "1",
        "region-1-region": "",
        "measures": ["isolation", "risk_communication"],
        "narrative": "Cases among livestock workers.",
    }
    data.update(changes)
    return data


def test_file_correct_and_consolidate_reports(people: People) -> None:
    incident = measles(people, regions=["KZ-61", "KG-O"])
    carol, kira = client_for(people.world.carol), client_for(people.kira)
    day = (today_anywhere() - timedelta(days=1)).isoformat()
    form = text_of(carol.get(reverse("incident-sitrep-new", args=[incident.uuid])))
    assert 'id="region-0-new_cases"' in form and "Turkistan Region" in form and "Osh Region" not in form
    response = carol.post(reverse("incident-sitrep-new", args=[incident.uuid]), _report(day))
    assert response.status_code == 302 and response["Location"].endswith("#sitreps")
    sitrep = Record.objects.get(kind="sitrep")
    assert sitrep.current_version is not None
    figures = sitrep.current_version.body["figures"]
    assert figures["by_region"] == [{"region": "KZ-61", "new_cases": 4, "new_deaths": 1}]
    assert [m["type"] for m in sitrep.current_version.body["measures"]] == ["isolation", "risk_communication"]
    # The same period again: a correction, the report's next version.
    carol.post(reverse("incident-sitrep-new", args=[incident.uuid]), _report(day, **{"figures-new_cases": "6"}))
    assert Record.objects.filter(kind="sitrep").count() == 1
    kg = {"region-0-region": "KG-O", "figures-cumulative_cases": "9"}
    assert kira.post(reverse("incident-sitrep-new", args=[incident.uuid]), _report(day, **kg)).status_code == 302
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert page.count('class="sitrep sitrep-') == 2 and "corrected, version 2" in page and "<svg" in page
    consolidated = text_of(carol.get(reverse("incident-consolidated", args=[incident.uuid]), {"period_end": day}))
    total = re.search(r'id="total-new-cases">(\d+)<', consolidated)
    assert total is not None and total.group(1) == "11"  # 6 (corrected) + 5, the first KZ figure not counted
    assert f"/sitreps/consolidated.csv?period_end={day}" in consolidated


def test_bad_figures_are_named_on_their_fields_and_nothing_is_stored(people: People) -> None:
    incident = measles(people, regions=["KZ-61", "KG-O"])
    carol = client_for(people.world.carol)
    day = (today_anywhere() - timedelta(days=1)).isoformat()
    bad = _report(day, **{"figures-new_cases": "-3", "figures-new_deaths": ""})
    response = carol.post(reverse("incident-sitrep-new", args=[incident.uuid]), bad)
    assert response.status_code == 400
    links = re.findall(r'<li><a href="#([\w-]+)">', text_of(response))
    assert links == ["figures-new_cases", "figures-new_deaths"]
    assert 'id="figures-new_cases-error"' in text_of(response)
    # A rule of the kind: cumulative below new cases, named on its field by the action.
    response = carol.post(
        reverse("incident-sitrep-new", args=[incident.uuid]), _report(day, **{"figures-cumulative_cases": "1"})
    )
    assert response.status_code == 400 and 'href="#figures-' in text_of(response)
    future = (today_anywhere() + timedelta(days=3)).isoformat()
    response = carol.post(reverse("incident-sitrep-new", args=[incident.uuid]), _report(future))
    assert response.status_code == 400 and '<a href="#period_end">' in text_of(response)
    assert not Record.objects.filter(kind="sitrep").exists()
    # Not an affected member: the Secretariat and CN do not file.
    assert client_for(people.world.sam).get(reverse("incident-sitrep-new", args=[incident.uuid])).status_code == 403
