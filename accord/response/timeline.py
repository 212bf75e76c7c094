"""The incident timeline, and the registry through which record kinds that hang from an incident join it.

A kind joins the incident in two steps (see docs/response.md, "Extending the response room"):

1. its body names the incident (`"incident": {"node", "record"}`) and its projection calls
   `accord.response.refs.hang(version, body["incident"])`, which keeps `IncidentItem` in step;
2. it registers a `Source` here (in its app's `ready()`), saying whether every version is an event of the timeline
   (a consent given then withdrawn, a corrected sitrep) or only the current one, and how to describe an item.

The timeline is then: the incident's own versions, the versions of the records hanging from it, and the records
linked to it, each visible to the reader (the audience filter, version by version), in signed time order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Min

from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response.models import IncidentItem, LinkView
from accord.response.refs import signed_time


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


def _item(version: Version, **extra: Any) -> dict[str, Any]:
    from accord.records import kinds

    kind = kinds.get(version.kind)
    title = kind.title(version.body) if kind is not None else version.kind
    return {
        "kind": version.kind,
        "record": version.record_uuid,
        "seq": version.seq,
        "origin": version.origin_member,
        "node": version.origin_node,
        "at": signed_time(version),
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


def _described(source: Source, version: Version) -> dict[str, Any]:
    return _item(version, details=source.describe(version) if source.describe is not None else {})


def timeline(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    """Everything about `incident` that `principal` may see, oldest first."""
    items = [
        _item(v, details=_incident_details(v))
        for v in Version.objects.visible_to(principal).filter(record=incident).order_by("seq")
    ]
    hanging = IncidentItem.objects.filter(incident_node=incident.origin_node, incident_record=incident.uuid)
    registered = sources()
    visible = Record.objects.visible_to(principal)
    records = visible.filter(pk__in=hanging.filter(kind__in=registered).values("record_id"))
    every = [k for k, source in registered.items() if source.every_version]
    # One query for the kinds whose every version is an event, version by version through the audience filter.
    for version in Version.objects.visible_to(principal).filter(record__in=records.filter(kind__in=every)):
        items.append(_described(registered[version.kind], version))
    for record in records.exclude(kind__in=every).select_related("current_version"):
        if record.current_version is not None:
            items.append(_described(registered[record.kind], record.current_version))
    items.extend(_linked(principal, incident))
    items.sort(key=lambda i: (i["at"], str(i["record"]), i["seq"]))
    return items


def _linked(principal: Principal, incident: Record) -> list[dict[str, Any]]:
    """The records linked to the incident by links the reader may see, each at its first version the reader may
    see, with `via` naming the link."""
    visible = Record.objects.visible_to(principal)
    links = LinkView.objects.filter(
        incident_node=incident.origin_node,
        incident_record=incident.uuid,
        active=True,
        record__in=visible.filter(kind="incident_link"),
    ).values_list("record__uuid", "record__origin_member", "target_node", "target_record")
    by_target = {(node, target): (link, member) for link, member, node, target in links}
    if not by_target:
        return []
    targets = {
        (r.origin_node, r.uuid): r
        for r in visible.filter(uuid__in=[t for _, t in by_target]).select_related("current_version")
        if (r.origin_node, r.uuid) in by_target
    }
    first = dict(
        Version.objects.visible_to(principal)
        .filter(record__in=list(targets.values()))
        .values("record_id")
        .annotate(first=Min("seq"))
        .values_list("record_id", "first")
    )
    found: list[dict[str, Any]] = []
    for key, record in targets.items():
        seq = first.get(record.pk)
        version = Version.objects.filter(record=record, seq=seq).first() if seq is not None else None
        if version is None:
            continue
        link, linked_by = by_target[key]
        found.append(_item(version, via={"link": link, "linked_by": linked_by}))
    return found
