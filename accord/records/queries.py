"""The read side of the record core. Everything here is filtered by the one audience filter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from accord.records import kinds, search
from accord.records.errors import NotFound
from accord.records.models import Record, Version
from accord.records.principal import Principal

NOT_FOUND = "no such record"


@dataclass(frozen=True)
class RecordFilter:
    kind: str | None = None
    status: str | None = None
    state: str | None = None
    member: str | None = None
    tlp: str | None = None
    q: str | None = None


def records_for(principal: Principal, where: RecordFilter | None = None) -> QuerySet[Record]:
    """The records the principal may see, for the generic reads: without the kinds read only through their own
    endpoint (`RecordKind.reader`, e.g. expert profiles, whose withdrawal that endpoint enforces)."""
    rows = Record.objects.visible_to(principal).select_related("current_version")
    private = kinds.own_readers()
    if private:
        rows = rows.exclude(kind__in=private)
    if where is not None:
        if where.kind:
            rows = rows.filter(kind=where.kind)
        if where.status:
            rows = rows.filter(current_version__status=where.status)
        if where.state:
            rows = rows.filter(current_version__state=where.state)
        if where.member:
            rows = rows.filter(origin_member=where.member)
        if where.tlp:
            rows = rows.filter(current_version__tlp=where.tlp)
        if where.q:
            rows = rows.filter(search.matching(where.q))
    return rows.order_by("-current_version_id")


def record_for(principal: Principal, record_uuid: uuid.UUID | str) -> Record:
    """The record if the principal may see it. Otherwise the same error as for no record at all."""
    try:
        key = uuid.UUID(str(record_uuid))
    except ValueError:
        raise NotFound(NOT_FOUND) from None
    record = records_for(principal).filter(uuid=key).first()
    if record is None:
        elsewhere = Record.objects.visible_to(principal).filter(uuid=key, kind__in=kinds.own_readers()).first()
        reader = kinds.get(elsewhere.kind) if elsewhere is not None else None
        if reader is not None and reader.reader is not None:
            raise NotFound(f"{NOT_FOUND} here: a {reader.name} is read with {reader.reader}")
        raise NotFound(NOT_FOUND)
    return record


def versions_for(principal: Principal, record: Record) -> QuerySet[Version]:
    return Version.objects.visible_to(principal).filter(record=record).order_by("seq")
