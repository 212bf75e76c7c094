"""Every change to records goes through these functions.

Each runs in one transaction that writes the version, its audience rows and an audit
entry, and queues side effects (the `version_committed` task, admin alerts) to run only
after the commit. Views, the API, the CLI and importers call these; none writes models.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accord.members.identity import Here, signing_key
from accord.members.identity import here as identity_here
from accord.records import attachments as attachment_store
from accord.records import audit, hooks, kinds, search
from accord.records.envelope import (
    STATUSES,
    Audience,
    EnvelopeShape,
    build_envelope,
    encode,
)
from accord.records.errors import ActionError, Conflict, Forbidden, TooLarge
from accord.records.models import (
    Attachment,
    AudienceEntry,
    Record,
    Version,
    VersionAttachment,
)

if TYPE_CHECKING:
    from accord.members.models import Account, NodeIdentity


@dataclass(frozen=True)
class NewAttachment:
    name: str
    media_type: str
    data: bytes


def this_node() -> NodeIdentity:
    """This node's identity; an ActionError before `accord migrate` has made it."""
    from accord.members.models import NodeIdentity

    node = NodeIdentity.objects.select_related("member").filter(id=1).first()
    if node is None:
        raise ActionError("this node has no identity yet; run `accord migrate` first")
    return node


def here() -> Here:
    """This node's id and member code, cheaply (identity.here); an ActionError before `accord migrate`."""
    found = identity_here()
    if found is None:
        raise ActionError("this node has no identity yet; run `accord migrate` first")
    return found


def _check_publisher(kind: kinds.RecordKind, user: Account) -> None:
    if not user.is_active:
        raise Forbidden("this account is disabled")
    if user.organisation is None:
        raise Forbidden("this account belongs to no organisation and cannot publish")
    roles = kind.roles_for(user.organisation.member)
    if roles and not (user.role_names() & roles):
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"publishing a {kind.name} needs one of the roles: {allowed}")


def _author(user: Account, status: str) -> kinds.Author:
    """The author of a version issued here by `user` (checked by _check_publisher to have an organisation)."""
    organisation = user.organisation
    assert organisation is not None
    return kinds.Author(member=organisation.member.code, status=status)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ActionError(f"status {status!r} is not one of {', '.join(STATUSES)}", field="status")


def _check_audience_members(audience: Audience) -> None:
    """Everyone an audience names must exist here, or a typo would silently share with nobody."""
    from accord.members.models import Account, Member, Organisation

    if audience.members:
        known = set(Member.objects.filter(code__in=audience.members).values_list("code", flat=True))
        unknown = sorted(set(audience.members) - known)
        if unknown:
            raise ActionError(f"audience names unknown members: {', '.join(unknown)}", field="audience")
    if audience.organisations:
        found = set(Organisation.objects.filter(uuid__in=audience.organisations).values_list("uuid", flat=True))
        missing = sorted(str(o) for o in set(audience.organisations) - found)
        if missing:
            raise ActionError(f"audience names unknown organisations: {', '.join(missing)}", field="audience")
    if audience.persons:
        found = set(Account.objects.filter(uuid__in=audience.persons).values_list("uuid", flat=True))
        missing = sorted(str(p) for p in set(audience.persons) - found)
        if missing:
            raise ActionError(f"audience names unknown persons: {', '.join(missing)}", field="audience")


def _store_attachments(items: list[NewAttachment]) -> list[dict[str, Any]]:
    described = []
    names = set()
    for item in items:
        if item.name in names:
            raise ActionError(f"attachment name {item.name!r} is used twice", field="attachments")
        names.add(item.name)
        if len(item.data) > settings.ACCORD_MAX_BODY_BYTES:
            raise TooLarge(f"attachment {item.name!r} is larger than {settings.ACCORD_MAX_BODY_BYTES} bytes")
        digest = attachment_store.store_bytes(item.data)
        described.append({"name": item.name, "media_type": item.media_type, "sha256": digest, "size": len(item.data)})
    return sorted(described, key=lambda a: str(a["name"]))


def _write_version(data: bytes, digest: str, signature: str, kid: str, shape: Any) -> Version:
    """Insert a version whose bytes are already verified; update its record's current pointer."""
    origin = shape.origin
    origin_node = uuid.UUID(str(origin["node"]))
    # Not get_or_create: that costs a savepoint per call, and the unique constraint guards races anyway.
    record = Record.objects.filter(origin_node=origin_node, uuid=shape.record).first()
    if record is None:
        record = Record.objects.create(
            origin_node=origin_node, uuid=shape.record, origin_member=origin.get("member") or "", kind=shape.kind
        )
    if record.kind != shape.kind:
        raise ActionError(f"version kind {shape.kind!r} differs from the record's kind {record.kind!r}")
    kind = kinds.get(shape.kind)
    version = Version.objects.create(
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
        content_hash=digest,
        canonical=data,
        signature=signature,
        sig_alg="Ed25519",
        sig_kid=kid,
        search_text=kind.search_text(shape.body) if kind is not None else "",
    )
    AudienceEntry.objects.bulk_create(
        [AudienceEntry(version=version, target=target) for target in shape.audience.targets()]
    )
    for item in shape.attachments:
        attachment, _ = Attachment.objects.get_or_create(
            sha256=item["sha256"], defaults={"size": item["size"], "media_type": item["media_type"]}
        )
        VersionAttachment.objects.create(version=version, attachment=attachment, name=item["name"])
    if shape.seq > record.current_seq:
        record.current_seq = shape.seq
        record.current_version = version
        record.save(update_fields=["current_seq", "current_version"])
        if kind is not None and kind.project is not None:
            kind.project(version)
        search.index([version])
    hooks.version_written(version)
    return version


