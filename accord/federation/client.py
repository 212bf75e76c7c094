"""The pulling side of the federation protocol: fetch a peer's change feed, verify, store, advance.

The cursor is stored only after the versions of its page are committed, so a crash at any point
re-fetches at most one page, and storing the same version twice is a no-op. Each page is processed
on its own, so a large backlog streams in bounded memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from accord.federation import auth
from accord.federation.models import Peer
from accord.federation.protocol import FETCH_MAX, PAGE_BYTES, log_event

# The clock used to sign requests; the fault tests give each simulated node a skewed one.
clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class TransportError(Exception):
    """The peer could not be reached, or did not answer in time."""


class PeerError(Exception):
    """The peer answered, but not with what the protocol says."""


class Transport(Protocol):
    def send(self, peer: Peer, method: str, target: str, headers: dict[str, str], body: bytes) -> WireResponse: ...


class HttpTransport:
    """Real HTTP through the one outbound wrapper (timeouts, private-address guard, size limit)."""

    def __init__(self, timeout: float | None = None) -> None:
        self.timeout = float(timeout or settings.ACCORD_FEDERATION_TIMEOUT_SECONDS)

    def send(self, peer: Peer, method: str, target: str, headers: dict[str, str], body: bytes) -> WireResponse:
        from accord.lib import http

        if not peer.url:
            raise TransportError(f"peer {peer.name} has no URL; it can only pull from us, or use bundles")
        try:
            response = http.request(
                method,
                peer.url.rstrip("/") + target,
                body=body if method != "GET" else None,
                headers={**headers, "Content-Type": "application/json"},
                timeout=self.timeout,
                max_bytes=2 * PAGE_BYTES + 1024 * 1024,
            )
        except http.OutboundError as error:
            raise TransportError(error.message) from None
        except ValueError as error:  # a malformed ACCORD_OUTBOUND_ALLOW or peer URL
            raise TransportError(f"cannot reach peer {peer.name}: {error}") from None
        return WireResponse(response.status, response.headers, response.body)


# What this node learnt of each peer's clock (peer time - our time), from the Accord-Time of a refusal.
_offsets: dict[uuid.UUID, float] = {}


def forget_clock_offsets() -> None:
    _offsets.clear()


def call(peer: Peer, method: str, target: str, body: bytes, transport: Transport) -> WireResponse:
    """Send one signed request; if the peer refuses our time, correct for its clock once and retry."""
    from accord.members.identity import retired_signing_keys, signing_key
    from accord.records.actions import here

    node = here()
    keys = [signing_key()]
    response = WireResponse(0, {}, b"")
    corrected = False
    while keys:
        now = clock() + _offsets.get(peer.node_id, 0.0)
        headers = auth.sign_request(
            keys[0], sender=node.node_id, recipient=peer.node_id, method=method, target=target, body=body, now=now
        )
        response = transport.send(peer, method, target, headers, body)
        their_time = response.headers.get(auth.H_TIME.lower(), "")
        if not corrected and response.status == 401 and their_time.isdigit() and b"this node's clock" in response.body:
            _offsets[peer.node_id] = int(their_time) - clock()
            corrected = True
            continue
        if response.status == 403 and b"is not a known key" in response.body:
            # The peer has not yet pulled the announcement of our newest key: sign with the earlier ones
            # (still valid, not revoked) until it has.
            if len(keys) == 1 and keys[0].kid == signing_key().kid:
                keys.extend(retired_signing_keys())
            keys.pop(0)
            continue
        break
    return response


def _json(response: WireResponse, what: str) -> dict[str, Any]:
    try:
        payload = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if response.status >= 300:
        message = payload.get("error") if isinstance(payload, dict) else None
        raise PeerError(f"{what}: HTTP {response.status}: {message or response.body[:200]!r}")
    if not isinstance(payload, dict):
        raise PeerError(f"{what}: the answer is not a JSON object")
    return payload


@dataclass
class Counts:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    # Signed by a key not known here yet: kept, stored when the key's announcement arrives (federation/awaiting.py).
    awaiting: int = 0

    def add(self, other: Counts) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.refused += other.refused
        self.errors.extend(other.errors)
        self.awaiting += other.awaiting


def _fetch_attachment(peer: Peer, sha256: str, size: int, transport: Transport) -> None:
    from accord.records import attachments as attachment_store

    if attachment_store.path_for(sha256).exists():
        return
    if size > settings.ACCORD_MAX_BODY_BYTES:
        raise PeerError(f"attachment {sha256} is larger than this node accepts ({settings.ACCORD_MAX_BODY_BYTES} B)")
    response = call(peer, "GET", f"/federation/v1/attachments/{sha256}", b"", transport)
    if response.status != 200:
        raise PeerError(f"attachment {sha256}: HTTP {response.status}")
    if hashlib.sha256(response.body).hexdigest() != sha256:
        raise PeerError(f"attachment {sha256}: the bytes received do not match their hash")
    attachment_store.store_bytes(response.body)


def _held(items: list[Any]) -> set[str]:
    """The content hashes of the items that this node already holds byte for byte, in one query.

    Such an item is a duplicate whatever else it carries: the bytes were verified when first stored, and
    storing them again would change nothing. In a mesh every peer relays every version, so most items a
    node receives are of this kind; checking them here spares each one a signature check and a write
    transaction. Anything not recognised here (malformed, unknown, other bytes) takes the full path."""
    from accord.lib.canonical import content_hash
    from accord.records.models import Version

    wanted: dict[tuple[uuid.UUID, uuid.UUID, int], str] = {}
    for item in items:
        try:
            data = base64.b64decode(str(item["version"]), validate=True)
            envelope = json.loads(data)
            key = (uuid.UUID(str(envelope["origin"]["node"])), uuid.UUID(str(envelope["record"])), envelope["seq"])
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error):
            continue
        if type(key[2]) is int:
            wanted[key] = content_hash(data)
    if not wanted:
        return set()
    rows = Version.objects.filter(
        origin_node__in={o for o, _, _ in wanted}, record_uuid__in={r for _, r, _ in wanted}
    ).values_list("origin_node", "record_uuid", "seq", "content_hash")
    return {digest for origin, record, seq, digest in rows if wanted.get((origin, record, seq)) == digest}


# Versions stored per transaction when receiving: `ingest_many` stores a chunk with a few bulk statements, so a
# chunk the size of a feed page holds the write lock for a fraction of a second.
RECEIVE_CHUNK = 200


def receive(
    peer: Peer | None, items: Any, transport: Transport | None, *, source: str, member: str | None = None
) -> Counts:
    """Verify and store versions as they travel (feed pages, fetches, bundles). Refusals are logged, not raised.

    Attachments are fetched first, outside any transaction; then the versions of each chunk are stored in one
    transaction by `ingest_many` (bulk statements; a refused version leaves the others)."""
    from accord.federation import awaiting
    from accord.lib.canonical import content_hash
    from accord.records.actions import here
    from accord.records.errors import ActionError, UnknownKey
    from accord.records.ingest import Incoming, ingest_many

    member = member or here().member
    counts = Counts()
    if not isinstance(items, list):
        raise PeerError("versions must be a list")
    held = _held(items)

    def refuse(message: str) -> None:
        counts.refused += 1
        counts.errors.append(message)
        log_event("version.refused", f"{source}: {message}", peer=peer)

    for start in range(0, len(items), RECEIVE_CHUNK):
        ready: list[Incoming] = []
        for item in items[start : start + RECEIVE_CHUNK]:
            try:
                if not isinstance(item, dict):
                    raise PeerError("a version item is not an object")
                data = base64.b64decode(str(item["version"]), validate=True)
                if held and content_hash(data) in held:
                    counts.duplicates += 1
                    continue
                signature, kid = str(item["signature"]), str(item["kid"])
                if peer is not None and transport is not None:
                    for attachment in item.get("attachments") or []:
                        _fetch_attachment(peer, str(attachment["sha256"]), int(attachment["size"]), transport)
            except (KeyError, TypeError, ValueError, binascii.Error) as error:
                refuse(f"malformed version item ({type(error).__name__}: {error})")
                continue
            except PeerError as error:
                refuse(str(error))
                continue
            ready.append(Incoming(data, signature, kid))
        if not ready:
            continue
        for incoming, result in zip(ready, ingest_many(ready, source=source, receiver_member=member), strict=True):
            if isinstance(result, UnknownKey) and awaiting.keep(peer, incoming, result, source=source):
                counts.awaiting += 1
            elif isinstance(result, ActionError):
                refuse(result.message)
            elif result.outcome == "stored":
                counts.stored += 1
            elif result.outcome == "duplicate":
                counts.duplicates += 1
            else:
                counts.quarantined += 1
                why = result.quarantined.reason if result.quarantined is not None else "quarantined"
                log_event("version.quarantined", f"{source}: {why}", peer=peer, level="error")
    return counts


def direct_origins(peer: Peer) -> list[uuid.UUID]:
    """The other peers this node is pulling from directly and successfully: a relay need not send their versions.

    A peer counts while its last sync succeeded within three poll intervals (and none failed since). When the link
    to it breaks, it drops out of the list and relays send its versions again from then on; what a relay skipped
    meanwhile is found by anti-entropy, which compares everything the relay holds for us."""
    recent = timezone.now() - timedelta(seconds=3 * settings.ACCORD_FEDERATION_POLL_SECONDS)
    from accord.federation.protocol import DIRECT_MAX

    return list(
        Peer.objects.filter(state=Peer.State.ACTIVE, last_success_at__gte=recent, last_error="")
        .exclude(url="")
        .exclude(pk=peer.pk)
        .order_by("last_success_at")
        .values_list("node_id", flat=True)[:DIRECT_MAX]
    )


def pull(peer: Peer, transport: Transport, *, max_pages: int | None = None, leased: bool = False) -> Counts:
    """Pull the peer's feed from our stored cursor until it has no more (or max_pages).

    The request names the origins this node pulls from directly (`direct`), so the peer relays only the others'.
    `leased`: the caller holds the peer's lease (`claim`), which is renewed with each page."""
    from accord.records.actions import here

    member = here().member
    total = Counts()
    pages = 0
    direct = ",".join(str(n) for n in direct_origins(peer))
    while True:
        target = f"/federation/v1/feed?after={quote(peer.pull_cursor, safe='')}&limit={settings.ACCORD_FEDERATION_PAGE}"
        if direct:
            target += f"&direct={direct}"
        payload = _json(call(peer, "GET", target, b"", transport), "feed")
        versions, following, more = payload.get("versions"), payload.get("next"), payload.get("more")
        if not isinstance(versions, list) or not isinstance(following, str) or not isinstance(more, bool):
            raise PeerError("feed: the page lacks versions, next or more")
        if len(versions) > 1000 or len(following) > 200:
            raise PeerError("feed: the page is larger than the protocol allows")
        counts = receive(peer, versions, transport, source=f"peer:{peer.name}", member=member)
        total.add(counts)
        remaining = payload.get("remaining")
        peer.pull_cursor = following
        peer.remote_remaining = remaining if isinstance(remaining, int) and remaining >= 0 else 0
        changes: dict[str, Any] = {
            "pull_cursor": peer.pull_cursor,
            "remote_remaining": peer.remote_remaining,
            "stored": F("stored") + counts.stored,
            "refused": F("refused") + counts.refused,
        }
        if leased:
            # Renew the lease page by page: short enough that a crashed worker's lease soon expires.
            changes["lease_until"] = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        Peer.objects.filter(pk=peer.pk).update(**changes)
        peer.stored += counts.stored
        peer.refused += counts.refused
        pages += 1
        if not more or (max_pages is not None and pages >= max_pages):
            return total


