"""Audit checkpoints: this node signs its audit head, and its peers keep the signed copies.

A checkpoint is a record of the node-local kind `audit_checkpoint`, issued in the node's own name (no
organisation, no account), audience everyone, TLP:CLEAR, so every peer stores it through normal federation. Its
body names the head of the audit chain when it was issued: `sequence`, `head_hash` and `head_at` (the time of
that entry). The entry that records the checkpoint itself comes after it (a checkpoint cannot cover its own entry).

A node restored from an old backup, or whose log was cut short behind its triggers (accord/records/guard.py), no
longer has the entries its peers saw it sign: `accord audit verify` asks each peer for the latest checkpoint of
this node that it holds (the federation app answers and registers the asking side here: the record core never
imports federation) and compares it with the local chain.

This module is the one place of the kind's rules: the body schema (`CheckpointBody`), who may issue it (`check_origin`:
the node itself, never an account), and how a checkpoint is checked against a chain (`compare`).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field

from accord.lib.canonical import unb64, verify
from accord.records import audit, kinds
from accord.records.errors import ActionError

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.records.models import Version

logger = logging.getLogger("accord.records")

KIND = "audit_checkpoint"
ACTION = "audit.checkpoint"
HASH_PATTERN = r"^sha256:[0-9a-f]{64}$"


class CheckpointBody(BaseModel):
    """The signed head of this node's audit chain."""

    model_config = ConfigDict(extra="forbid")

    sequence: int = Field(ge=1, le=2**62)
    head_hash: str = Field(pattern=HASH_PATTERN)
    head_at: str = Field(min_length=1, max_length=40)
    # The content_hash of this node's previous checkpoint (absent for its first): the checkpoints form a chain, and
    # a node restored from a backup forks it, which the peers holding both branches can show (`forks`).
    previous: str | None = Field(default=None, pattern=HASH_PATTERN)


def check_origin(origin: dict[str, Any]) -> None:
    """Only a node itself issues checkpoints: a version of this kind naming an organisation or account is refused."""
    if origin.get("account") is not None or origin.get("organisation") is not None:
        raise ActionError("an audit checkpoint is issued by a node itself, never by an account", field="kind")


def _title(body: dict[str, Any]) -> str:
    return f"audit checkpoint {body.get('sequence')}"


AUDIT_CHECKPOINT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Audit checkpoint"),
        body_model=CheckpointBody,
        title=_title,
        search_text=_title,
        # Only the node issues checkpoints, in its own name (`issue_as_node`); every account is refused, and a
        # received checkpoint issued by an account is quarantined.
        issuer="node",
        endpoint="accord audit checkpoint",
    )
)


# ---- issuing ------------------------------------------------------------------------------------------------


def last_checkpoint_entry() -> tuple[int, str] | None:
    """The sequence and time of the audit entry that recorded this node's latest checkpoint."""
    from accord.records.models import AuditEntry

    row = AuditEntry.objects.filter(action=ACTION).order_by("-seq").values_list("seq", "at").first()
    return (int(row[0]), str(row[1])) if row is not None else None


def _previous() -> str | None:
    """The content_hash of this node's latest checkpoint, as its audit entry recorded it."""
    from accord.records.models import AuditEntry

    data = AuditEntry.objects.filter(action=ACTION).order_by("-seq").values_list("data", flat=True).first()
    found = data.get("content_hash") if isinstance(data, dict) else None
    return str(found) if found else None


def issue(*, actor: Account | None = None, force: bool = False) -> Version | None:
    """Sign the audit head now, unless it has not moved since the last checkpoint (then None; `force` issues anyway).

    Runs under the audit lock, so two workers never issue the same checkpoint twice."""
    from accord.members.identity import signing_key
    from accord.records.actions import issue_as_node
    from accord.records.models import AuditEntry, AuditHead

    with transaction.atomic():
        audit.lock()
        head = AuditHead.objects.get(id=1)
        last = last_checkpoint_entry()
        if head.seq == 0 or (not force and last is not None and head.seq <= last[0]):
            return None
        entry = AuditEntry.objects.get(seq=head.seq)
        body: dict[str, Any] = {"sequence": head.seq, "head_hash": head.entry_hash, "head_at": entry.at}
        previous = _previous()
        if previous is not None:
            body["previous"] = previous
        return issue_as_node(KIND, body, key=signing_key(), action=ACTION, actor=actor)