def _on_commit_version(version_id: int, kind: str) -> None:
    from accord.records.tasks import version_committed, wanted

    if wanted(kind):
        transaction.on_commit(lambda: version_committed.enqueue(version_id))


def _issue(
    *,
    record_uuid: uuid.UUID,
    kind: kinds.RecordKind,
    seq: int,
    prev_hash: str | None,
    status: str,
    state: str,
    audience: Audience,
    tlp: str,
    body: dict[str, Any],
    files: list[dict[str, Any]],
    acting_user: Account,
    action: str,
    reason: str | None = None,
) -> Version:
    node = here()
    organisation = acting_user.organisation
    assert organisation is not None
    envelope = build_envelope(
        kind=kind.name,
        origin={
            "node": str(node.node_id),
            "member": organisation.member.code,
            "organisation": str(organisation.uuid),
            "account": str(acting_user.uuid),
        },
        record=record_uuid,
        seq=seq,
        prev_hash=prev_hash,
        status=status,
        state=state,
        audience=audience,
        tlp=tlp,
        body=body,
        attachments=files,
        reason=reason,
    )
    data, digest = encode(envelope)
    key = signing_key()
    # The bytes were made from `envelope` a moment ago: check its shape, not its canonical form again.
    shape = EnvelopeShape.model_validate(envelope)
    try:
        with transaction.atomic():
            audit.lock()
            version = _write_version(data, digest, key.sign(data), key.kid, shape)
            audit.append(
                action,
                actor=acting_user,
                object_type=kind.name,
                object_id=f"{record_uuid}#{seq}",
                data={"content_hash": digest, "tlp": tlp, "status": status, "state": state, "reason": reason},
            )
            _on_commit_version(version.pk, version.kind)
    except IntegrityError:
        raise Conflict("another version of this record was issued at the same time; reload and retry") from None
    return version


def publish(
    kind_name: str,
    body: Any,
    *,
    audience: Audience,
    tlp: str,
    status: str = "actual",
    acting_user: Account,
    files: list[NewAttachment] | None = None,
) -> Version:
    """Create a new record of `kind_name` and issue its first version."""
    kind = kinds.require(kind_name)
    _check_publisher(kind, acting_user)
    _check_status(status)
    audience.check_against(tlp)
    _check_audience_members(audience)
    clean_body = kind.check(body, _author(acting_user, status))
    return _issue(
        record_uuid=uuid.uuid4(),
        kind=kind,
        seq=1,
        prev_hash=None,
        status=status,
        state="active",
        audience=audience,
        tlp=tlp,
        body=clean_body,
        files=_store_attachments(files or []),
        acting_user=acting_user,
        action="record.publish",
    )


def check_successor(record: Record, current: Version, acting_user: Account, *, node_id: uuid.UUID) -> kinds.RecordKind:
    """Whether `acting_user` may issue the next version of `record` (whose current version is `current`) on the
    node `node_id`; returns the record's kind. Shared by revise, withdraw and the batch writer (records.batch)."""
    if record.origin_node != node_id:
        raise Forbidden("only the origin node issues versions of a record; react with a record of your own")
    kind = kinds.require(record.kind)
    if kind.issuer == "node":
        raise Forbidden(f"a {kind.name} is issued only by the node in its own name")
    _check_publisher(kind, acting_user)
    organisation = acting_user.organisation
    assert organisation is not None
    if current.origin_organisation != organisation.uuid:
        raise Forbidden("only the organisation that published this record may issue new versions of it")
    if current.status == "draft" and current.author != acting_user.uuid:
        raise Forbidden("only the author of a draft may change it")
    return kind


def check_status_change(current_status: str, new_status: str) -> None:
    """A known status, and exercise traffic never turning into actual traffic, nor the reverse."""
    _check_status(new_status)
    if current_status not in ("draft", new_status):
        raise ActionError(
            f"a published {current_status} record keeps its status; publish a new record instead", field="status"
        )


def _own_current(record: Record, acting_user: Account) -> tuple[kinds.RecordKind, Version]:
    current = record.current_version
    assert current is not None
    kind = check_successor(record, current, acting_user, node_id=this_node().node_id)
    return kind, current