def anti_entropy(peer: Peer, transport: Transport) -> Counts:
    """Compare the peer's manifest of what we are entitled to with what we hold; fetch what is missing."""
    from accord.records.models import QuarantinedVersion, Version

    total = Counts()
    after = ""
    while True:
        target = f"/federation/v1/manifest?after={quote(after, safe='')}"
        payload = _json(call(peer, "GET", target, b"", transport), "manifest")
        entries, following, more = payload.get("entries"), payload.get("next"), payload.get("more")
        if not isinstance(entries, list) or not isinstance(following, str) or not isinstance(more, bool):
            raise PeerError("manifest: the page lacks entries, next or more")
        wanted: list[list[Any]] = []
        try:
            keys = [(uuid.UUID(str(o)), uuid.UUID(str(r)), int(s), str(h)) for o, r, s, h in entries]
        except (ValueError, TypeError):
            raise PeerError("manifest: an entry is not [origin node, record, seq, hash]") from None
        if keys:
            # Held byte for byte (stored or quarantined): nothing to fetch. Held with another hash: fetch it, so an
            # origin that showed this peer another version than us (equivocation) is caught here too, and not only
            # when a relay happens to pass the other version on. What we hold of the page's records comes in one
            # query by record (a condition per entry, ORed, is too deep for SQLite beyond 1000 entries).
            records = {record for _, record, _, _ in keys}
            fields = ("origin_node", "record_uuid", "seq", "content_hash")
            have = set(Version.objects.filter(record_uuid__in=records).values_list(*fields))
            have |= set(QuarantinedVersion.objects.filter(record_uuid__in=records).values_list(*fields))
            wanted = [[str(o), str(r), s] for o, r, s, h in keys if (o, r, s, h) not in have]
        for start in range(0, len(wanted), FETCH_MAX):
            body = json.dumps({"versions": wanted[start : start + FETCH_MAX]}).encode("utf-8")
            fetched = _json(call(peer, "POST", "/federation/v1/fetch", body, transport), "fetch")
            items = fetched.get("versions")
            if isinstance(items, list):
                # Key announcements first: later versions may be signed by the keys they add.
                items.sort(key=lambda i: 0 if _kind_of(i) == "node_key" else 1)
            counts = receive(peer, items, transport, source=f"peer:{peer.name}")
            total.add(counts)
            Peer.objects.filter(pk=peer.pk).update(
                stored=F("stored") + counts.stored, refused=F("refused") + counts.refused
            )
        after = following
        if not more:
            break
    Peer.objects.filter(pk=peer.pk).update(last_anti_entropy_at=timezone.now())
    return total


