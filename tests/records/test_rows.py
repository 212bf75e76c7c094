"""accord.records.rows.insert writes the same rows as the ORM, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import IntegrityError, connection, models, transaction

from accord.notify.models import OutboxEntry
from accord.records import rows
from accord.records.models import AudienceEntry, AuditEntry, Record, Version

pytestmark = pytest.mark.django_db


def _version(record: Record, seq: int, **changes: Any) -> Version:
    fields: dict[str, Any] = {
        "record": record,
        "origin_node": record.origin_node,
        "record_uuid": record.uuid,
        "seq": seq,
        "kind": "note",
        "status": "actual",
        "state": "active",
        "tlp": "GREEN",
        "audience_everyone": seq % 2 == 0,
        "origin_member": "KZ",
        "origin_organisation": uuid.UUID(int=seq),
        "author": None,
        "created_at": "2026-11-27T10:00:00Z",
        "prev_hash": None if seq == 1 else f"sha256:{seq - 1:064d}",
        "content_hash": f"sha256:{seq:064d}",
        "canonical": bytes(range(256)) + f"{seq}".encode(),
        "signature": "c2ln",
        "sig_alg": "Ed25519",
        "sig_kid": "kid",
        "search_text": f"text {seq} \u0442\u0435\u043a\u0441\u0442 \u6587\u672c",
        "received_at": datetime(2026, 11, 27, 10, 0, seq % 60, 123456, tzinfo=UTC),
    }
    fields.update(changes)
    return Version(**fields)


def _stored(pk: int) -> dict[str, Any]:
    row: dict[str, Any] = dict(Version.objects.filter(pk=pk).values().get())
    row.pop("id")
    row["canonical"] = bytes(row["canonical"])
    return row


def test_versions_inserted_by_rows_read_back_as_those_inserted_by_the_orm() -> None:
    record = Record.objects.create(origin_node=uuid.uuid4(), uuid=uuid.uuid4(), origin_member="KZ", kind="note")
    other = Record.objects.create(origin_node=uuid.uuid4(), uuid=uuid.uuid4(), origin_member="KZ", kind="note")
    # 120 rows: more than one batch of SQLite's 999 parameters; one organisation given as text, as in envelopes.
    ours = [_version(record, seq) for seq in range(1, 121)]
    ours[3].origin_organisation = "dfcba857-7942-4581-aa50-f4c720fa19b8"
    theirs = [_version(other, seq) for seq in range(1, 121)]
    theirs[3].origin_organisation = uuid.UUID("dfcba857-7942-4581-aa50-f4c720fa19b8")
    rows.insert(ours)
    Version.objects.bulk_create(theirs)
    assert all(v.pk is not None and not v._state.adding for v in ours)
    assert len({v.pk for v in ours}) == 120
    for mine, orm in zip(ours, theirs, strict=True):
        a, b = _stored(mine.pk), _stored(orm.pk)
        assert a.pop("record_id") == record.pk and b.pop("record_id") == other.pk
        assert a.pop("origin_node") == record.origin_node and b.pop("origin_node") == other.origin_node
        assert a.pop("record_uuid") == record.uuid and b.pop("record_uuid") == other.uuid
        assert a == b
    # The keys set on the instances are those of the rows, in order.
    assert [Version.objects.get(pk=v.pk).seq for v in ours] == list(range(1, 121))


def test_rows_sets_keys_that_later_rows_refer_to_and_writes_json() -> None:
    record = Record(origin_node=uuid.uuid4(), uuid=uuid.uuid4(), origin_member="CN", kind="note")
    rows.insert([record])
    version = _version(record, 1)
    rows.insert([version])
    rows.insert([AudienceEntry(version=version, target="member:CN"), AudienceEntry(version=version, target="org:x")])
    rows.insert([OutboxEntry(version=version)])
    assert set(Version.objects.get(pk=version.pk).audience_entries.values_list("target", flat=True)) == {
        "member:CN",
        "org:x",
    }
    assert OutboxEntry.objects.get(version=version).processed_at is None
    entry = AuditEntry(
        seq=10**12,
        at="2026-11-27T10:00:00Z",
        node_id=uuid.uuid4(),
        actor=None,
        actor_name="test",
        action="test.rows",
        data={"versions": [{"origin": "x", "n": 1}], "text": "\u0442\u0435\u043a\u0441\u0442"},
        prev_hash="sha256:0",
        entry_hash="sha256:1",
    )
    rows.insert([entry])
    assert AuditEntry.objects.get(pk=entry.pk).data == entry.data


def test_a_row_that_breaks_a_constraint_raises_and_writes_nothing_of_its_batch() -> None:
    record = Record.objects.create(origin_node=uuid.uuid4(), uuid=uuid.uuid4(), origin_member="KZ", kind="note")
    rows.insert([_version(record, 1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert([_version(record, 2), _version(record, 1)])
    assert list(Version.objects.filter(record=record).values_list("seq", flat=True)) == [1]


def test_nothing_to_insert_is_no_statement() -> None:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows.insert([])
    assert len(queries) == 0


def test_one_reads_an_instance_as_the_orm_does_or_none() -> None:
    from accord.federation.models import Peer

    peer = Peer.objects.create(name="p", node_id=uuid.uuid4(), member="KZ", url="http://127.0.0.1:1", nonce_floor=7)
    Peer.objects.filter(pk=peer.pk).update(served_at=datetime(2026, 11, 27, 10, 0, 1, 5, tzinfo=UTC))
    read = rows.one(Peer, "node_id", peer.node_id)
    orm = Peer.objects.get(pk=peer.pk)
    assert read is not None and not read._state.adding
    assert {f.attname: getattr(read, f.attname) for f in Peer._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in Peer._meta.concrete_fields
    }
    assert isinstance(read.node_id, uuid.UUID) and read.served_at == orm.served_at
    assert rows.one(Peer, "node_id", str(peer.node_id)) is not None
    assert rows.one(Peer, "node_id", uuid.uuid4()) is None


def test_many_rows_are_inserted_in_batches_with_every_key_set() -> None:
    record = Record(origin_node=uuid.uuid4(), uuid=uuid.uuid4(), origin_member="CN", kind="note")
    rows.insert([record])
    version = _version(record, 1)
    rows.insert([version])
    # 40,000 rows of two columns: 80,000 parameters, many statements on SQLite (999 parameters each), and more than
    # PostgreSQL binds in one statement when the driver binds on the server.
    entries = [AudienceEntry(version=version, target=f"org:{n}") for n in range(40_000)]
    rows.insert(entries)
    assert AudienceEntry.objects.filter(version=version).count() == 40_000
    assert len({e.pk for e in entries}) == 40_000
    assert AudienceEntry.objects.get(pk=entries[-1].pk).target == "org:39999"


def test_the_fast_converters_bind_what_the_fields_bind() -> None:
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo

    from accord.alerts.models import AlertView

    for name in ("sent_at", "expires_at", "bbox_west"):
        field = AlertView._meta.get_field(name)
        assert isinstance(field, models.Field)
        convert = rows._converter(field)
        assert convert is not None
        values: list[Any] = (
            [
                datetime(2026, 12, 5, 9, 0, 1, 123456, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Asia/Almaty")),
                datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
                None,
            ]
            if name != "bbox_west"
            else [1.5, -0.0, None, 3, "2.5"]
        )
        for value in values:
            assert convert(value) == field.get_db_prep_save(value, connection), (name, value)
