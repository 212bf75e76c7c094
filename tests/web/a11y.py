"""Accessibility checks for the browser tests: axe-core in the page, and no horizontal scroll at 360 px.

Use it on any page a test has open (pages added later too):

    from tests.web.a11y import check_page
    check_page(page)            # fails on serious or critical axe violations

axe-core comes from the npm registry (pinned, integrity-checked), unpacked into .cache/ by
scripts/test-services.sh. It is evaluated through the DevTools protocol, not added as a <script> element, so the
page's Content-Security-Policy stays in force while it is checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).resolve().parents[2] / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
NARROW = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@cache
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(
            f"axe-core {AXE_VERSION} is missing at {AXE_JS}; run scripts/test-services.sh (it fetches it with npm)"
        )
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now (WCAG 2.x A and AA rules and axe's best practices)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ["violations"]});
            return {violations: result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))
            }))};
        }"""
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scroll)."""
    overflow: int = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return overflow


def check_page(page: Page, *, label: str = "") -> None:
    """Fail when axe finds a serious or critical violation on the page; at a width of 360 px or less, also when
    the page scrolls sideways."""
    where = label or page.url
    serious = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not serious, f"{where}: accessibility violations:\n{json.dumps(serious, indent=1, ensure_ascii=False)}"
    viewport = page.viewport_size
    if viewport is not None and viewport["width"] <= NARROW["width"]:
        overflow = horizontal_overflow(page)
        assert overflow <= 0, (
            f"{where}: scrolls sideways by {overflow} px at {viewport['width']} px: {wide_elements(page)}"
        )


def wide_elements(page: Page) -> list[str]:
    """The elements sticking out to the right of the window, to say what to fix."""
    found: list[str] = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const out = [];
            for (const el of document.querySelectorAll("body *")) {
                const box = el.getBoundingClientRect();
                if (box.right > width + 0.5 && box.width > 0) {
                    const classes = typeof el.className === "string" && el.className
                        ? "." + el.className.split(" ").join(".") : "";
                    out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes +
                             " right=" + Math.round(box.right));
                }
                if (out.length >= 15) break;
            }
            return out;
        }"""
    )
    return found