def _kind_of(item: Any) -> str:
    try:
        return str(json.loads(base64.b64decode(str(item["version"])))["kind"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        return ""


def held_checkpoints(peer: Peer, transport: Transport) -> list[dict[str, Any]]:
    """The audit checkpoints of this node that the peer holds and returns (version items): the latest first, then
    those of forks of the checkpoint chain; empty if it holds none."""
    payload = _json(call(peer, "GET", "/federation/v1/checkpoint", b"", transport), "checkpoint")
    latest, forks = payload.get("checkpoint"), payload.get("forks", [])
    if (latest is not None and not isinstance(latest, dict)) or not isinstance(forks, list):
        raise PeerError("checkpoint: the answer is not a version item or null, and a list of forks")
    if len(forks) > 100 or not all(isinstance(item, dict) for item in forks):
        raise PeerError("checkpoint: the forks are not a short list of version items")
    return ([latest] if latest is not None else []) + forks


def ask_for_checkpoints(transport: Transport | None = None) -> list[Any]:
    """Ask every active peer for the latest checkpoint of this node it holds (`accord audit verify`). Registered
    with the record core (accord.records.checkpoint), which checks each answer's signature against the chain."""
    from accord.records.checkpoint import PeerAnswer, signed_from_item
    from accord.records.errors import ActionError

    chosen = transport or HttpTransport()
    answers: list[Any] = []
    for peer in Peer.objects.filter(state=Peer.State.ACTIVE).order_by("name"):
        try:
            items = held_checkpoints(peer, chosen)
        except TransportError as error:
            answers.append(PeerAnswer(peer.name, "unreachable", detail=f"unreachable: {error}"))
            continue
        except PeerError as error:
            answers.append(PeerAnswer(peer.name, "error", detail=str(error)))
            continue
        if not items:
            answers.append(PeerAnswer(peer.name, "none", detail="holds no checkpoint of this node yet"))
            continue
        try:
            answers.append(PeerAnswer(peer.name, "answered", [signed_from_item(item) for item in items]))
        except ActionError as error:
            answers.append(PeerAnswer(peer.name, "error", detail=f"checkpoint: {error.message}"))
    return answers


def send_hint(peer: Peer, transport: Transport, head: str) -> None:
    body = json.dumps({"head": head}).encode("utf-8")
    _json(call(peer, "POST", "/federation/v1/hint", body, transport), "hint")


LEASE_SECONDS = 30


def claim(peer: Peer, seconds: int = LEASE_SECONDS) -> bool:
    """Take the peer's sync lease (one puller per peer across workers)."""
    now = timezone.now()
    taken = (
        Peer.objects.filter(pk=peer.pk, state=Peer.State.ACTIVE)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + timedelta(seconds=seconds), wake_pending=False)
    )
    return taken == 1


def release(peer: Peer) -> None:
    Peer.objects.filter(pk=peer.pk).update(lease_until=None)


def sync(peer: Peer, transport: Transport, *, force_anti_entropy: bool = False, leased: bool = False) -> Counts:
    """One round with a peer: pull its feed, then compare manifests when that is due. Errors are recorded
    on the peer (and logged once per new message), never raised.

    `leased`: the caller took the peer's lease (`claim`); it is renewed page by page and given back with the
    round's outcome, in the same update (if something else is raised, the caller gives it back)."""
    started = timezone.now()
    total = Counts()
    done: dict[str, Any] = {"lease_until": None} if leased else {}
    try:
        total.add(pull(peer, transport, leased=leased))
        due = (
            peer.last_anti_entropy_at is None
            or (started - peer.last_anti_entropy_at).total_seconds() >= settings.ACCORD_FEDERATION_ANTI_ENTROPY_SECONDS
        )
        if force_anti_entropy or due:
            total.add(anti_entropy(peer, transport))
    except (TransportError, PeerError) as error:
        message = str(error)
        if message != peer.last_error:
            log_event("sync.failed", message, peer=peer, level="error")
        if not peer.last_error:
            # The link to this peer was up, so relays left its versions out of their feeds for us (`direct`):
            # compare manifests with every other peer at once, for what the peer issued just before the link broke.
            Peer.objects.filter(state=Peer.State.ACTIVE).exclude(pk=peer.pk).update(last_anti_entropy_at=None)
        Peer.objects.filter(pk=peer.pk).update(last_pull_at=started, last_error=message, last_error_at=started, **done)
        peer.last_error = message
        total.errors.append(message)
        return total
    Peer.objects.filter(pk=peer.pk).update(last_pull_at=started, last_success_at=timezone.now(), last_error="", **done)
    peer.last_error = ""
    return total
