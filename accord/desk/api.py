"""/api/v1/desk, /api/v1/search and /api/v1/map.geojson: the operations desk's reads (docs/desk.md)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from accord.api import MAX_OFFSET, DateTimeParam, account_of, errors, principal_of
from accord.desk import desk_queries, map_queries, search_queries
from accord.records.errors import ActionError

router: Router = Router(tags=["desk"])

MEMBER = r"^[A-Z0-9]{2,8}$"


class DeskItemOut(Schema):
    kind: str = Field(
        description="what waits: acknowledgement, ihr_notification, ihr_assessment, signal, sitrep, "
        "task, assistance_request, assistance_offer, roster_call, decision or delivery"
    )
    group: str
    record: UUID = Field(description="the record concerned (a signal's or a channel's own uuid)")
    title: str
    due: str | None = Field(description="the deadline (ISO 8601), or null when there is none")
    overdue: bool
    url: str = Field(description="the page where it is done")
    action: str = Field(description="what to do there, in the account's language")
    detail: dict[str, Any]


class DeskOut(Schema):
    items: list[DeskItemOut]
    counts: dict[str, int] = Field(description="items per group")
    total: int
    overdue: int


@router.get("/desk", response={200: DeskOut, **errors(401)}, summary="What waits for me, by group and deadline")
def desk(request: HttpRequest) -> dict[str, Any]:
    items = desk_queries.desk_of(account_of(request))
    return {
        "items": [desk_queries.item_out(item) for item in items],
        "counts": desk_queries.counts(items),
        "total": len(items),
        "overdue": sum(1 for item in items if item.overdue),
    }


class SearchFilters(Schema):
    q: str = Field(min_length=1, max_length=search_queries.MAX_QUERY_CHARS, description="the words to find")
    kind: str | None = Field(
        default=None,
        description="one kind, or several separated by commas: " + ", ".join(search_queries.SEARCHED_KINDS),
    )
    member: str | None = Field(default=None, pattern=MEMBER, description="the member that issued the record")
    since: DateTimeParam | None = Field(default=None, description="issued (its current version) at or after")
    until: DateTimeParam | None = Field(default=None, description="issued (its current version) at or before")
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class SearchHitOut(Schema):
    record: UUID
    kind: str
    title: str
    snippet: str = Field(description="the text around the first match, on one line")
    highlights: list[list[int]] = Field(description="[start, end) offsets of the matches in the snippet")
    member: str
    tlp: str
    status: str
    created_at: str
    url: str


class SearchOut(Schema):
    total: int
    results: list[SearchHitOut]
    facets: dict[str, dict[str, int]] = Field(description="counts by kind and by member (others' filters applied)")
    next_offset: int | None


def _kinds(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in search_queries.SEARCHED_KINDS]
    if unknown:
        raise ActionError(
            f"kind: {', '.join(unknown)} cannot be searched; the kinds searched are "
            + ", ".join(search_queries.SEARCHED_KINDS),
            field="kind",
        )
    return names


@router.get("/search", response={200: SearchOut, **errors(400, 401)}, summary="Search across all records")
def search(request: HttpRequest, filters: Query[SearchFilters]) -> dict[str, Any]:
    where = search_queries.SearchFilter(
        q=filters.q, kinds=_kinds(filters.kind), member=filters.member, since=filters.since, until=filters.until
    )
    found = search_queries.search_records(principal_of(request), where, limit=filters.limit, offset=filters.offset)
    after = filters.offset + len(found.hits)
    return {
        "total": found.total,
        "results": [search_queries.hit_out(hit) for hit in found.hits],
        "facets": found.facets,
        "next_offset": after if after < found.total else None,
    }


class MapFilters(Schema):
    kind: str | None = Field(
        default=None, description="layers, separated by commas: " + ", ".join(map_queries.LAYERS) + " (default: all)"
    )
    hazard: str | None = Field(
        default=None,
        max_length=100,
        description="an alert's event, category or ICD-10 code; an incident's hazard; a signal's ICD-10 code",
    )
    member: str | None = Field(default=None, pattern=MEMBER)
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"] | None = None
    since: DateTimeParam | None = None
    until: DateTimeParam | None = None


class MapOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    counts: dict[str, int]
    truncated: list[str]
    generated_at: str


def _layers(text: str | None) -> tuple[str, ...]:
    if not text:
        return map_queries.LAYERS
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in map_queries.LAYERS]
    if unknown or not names:
        raise ActionError(
            f"kind: {', '.join(unknown) or text!r} is not a layer; the layers are " + ", ".join(map_queries.LAYERS),
            field="kind",
        )
    return names


@router.get(
    "/map.geojson",
    response={200: MapOut, **errors(400, 401)},
    summary="Everything current on one map, as GeoJSON (RFC 7946)",
)
def map_geojson(request: HttpRequest, filters: Query[MapFilters]) -> dict[str, Any]:
    where = map_queries.MapFilter(
        layers=_layers(filters.kind),
        hazard=filters.hazard,
        member=filters.member,
        severity=filters.severity,
        since=filters.since,
        until=filters.until,
    )
    return map_queries.features(principal_of(request), where)