def revise(
    record: Record,
    *,
    acting_user: Account,
    expected_seq: int | None = None,
    body: Any = None,
    audience: Audience | None = None,
    tlp: str | None = None,
    status: str | None = None,
    files: list[NewAttachment] | None = None,
) -> Version:
    """Issue the next version of a record this node originated, changing what is given.

    `files` replaces the attachments when given; otherwise they carry over."""
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        kind, current = _own_current(record, acting_user)
        if current.state == "withdrawn":
            raise Conflict("this record is withdrawn; publish a new record instead")
        if expected_seq is not None and expected_seq != record.current_seq:
            raise Conflict(f"the record is at version {record.current_seq}, not {expected_seq}; reload and retry")
        envelope = current.envelope()
        new_audience = audience if audience is not None else Audience.model_validate(envelope["audience"])
        new_tlp = tlp if tlp is not None else current.tlp
        new_status = status if status is not None else current.status
        check_status_change(current.status, new_status)
        new_audience.check_against(new_tlp)
        _check_audience_members(new_audience)
        clean_body = envelope["body"]
        if body is not None:
            clean_body = kind.check(body, _author(acting_user, new_status), envelope["body"])
        return _issue(
            record_uuid=record.uuid,
            kind=kind,
            seq=current.seq + 1,
            prev_hash=current.content_hash,
            status=new_status,
            state="active",
            audience=new_audience,
            tlp=new_tlp,
            body=clean_body,
            files=envelope["attachments"] if files is None else _store_attachments(files),
            acting_user=acting_user,
            action="record.revise",
        )


def withdraw(
    record: Record,
    *,
    acting_user: Account,
    reason: str,
    body: Any = None,
    files: list[NewAttachment] | None = None,
) -> Version:
    """Retract a record: a new version with state 'withdrawn'. Nothing is deleted.

    `body` (validated by the kind) and `files` replace the current ones when given, e.g. an
    alert's withdrawal carries its CAP Cancel message."""
    if not reason.strip():
        raise ActionError("say why the record is withdrawn", field="reason")
    if len(reason) > 2000:
        raise ActionError("the reason is longer than 2000 characters", field="reason")
    kinds.check_text(reason, "reason")
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        kind, current = _own_current(record, acting_user)
        if current.state == "withdrawn":
            raise Conflict("this record is already withdrawn")
        envelope = current.envelope()
        new_body = (
            kind.check(body, _author(acting_user, current.status), envelope["body"])
            if body is not None
            else dict(envelope["body"])
        )
        return _issue(
            record_uuid=record.uuid,
            kind=kind,
            seq=current.seq + 1,
            prev_hash=current.content_hash,
            status=current.status,
            state="withdrawn",
            audience=Audience.model_validate(envelope["audience"]),
            tlp=current.tlp,
            body=new_body,
            files=envelope["attachments"] if files is None else _store_attachments(files),
            acting_user=acting_user,
            action="record.withdraw",
            reason=reason.strip(),
        )


def issue_as_node(
    kind_name: str,
    body: dict[str, Any],
    *,
    key: Any,
    action: str,
    actor: Account | None,
    record: Record | None = None,
) -> Version:
    """Publish a record in the node's own name (no organisation, no account), signed with `key`; with `record`
    (one the node issued in its own name), issue its next version instead.

    Used for what the node itself announces to every peer, e.g. its key changes: audience everyone,
    TLP:CLEAR, status actual."""
    kind = kinds.require(kind_name)
    node = this_node()
    clean_body = kind.check(body, kinds.Author(member=node.member.code, by_node=True))
    seq, prev_hash, record_uuid = 1, None, uuid.uuid4()
    if record is not None:
        current = record.current_version
        if record.origin_node != node.node_id or record.kind != kind.name or current is None or current.author:
            raise Forbidden(f"record {record.uuid} is not a {kind.name} this node issued in its own name")
        seq, prev_hash, record_uuid = current.seq + 1, current.content_hash, record.uuid
    envelope = build_envelope(
        kind=kind.name,
        origin={"node": str(node.node_id), "member": node.member.code, "organisation": None, "account": None},
        record=record_uuid,
        seq=seq,
        prev_hash=prev_hash,
        status="actual",
        state="active",
        audience=Audience(everyone=True),
        tlp="CLEAR",
        body=clean_body,
        attachments=[],
    )
    data, digest = encode(envelope)
    shape = EnvelopeShape.model_validate(envelope)
    with transaction.atomic():
        audit.lock()
        version = _write_version(data, digest, key.sign(data), key.kid, shape)
        audit.append(
            action,
            actor=actor,
            object_type=kind.name,
            object_id=f"{record_uuid}#{seq}",
            data={"content_hash": digest, "kid": key.kid},
        )
        _on_commit_version(version.pk, version.kind)
    return version


# Receiving versions from elsewhere lives in accord.records.ingest; re-exported here for callers.
from accord.records.ingest import IngestResult, ingest, ingest_many  # noqa: E402

__all__ = [
    "IngestResult",
    "NewAttachment",
    "check_status_change",
    "check_successor",
    "ingest",
    "ingest_many",
    "issue_as_node",
    "publish",
    "revise",
    "this_node",
    "withdraw",
]
