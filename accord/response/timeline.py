"""The incident timeline, and the registry through which record kinds that hang from an incident join it.

A kind joins the incident in two steps (see docs/response.md, "Extending the response room"):

1. its body names the incident (`"incident": {"node", "record"}`) and its projection calls
   `accord.response.refs.hang(version, body["incident"])`, which keeps `IncidentItem` in step;
2. it registers a `Source` here (in its app's `ready()`), saying whether every version is an event of the timeline
   (a consent given then withdrawn, a corrected sitrep) or only the current one, and how to describe an item.

The timeline is then: the incident's own versions, the versions of the records hanging from it, and the records
linked to it, each visible to the reader (the audience filter, version by version), in signed time order.

It is read a page at a time (`page`), in SQL: `TimelineEntry` holds a row for every version that may be an item, with
its sort key (signed time, record, seq), kept in step by a hook of the record core (`_keep`, in the transaction of
every version written, received versions included); a page walks one index of that table in either direction from
a cursor and stops after `limit` rows the reader may see (the audience filter is part of the query, so an item the
reader may not see never shows and never shifts a page).
"""

from __future__ import annotations

import base64
import binascii
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accord.records import hooks
from accord.records.errors import ActionError, NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response.models import LinkView
from accord.response.refs import parse_ref, signed_time
from accord.response.timeline_models import TimelineEntry

LINK_KIND = "incident_link"  # accord.response.links.KIND (that module builds on this one's models)
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
Order = Literal["asc", "desc"]
Side = Literal["after", "before"]


@dataclass(frozen=True)
class Source:
    kind: str
    every_version: bool = True  # every version is an event; False: only the current version shows
    describe: Callable[[Version], dict[str, Any]] | None = None  # the item's `details`


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add a kind that hangs from incidents to their timelines (idempotent for the same source)."""
    if source.kind in _SOURCES and _SOURCES[source.kind] != source:
        raise RuntimeError(f"timeline source {source.kind!r} is registered twice")
    _SOURCES[source.kind] = source
    return source


def sources() -> dict[str, Source]:
    return dict(_SOURCES)


def _item(version: Version, at: datetime, **extra: Any) -> dict[str, Any]:
    from accord.records import kinds

    kind = kinds.get(version.kind)
    title = kind.title(version.body) if kind is not None else version.kind
    return {
        "kind": version.kind,
        "record": version.record_uuid,
        "seq": version.seq,
        "origin": version.origin_member,
        "node": version.origin_node,
        "at": at,
        "state": version.state,
        "title": title,
        "details": {},
        "via": None,
        **extra,
    }


def _incident_details(version: Version) -> dict[str, Any]:
    body = version.body
    change = body.get("change") or {}
    return {
        "action": change.get("action"),
        "reason": change.get("reason", ""),
        "level": body.get("level"),
        "from_level": change.get("from_level"),
        "status": body.get("status"),
    }


# ---- reading: one page in SQL --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """Where an entry sorts: (signed time, record, seq, entry id)."""

    at: datetime
    record: uuid.UUID
    seq: int
    id: int


@dataclass(frozen=True)
class Cursor:
    """A position in the timeline and which side of it to read: "after" (later items) or "before" (earlier)."""

    side: Side
    key: Key


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]  # in the order asked for
    next: str | None  # the cursor of the following page in that order (None: this is the last)
    previous: str | None  # the cursor of the page before it (None: this is the first)


def encode_cursor(cursor: Cursor) -> str:
    key = cursor.key
    raw = f"{cursor.side[0]}|{key.at.isoformat()}|{key.record.hex}|{key.seq}|{key.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        side, at, record, seq, pk = raw.split("|")
        when = datetime.fromisoformat(at)
        if side not in ("a", "b") or when.tzinfo is None:
            raise ValueError(raw)
        key = Key(at=when, record=uuid.UUID(hex=record), seq=int(seq), id=int(pk))
        return Cursor(side="after" if side == "a" else "before", key=key)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ActionError(
            "cursor is not a cursor this timeline gave (use the `next` or `previous` link as it is)", field="cursor"
        ) from None


def visible_entries(principal: Principal, incident: Record) -> QuerySet[TimelineEntry]:
    return _visible(principal, incident.pk, incident.uuid, incident.origin_node, sources())


def _visible(
    principal: Principal,
    incident_pk: int,
    incident_uuid: uuid.UUID,
    incident_node: uuid.UUID,
    registered: dict[str, Source],
) -> QuerySet[TimelineEntry]:
    """The incident's timeline entries that `principal` sees as items, unordered: the audience filter is in the
    query, row by row.

    * the incident's own versions the reader may see;
    * the versions of the records of registered kinds hanging from it: the record visible to the reader (its
      current version), and the version too; of a kind that shows only its current version, that one;
    * a linked record's first version the reader may see, through an active link the reader may see, the record
      visible too."""
    every = [kind for kind, source in registered.items() if source.every_version]
    # One audience filter, built once, asked row by row: is this version (the item, its record's current version,
    # the link's current version, an earlier version of a linked record) one the reader may see?
    seen = Version.objects.visible_to(principal).values("pk")
    version_seen = Exists(seen.filter(pk=OuterRef("version_id")))
    record_seen = Exists(seen.filter(pk=OuterRef("record__current_version_id")))
    own = Q(via__isnull=True, record_id=incident_pk)
    hanging = (
        Q(via__isnull=True, kind__in=list(registered))
        & (Q(kind__in=every) | Q(version_id=F("record__current_version_id")))
        & (Q(version_id=F("record__current_version_id")) | record_seen)
    )
    linked = (
        Q(via__isnull=False, via__link_view__active=True)
        & Exists(seen.filter(pk=OuterRef("via__current_version_id")))
        & record_seen
        & ~Exists(seen.filter(record_id=OuterRef("record_id"), seq__lt=OuterRef("seq")))
    )
    return TimelineEntry.objects.filter(incident_record=incident_uuid, incident_node=incident_node).filter(
        version_seen & (own | hanging | linked)
    )


@functools.lru_cache(maxsize=256)
def _compiled(
    principal: Principal,
    *,
    incident_pk: int,
    incident_uuid: uuid.UUID,
    incident_node: uuid.UUID,
    registered: tuple[tuple[str, Source], ...],
    vendor: str,
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of `_visible` (each row's id, sort key, version and link), compiled once per reader and incident:
    building and compiling the audience filter's subqueries costs more than running them."""
    rows = _visible(principal, incident_pk, incident_uuid, incident_node, dict(registered))
    sql, params = rows.values_list("id", "at", "record_uuid", "seq", "version_id", "via_id").query.sql_with_params()
    return sql, tuple(params)


