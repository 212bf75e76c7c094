"""The 3W map (assist_svg): a dot per deployment where it is, dots at one place set apart, a line from each
provider's capital, text escaped, only the outlines in view drawn."""

from __future__ import annotations

import re

from accord.response.assist_svg import Dot, deployment_map

ALMATY, ASTANA, BEIJING = (43.25, 76.91), (51.18, 71.45), (39.91, 116.4)


def _circles(svg: str) -> dict[int, tuple[float, float]]:
    found = re.findall(r'<g class="deployment" data-number="(\d+)">.*?<circle cx="([\d.-]+)" cy="([\d.-]+)"', svg)
    return {int(n): (float(x), float(y)) for n, x, y in found}


def test_a_dot_per_deployment_where_it_is() -> None:
    svg = deployment_map(
        [
            Dot(1, *ALMATY, "1. CN: 600 tests", origin=BEIJING),
            Dot(2, *ASTANA, "2. UZ: 400 tests <b>", origin=None),
        ],
        "Map & key",
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and 'role="img"' in svg
    assert "<title>Map &amp; key</title>" in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    dots = _circles(svg)
    assert sorted(dots) == [1, 2]
    # Astana is north-west of Almaty: left of it and above it on the map.
    assert dots[2][0] < dots[1][0] and dots[2][1] < dots[1][1]
    width, height = (int(v) for v in re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).groups())  # type: ignore[union-attr]
    assert all(0 < x < width and 0 < y < height for x, y in dots.values())
    assert svg.count('<line class="route"') == 1 and svg.count('<rect class="capital"') == 1
    assert ">KZ</text>" in svg and ">CN</text>" in svg  # the members in view carry their codes
    assert ">BY</text>" not in svg  # Belarus is far outside the view


def test_dots_at_one_place_are_set_apart() -> None:
    svg = deployment_map([Dot(n, *ALMATY, f"{n}") for n in (1, 2, 3)], "three at Almaty")
    dots = _circles(svg)
    assert len(set(dots.values())) == 3
    xs, ys = [x for x, _ in dots.values()], [y for _, y in dots.values()]
    assert max(xs) - min(xs) < 20 and max(ys) - min(ys) < 20  # still around the one place
