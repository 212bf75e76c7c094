"""Write accord/static/accord/members.geojson: simplified outlines of the ten SCO member states.

One-off generator; the output is committed, so Accord never fetches map data at run time.

Source: the npm package `world-atlas` 2.0.2 by Mike Bostock (ISC licence), TopoJSON built from
Natural Earth 1:50m Admin 0 countries (public domain, naturalearthdata.com). Get it with

    cd "$(mktemp -d)" && npm pack world-atlas@2.0.2

and run, from the repository root,

    .venv/bin/python scripts/make_member_outlines.py /path/to/world-atlas-2.0.2.tgz

The TopoJSON is decoded here (quantised, delta-encoded arcs); each shared arc is simplified once,
so neighbours keep a common border; islands smaller than MIN_AREA are dropped. Outlines follow
Natural Earth's de facto boundaries and imply no position on any border. See accord/static/accord/NOTICE.
Longitudes east of the antimeridian (Chukotka) are written as 180..190, so the outline draws in one piece;
accord.alerts.forms clips them back to -180..180 before making a CAP polygon.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.ops import unary_union
from shapely.validation import make_valid

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "accord" / "static" / "accord" / "members.geojson"

# ISO 3166 alpha-2 -> (ISO 3166 numeric as used by world-atlas, English name)
MEMBERS: dict[str, tuple[str, str]] = {
    "BY": ("112", "Belarus"),
    "CN": ("156", "China"),
    "IN": ("356", "India"),
    "IR": ("364", "Iran"),
    "KG": ("417", "Kyrgyzstan"),
    "KZ": ("398", "Kazakhstan"),
    "PK": ("586", "Pakistan"),
    "RU": ("643", "Russia"),
    "TJ": ("762", "Tajikistan"),
    "UZ": ("860", "Uzbekistan"),
}
TOLERANCE = 0.04  # degrees, for arc simplification (Douglas-Peucker)
MIN_AREA = 0.08  # square degrees: smaller islands are left out
DECIMALS = 3


def read_topology(source: Path, resolution: str) -> dict[str, Any]:
    name = f"countries-{resolution}.json"
    if source.is_dir():
        data: dict[str, Any] = json.loads((source / name).read_text(encoding="utf-8"))
        return data
    with tarfile.open(source) as archive:
        member = archive.extractfile(f"package/{name}")
        if member is None:
            raise SystemExit(f"{source} holds no package/{name}")
        loaded: dict[str, Any] = json.loads(member.read())
        return loaded


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute lon/lat points of every arc (TopoJSON arcs are quantised and delta-encoded)."""
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def simplify_arc(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) < 3:
        return points
    simplified = LineString(points).simplify(TOLERANCE, preserve_topology=False)
    return [(round(x, DECIMALS), round(y, DECIMALS)) for x, y in simplified.coords]


def ring(indexes: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])
    # Natural Earth's Russia crosses the antimeridian (Chukotka): jumping from 180 to -180 would draw a
    # band round the world, so such a ring continues east of 180 instead (longitudes up to about 190).
    if points and max(x for x, _ in points) - min(x for x, _ in points) > 180:
        points = [(x + 360 if x < 0 else x, y) for x, y in points]
    return points


def polygons(geometry: dict[str, Any], arcs: list[list[tuple[float, float]]]) -> list[Polygon]:
    parts = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    found = []
    for rings in parts:
        outer = ring(rings[0], arcs)
        holes = [ring(r, arcs) for r in rings[1:]]
        if len(outer) < 4:
            continue
        shape = Polygon(outer, [h for h in holes if len(h) >= 4])
        if not shape.is_valid:
            fixed = make_valid(shape)
            found.extend(g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon))
        else:
            found.append(shape)
    return [p for p in found if p.area >= MIN_AREA]


def rounded(geometry: Polygon | MultiPolygon) -> dict[str, Any]:
    def coords(seq: Any) -> list[list[float]]:
        return [[round(x, DECIMALS), round(y, DECIMALS)] for x, y in seq]

    shapes = [geometry] if isinstance(geometry, Polygon) else list(geometry.geoms)
    rings = [[coords(p.exterior.coords)] + [coords(h.coords) for h in p.interiors] for p in shapes]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="world-atlas package: the .tgz from `npm pack` or its folder")
    parser.add_argument("--resolution", choices=("110m", "50m"), default="50m")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    topology = read_topology(args.source, args.resolution)
    arcs = [simplify_arc(a) for a in decode_arcs(topology)]
    by_id = {g.get("id"): g for g in topology["objects"]["countries"]["geometries"]}
    features = []
    for code, (numeric, name) in sorted(MEMBERS.items()):
        geometry = by_id.get(numeric)
        if geometry is None:
            raise SystemExit(f"{name} ({numeric}) is not in the source")
        # Simplified islands may touch the coast they lie off: merge overlapping parts into one valid shape.
        shape = unary_union(polygons(geometry, arcs))
        if not isinstance(shape, Polygon | MultiPolygon) or not shape.is_valid:
            raise SystemExit(f"{name}: the simplified outline is not a valid polygon")
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name_en": name},
                "geometry": rounded(shape),
            }
        )
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:50m Admin 0 (public domain) via world-atlas 2.0.2 (ISC); simplified",
        "features": features,
    }
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"{args.output}: {len(features)} members, {len(text) // 1024} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
