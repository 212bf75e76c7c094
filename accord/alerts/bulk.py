"""Importing many CAP alerts at once: `ingest_many`, used by `accord alert import` and `POST /api/v1/alerts/batch`.

Each document is validated on its own (hardened parse, XSD, every rule), and each valid new alert becomes its own
signed record and version, exactly as `import_alert` makes it: the original kept byte for byte, the audience and TLP
from the CAP scope unless chosen, an Update or Cancel continuing the thread it references (in the store or earlier
in the same batch). An alert already stored (same sender, identifier and sent) is a duplicate: counted, not stored
again. An invalid document is reported with its position and the rules it breaks, and never blocks the others.

The valid alerts are stored a chunk at a time by `accord.records.batch.issue_many` (one transaction, multi-row
inserts, one audit entry per chunk that lists the versions' hashes).
"""

from __future__ import annotations

import gc
import multiprocessing
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.alerts import mapping
from accord.alerts.kinds import vouched
from accord.alerts.models import AlertMessage, AlertView
from accord.alerts.reading import ItemResult, Outcome, Valid, read, read_many
from accord.lib import cap as caplib
from accord.records.actions import NewAttachment, this_node
from accord.records.batch import Draft, issue_many
from accord.records.envelope import Audience
from accord.records.errors import ActionError
from accord.records.models import Record, Version

if TYPE_CHECKING:
    from accord.members.models import Account

CHUNK = 500

__all__ = ["CHUNK", "BatchReport", "ItemResult", "Outcome", "ingest_many", "read"]


@dataclass
class BatchReport:
    items: list[ItemResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome == outcome)

    @property
    def stored(self) -> int:
        return self.count("stored")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def invalid(self) -> int:
        return self.count("invalid")

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicate": self.duplicates,
            "invalid": self.invalid,
            "items": [item.as_dict() for item in self.items],
        }


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while a chunk is read and stored: it allocates many small objects that all stay
    alive until the chunk is stored, and each collection would walk them again (a full one, the whole heap). What
    the chunk leaves behind is collected after it, as the collector runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def ingest_many(
    sources: Sequence[tuple[str, bytes]],
    *,
    acting_user: Account,
    audience: Audience | None = None,
    tlp: str | None = None,
    chunk: int = CHUNK,
    max_bytes: int = caplib.DEFAULT_MAX_BYTES,
    progress: Callable[[int], None] | None = None,
    workers: int = 0,
) -> BatchReport:
    """Import every (source name, CAP bytes) pair; one result per pair, in order.

    `audience` and `tlp` (together) replace what the CAP scope gives new alerts. `progress(n)` is called as n more
    documents are done. Chunks of `chunk` alerts are stored one transaction each. With `workers` > 0, that many
    worker processes read (validate) the documents, a chunk ahead of this process, which stores them."""
    if (audience is None) != (tlp is None):
        raise ActionError("give an audience and a TLP label together, or neither (then the CAP scope decides)")
    report = BatchReport()
    node_id = this_node().node_id
    from accord.members.models import Member

    codes = set(Member.objects.values_list("code", flat=True))
    organisation = acting_user.organisation
    home = organisation.member.code if organisation is not None else this_node().member.code
    starts = list(range(0, len(sources), chunk))
    with _Readers(workers, max_bytes) as readers:
        if starts:
            with _quiet_gc():
                readers.submit(sources[starts[0] : starts[0] + chunk])
        for n, start in enumerate(starts):
            part = sources[start : start + chunk]
            with _quiet_gc():  # reading a chunk and storing it: no cyclic collection until the chunk is stored
                found = readers.collect()
                if n + 1 < len(starts):  # the workers read the next chunk while this one is stored
                    readers.submit(sources[starts[n + 1] : starts[n + 1] + chunk])
                report.items.extend(
                    _ingest_chunk(found, user=acting_user, node_id=node_id, chosen=(audience, tlp), scope=(codes, home))
                )
            if progress is not None:
                progress(len(part))
    return report


