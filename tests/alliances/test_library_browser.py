"""The library in a real browser: li (an expert of a medicine alliance council university, desktop width, keyboard)
adds a guideline through the form: first with an HTML page named .pdf, which is refused on the file field, then with
a PDF. carol (Kazakhstan, 360 px) searches the library with another Russian word form than the abstract's, opens
the document and downloads its PDF. ruslan (a Russian law alliance university) adds an entry to the legal register
(a link that is not http(s) refused on its field first), which carol finds in the comparison by topic. Every page
is checked with axe-core and for horizontal overflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accord.records.envelope import Audience
from accord.response import actions as response_actions
from tests.alliances.library_support import HTML, Shelf, pdf_bytes, shelf
from tests.conftest import PASSWORD
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.conftest import browser
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser

__all__ = ["browser", "shelf"]


@pytest.fixture
def people(transactional_db: None, shelf: Shelf) -> Shelf:
    """The shelf's people, and an animal health incident that everyone may see (for the One Health list)."""
    response_actions.open_incident(
        title={"en": "Anthrax in cattle", "ru": "Сибирская язва у крупного рогатого скота"},
        hazard="A22",
        affected_members=["KZ"],
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=shelf.world.carol,
        domains=["human", "animal"],
    )
    return shelf


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def test_upload_search_in_russian_and_download(
    people: Shelf, live_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    pdf = pdf_bytes("Anthrax in livestock")
    (tmp_path / "anthrax.pdf").write_bytes(pdf)
    (tmp_path / "page.pdf").write_bytes(HTML)
    desk, narrow, lawyer = _context(browser, DESKTOP), _context(browser, NARROW), _context(browser, DESKTOP)
    try:
        li, carol = desk.new_page(), narrow.new_page()
        log_in(li, live_server.url, "li", PASSWORD)
        log_in(carol, live_server.url, "carol", PASSWORD)

        li.goto(f"{live_server.url}/library/")
        li.locator("#library-add").focus()
        with li.expect_navigation():
            li.keyboard.press("Enter")
        check_page(li, label="library add form")
        li.locator("#type").select_option("guideline")
        li.locator("#title_en").focus()
        li.keyboard.type("Anthrax in livestock")
        li.locator("#title_ru").focus()
        li.keyboard.type("Сибирская язва у скота")
        li.locator("#abstract_ru").fill("Меры контроля сибирской язвы у сельскохозяйственных животных.")
        li.locator("#language-ru").check()
        li.locator("#language-en").check()
        li.locator("#date").fill("2025-05")
        li.locator("#tags").fill("anthrax, One Health")
        li.locator("#file").set_input_files(str(tmp_path / "page.pdf"))
        li.locator("#library-submit").focus()
        with li.expect_navigation():
            li.keyboard.press("Enter")
        expect(li.locator("#file-error")).to_contain_text("not a PDF, DOCX or XLSX")
        expect(li.locator("#file")).to_have_attribute("aria-invalid", "true")
        expect(li.locator("#title_ru")).to_have_value("Сибирская язва у скота")
        check_page(li, label="library add form with a refused file")
        li.locator("#file").set_input_files(str(tmp_path / "anthrax.pdf"))
        li.locator("#library-submit").focus()
        with li.expect_navigation():
            li.keyboard.press("Enter")
        expect(li.locator("h1")).to_have_text("Anthrax in livestock")
        expect(li.locator("ul.messages")).to_contain_text("The document is in the library.")
        check_page(li, label="library document (its author)")

        carol.goto(f"{live_server.url}/library/")
        carol.fill("#q", "язвы")  # the abstract says "язвы"; the title "язва"
        with carol.expect_navigation():
            carol.locator("#q").press("Enter")
        expect(carol.locator("#library-count")).to_contain_text("1 document")
        check_page(carol, label="library search at 360 px")
        with carol.expect_navigation():
            carol.get_by_role("link", name="Anthrax in livestock").click()
        check_page(carol, label="library document at 360 px")
        with carol.expect_download() as waiting:
            carol.locator("a.library-download").click()
        download = waiting.value
        assert download.suggested_filename == "anthrax.pdf"
        saved = tmp_path / "downloaded.pdf"
        download.save_as(saved)
        assert saved.read_bytes() == pdf

        # ruslan (a RU law alliance university) adds an entry to the legal register: a link that is not http(s) is
        # refused on its field first
        ruslan = lawyer.new_page()
        log_in(ruslan, live_server.url, "ruslan", PASSWORD)
        ruslan.goto(f"{live_server.url}/legal-register/new/")
        check_page(ruslan, label="legal register form")
        ruslan.fill("#title", "Федеральный закон о карантине (демо)")
        ruslan.locator("#original_language").select_option("ru")
        ruslan.fill("#title_en", "Quarantine law (demo)")
        ruslan.fill("#adopted", "2020-04-01")
        ruslan.fill("#citation", "Demo RU-Q")
        ruslan.fill("#link", "ftp://example.org/law")
        ruslan.locator("#topic-quarantine").check()
        ruslan.locator("#legal-submit").focus()
        with ruslan.expect_navigation():
            ruslan.keyboard.press("Enter")
        expect(ruslan.locator("#link-error")).to_contain_text("http")
        check_page(ruslan, label="legal register form with a refused link")
        ruslan.fill("#link", "https://example.org/law")
        with ruslan.expect_navigation():
            ruslan.locator("#legal-submit").press("Enter")
        expect(ruslan.locator("h1")).to_have_text("Федеральный закон о карантине (демо)")
        check_page(ruslan, label="legal register entry")

        carol.goto(f"{live_server.url}/legal-register/")
        expect(carol.locator("table.legal-compare")).to_contain_text("Quarantine law (demo)")
        check_page(carol, label="legal register at 360 px")
        # the sections on the alliances' pages
        carol.goto(f"{live_server.url}/alliances/law/")
        expect(carol.locator("#legal-register")).to_contain_text("Quarantine law (demo)")
        check_page(carol, label="the law alliance's page at 360 px")
        carol.goto(f"{live_server.url}/alliances/medicine/")
        expect(carol.locator("#library")).to_contain_text("Anthrax in livestock")
        check_page(carol, label="the medicine alliance's page at 360 px")
        carol.goto(f"{live_server.url}/alliances/agriculture/")
        expect(carol.locator("#one-health")).to_contain_text("Anthrax in cattle")
        check_page(carol, label="the agriculture alliance's page at 360 px")
    finally:
        for context in (desk, narrow, lawyer):
            context.close()
