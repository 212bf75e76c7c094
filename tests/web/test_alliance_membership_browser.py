"""Voluntary membership of an alliance in a real browser (issue 18, item 8): li, an expert of a Chinese university,
finds the alliances in the navigation and applies to the medicine alliance with the keyboard (desktop width); aida,
of a Kazakh university on the alliance's council, is refused a decision without a reason, then accepts with one
(360 px); li sees his university among the members, is refused leaving without the confirmation, then leaves; the
history shows applied, accepted and left, with the reasons.

Two people, each in a browser context of their own; every page is checked with axe-core and, at 360 px, for
horizontal overflow. Drives the system Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accord.alliances import membership_queries as queries
from accord.alliances.models import Alliance
from accord.members import actions as member_actions
from accord.members.models import Account
from tests.conftest import PASSWORD, World
from tests.web.a11y import DESKTOP, NARROW, check_page
from tests.web.demo_site import log_in

pytestmark = pytest.mark.browser


def _account(username: str, slug: str, member: str) -> Account:
    organisation = member_actions.create_organisation(
        member_code=member, slug=slug, kind="university", name_en=f"{slug} (demo)", acting_user=None
    )
    return member_actions.create_account(
        username=username,
        organisation=organisation,
        roles=["expert"],
        email=f"{username}@example.org",
        password=PASSWORD,
        acting_user=None,
    )


@pytest.fixture
def campus(transactional_db: None, world: World) -> None:
    """li (CN university), aida (KZ university, on the medicine alliance's council)."""
    _account("li", "cn-demo-uni", "CN")
    aida = _account("aida", "kz-demo-uni", "KZ")
    assert aida.organisation is not None
    Alliance.objects.get(slug="medicine").council.add(aida.organisation)


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="en-US", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def _submit(page: Page, selector: str, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.locator(selector).press(key)


def test_apply_accept_and_leave(campus: None, live_server: LiveServer, browser: Browser) -> None:
    contexts = [_context(browser, DESKTOP), _context(browser, NARROW)]
    try:
        li, aida = (c.new_page() for c in contexts)
        errors: list[str] = []
        for page in (li, aida):
            page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(li, live_server.url, "li", PASSWORD)
        log_in(aida, live_server.url, "aida", PASSWORD)

        # li finds the alliances in the navigation and applies, with the keyboard.
        with li.expect_navigation():
            li.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Alliances").click()
        expect(li.locator("#alliance-medicine")).to_contain_text("SCO University Alliance in Medicine")
        check_page(li, label="the alliances")
        with li.expect_navigation():
            li.get_by_role("link", name="SCO University Alliance in Medicine").click()
        expect(li.locator("#council")).to_contain_text("kz-demo-uni (demo)")
        expect(li.locator("#my-state")).to_have_text("not a member")
        check_page(li, label="the medicine alliance, before applying")
        li.locator("#apply-motivation").fill("Our school of public health trains field epidemiologists.")
        li.locator("#apply-motivation").press("Tab")
        _submit(li, "#apply")
        expect(li.locator("ul.messages")).to_contain_text("application is sent to the alliance's council")
        expect(li.locator("#my-state")).to_have_text("Application pending")
        expect(li.locator("#apply-form")).to_have_count(0)
        check_page(li, label="the medicine alliance, applied")

        # aida (the council), at 360 px: a decision without a reason is refused on its field; then accepted.
        aida.goto(f"{live_server.url}/alliances/medicine/")
        application = aida.locator("#applications .application")
        expect(application).to_contain_text("cn-demo-uni (demo)")
        expect(application).to_contain_text("trains field epidemiologists")
        check_page(aida, label="an application to decide at 360 px")
        reason = aida.get_by_label("Reason of the decision on cn-demo-uni (demo)")
        reason.evaluate("field => field.removeAttribute('required')")  # what the server says without the browser's
        with aida.expect_navigation():
            application.get_by_role("button", name="Accept").click()
        expect(aida.locator("#applications .field-error")).to_have_text("Give the reason of the decision.")
        expect(aida.get_by_label("Reason of the decision on cn-demo-uni (demo)")).to_have_attribute(
            "aria-invalid", "true"
        )
        check_page(aida, label="a refused decision at 360 px")
        assert not queries.is_member("cn-demo-uni", "medicine")
        aida.get_by_label("Reason of the decision on cn-demo-uni (demo)").fill("A strong school of public health.")
        with aida.expect_navigation():
            aida.locator("#applications").get_by_role("button", name="Accept").click()
        expect(aida.locator("ul.messages")).to_contain_text("the organisation is a member of the alliance")
        expect(aida.locator("#members")).to_contain_text("cn-demo-uni (demo)")
        expect(aida.locator("#applications")).to_contain_text("No application is waiting for a decision.")
        check_page(aida, label="a member accepted at 360 px")

        # li is a member; leaving needs the confirmation, then li leaves.
        li.goto(f"{live_server.url}/alliances/medicine/")
        expect(li.locator("#my-state")).to_have_text("Member")
        expect(li.locator("#members")).to_contain_text("cn-demo-uni (demo)")
        li.locator("#leave-reason").fill("We concentrate on our national programme.")
        li.locator("#leave-confirm").evaluate("box => box.removeAttribute('required')")
        li.locator("#leave-reason").press("Tab")  # to the confirmation, left unchecked ...
        expect(li.locator("#leave-confirm")).to_be_focused()
        li.keyboard.press("Tab")  # ... past it to the button
        expect(li.locator("#leave")).to_be_focused()
        with li.expect_navigation():
            li.keyboard.press("Enter")
        expect(li.locator("#leave-error")).to_have_text("Confirm that your organisation leaves the alliance.")
        assert queries.is_member("cn-demo-uni", "medicine")
        check_page(li, label="a refused departure")
        li.locator("#leave-confirm").focus()
        li.keyboard.press("Space")
        _submit(li, "#leave")
        expect(li.locator("ul.messages")).to_contain_text("Your organisation has left the alliance.")
        expect(li.locator("#my-state")).to_have_text("Left")
        expect(li.locator("#members")).to_contain_text("No member organisation yet.")
        history = li.locator("#membership-history li")
        expect(history).to_have_count(3)
        expect(history.nth(0)).to_contain_text("applied to join")
        expect(history.nth(1)).to_contain_text("A strong school of public health.")
        expect(history.nth(2)).to_contain_text("We concentrate on our national programme.")
        expect(li.locator("#apply-form")).to_be_visible()  # it may rejoin
        check_page(li, label="the medicine alliance, left")
        assert not queries.is_member("cn-demo-uni", "medicine")
        assert errors == []
    finally:
        for context in contexts:
            context.close()
