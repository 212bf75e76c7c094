"""Receiving signed versions from elsewhere (a peer's feed, a fetch, a bundle): verify, then store.

Two entry points share every check:

* `ingest` stores one version in its own transaction;
* `ingest_many` stores a page of versions in one transaction with a handful of bulk statements: one query for
  the keys, one for what is already held, bulk inserts of records, versions and audience rows, and one audit
  entry that lists every version stored. A node catching up on thousands of versions spends its time verifying
  signatures, not compiling SQL.

Both leave the same state behind as storing the versions one by one in the order of their `seq` (the record's
current pointer and its projections advance version by version). What the batch path does not handle itself
(equivocation, versions with attachments, a race with another writer) goes through the one-by-one path, inside
the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from accord.lib.canonical import content_hash, verify
from accord.records import attachments as attachment_store
from accord.records import audit, hooks, kinds, rows, search
from accord.records.entitle import shape_reaches
from accord.records.envelope import EnvelopeShape, decode
from accord.records.errors import ActionError, Forbidden, TooLarge, UnknownKey
from accord.records.models import AudienceEntry, QuarantinedVersion, Record, Version

if TYPE_CHECKING:
    from accord.members.models import NodeKey

IngestOutcome = Literal["stored", "duplicate", "quarantined"]


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    version: Version | None = None
    quarantined: QuarantinedVersion | None = None


@dataclass(frozen=True)
class Incoming:
    """A signed version as it travels: the canonical bytes, the signature and the signing key's id."""

    data: bytes
    signature: str
    kid: str


@dataclass(frozen=True)
class _Checked:
    """A received version whose bytes, audience and signature have been checked."""

    item: Incoming
    shape: EnvelopeShape
    digest: str
    origin: uuid.UUID

    @property
    def identity(self) -> tuple[uuid.UUID, uuid.UUID, int]:
        return (self.origin, self.shape.record, self.shape.seq)


KeyLookup = Callable[[str, uuid.UUID], "NodeKey | None"]


