"""The sections the library brings to the alliances' pages: each alliance's newest documents, the law alliance's
comparison by topic, and the agriculture alliance's One Health list (incidents with the animal, plant or environment
domain, and their alerts), each as the page's reader may see it."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.test import RequestFactory

from accord.alerts import actions as alert_actions
from accord.alliances import library_actions, library_onehealth, sections
from accord.alliances.models import Alliance
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import actions as response_actions
from tests.alliances.library_support import Shelf, shelf
from tests.conftest import World, client_for

__all__ = ["shelf"]


def _rendered(account: Any, slug: str) -> dict[str, str]:
    """The library's sections of the alliance's page as `account` reads it, by template name."""
    request = RequestFactory().get(f"/alliances/{slug}/")
    request.user = account
    found: dict[str, str] = {}
    for template, context in sections.for_alliance(request, Alliance.objects.get(slug=slug)):
        if template.startswith("alliances/library_"):
            found[template.removeprefix("alliances/library_section_").removesuffix(".html")] = render_to_string(
                template, context, request=request
            )
    return found


def _incident(world: World, title: str, domains: list[str], audience: Audience) -> Record:
    version = response_actions.open_incident(
        title={"en": title},
        hazard="A22" if "animal" in domains else "B05",
        affected_members=["KZ"],
        audience=audience,
        tlp="GREEN",
        acting_user=world.carol,
        domains=domains,
    )
    return Record.objects.get(uuid=version.record_uuid)


def test_the_one_health_list_of_the_agriculture_alliance(shelf: Shelf) -> None:
    world = shelf.world
    anthrax = _incident(world, "Anthrax in cattle", ["human", "animal"], Audience(everyone=True))
    measles = _incident(world, "Measles in schools", ["human"], Audience(everyone=True))
    locust = _incident(world, "Locusts in the south", ["plant", "environment"], Audience(members=["KZ", "RU"]))
    published = alert_actions.publish_alert(
        {
            "info": [
                {
                    "category": ["Health"],
                    "event": "Anthrax",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "headline": "Anthrax in Turkistan cattle",
                    "area": [{"areaDesc": "Turkistan"}],
                }
            ]
        },
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    )
    alert_uuid = published.version.record_uuid
    response_actions.link_record(anthrax, target=str(alert_uuid), acting_user=world.carol)

    seen_by_ru = {e["id"] for e in library_onehealth.listed(Principal.of(shelf.ruslan))}
    assert seen_by_ru == {str(anthrax.uuid), str(locust.uuid)}  # measles is human only
    seen_by_cn = {e["id"] for e in library_onehealth.listed(Principal.of(world.alice))}
    assert seen_by_cn == {str(anthrax.uuid)}  # the locusts are KZ's and RU's to see

    html = _rendered(world.alice, "agriculture")["onehealth"]
    assert f'href="/incidents/{anthrax.uuid}/"' in html and f'href="/alerts/{alert_uuid}/"' in html
    assert str(measles.uuid) not in html and str(locust.uuid) not in html
    assert "Animal health" in html
    ru_html = _rendered(shelf.ruslan, "agriculture")["onehealth"]
    assert f'href="/incidents/{locust.uuid}/"' in ru_html
    # only on the agriculture alliance's page
    assert "onehealth" not in _rendered(world.alice, "medicine")


def test_each_alliance_lists_its_newest_documents(shelf: Shelf) -> None:
    visible = library_actions.add_document(
        "medicine",
        acting_user=shelf.li,
        doc_type="report",
        title={"en": "Annual report"},
        languages=["en"],
        date="2025",
    )
    hidden = library_actions.add_document(
        "medicine",
        acting_user=shelf.li,
        doc_type="report",
        title={"en": "Internal report"},
        languages=["en"],
        date="2025",
        audience=Audience(members=["CN"]),
        tlp="AMBER",
    )
    carol = _rendered(shelf.world.carol, "medicine")["documents"]
    assert f"/library/{visible.record_uuid}/" in carol and f"/library/{hidden.record_uuid}/" not in carol
    assert "All 1 document of the alliance" in carol and "/library/new/" not in carol
    li = _rendered(shelf.li, "medicine")["documents"]
    assert f"/library/{hidden.record_uuid}/" in li and "/library/new/?alliance=medicine" in li
    assert f"/library/{visible.record_uuid}/" not in _rendered(shelf.li, "law")["documents"]


def test_the_law_alliance_shows_the_comparison(shelf: Shelf) -> None:
    library_actions.add_instrument(
        {
            "member": "RU",
            "title": "Закон о карантине (демо)",
            "original_language": "ru",
            "adopted": "2020-01-01",
            "status": "in_force",
            "citation": "Demo",
            "topics": ["quarantine"],
        },
        acting_user=shelf.ruslan,
    )
    html = _rendered(shelf.world.carol, "law")["legal"]
    assert "legal-compare" in html and "Закон о карантине (демо)" in html
    assert "legal" not in _rendered(shelf.world.carol, "medicine")


def test_the_alliance_pages_include_the_sections(shelf: Shelf) -> None:
    world = shelf.world
    anthrax = _incident(world, "Anthrax in cattle", ["animal"], Audience(everyone=True))
    document = library_actions.add_document(
        "law", acting_user=shelf.ruslan, doc_type="report", title={"en": "Quarantine law compared"}, languages=["en"],
        date="2025",
    )  # fmt: skip
    library_actions.add_instrument(
        {
            "member": "RU",
            "title": "Закон о карантине (демо)",
            "original_language": "ru",
            "adopted": "2020-01-01",
            "status": "in_force",
            "citation": "Demo",
            "topics": ["quarantine"],
        },
        acting_user=shelf.ruslan,
    )
    client = client_for(world.carol)
    law = client.get("/alliances/law/").content.decode()
    assert f"/library/{document.record_uuid}/" in law and 'class="records legal-compare"' in law
    assert "Закон о карантине (демо)" in law and 'id="one-health"' not in law
    agriculture = client.get("/alliances/agriculture/").content.decode()
    assert 'id="one-health"' in agriculture and f"/incidents/{anthrax.uuid}/" in agriculture
    assert "legal-compare" not in agriculture
