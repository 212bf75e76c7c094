"""Issuing many versions at once: `issue_many`, the batch counterpart of publish, revise and withdraw.

Every version is still checked on its own (the publisher's roles, the status, the audience, every rule of its kind),
gets its own envelope, signature, record and version row; a version that fails is reported in its place and never
blocks the others. What is shared is the cost of storing them: the work that needs no lock (checks, canonical
bytes, signatures, writing the originals) is done first, then one transaction takes the audit lock, checks that
nothing it builds on has moved, and stores every version with a handful of prepared multi-row inserts
(`accord.records.rows`), the kinds' projections and the in-transaction hooks in bulk, one audit entry that lists
every version's hash, and one queued task for the whole batch. Either the whole batch is stored or none of it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accord.lib.canonical import CanonicalError, canonical_bytes, content_hash
from accord.members.identity import signing_key
from accord.records import attachments as attachment_store
from accord.records import audit, hooks, kinds, rows
from accord.records.actions import (
    NewAttachment,
    _author,
    _check_publisher,
    _check_status,
    check_status_change,
    check_successor,
    here,
)
from accord.records.envelope import Audience, build_envelope, now_rfc3339
from accord.records.errors import ActionError, Conflict, TooLarge
from accord.records.ingest import _advance_current
from accord.records.models import Attachment, AudienceEntry, Record, Version, VersionAttachment

if TYPE_CHECKING:
    from accord.members.models import Account


@dataclass
class Draft:
    """One version to issue. `follows` is None for a new record; a Record (of this node) or the index of an earlier
    draft of the same batch for the next version of that record (`withdraw` makes it the record's withdrawal, with
    `reason`). `audience` and `tlp` may be left out of a next version: the current ones carry over."""

    kind: str
    body: Any
    audience: Audience | None = None
    tlp: str | None = None
    status: str | None = None
    files: Sequence[NewAttachment] = ()
    follows: Record | int | None = None
    withdraw: bool = False
    reason: str | None = None


@dataclass
class _Ready:
    """A draft checked, encoded and signed, waiting to be stored."""

    draft: Draft
    kind: kinds.RecordKind
    record: Record
    record_is_new: bool
    base: tuple[int, str | None]  # (seq, content_hash) of the version it follows, as read before the lock
    seq: int
    status: str
    state: str
    tlp: str
    audience: Audience
    data: bytes
    digest: str
    signature: str
    created_at: str
    body: dict[str, Any]
    files: list[dict[str, Any]] = field(default_factory=list)


Result = Version | ActionError


class _Files:
    """Originals hashed here, written by a background thread while the batch is prepared, made durable once (all
    of them: attachments.sync_paths) and waited for before the batch commits. A file is named by its hash: a
    rolled-back batch leaves at worst an unreferenced file, never a wrong one."""

    def __init__(self) -> None:
        self._queued: dict[str, bytes] = {}
        self._seen: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[list[Path]]] = []

    def store(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._seen:
            self._seen.add(digest)
            self._queued[digest] = data
            if len(self._queued) >= 64:
                self._flush()
        return digest

    def _flush(self) -> None:
        if not self._queued:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-originals")
        self._futures.append(self._pool.submit(_write_all, self._queued))
        self._queued = {}

    def wait(self) -> None:
        self._flush()
        try:
            written = [path for future in self._futures for path in future.result()]
            attachment_store.sync_paths(written)
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
            self._futures = []


def _write_all(files: dict[str, bytes]) -> list[Path]:
    written = []
    for digest, data in files.items():
        path = attachment_store.write_unsynced(digest, data)
        if path is not None:
            written.append(path)
    return written


def _once_per_kind(user: Account) -> Callable[[kinds.RecordKind], None]:
    """_check_publisher, asked once per kind (it reads the account's roles) and remembered for the batch."""
    answers: dict[str, ActionError | None] = {}

    def check(kind: kinds.RecordKind) -> None:
        if kind.name not in answers:
            try:
                _check_publisher(kind, user)
            except ActionError as error:
                answers[kind.name] = error
            else:
                answers[kind.name] = None
        refusal = answers[kind.name]
        if refusal is not None:
            raise refusal

    return check


def _checked_audiences() -> Callable[[Audience], None]:
    """_check_audience_members, remembering the audiences already found good (a batch repeats a few of them)."""
    from accord.records.actions import _check_audience_members

    good: set[str] = set()

    def check(audience: Audience) -> None:
        key = repr(audience.canonical())
        if key not in good:
            _check_audience_members(audience)
            good.add(key)

    return check


def _attachments(files: Sequence[NewAttachment], store: _Files) -> list[dict[str, Any]]:
    described = []
    names = set()
    for item in files:
        if item.name in names:
            raise ActionError(f"attachment name {item.name!r} is used twice", field="attachments")
        names.add(item.name)
        if len(item.data) > settings.ACCORD_MAX_BODY_BYTES:
            raise TooLarge(f"attachment {item.name!r} is larger than {settings.ACCORD_MAX_BODY_BYTES} bytes")
        digest = store.store(item.data)
        described.append({"name": item.name, "media_type": item.media_type, "sha256": digest, "size": len(item.data)})
    return sorted(described, key=lambda a: str(a["name"]))


def issue_many(drafts: Sequence[Draft], *, acting_user: Account, action: str = "record.issue_many") -> list[Result]:
    """Issue every draft as `acting_user`; one result per draft, in order: its version, or why it was refused.

    Runs its own transaction (or a savepoint of the caller's). A draft following an earlier one that was refused is
    refused too. Raises only for what no draft can pass (no node identity yet)."""
    node = here()
    key = signing_key()
    organisation = acting_user.organisation
    results: list[Result | None] = [None] * len(drafts)
    ready: dict[int, _Ready] = {}
    tails: dict[uuid.UUID, int] = {}  # record -> the draft of this batch that issues its latest version
    if organisation is None:
        from accord.records.errors import Forbidden

        refusal = Forbidden("this account belongs to no organisation and cannot publish")
        return [refusal for _ in drafts]
    origin: dict[str, str | None] = {
        "node": str(node.node_id),
        "member": organisation.member.code,
        "organisation": str(organisation.uuid),
        "account": str(acting_user.uuid),
    }
    existing = _records_followed(drafts)
    check_audience = _checked_audiences()
    check_publisher = _once_per_kind(acting_user)
    store = _Files()
    created_at = now_rfc3339()
    try:
        for index, draft in enumerate(drafts):
            try:
                item = _prepare(
                    draft,
                    user=acting_user,
                    node_id=node.node_id,
                    origin=origin,
                    existing=existing,
                    ready=ready,
                    tails=tails,
                    check_publisher=check_publisher,
                    check_audience=check_audience,
                    store=store,
                )
                _sign(item, origin, key, created_at)
            except ActionError as error:
                results[index] = error
            else:
                ready[index] = item
                tails[item.record.uuid] = index
        _store(ready, results, store=store, user=acting_user, action=action, kid=key.kid)
    finally:
        store.wait()
    done: list[Result] = []
    for result in results:
        assert result is not None
        done.append(result)
    return done


def _records_followed(drafts: Sequence[Draft]) -> dict[int, tuple[Record, Version]]:
    """The records (with their current versions) that drafts follow, read in one query."""
    ids = {d.follows.pk for d in drafts if isinstance(d.follows, Record)}
    found: dict[int, tuple[Record, Version]] = {}
    for record in Record.objects.filter(pk__in=ids).select_related("current_version"):
        if record.current_version is not None:
            found[record.pk] = (record, record.current_version)
    return found


def _prepare(
    draft: Draft,
    *,
    user: Account,
    node_id: uuid.UUID,
    origin: dict[str, str | None],
    existing: dict[int, tuple[Record, Version]],
    ready: dict[int, _Ready],
    tails: dict[uuid.UUID, int],
    check_publisher: Callable[[kinds.RecordKind], None],
    check_audience: Callable[[Audience], None],
    store: _Files,
) -> _Ready:
    follows = draft.follows
    # A draft follows the latest version of its record in this batch, whichever the caller named.
    key = follows.uuid if isinstance(follows, Record) else ready[follows].record.uuid if follows in ready else None
    tail = tails.get(key) if key is not None else None
    if tail is not None:
        follows = tail
    if follows is None:
        kind = kinds.require(draft.kind)
        check_publisher(kind)
        if draft.withdraw:
            raise ActionError("only an existing record can be withdrawn", field="record")
        if draft.audience is None or draft.tlp is None:
            raise ActionError("a new record needs an audience and a TLP label", field="audience")
        status = draft.status or "actual"
        _check_status(status)
        record = Record(origin_node=node_id, uuid=uuid.uuid4(), origin_member=str(origin["member"]), kind=kind.name)
        base: tuple[int, str | None] = (0, None)
        audience, tlp, state, is_new = draft.audience, draft.tlp, "active", True
        current_body: dict[str, Any] | None = None
        current_files: list[dict[str, Any]] = []
    else:
        if isinstance(follows, int):
            before = ready.get(follows)
            if before is None:
                raise ActionError(f"it follows item {follows + 1} of the batch, which was not stored", field="record")
            record, is_new = before.record, False
            base = (before.seq, before.digest)
            kind, status_now, state_now = before.kind, before.status, before.state
            audience_now, tlp_now, current_body, current_files = before.audience, before.tlp, before.body, before.files
        else:
            pair = existing.get(follows.pk)
            if pair is None:
                raise ActionError(f"record {follows.uuid} has no version to follow", field="record")
            record, current = pair
            is_new = False
            kind = check_successor(record, current, user, node_id=node_id)
            base = (current.seq, current.content_hash)
            status_now, state_now, tlp_now = current.status, current.state, current.tlp
            envelope = current.envelope()
            audience_now = Audience.model_validate(envelope["audience"])
            current_body, current_files = envelope["body"], envelope["attachments"]
        if kind.name != draft.kind:
            raise ActionError(f"record {record.uuid} is a {kind.name}, not a {draft.kind}", field="kind")
        if state_now == "withdrawn":
            raise Conflict(f"record {record.uuid} is withdrawn; publish a new record instead")
        status = draft.status or status_now
        check_status_change(status_now, status)
        audience = draft.audience or audience_now
        tlp = draft.tlp or tlp_now
        state = "withdrawn" if draft.withdraw else "active"
    audience.check_against(tlp)
    check_audience(audience)
    reason = None
    if draft.withdraw:
        reason = (draft.reason or "").strip()
        if not reason:
            raise ActionError("say why the record is withdrawn", field="reason")
        if len(reason) > 2000:
            raise ActionError("the reason is longer than 2000 characters", field="reason")
        kinds.check_text(reason, "reason")
    if draft.body is None and current_body is not None:
        body = dict(current_body)
    else:
        body = kind.check(draft.body, _author(user, status), current_body)
    files = _attachments(draft.files, store) if draft.files else list(current_files)
    return _Ready(
        draft=draft,
        kind=kind,
        record=record,
        record_is_new=is_new,
        base=base,
        seq=base[0] + 1,
        status=status,
        state=state,
        tlp=tlp,
        audience=audience,
        data=b"",
        digest="",
        signature="",
        created_at="",
        body=body,
        files=files,
    )


def _sign(item: _Ready, origin: dict[str, str | None], key: Any, created_at: str) -> None:
    """The envelope's canonical bytes, their hash and signature, onto `item`."""
    item.created_at = created_at
    envelope = build_envelope(
        kind=item.kind.name,
        origin=origin,
        record=item.record.uuid,
        seq=item.seq,
        prev_hash=item.base[1],
        status=item.status,
        state=item.state,
        audience=item.audience,
        tlp=item.tlp,
        body=item.body,
        attachments=item.files,
        created_at=created_at,
        reason=(item.draft.reason or "").strip() if item.draft.withdraw else None,
    )
    try:
        data = canonical_bytes(envelope)
    except CanonicalError as error:
        raise ActionError(str(error), field="body") from None
    item.data, item.digest, item.signature = data, content_hash(data), key.sign(data)


def _store(
    ready: dict[int, _Ready],
    results: list[Result | None],
    *,
    store: _Files,
    user: Account,
    action: str,
    kid: str,
) -> None:
    if not ready:
        return
    try:
        with transaction.atomic():
            audit.lock()
            moved = _moved(ready)
            for index in sorted(moved):
                results[index] = Conflict(
                    "the record it follows changed while the batch was prepared; send it again", field="record"
                )
                ready.pop(index)
            if not ready:
                return
            store.wait()  # the originals are on disk before anything refers to them
            versions = _write(ready, user, kid)
            audit.append(
                action,
                actor=user,
                object_type=_one_or(ready, lambda r: r.kind.name, "version"),
                object_id=f"{len(versions)} versions",
                data={
                    "versions": [
                        {"object": f"{r.record.uuid}#{r.seq}", "content_hash": r.digest, "status": r.status}
                        for r in ready.values()
                    ]
                },
            )
            _on_commit(versions)
    except IntegrityError:
        for index in ready:
            results[index] = Conflict("another writer stored versions of these records at the same time; retry")
        return
    for index, version in zip(ready, versions, strict=True):
        results[index] = version


def _one_or(ready: dict[int, _Ready], get: Callable[[_Ready], str], other: str) -> str:
    values = {get(r) for r in ready.values()}
    return values.pop() if len(values) == 1 else other


def _moved(ready: dict[int, _Ready]) -> set[int]:
    """The drafts whose base is no longer the current version (someone issued a version meanwhile), with the drafts
    of the batch that follow them."""
    followed = {r.record.pk: r.base for r in ready.values() if not r.record_is_new and r.record.pk is not None}
    firsts: dict[int, tuple[int, str | None]] = {}
    for r in ready.values():
        if r.record.pk is not None and r.record.pk in followed and r.record.pk not in firsts:
            firsts[r.record.pk] = r.base
    if not firsts:
        return set()
    now = dict(Record.objects.filter(pk__in=firsts).values_list("pk", "current_version__content_hash"))
    stale = {pk for pk, (_, digest) in firsts.items() if now.get(pk) != digest}
    return {index for index, r in ready.items() if r.record.pk in stale}


def _write(ready: dict[int, _Ready], user: Account, kid: str) -> list[Version]:
    organisation = user.organisation
    assert organisation is not None
    new_records = [r.record for r in ready.values() if r.record_is_new]
    rows.insert(new_records)
    versions = []
    for r in ready.values():
        versions.append(
            Version(
                record=r.record,
                origin_node=r.record.origin_node,
                record_uuid=r.record.uuid,
                seq=r.seq,
                kind=r.kind.name,
                status=r.status,
                state=r.state,
                tlp=r.tlp,
                audience_everyone=r.audience.everyone,
                origin_member=r.record.origin_member,
                origin_organisation=organisation.uuid,
                author=user.uuid,
                created_at=r.created_at,
                prev_hash=r.base[1],
                content_hash=r.digest,
                canonical=r.data,
                signature=r.signature,
                sig_alg="Ed25519",
                sig_kid=kid,
                search_text=r.kind.search_text(r.body),
            )
        )
    for version, r in zip(versions, ready.values(), strict=True):
        version.keep_body(r.body)
    rows.insert(versions)
    rows.insert(
        [
            AudienceEntry(version=version, target=target)
            for version, r in zip(versions, ready.values(), strict=True)
            for target in r.audience.targets()
        ]
    )
    _link_attachments(versions, list(ready.values()))
    _advance_current(versions)
    hooks.versions_written(versions)
    return versions


def _link_attachments(versions: list[Version], ready: list[_Ready]) -> None:
    wanted = {f["sha256"]: f for r in ready for f in r.files}
    if not wanted:
        return
    known = {a.sha256: a for a in Attachment.objects.filter(sha256__in=wanted)}
    missing = [
        Attachment(sha256=sha, size=f["size"], media_type=f["media_type"])
        for sha, f in wanted.items()
        if sha not in known
    ]
    rows.insert(missing)
    known.update((a.sha256, a) for a in missing)
    rows.insert(
        [
            VersionAttachment(version=version, attachment=known[f["sha256"]], name=f["name"])
            for version, r in zip(versions, ready, strict=True)
            for f in r.files
        ]
    )


def _on_commit(versions: list[Version]) -> None:
    """One task for the whole batch (not one per version), if any listener wants these kinds."""
    from accord.records.tasks import versions_committed, wanted

    ids = [v.pk for v in versions if wanted(v.kind)]
    if ids:
        transaction.on_commit(lambda: versions_committed.enqueue(ids))
