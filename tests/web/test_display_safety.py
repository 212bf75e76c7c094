"""Display safety: supplied text is rendered bidi-isolated, so a right-to-left override (U+202E) in a title
cannot reorder the page around it (the |bdi and |isolate template builtins, accord/web/templatetags/bidi.py)."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from accord.alerts import actions as alert_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.web.templatetags.bidi import FSI, PDI
from tests.alerts.support import cap, info
from tests.conftest import PASSWORD, World, client_for

RLO = "\u202e"
TITLE = f"Flood warning {RLO}evah eht ni closed roads"  # an override left open: it would run to the line's end
HEADLINE = f"Cholera {RLO}noiger natsikruT"


def _note(world: World, title: str = TITLE) -> str:
    version = record_actions.publish(
        "note",
        {"title": title, "text": f"Roads {RLO}desolc until Monday.", "language": "en"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    )
    return str(version.record_uuid)


def _alert(world: World) -> str:
    published = alert_actions.publish_alert(
        cap(
            info(
                headline=HEADLINE,
                event=f"Cholera {RLO}kaerbtuo",
                area=[
                    {
                        "areaDesc": f"Turkistan {RLO}noiger",
                        "polygon": ["43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0 43.0,68.0"],
                    }
                ],
            )
        ),
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    )
    return str(published.version.record_uuid)


def _every_occurrence_isolated(page: str, text: str) -> int:
    """How many times `text` appears; fails if once it is not the whole content of a <bdi> or inside FSI…PDI."""
    count = 0
    for match in re.finditer(re.escape(text), page):
        count += 1
        before, after = page[: match.start()], page[match.end() :]
        in_bdi = before.endswith("<bdi>") and after.startswith("</bdi>")
        in_isolate = before.endswith(FSI) and after.startswith(PDI)
        assert in_bdi or in_isolate, page[max(0, match.start() - 80) : match.end() + 80]
    return count


def test_filters_escape_and_isolate() -> None:
    template = engines["django"].from_string("{{ v|bdi }}|{{ v|isolate }}|{{ empty|bdi }}|{{ empty|isolate }}")
    rendered = template.render({"v": f"<b>{RLO}x</b>", "empty": ""})
    assert rendered == f"<bdi>&lt;b&gt;{RLO}x&lt;/b&gt;</bdi>|{FSI}&lt;b&gt;{RLO}x&lt;/b&gt;{PDI}||"


def test_titles_with_an_override_are_isolated_on_the_record_pages(world: World) -> None:
    note = _note(world)
    client = client_for(world.alice)
    listing = client.get("/records/").content.decode()
    assert _every_occurrence_isolated(listing, TITLE) == 1
    detail = client.get(f"/records/{note}/").content.decode()
    assert _every_occurrence_isolated(detail, TITLE) == 2  # <title> (FSI…PDI) and <h1> (<bdi>)
    assert f"<title>{FSI}{TITLE}{PDI} · Accord</title>" in detail
    assert '<div class="body" lang="en" dir="auto">' in detail


def test_headlines_events_and_areas_are_isolated_on_the_alert_pages(world: World) -> None:
    alert = _alert(world)
    client = client_for(world.alice)
    listing = client.get("/alerts/").content.decode()
    assert _every_occurrence_isolated(listing, HEADLINE) == 1
    assert _every_occurrence_isolated(listing, f"Cholera {RLO}kaerbtuo") == 1
    detail = client.get(f"/alerts/{alert}/").content.decode()
    assert _every_occurrence_isolated(detail, HEADLINE) >= 3  # <title>, <h1>, the info block
    assert _every_occurrence_isolated(detail, f"Turkistan {RLO}noiger") == 1
    update = client_for(world.carol).get(f"/alerts/{alert}/update/").content.decode()
    assert f"“<bdi>{HEADLINE}</bdi>”" in update
    deliveries = client_for(world.sam).get("/notifications/deliveries/")
    if deliveries.status_code == 200:
        assert _every_occurrence_isolated(deliveries.content.decode(), HEADLINE) >= 1


@pytest.mark.browser
def test_an_override_in_a_title_cannot_move_the_text_after_it(
    transactional_db: None, world: World, live_server: LiveServer, browser: Browser
) -> None:
    """In Chromium: the title sits in an isolating element, and the text that follows it in the same line (the
    closing quote and the sentence of the update page) stays to its right, in order."""
    alert = _alert(world)
    note = _note(world)
    context = browser.new_context(locale="en-US", viewport={"width": 1600, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "carol")
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("form.login button[type=submit]")

        page.goto(f"{live_server.url}/records/{note}/")
        heading = page.locator("h1 bdi")
        expect(heading).to_have_text(TITLE)
        assert heading.evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
        link = page.locator(f"a[href='/records/{note}/']")
        page.goto(f"{live_server.url}/records/")
        expect(link.locator("bdi")).to_have_text(TITLE)

        page.goto(f"{live_server.url}/alerts/{alert}/update/")
        hint = page.locator("p.hint bdi").first
        expect(hint).to_have_text(HEADLINE)
        geometry = hint.evaluate(
            """bdi => {
                const next = bdi.nextSibling;                  // the text node "”: it replaces ..."
                const range = document.createRange();
                range.setStart(next, 0);
                range.setEnd(next, 12);
                const after = range.getBoundingClientRect();
                const box = bdi.getBoundingClientRect();
                const before = document.createRange();
                before.setStart(bdi.previousSibling, 0);
                before.setEnd(bdi.previousSibling, bdi.previousSibling.textContent.length);
                return {bdiLeft: box.left, bdiRight: box.right, afterLeft: after.left, afterRight: after.right,
                        beforeRight: before.getBoundingClientRect().right, sameLine: Math.abs(after.top - box.top) < 4,
                        text: next.textContent.slice(0, 12)};
            }"""
        )
        assert geometry["text"].startswith("”: it")
        assert geometry["sameLine"], geometry
        # Without isolation the override would carry on past the title: the sentence after it would be laid
        # out right to left, starting left of the title's end. Isolated, it starts where the title ends.
        assert geometry["beforeRight"] <= geometry["bdiLeft"] + 1, geometry
        assert geometry["afterLeft"] >= geometry["bdiRight"] - 1, geometry
        assert geometry["afterRight"] > geometry["afterLeft"], geometry
    finally:
        context.close()