@functools.lru_cache(maxsize=256)
def _incidents_sql(principal: Principal, vendor: str) -> tuple[str, tuple[Any, ...]]:
    rows = Record.objects.visible_to(principal).filter(kind="incident", incident_view__isnull=False)
    sql, params = rows.values_list("id", "uuid", "origin_node").query.sql_with_params()
    return sql, tuple(params)


def visible_incident(principal: Principal, record_uuid: uuid.UUID) -> Record:
    """The incident `record_uuid` if `principal` may see it, as `queries.incident_for` finds it (the same 404
    otherwise), but only its identity (id, uuid, origin node): what a page of its timeline needs, without reading
    and compiling the whole record's query on every page."""
    from accord.response.queries import NO_SUCH_INCIDENT

    inner, params = _incidents_sql(principal, connection.vendor)
    key = Record._meta.get_field("uuid").get_db_prep_value(record_uuid, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.id, t.uuid, t.origin_node FROM ({inner}) t WHERE t.uuid = %s", [*params, key])  # noqa: S608
        found = cursor.fetchone()
    if found is None:
        raise NotFound(NO_SUCH_INCIDENT)
    return Record(id=found[0], uuid=_uuid(found[1]), origin_node=_uuid(found[2]), kind="incident")


@dataclass(frozen=True)
class _Row:
    key: Key
    version: Version
    via: tuple[uuid.UUID, str] | None  # the link record and the member that linked


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)  # SQLite: UTC, as text without an offset


def _page_rows(principal: Principal, incident: Record, ascending: bool, key: Key | None, count: int) -> list[_Row]:
    """`count` entries the reader sees, from the start or strictly beyond `key`, walking the sort key (signed time,
    record, seq, id) up or down: one index walk, stopped by the LIMIT, with the columns an item needs."""
    registered = tuple(sorted(_SOURCES.items()))
    inner, params = _compiled(
        principal,
        incident_pk=incident.pk,
        incident_uuid=incident.uuid,
        incident_node=incident.origin_node,
        registered=registered,
        vendor=connection.vendor,
    )
    way = "ASC" if ascending else "DESC"
    where = ""
    values = list(params)
    if key is not None:
        meta = TimelineEntry._meta
        where = f"WHERE (t.at, t.record_uuid, t.seq, t.id) {'>' if ascending else '<'} (%s, %s, %s, %s)"
        values += [
            meta.get_field(name).get_db_prep_value(value, connection)  # type: ignore[union-attr]
            for name, value in (("at", key.at), ("record_uuid", key.record), ("seq", key.seq), ("id", key.id))
        ]
    # The values go in as parameters; only the compiled filter, table names and the direction are pasted in.
    versions, records = Version._meta.db_table, Record._meta.db_table
    columns = (
        "t.id, t.at, t.record_uuid, t.seq, v.id, v.record_id, v.kind, v.origin_member, v.origin_node, v.state, "
        "v.status, v.created_at, v.canonical, l.uuid, l.origin_member"
    )
    joins = f"JOIN {versions} v ON v.id = t.version_id LEFT JOIN {records} l ON l.id = t.via_id"
    sort = f"t.at {way}, t.record_uuid {way}, t.seq {way}, t.id {way}"
    sql = f"SELECT {columns} FROM ({inner}) t {joins} {where} ORDER BY {sort} LIMIT %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, count])
        found = cursor.fetchall()
    rows = []
    for pk, at, record, seq, version_id, record_id, kind, member, node, state, status, created, data, link, by in found:
        version = Version(
            id=version_id,
            record_id=record_id,
            record_uuid=_uuid(record),
            seq=seq,
            kind=kind,
            origin_member=member,
            origin_node=_uuid(node),
            state=state,
            status=status,
            created_at=created,
            canonical=bytes(data),
        )
        key_of = Key(at=_time(at), record=_uuid(record), seq=seq, id=pk)
        rows.append(_Row(key=key_of, version=version, via=(_uuid(link), by) if link is not None else None))
    return rows