def due(now: datetime | None = None) -> bool:
    """Whether the worker should issue a checkpoint: the head moved since the last one, and the interval has passed
    since it (or, before the first, since the node's first audit entry: a new node is not signed at once)."""
    from accord.records.models import AuditEntry, AuditHead

    head = AuditHead.objects.filter(id=1).values_list("seq", flat=True).first()
    if not head:
        return False
    last = last_checkpoint_entry()
    if last is not None and head <= last[0]:
        return False
    since = last[1] if last is not None else AuditEntry.objects.filter(seq=1).values_list("at", flat=True).first()
    try:
        at = datetime.fromisoformat(str(since).replace("Z", "+00:00"))
    except ValueError:
        return True
    every = timedelta(seconds=settings.ACCORD_AUDIT_CHECKPOINT_SECONDS)
    return (now or timezone.now()) - at >= every


def run_once(now: datetime | None = None) -> Version | None:
    """One round of the worker's checkpoint thread: issue a checkpoint when one is due."""
    return issue() if due(now) else None


def run(stop: threading.Event, poll: float = 60.0) -> None:
    """The checkpoint thread of `accord worker`: look once a minute (or each interval, if shorter)."""
    from django.db import connection

    wait = min(poll, float(settings.ACCORD_AUDIT_CHECKPOINT_SECONDS))
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                run_once()
            except Exception:  # a failed round must not end the worker; the next one retries
                logger.exception("audit checkpoint failed")
            stop.wait(wait)
    finally:
        connection.close()


# ---- checking -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A checkpoint as it travels: the signed version bytes, the signature and its key id."""

    data: bytes
    signature: str
    kid: str


@dataclass
class PeerAnswer:
    """What one peer said when asked for the latest checkpoint of this node it holds."""

    peer: str
    status: str  # "answered" (see `checkpoints`), "none" (it holds none), "unreachable", "error"
    # The one with the highest sequence first, then those of forks of the checkpoint chain (see `held_for`).
    checkpoints: list[Signed] = field(default_factory=list)
    detail: str = ""


PeerSource = Callable[[], list[PeerAnswer]]
_peer_sources: list[PeerSource] = []


def register_peer_source(source: PeerSource) -> PeerSource:
    """Federation registers here how to ask the peers (idempotent)."""
    if all(existing is not source for existing in _peer_sources):
        _peer_sources.append(source)
    return source


def ask_peers() -> list[PeerAnswer]:
    answers: list[PeerAnswer] = []
    for source in list(_peer_sources):
        answers.extend(source())
    return answers


def read_signed(signed: Signed) -> dict[str, Any]:
    """The body of a checkpoint of *this* node, after checking its signature against this node's own keys, its
    kind, its origin and its body. ActionError says what is wrong."""
    from accord.members.models import NodeKey
    from accord.records.actions import here
    from accord.records.envelope import decode

    me = here().node_id
    shape = decode(signed.data)
    if shape.kind != KIND:
        raise ActionError(f"it is a {shape.kind!r}, not an {KIND}")
    if str(shape.origin.get("node")) != str(me):
        raise ActionError(f"it was issued by node {shape.origin.get('node')}, not by this node")
    check_origin(shape.origin)
    key = NodeKey.objects.filter(kid=signed.kid, node_id=me).first()
    if key is None:
        raise ActionError(f"it is signed with {signed.kid}, which is not a key of this node")
    if not verify(key.public_key, signed.data, signed.signature):
        raise ActionError("its signature does not verify")
    if key.revoked_at is not None:
        try:
            signed_at = datetime.fromisoformat(shape.created_at.replace("Z", "+00:00"))
        except ValueError:
            raise ActionError(f"its created_at {shape.created_at!r} is not an RFC 3339 time") from None
        if signed_at.tzinfo is None or signed_at >= key.revoked_at:
            raise ActionError(f"it is signed with {signed.kid} after that key was revoked")
    return AUDIT_CHECKPOINT.validate_body(shape.body)


def signed_from_item(item: dict[str, Any]) -> Signed:
    """A federation version item ({"version": base64, "signature", "kid"}) as a Signed checkpoint."""
    try:
        return Signed(unb64(str(item["version"])), str(item["signature"]), str(item["kid"]))
    except (KeyError, TypeError, ValueError) as error:
        raise ActionError(f"it is not a version item ({type(error).__name__})") from None


def compare(body: dict[str, Any], chain: dict[int, str], head: int) -> str | None:
    """What is wrong with the local chain (`chain`: sequence -> entry hash, `head`: its last sequence) given a
    checkpoint this node signed; None when the chain still holds the entry the checkpoint names."""
    sequence, signed_hash = int(body["sequence"]), str(body["head_hash"])
    if sequence > head:
        first = head + 1
        lost = f"entry {first}" if first == sequence else f"entries {first}..{sequence}"
        return f"this node has lost audit {lost}: restored from an old backup?"
    if chain.get(sequence) != signed_hash:
        return (
            f"this node has lost audit entries up to {sequence}: its entry {sequence} is not the one it signed "
            "(the chain was rewritten or replaced): restored from an old backup?"
        )
    return None


