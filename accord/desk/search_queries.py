"""Search across all records (`GET /api/v1/search`, the search page): one query over the kinds people look for.

It is the record core's full-text search (`accord.records.search`: Han bigrams, Snowball stems for Russian and
English, PostgreSQL's tsvector or SQLite's FTS5) over a queryset that went through the audience filter first, so a
record the reader may not see is never found, counted, or part of a facet. Expert profiles, which are read only
through the roster, are found only while they are active (a withdrawn profile has no roster row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from accord.alliances.roster_models import ExpertProfile
from accord.records import kinds, search
from accord.records.models import Record, State
from accord.records.principal import Principal

# The kinds the search covers, in the order the facets list them.
SEARCHED_KINDS = (
    "alert",
    "incident",
    "sitrep",
    "task",
    "decision",
    "assistance_request",
    "assistance_offer",
    "expert_profile",
    "library_document",
    "legal_instrument",
    "alliance_activity",
    "meeting",
    "note",
)
SNIPPET_CHARS = 200
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchFilter:
    q: str
    kinds: tuple[str, ...] = ()
    member: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Hit:
    record: Record
    kind: str
    title: str
    snippet: str
    highlights: list[tuple[int, int]]


@dataclass
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]


def _stamp(moment: datetime) -> str:
    """A bound in the form versions are signed with (RFC 3339 UTC, seconds), so that the text columns compare."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(principal: Principal, where: SearchFilter) -> QuerySet[Record]:
    rows = Record.objects.visible_to(principal).filter(kind__in=SEARCHED_KINDS, current_version__state=State.ACTIVE)
    active_experts = ExpertProfile.objects.values("record_id")
    rows = rows.filter(~Q(kind="expert_profile") | Q(pk__in=active_experts))
    rows = rows.filter(search.matching(where.q))
    if where.since is not None:
        rows = rows.filter(current_version__created_at__gte=_stamp(where.since))
    if where.until is not None:
        rows = rows.filter(current_version__created_at__lte=_stamp(where.until))
    return rows


def _facet(rows: QuerySet[Record], column: str) -> dict[str, int]:
    return {str(row[column]): int(row["n"]) for row in rows.order_by().values(column).annotate(n=Count("pk"))}


def search_records(principal: Principal, where: SearchFilter, *, limit: int = 20, offset: int = 0) -> Results:
    """The records matching `where` that the principal may see, newest first, with the total and the facets
    (counts by kind over every other filter, and by member over every other filter)."""
    base = _base(principal, where)
    by_kind = base.filter(origin_member=where.member) if where.member else base
    by_member = base.filter(kind__in=where.kinds) if where.kinds else base
    rows = by_kind.filter(kind__in=where.kinds) if where.kinds else by_kind
    total = rows.count()
    page = list(rows.select_related("current_version").order_by("-current_version_id")[offset : offset + limit])
    tokens = search.query_tokens(where.q)
    hits = [_hit(record, tokens) for record in page]
    kind_counts = _facet(by_kind, "kind")
    facets = {
        "kind": {name: kind_counts[name] for name in SEARCHED_KINDS if name in kind_counts},
        "member": dict(sorted(_facet(by_member, "origin_member").items())),
    }
    return Results(total=total, hits=hits, facets=facets)


def _hit(record: Record, tokens: list[str]) -> Hit:
    version = record.current_version
    assert version is not None
    kind = kinds.get(record.kind)
    title = kind.title(version.body) if kind is not None else record.kind
    text, marks = snippet(version.search_text or "", tokens)
    if not marks and title:
        text, marks = snippet(title, tokens)
    return Hit(record=record, kind=record.kind, title=title, snippet=text, highlights=marks)


def snippet(text: str, tokens: list[str], width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """Up to `width` characters of `text` on one line, from the start of the line of its first match (or a little
    before the match, in a long line), and the matches' offsets in it."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    flat = " ".join(lines)
    found = search.spans(flat, tokens)
    if len(flat) <= width:
        return flat, found
    start = 0
    if found:
        first = found[0][0]
        line_start = 0
        for line in lines:
            if line_start + len(line) >= first:
                break
            line_start += len(line) + 1
        start = line_start if first - line_start <= width // 2 else first - width // 4
        if start != line_start:
            space = flat.rfind(" ", 0, start + 1)
            start = space + 1 if space >= 0 and space > start - 20 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > end - 30 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    inside = [(a + shift, b + shift) for a, b in found if a >= start and b <= end]
    return prefix + flat[start:end] + suffix, inside


def hit_out(hit: Hit) -> dict[str, Any]:
    record = hit.record
    version = record.current_version
    assert version is not None
    return {
        "record": record.uuid,
        "kind": hit.kind,
        "title": hit.title,
        "snippet": hit.snippet,
        "highlights": [list(pair) for pair in hit.highlights],
        "member": record.origin_member,
        "tlp": version.tlp,
        "status": version.status,
        "created_at": version.created_at,
        "url": kinds.page_path(record.kind, record.uuid),
    }