def page(
    principal: Principal,
    incident: Record,
    *,
    limit: int = DEFAULT_LIMIT,
    order: Order = "asc",
    cursor: str | None = None,
) -> Page:
    """One page of the timeline as `principal` may see it: `limit` items in `order` (oldest or newest first) from
    the start, or from `cursor` (a `next` or `previous` of an earlier page). Never an OFFSET; never the whole list."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ActionError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    at = decode_cursor(cursor) if cursor else None
    ascending = order == "asc" if at is None else at.side == "after"
    rows = _page_rows(principal, incident, ascending, at.key if at is not None else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    forward = ascending == (order == "asc")
    if not forward:
        rows.reverse()
    ahead = more if forward else True  # read backwards from a cursor: what lies ahead is where we came from
    behind = (at is not None) if forward else more
    items = [_row_item(row) for row in rows]
    later: Side = "after" if order == "asc" else "before"
    earlier: Side = "before" if order == "asc" else "after"
    following = encode_cursor(Cursor(later, rows[-1].key)) if rows and ahead else None
    preceding = encode_cursor(Cursor(earlier, rows[0].key)) if rows and behind else None
    return Page(items=items, next=following, previous=preceding)


def timeline(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    """Everything about `incident` that `principal` may see, oldest first, page after page (for small incidents,
    tests and tools; the API and the pages read one page)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        one = page(principal, incident, limit=MAX_LIMIT, cursor=cursor)
        found.extend(one.items)
        if one.next is None:
            return found
        cursor = one.next


def _row_item(row: _Row) -> dict[str, Any]:
    version = row.version
    if row.via is not None:
        return _item(version, row.key.at, via={"link": row.via[0], "linked_by": row.via[1]})
    if version.kind == "incident":
        return _item(version, row.key.at, details=_incident_details(version))
    source = _SOURCES.get(version.kind)
    details = source.describe(version) if source is not None and source.describe is not None else {}
    return _item(version, row.key.at, details=details)


# ---- keeping the entries: a hook of the record core, in the writing transaction ------------------------------


def _entry(version: Version, incident: tuple[uuid.UUID, uuid.UUID], via: int | None = None) -> TimelineEntry:
    return TimelineEntry(
        incident_node=incident[0],
        incident_record=incident[1],
        at=signed_time(version),
        record_uuid=version.record_uuid,
        seq=version.seq,
        kind=version.kind,
        version_id=version.pk,
        record_id=version.record_id,
        via_id=via,
    )


def entries_for(versions: Iterable[Version]) -> list[TimelineEntry]:
    """The timeline entries `versions` make: an incident's version on its own timeline; a version whose body names
    an incident (`"incident": {"node", "record"}`) on that one; a version of a record that links point at, on each
    linking incident's (once per link); and a new link brings every stored version of its target."""
    versions = list(versions)
    rows: list[TimelineEntry] = []
    new_links: list[tuple[Version, tuple[uuid.UUID, uuid.UUID], tuple[uuid.UUID, uuid.UUID]]] = []
    for version in versions:
        if version.kind == "incident":
            rows.append(_entry(version, (version.origin_node, version.record_uuid)))
            continue
        body = version.body
        incident = parse_ref(body.get("incident"))
        if incident is None:
            continue
        if version.kind == LINK_KIND:
            target = parse_ref(body.get("target"))
            if target is not None:
                new_links.append((version, incident, target))
        else:
            rows.append(_entry(version, incident))
    by_record: dict[tuple[uuid.UUID, uuid.UUID], list[Version]] = {}
    for version in versions:
        by_record.setdefault((version.origin_node, version.record_uuid), []).append(version)
    links = LinkView.objects.filter(target_record__in={record for _, record in by_record}).values_list(
        "record_id", "incident_node", "incident_record", "target_node", "target_record"
    )
    for link, incident_node, incident_record, target_node, target_record in links:
        for version in by_record.get((target_node, target_record), []):
            rows.append(_entry(version, (incident_node, incident_record), via=link))
    for link_version, incident, (target_node, target_record) in new_links:
        for version in Version.objects.filter(origin_node=target_node, record_uuid=target_record).defer(
            "canonical", "search_text"
        ):
            rows.append(_entry(version, incident, via=link_version.record_id))
    return rows


def _keep(versions: list[Version]) -> None:
    rows = entries_for(versions)
    if rows:
        TimelineEntry.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


def _keep_one(version: Version) -> None:
    _keep([version])


hooks.on_version_written(_keep_one, many=_keep)