@dataclass
class Finding:
    """One checkpoint compared with the chain: whose copy (this node's own store, or a peer), and the outcome."""

    source: str
    status: str  # "agrees", "lost" (the chain lacks what was signed), "none", "unreachable", "invalid", "error"
    sequence: int | None = None
    record: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "sequence": self.sequence,
            "record": self.record,
            "detail": self.detail,
        }


@dataclass
class Comparison:
    local_checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"{f.source}: {f.detail}" for f in self.findings if f.status == "lost"]

    @property
    def warnings(self) -> list[str]:
        return [f"{f.source}: {f.detail}" for f in self.findings if f.status in ("unreachable", "invalid", "error")]


def own_checkpoints() -> list[Version]:
    from accord.records.actions import here
    from accord.records.models import Version

    return list(Version.objects.filter(kind=KIND, origin_node=here().node_id).order_by("id"))


def compare_all(head: int, *, peers: bool = True) -> Comparison:
    """Check this node's own stored checkpoints, then (with `peers`) the latest checkpoint each peer holds, against
    the local chain, whose last entry is `head` (the chain itself is verified by `accord.records.verify`)."""
    from accord.records.models import AuditEntry

    result = Comparison()
    # (where it was found, the record, the body), checked against the chain once all are in hand.
    signed: list[tuple[str, str | None, dict[str, Any]]] = []
    for version in own_checkpoints():
        result.local_checkpoints += 1
        record = f"{version.record_uuid}#{version.seq}"
        try:
            signed.append(
                ("this node", record, read_signed(Signed(bytes(version.canonical), version.signature, version.sig_kid)))
            )
        except ActionError as error:
            result.findings.append(Finding("this node", "invalid", record=record, detail=error.message))
    latest: set[int] = set()  # the indexes in `signed` of each peer's highest checkpoint (reported if it agrees)
    if peers:
        for answer in ask_peers():
            source = f"peer {answer.peer}"
            if answer.status != "answered" or not answer.checkpoints:
                status = answer.status if answer.status in ("none", "unreachable") else "error"
                result.findings.append(Finding(source, status, detail=answer.detail))
                continue
            for index, item in enumerate(answer.checkpoints):
                held = _record_of(item.data)
                try:
                    body = read_signed(item)
                except ActionError as error:
                    detail = f"its checkpoint of this node cannot be trusted: {error.message}"
                    result.findings.append(Finding(source, "invalid", record=held, detail=detail))
                    continue
                if index == 0:
                    latest.add(len(signed))
                signed.append((source, held, body))
    wanted = {int(body["sequence"]) for _, _, body in signed}
    chain = dict(AuditEntry.objects.filter(seq__in=wanted).values_list("seq", "entry_hash"))
    for index, (source, where, body) in enumerate(signed):
        record = where or "?"
        sequence = int(body["sequence"])
        problem = compare(body, chain, head)
        if problem is None:
            if index in latest:
                detail = f"holds checkpoint {record} of entry {sequence}; the chain agrees"
                result.findings.append(Finding(source, "agrees", sequence, record, detail))
            continue
        what = "holds checkpoint" if source != "this node" else "checkpoint"
        detail = f"{what} {record} of entry {sequence}, signed by this node: {problem}"
        result.findings.append(Finding(source, "lost", sequence, record, detail))
    return result


def _record_of(data: bytes) -> str | None:
    try:
        envelope = json.loads(data)
        return f"{uuid.UUID(str(envelope['record']))}#{int(envelope['seq'])}"
    except (ValueError, KeyError, TypeError):
        return None


FORKS_MAX = 20


def held_for(versions: Any) -> tuple[Version | None, list[Version]]:
    """Of one node's checkpoints held here (`versions`, a queryset): the one with the highest sequence, and those
    that fork the node's checkpoint chain (two or more naming the same `previous`: the node issued a checkpoint,
    lost it, and issued another after the same one, as a node restored from an old backup does), at most
    FORKS_MAX. The node checks each against its audit chain: the lost branch names entries it no longer has."""
    best: tuple[int, int] | None = None
    chosen = None
    branches: dict[str, list[tuple[int, Version]]] = {}
    for version in versions.only("id", "canonical", "signature", "sig_kid", "record_uuid", "seq").iterator(
        chunk_size=500
    ):
        try:
            body = json.loads(bytes(version.canonical))["body"]
            sequence = int(body["sequence"])
        except (ValueError, KeyError, TypeError):
            continue
        if best is None or (sequence, version.id) > best:
            best, chosen = (sequence, version.id), version
        branches.setdefault(str(body.get("previous") or ""), []).append((sequence, version))
    forks = sorted(
        (item for siblings in branches.values() if len(siblings) > 1 for item in siblings),
        key=lambda item: (-item[0], item[1].id),
    )
    return chosen, [v for _, v in forks if v is not chosen][:FORKS_MAX]