class _Readers:
    """Reading (validating) the documents of a chunk: here, or with `workers` > 0 in that many worker processes
    (forkserver: each starts clean and imports only the CAP library), a chunk ahead of the one being stored."""

    def __init__(self, workers: int, max_bytes: int) -> None:
        self.workers = workers
        self.max_bytes = max_bytes
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[Future[list[Valid | ItemResult]]] = []
        self.inline: list[Valid | ItemResult] = []

    def __enter__(self) -> _Readers:
        if self.workers > 0:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def submit(self, part: Sequence[tuple[str, bytes]]) -> None:
        items = [(position, source, data) for position, (source, data) in enumerate(part)]
        if self.pool is None:
            self.inline = read_many(items, self.max_bytes)
            return
        step = -(-len(items) // self.workers)
        self.pending = [
            self.pool.submit(read_many, items[i : i + step], self.max_bytes) for i in range(0, len(items), step)
        ]

    def collect(self) -> list[Valid | ItemResult]:
        if self.pool is None:
            return self.inline
        found = [one for future in self.pending for one in future.result()]
        self.pending = []
        return found


def _ingest_chunk(
    found: list[Valid | ItemResult],
    *,
    user: Account,
    node_id: uuid.UUID,
    chosen: tuple[Audience | None, str | None],
    scope: tuple[set[str], str],
) -> list[ItemResult]:
    results: list[ItemResult | None] = [None] * len(found)
    valid: list[Valid] = []
    for position, one in enumerate(found):
        if isinstance(one, ItemResult):
            results[position] = one
        else:
            valid.append(one)
    stored = _stored_messages(valid, node_id)
    threads = _threads(valid, node_id)
    drafts: list[Draft] = []
    drafted: list[Valid] = []
    in_batch: dict[tuple[str, str, str], int] = {}  # CAP identity -> index of its draft
    by_message: dict[tuple[str, str], int] = {}  # (sender, identifier) -> index of its draft
    for item in valid:
        known = stored.get(item.key)
        if known is not None:
            results[item.position] = ItemResult(
                item.source,
                "duplicate",
                record=known[0],
                seq=known[1],
                message=f"already stored as {known[0]}#{known[1]}",
            )
            continue
        if item.key in in_batch:
            earlier = drafted[in_batch[item.key]].source
            results[item.position] = ItemResult(item.source, "duplicate", message=f"the same alert as {earlier}")
            continue
        draft = _draft(item, chosen, scope, threads, by_message)
        in_batch[item.key] = len(drafts)
        by_message[item.key[:2]] = len(drafts)
        drafts.append(draft)
        drafted.append(item)
    if drafts:
        with vouched(item.message for item in drafted if item.trusted):
            issued = issue_many(drafts, acting_user=user, action="alert.import_many")
        _schedule_ack_checks([v for v in issued if isinstance(v, Version)])
        for item, outcome in zip(drafted, issued, strict=True):
            results[item.position] = _result(item, outcome)
    done: list[ItemResult] = []
    for result in results:
        assert result is not None
        done.append(result)
    return done


def _result(item: Valid, outcome: Version | ActionError) -> ItemResult:
    if isinstance(outcome, Version):
        return ItemResult(item.source, "stored", str(outcome.record_uuid), outcome.seq, warnings=item.warnings)
    rule = "CAP-RULES" if outcome.field in ("body", "cap") else f"ACCORD-{(outcome.field or 'refused').upper()}"
    return ItemResult(item.source, "invalid", rules=(rule,), message=outcome.message)


def _stored_messages(valid: list[Valid], node_id: uuid.UUID) -> dict[tuple[str, str, str], tuple[str, int]]:
    """(sender, identifier, sent) -> (record uuid, seq) of the messages of this node already stored."""
    identifiers = {item.key[1] for item in valid}
    found: dict[tuple[str, str, str], tuple[str, int]] = {}
    if not identifiers:
        return found
    rows = AlertMessage.objects.filter(identifier__in=identifiers, record__origin_node=node_id).values_list(
        "sender", "identifier", "sent", "record__uuid", "seq"
    )
    for sender, identifier, sent, record_uuid, seq in rows:
        found[(sender, identifier, sent)] = (str(record_uuid), seq)
    return found


def _threads(valid: list[Valid], node_id: uuid.UUID) -> dict[tuple[str, str], Record]:
    """(sender, identifier) -> the record of this node holding that message, for every message referenced."""
    wanted: set[tuple[str, str]] = set()
    for item in valid:
        if item.message.get("msgType") in ("Update", "Cancel"):
            for text in item.message.get("references", []):
                parts = text.split(",")
                if len(parts) == 3:
                    wanted.add((parts[0], parts[1]))
    if not wanted:
        return {}
    messages = AlertMessage.objects.filter(
        identifier__in={identifier for _, identifier in wanted}, record__origin_node=node_id
    ).select_related("record")
    return {(m.sender, m.identifier): m.record for m in messages if (m.sender, m.identifier) in wanted}


def _draft(
    item: Valid,
    chosen: tuple[Audience | None, str | None],
    scope: tuple[set[str], str],
    threads: dict[tuple[str, str], Record],
    by_message: dict[tuple[str, str], int],
) -> Draft:
    message = item.message
    files = [NewAttachment(name="original.xml", media_type="application/cap+xml", data=item.data)]
    follows: Record | int | None = None
    if message.get("msgType") in ("Update", "Cancel"):
        # As import_alert: the latest referenced message that this node holds (stored, or earlier in this batch).
        for text in reversed(message.get("references", [])):
            parts = text.split(",")
            if len(parts) != 3:
                continue
            ref = (parts[0], parts[1])
            follows = by_message.get(ref, threads.get(ref))
            if follows is not None:
                break
    if follows is not None:
        cancel = message["msgType"] == "Cancel"
        return Draft(
            kind="alert",
            body={"cap": message},
            files=files,
            follows=follows,
            withdraw=cancel,
            reason=(message.get("note") or "CAP Cancel") if cancel else None,
        )
    audience, tlp = chosen
    if audience is None or tlp is None:
        codes, home = scope
        audience, tlp = mapping.audience_for(message, codes, home)
    status = mapping.RECORD_STATUS.get(message.get("status", ""), "test")
    return Draft(kind="alert", body={"cap": message}, audience=audience, tlp=tlp, status=status, files=files)


def _schedule_ack_checks(versions: list[Version]) -> None:
    """One task for the acknowledgement deadlines of a whole chunk (see tasks.check_acknowledgements_many)."""
    actual = [v.record_id for v in versions if v.status == "actual"]
    if not actual:
        return
    deadlines = AlertView.objects.filter(record_id__in=actual, ack_deadline__isnull=False).values_list(
        "ack_deadline", flat=True
    )
    first = min((d for d in deadlines if d is not None), default=None)
    if first is None:
        return
    from accord.alerts.tasks import check_acknowledgements_many

    transaction.on_commit(lambda: check_acknowledgements_many.using(run_after=first).enqueue(actual))