def _signed_at(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ActionError(f"envelope field created_at {text!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise ActionError(f"envelope field created_at {text!r} has no time zone")
    return when


def _decode(item: Incoming, receiver_member: str | None) -> tuple[EnvelopeShape, uuid.UUID]:
    """Everything that can be checked from the bytes alone."""
    if len(item.data) > settings.ACCORD_MAX_BODY_BYTES:
        raise TooLarge(f"the version is larger than {settings.ACCORD_MAX_BODY_BYTES} bytes")
    shape = decode(item.data)
    shape.audience.check_against(shape.tlp)
    try:
        origin_node = uuid.UUID(str(shape.origin["node"]))
    except (KeyError, TypeError, ValueError):
        raise ActionError("envelope field origin.node is not a UUID") from None
    if receiver_member is not None and not shape_reaches(shape, receiver_member):
        raise Forbidden(
            f"version {shape.record}#{shape.seq} is not addressed to member {receiver_member}; "
            "it may not be relayed here"
        )
    return shape, origin_node


def _check_signature(item: Incoming, shape: EnvelopeShape, origin_node: uuid.UUID, keys: KeyLookup) -> _Checked:
    key = keys(item.kid, origin_node)
    if key is None:
        raise UnknownKey(f"key {item.kid} is not a known key of node {origin_node}", kid=item.kid, node=origin_node)
    # created_at has whole seconds: a version signed later in the second of the revocation must not pass.
    if key.revoked_at is not None and _signed_at(shape.created_at) >= key.revoked_at.replace(microsecond=0):
        raise Forbidden(f"key {item.kid} of node {origin_node} is revoked from {key.revoked_at.isoformat()}")
    if not verify(key.public_key, item.data, item.signature):
        raise Forbidden("the signature does not verify")
    return _Checked(item=item, shape=shape, digest=content_hash(item.data), origin=origin_node)


def _one_key(kid: str, origin_node: uuid.UUID) -> NodeKey | None:
    from accord.members.models import NodeKey

    return NodeKey.objects.filter(kid=kid, node_id=origin_node).first()


def ingest(data: bytes, signature: str, kid: str, *, source: str, receiver_member: str | None = None) -> IngestResult:
    """Store a signed version received from elsewhere (a peer, a bundle), after verifying it.

    The same version twice is a no-op success. The same (origin, record, seq) with other
    bytes is equivocation: the newcomer is quarantined and the admins are told. With
    `receiver_member`, a version whose signed audience does not reach that member is refused:
    no node relays a version outside its audience.
    """
    item = Incoming(data, signature, kid)
    shape, origin_node = _decode(item, receiver_member)
    return _store_one(_check_signature(item, shape, origin_node, _one_key), source)


def _store_one(checked: _Checked, source: str) -> IngestResult:
    try:
        return _ingest_verified(checked, source=source)
    except IntegrityError:
        # Another process stored this identity between our check and our insert: decide again.
        return _ingest_verified(checked, source=source)


def _ingest_verified(checked: _Checked, *, source: str) -> IngestResult:
    from accord.records.actions import _on_commit_version, _write_version

    shape, digest, origin_node, item = checked.shape, checked.digest, checked.origin, checked.item
    with transaction.atomic():
        audit.lock()
        existing = Version.objects.filter(origin_node=origin_node, record_uuid=shape.record, seq=shape.seq).first()
        if existing is not None:
            if existing.content_hash == digest:
                return IngestResult("duplicate", version=existing)
            return _quarantine(checked, existing.content_hash, source=source)
        previous = None
        if shape.seq > 1:
            previous = Version.objects.filter(
                origin_node=origin_node, record_uuid=shape.record, seq=shape.seq - 1
            ).first()
        problem = authority_problem(checked.shape, origin_node, previous.body if previous is not None else None)
        if problem is not None:
            return _quarantine(checked, "", source=source, reason=problem)
        if previous is not None:
            _check_follows(shape, previous.content_hash)
        following = Version.objects.filter(origin_node=origin_node, record_uuid=shape.record, seq=shape.seq + 1).first()
        if following is not None:
            _check_followed(shape, digest, following.prev_hash)
        for attachment in shape.attachments:
            if attachment_store.hash_file(str(attachment.get("sha256", ""))) is None:
                raise ActionError(f"attachment {attachment.get('name')!r} was not received with the version")
        version = _write_version(item.data, digest, item.signature, item.kid, shape)
        audit.append(
            "record.ingest",
            actor=None,
            actor_name=f"ingest:{source}",
            object_type=shape.kind,
            object_id=f"{shape.record}#{shape.seq}",
            data={"origin": str(origin_node), "content_hash": digest},
        )
        _on_commit_version(version.pk, version.kind)
    return IngestResult("stored", version=version)


def _check_follows(shape: EnvelopeShape, previous_hash: str) -> None:
    if previous_hash != shape.prev_hash:
        raise ActionError(f"prev_hash {shape.prev_hash} does not match the stored version {shape.seq - 1}")


def _check_followed(shape: EnvelopeShape, digest: str, following_prev_hash: str | None) -> None:
    if following_prev_hash != digest:
        raise ActionError(f"the stored version {shape.seq + 1} does not follow from this version (prev_hash)")


def authority_problem(
    shape: EnvelopeShape, origin_node: uuid.UUID, previous: dict[str, Any] | None = None
) -> str | None:
    """Why a received version may not stand, by its kind's rules and who its origin may speak for; None if it may.

    The origin node signed it, so the signature proves only that the node said it: whether the node may say it
    is decided here, by the same rules as a version issued here (`RecordKind.check`, with `previous`, the body of
    the stored version before it, when there is one), and by the members the node may issue versions for (its own;
    a Secretariat hub also those whose accounts it hosts)."""
    author = kinds.Author.of_envelope(shape.origin, shape.status, received=True)
    allowed = hooks.origin_members(origin_node, by_node=author.by_node)
    if allowed is not None and author.member not in allowed:
        may = ", ".join(sorted(allowed)) or "no member"
        return f"node {origin_node} may issue versions for {may}, not for {author.member or 'no member'}"
    kind = kinds.get(shape.kind)
    if kind is None:
        return None
    try:
        kind.check(shape.body, author, previous)
    except ActionError as error:
        return f"{shape.kind}: {error.message}"
    return None


def _quarantine(checked: _Checked, existing_hash: str, *, source: str, reason: str | None = None) -> IngestResult:
    """Keep a version aside (never shown), and tell the admins once: an equivocating version (`existing_hash`
    is the one stored), or one that breaks its kind's rules or speaks for a member its origin may not
    (`existing_hash` empty, `reason` says why)."""
    shape, digest, origin_node, item = checked.shape, checked.digest, checked.origin, checked.item
    if reason is None:
        reason = f"equivocation: {existing_hash} is already stored for this seq (from {source})"
    else:
        reason = f"refused: {reason} (from {source})"
    quarantined, created = QuarantinedVersion.objects.get_or_create(
        origin_node=origin_node,
        record_uuid=shape.record,
        seq=shape.seq,
        content_hash=digest,
        defaults={
            "existing_hash": existing_hash,
            "canonical": item.data,
            "signature": item.signature,
            "sig_kid": item.kid,
            "reason": reason[:2000],
        },
    )
    if created:
        audit.append(
            "record.quarantine",
            actor=None,
            actor_name=f"ingest:{source}",
            object_type=shape.kind,
            object_id=f"{shape.record}#{shape.seq}",
            data={"origin": str(origin_node), "stored": existing_hash, "received": digest, "reason": reason[:500]},
        )
        from accord.records.tasks import notify_admins_of_quarantine

        quarantine_id = quarantined.pk
        transaction.on_commit(lambda: notify_admins_of_quarantine.enqueue(quarantine_id))
    return IngestResult("quarantined", quarantined=quarantined)


# ---- many at once ---------------------------------------------------------------------------------------


def ingest_many(
    items: Sequence[Incoming], *, source: str, receiver_member: str | None = None
) -> list[IngestResult | ActionError]:
    """Verify and store a page of received versions; one result per item, in order (an error for a refused one).

    Refusing one version never refuses the others. Runs in one transaction (join the caller's, or its own).
    Key announcements (`node_key`) are applied before the versions after them are checked, as they would be
    one by one: a page may carry a key's announcement and the first versions it signed."""
    results: list[IngestResult | ActionError | None] = [None] * len(items)
    with transaction.atomic():
        segment: list[tuple[int, EnvelopeShape, uuid.UUID]] = []
        for index, item in enumerate(items):
            try:
                shape, origin_node = _decode(item, receiver_member)
            except ActionError as error:
                results[index] = error
                continue
            if shape.kind == "node_key":
                _store_segment(items, segment, results, source=source)
                segment = []
                results[index] = _guarded(_check_and_store_one, item, shape, origin_node, source)
            else:
                segment.append((index, shape, origin_node))
        _store_segment(items, segment, results, source=source)
    done: list[IngestResult | ActionError] = []
    for result in results:
        assert result is not None
        done.append(result)
    return done


def _check_and_store_one(item: Incoming, shape: EnvelopeShape, origin_node: uuid.UUID, source: str) -> IngestResult:
    return _store_one(_check_signature(item, shape, origin_node, _one_key), source)


def _guarded(store: Callable[..., IngestResult], *args: Any) -> IngestResult | ActionError:
    """Run a one-by-one store in a savepoint: a refusal rolls back only what it wrote."""
    try:
        with transaction.atomic():
            return store(*args)
    except ActionError as error:
        return error


def _store_segment(
    items: Sequence[Incoming],
    segment: list[tuple[int, EnvelopeShape, uuid.UUID]],
    results: list[IngestResult | ActionError | None],
    *,
    source: str,
) -> None:
    from accord.members.models import NodeKey

    if not segment:
        return
    kids = {items[index].kid for index, _, _ in segment}
    known_keys = {(k.kid, k.node_id): k for k in NodeKey.objects.filter(kid__in=kids)}
    checked: list[tuple[int, _Checked]] = []
    for index, shape, origin_node in segment:
        try:
            checked.append(
                (index, _check_signature(items[index], shape, origin_node, lambda k, n: known_keys.get((k, n))))
            )
        except ActionError as error:
            results[index] = error
    if not checked:
        return
    audit.lock()
    try:
        with transaction.atomic():
            later = _bulk_store(checked, results, source=source)
    except IntegrityError:
        # Another writer got in between (it does not take the audit lock): store these one by one instead.
        later = checked
        for index, _ in checked:
            results[index] = None
    for index, one in later:
        results[index] = _guarded(_store_one, one, source)


def _bulk_store(
    checked: list[tuple[int, _Checked]], results: list[IngestResult | ActionError | None], *, source: str
) -> list[tuple[int, _Checked]]:
    """Store what can be stored in bulk; return what must take the one-by-one path (in the caller's transaction)."""
    from accord.records.actions import _on_commit_version

    origins = {c.origin for _, c in checked}
    record_ids = {c.shape.record for _, c in checked}
    # (hash, prev_hash) of every version held of these records, and of those accepted from this page so far.
    held: dict[tuple[uuid.UUID, uuid.UUID, int], tuple[str, str | None]] = {
        (o, r, s): (h, p)
        for o, r, s, h, p in Version.objects.filter(origin_node__in=origins, record_uuid__in=record_ids).values_list(
            "origin_node", "record_uuid", "seq", "content_hash", "prev_hash"
        )
    }
    records: dict[tuple[uuid.UUID, uuid.UUID], Record] = {
        (r.origin_node, r.uuid): r for r in Record.objects.filter(origin_node__in=origins, uuid__in=record_ids)
    }
    new_records: list[Record] = []
    accepted: list[tuple[int, _Checked]] = []
    later: list[tuple[int, _Checked]] = []
    for index, one in checked:
        shape = one.shape
        try:
            stored = held.get(one.identity)
            if stored is not None:
                if stored[0] == one.digest:
                    results[index] = IngestResult("duplicate")
                else:
                    later.append((index, one))  # equivocation: quarantined on the one-by-one path
                continue
            if shape.attachments or authority_problem(shape, one.origin) is not None:
                later.append((index, one))  # attachments are checked, and forgeries quarantined, one by one
                continue
            if shape.seq > 1 and _follows_rules(shape.kind):
                later.append((index, one))  # checked against the stored version before it, one by one
                continue
            previous = held.get((one.origin, shape.record, shape.seq - 1))
            if shape.seq > 1 and previous is not None:
                _check_follows(shape, previous[0])
            following = held.get((one.origin, shape.record, shape.seq + 1))
            if following is not None:
                _check_followed(shape, one.digest, following[1])
            record = records.get((one.origin, shape.record))
            if record is None:
                record = Record(
                    origin_node=one.origin,
                    uuid=shape.record,
                    origin_member=shape.origin.get("member") or "",
                    kind=shape.kind,
                )
                records[(one.origin, shape.record)] = record
                new_records.append(record)
            if record.kind != shape.kind:
                raise ActionError(f"version kind {shape.kind!r} differs from the record's kind {record.kind!r}")
        except ActionError as error:
            results[index] = error
            continue
        held[one.identity] = (one.digest, shape.prev_hash)
        accepted.append((index, one))
    if not accepted:
        return later
    rows.insert(new_records)
    versions = [_version_row(records[(c.origin, c.shape.record)], c) for _, c in accepted]
    rows.insert(versions)
    rows.insert(
        [
            AudienceEntry(version=version, target=target)
            for version, (_, one) in zip(versions, accepted, strict=True)
            for target in one.shape.audience.targets()
        ]
    )
    _advance_current(versions)
    hooks.versions_written(versions)
    for version, (index, _) in zip(versions, accepted, strict=True):
        results[index] = IngestResult("stored", version=version)
    audit.append(
        "record.ingest",
        actor=None,
        actor_name=f"ingest:{source}",
        object_type=versions[0].kind if len({v.kind for v in versions}) == 1 else "version",
        object_id=f"{versions[0].record_uuid}#{versions[0].seq}" if len(versions) == 1 else f"{len(versions)} versions",
        data=_audit_data(accepted),
    )
    for version in versions:
        _on_commit_version(version.pk, version.kind)
    return later


def _follows_rules(kind_name: str) -> bool:
    """Whether a kind has rules between a version and the one before it (`RecordKind.follows`): a later version of
    it takes the one-by-one path, which reads the stored version before it (stored by then, from this page too)."""
    kind = kinds.get(kind_name)
    return kind is not None and kind.follows is not None


def _audit_data(accepted: list[tuple[int, _Checked]]) -> dict[str, Any]:
    """One version: as `ingest` writes it; several: each one's origin, identity and hash."""
    if len(accepted) == 1:
        one = accepted[0][1]
        return {"origin": str(one.origin), "content_hash": one.digest}
    return {
        "versions": [
            {"origin": str(c.origin), "object": f"{c.shape.record}#{c.shape.seq}", "content_hash": c.digest}
            for _, c in accepted
        ]
    }


def _version_row(record: Record, one: _Checked) -> Version:
    shape, origin = one.shape, one.shape.origin
    kind = kinds.get(shape.kind)
    return Version(
        record=record,
        origin_node=record.origin_node,
        record_uuid=record.uuid,
        seq=shape.seq,
        kind=shape.kind,
        status=shape.status,
        state=shape.state,
        tlp=shape.tlp,
        audience_everyone=shape.audience.everyone,
        origin_member=origin.get("member") or "",
        origin_organisation=origin.get("organisation"),
        author=origin.get("account"),
        created_at=shape.created_at,
        prev_hash=shape.prev_hash,
        content_hash=one.digest,
        canonical=one.item.data,
        signature=one.item.signature,
        sig_alg="Ed25519",
        sig_kid=one.item.kid,
        search_text=kind.search_text(shape.body) if kind is not None else "",
    )


def _advance_current(versions: list[Version]) -> None:
    """Move each record's current pointer forward version by version, in seq order, projecting each step,
    exactly as storing them one by one in that order would."""
    changed: dict[int, Record] = {}
    steps: list[Version] = []
    for version in sorted(versions, key=lambda v: (v.record_id, v.seq)):
        record = version.record
        if version.seq > record.current_seq:
            record.current_seq = version.seq
            record.current_version = version
            changed[record.pk] = record
            steps.append(version)
    if changed:
        # One prepared statement run for every record (the ORM's bulk_update builds a CASE per row and field).
        table = connection.ops.quote_name(Record._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET current_seq = %s, current_version_id = %s WHERE id = %s",  # noqa: S608
                [(r.current_seq, r.current_version_id, r.pk) for r in changed.values()],
            )
    project_steps(steps)


def project_steps(steps: list[Version]) -> None:
    """Run the kinds' projections for versions that became current, in order: a kind's `project_many` once for all
    its versions (in the same order), else its `project` one by one; then index them for search."""
    by_kind: dict[str, list[Version]] = {}
    for version in steps:
        by_kind.setdefault(version.kind, []).append(version)
    for name, versions in by_kind.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind.project_many is not None:
            kind.project_many(versions)
        elif kind.project is not None:
            for version in versions:
                kind.project(version)
    search.index(steps)


def release_quarantined(origin_node: uuid.UUID) -> list[IngestResult | ActionError]:
    """Look again at the versions of `origin_node` quarantined because their origin could not issue them.

    Called when what the origin may issue has grown (a hub's node record now declares a member it hosts): a
    version that passes now is taken out of quarantine and stored as if just received; one that still fails
    stays. Versions quarantined for equivocation are never released."""
    results: list[IngestResult | ActionError] = []
    held = QuarantinedVersion.objects.filter(origin_node=origin_node, existing_hash="").order_by("received_at", "id")
    for item in held:
        try:
            shape = decode(bytes(item.canonical))
        except ActionError:
            continue
        if authority_problem(shape, origin_node) is not None:
            continue
        with transaction.atomic():
            audit.lock()
            QuarantinedVersion.objects.filter(pk=item.pk).delete()
            audit.append(
                "record.release",
                actor=None,
                actor_name="ingest:release",
                object_type=shape.kind,
                object_id=f"{shape.record}#{shape.seq}",
                data={"origin": str(origin_node), "content_hash": item.content_hash},
            )
            try:
                results.append(ingest(bytes(item.canonical), item.signature, item.sig_kid, source="release"))
            except ActionError as error:
                results.append(error)
                transaction.set_rollback(True)
    return results
