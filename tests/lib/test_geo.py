"""The great-circle distance (accord.lib.geo): checked against a formula computed independently (the angle between
the two points' unit vectors, by atan2 of the cross and dot products), and against the sphere's own geometry."""

from __future__ import annotations

import math
import random

import pytest

from accord.lib.geo import EARTH_RADIUS_KM, distance_km


def _by_vectors(a: tuple[float, float], b: tuple[float, float]) -> float:
    def unit(lat: float, lon: float) -> tuple[float, float, float]:
        phi, lam = math.radians(lat), math.radians(lon)
        return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))

    u, v = unit(*a), unit(*b)
    cross = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    dot = sum(x * y for x, y in zip(u, v, strict=True))
    return EARTH_RADIUS_KM * math.atan2(math.sqrt(sum(c * c for c in cross)), dot)


def test_known_pairs() -> None:
    beijing, almaty, moscow = (39.91, 116.4), (43.25, 76.91), (55.75, 37.62)
    assert distance_km(beijing, almaty) == pytest.approx(_by_vectors(beijing, almaty), abs=1e-6)
    assert 3250 < distance_km(beijing, almaty) < 3300  # about 3,275 km
    assert 5750 < distance_km(beijing, moscow) < 5850  # about 5,800 km
    assert distance_km(beijing, beijing) == 0
    assert distance_km(beijing, almaty) == distance_km(almaty, beijing)


def test_the_sphere() -> None:
    half = math.pi * EARTH_RADIUS_KM
    assert distance_km((0, 0), (0, 180)) == pytest.approx(half)
    assert distance_km((90, 0), (-90, 0)) == pytest.approx(half)
    assert distance_km((0, 0), (90, 0)) == pytest.approx(half / 2)
    assert distance_km((0, 179.5), (0, -179.5)) == pytest.approx(half / 180)  # across the antimeridian
    assert distance_km((60, 0), (60, 1)) == pytest.approx(half / 180 * 0.5, rel=1e-4)  # cos 60° shrinks a degree


def test_matches_the_vector_formula_everywhere() -> None:
    rng = random.Random(17)  # noqa: S311 (test points, not secrets)
    for _ in range(2000):
        a = (rng.uniform(-90, 90), rng.uniform(-180, 180))
        b = (rng.uniform(-90, 90), rng.uniform(-180, 180))
        assert distance_km(a, b) == pytest.approx(_by_vectors(a, b), abs=1e-6)


@pytest.mark.parametrize("bad", [(91.0, 0.0), (0.0, 181.0), (math.nan, 0.0), (0.0, math.inf)])
def test_not_a_point(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        distance_km(bad, (0.0, 0.0))
