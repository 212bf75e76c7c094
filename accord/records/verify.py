"""`accord audit verify`: check the audit chain and every stored version against its bytes and signature, and the
chain against the checkpoints of it that this node signed, its own and those its peers hold (checkpoint.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Max

from accord.lib.canonical import content_hash, verify
from accord.records import attachments as attachment_store
from accord.records import checkpoint
from accord.records.audit import GENESIS, hash_of
from accord.records.envelope import Audience, decode
from accord.records.errors import ActionError
from accord.records.models import AuditEntry, AuditHead, Record, Version


@dataclass
class Report:
    audit_entries: int = 0
    versions: int = 0
    attachments: int = 0
    audit_head: int = 0
    problems: list[str] = field(default_factory=list)
    # Visible, but not a failure of the chain: a peer that could not be asked, a peer's copy that does not verify.
    warnings: list[str] = field(default_factory=list)
    checkpoints: checkpoint.Comparison | None = None
    peers_asked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _audit(report: Report, progress: Callable[[], None] | None) -> None:
    expected_prev = GENESIS
    expected_seq = 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        report.audit_entries += 1
        where = f"audit entry {entry.seq} ({entry.action} {entry.object_id})"
        if entry.seq != expected_seq:
            report.problems.append(f"{where}: expected entry {expected_seq} here; entries are missing")
        if entry.prev_hash != expected_prev:
            report.problems.append(f"{where}: prev_hash does not match the entry before it")
        if hash_of(entry) != entry.entry_hash:
            report.problems.append(f"{where}: its content does not match its hash (edited)")
        expected_prev = entry.entry_hash
        expected_seq = entry.seq + 1
        if progress:
            progress()
    report.audit_head = expected_seq - 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != expected_seq - 1 or (head.entry_hash or GENESIS) != expected_prev):
        report.problems.append(
            f"audit head: says entry {head.seq} is last but the chain ends at {expected_seq - 1} (entries removed)"
        )


def _versions(report: Report, progress: Callable[[], None] | None) -> None:
    from accord.members.models import NodeKey

    keys = {k.kid: k for k in NodeKey.objects.all()}
    hashes: dict[tuple[str, str, int], str] = {}
    rows: Iterator[Version] = (
        Version.objects.order_by("id").prefetch_related("audience_entries").iterator(chunk_size=500)
    )
    for version in rows:
        report.versions += 1
        where = f"version {version.record_uuid}#{version.seq} (id {version.pk})"
        data = bytes(version.canonical)
        if content_hash(data) != version.content_hash:
            report.problems.append(f"{where}: stored bytes do not match content_hash (edited)")
        key = keys.get(version.sig_kid)
        if key is None:
            report.problems.append(f"{where}: signed by unknown key {version.sig_kid}")
        elif key.node_id != version.origin_node:
            report.problems.append(f"{where}: signed with key {key.kid} of node {key.node_id}, not of its origin")
        elif not verify(key.public_key, data, version.signature):
            report.problems.append(f"{where}: signature does not verify")
        try:
            shape = decode(data)
        except ActionError as error:
            report.problems.append(f"{where}: {error.message}")
            continue
        columns = {
            "kind": (version.kind, shape.kind),
            "seq": (version.seq, shape.seq),
            "record": (str(version.record_uuid), str(shape.record)),
            "origin node": (str(version.origin_node), str(shape.origin.get("node"))),
            "origin member": (version.origin_member, shape.origin.get("member") or ""),
            "created_at": (version.created_at, shape.created_at),
            "status": (version.status, shape.status),
            "state": (version.state, shape.state),
            "tlp": (version.tlp, shape.tlp),
            "everyone": (version.audience_everyone, shape.audience.everyone),
            "author": (str(version.author) if version.author else None, shape.origin.get("account")),
            "organisation": (
                str(version.origin_organisation) if version.origin_organisation else None,
                shape.origin.get("organisation"),
            ),
            "prev_hash": (version.prev_hash, shape.prev_hash),
        }
        for name, (stored, signed) in columns.items():
            if stored != signed:
                report.problems.append(f"{where}: column {name} is {stored!r} but the signed version says {signed!r}")
        targets = sorted(entry.target for entry in version.audience_entries.all())
        if targets != sorted(Audience.model_validate(shape.audience.model_dump()).targets()):
            report.problems.append(f"{where}: audience rows differ from the signed audience")
        for item in shape.attachments:
            report.attachments += 1
            actual = attachment_store.hash_file(str(item["sha256"]))
            if actual is None:
                report.problems.append(f"{where}: attachment {item['name']!r} is missing")
            elif actual != item["sha256"]:
                report.problems.append(f"{where}: attachment {item['name']!r} does not match its hash (edited)")
        hashes[(str(version.origin_node), str(version.record_uuid), version.seq)] = version.content_hash
        if progress:
            progress()
    for version in Version.objects.filter(seq__gt=1).only("origin_node", "record_uuid", "seq", "prev_hash"):
        prev = hashes.get((str(version.origin_node), str(version.record_uuid), version.seq - 1))
        if prev is not None and prev != version.prev_hash:
            report.problems.append(
                f"version {version.record_uuid}#{version.seq}: prev_hash does not match version {version.seq - 1}"
            )
    highest = dict(Version.objects.values("record_id").annotate(top=Max("seq")).values_list("record_id", "top"))
    for record in Record.objects.select_related("current_version"):
        current = record.current_version
        if current is None or current.seq != record.current_seq or highest.get(record.pk) != record.current_seq:
            report.problems.append(f"record {record.uuid}: current version pointer is not the highest seq")
        elif current.kind != record.kind or current.record_id != record.pk:
            report.problems.append(f"record {record.uuid}: kind or current version does not match its versions")


def _checkpoints(report: Report, peers: bool) -> None:
    from accord.members.identity import here

    if here() is None:  # a database without a node identity has signed no checkpoint
        return
    comparison = checkpoint.compare_all(report.audit_head, peers=peers)
    report.checkpoints = comparison
    report.peers_asked = peers
    report.problems.extend(comparison.problems)
    report.warnings.extend(comparison.warnings)
    if peers and not any(f.source.startswith("peer ") for f in comparison.findings):
        report.warnings.append("no peers to compare the audit chain with: a lost tail of the log cannot be detected")


def verify_all(progress: Callable[[], None] | None = None, *, peers: bool = False) -> Report:
    """Verify everything stored here; with `peers`, also ask each peer for the latest checkpoint of this node."""
    report = Report()
    _audit(report, progress)
    _versions(report, progress)
    _checkpoints(report, peers)
    return report


def total_items() -> int:
    return AuditEntry.objects.count() + Version.objects.count()


def dumps(report: Report) -> str:
    return json.dumps(
        {
            "ok": report.ok,
            "audit_entries": report.audit_entries,
            "versions": report.versions,
            "attachments": report.attachments,
            "audit_head": report.audit_head,
            "checkpoints": {
                "stored": report.checkpoints.local_checkpoints if report.checkpoints else 0,
                "peers_asked": report.peers_asked,
                "findings": [f.as_dict() for f in report.checkpoints.findings] if report.checkpoints else [],
            },
            "problems": report.problems,
            "warnings": report.warnings,
        }
    )
