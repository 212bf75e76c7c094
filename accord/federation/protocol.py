"""The serving side of the federation protocol, independent of HTTP (docs/federation.md).

`serve()` takes a request's method, target (path and query), headers and body and returns a Reply. The
Django view in views.py and the simulated network of the fault tests both call it, so both run the same code.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from accord.federation import auth
from accord.federation.models import FederationEvent, Peer
from accord.lib.canonical import b64
from accord.records.entitle import feed_q

PREFIX = "/federation/v1/"
PAGE_BYTES = 4 * 1024 * 1024
MANIFEST_PAGE = 2000
FETCH_MAX = 500


@dataclass
class Reply:
    status: int
    payload: dict[str, Any] | None = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.payload or {}, separators=(",", ":")).encode("utf-8")

    @property
    def content_type(self) -> str:
        return "application/octet-stream" if self.raw is not None else "application/json"

    def http_headers(self) -> dict[str, str]:
        """Every header of the response but its length, as both HTTP faces (views.py, asgi.py) write them."""
        return {
            "Content-Type": self.content_type,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            **self.headers,
        }


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def encode_cursor(version_id: int) -> str:
    return "v1." + base64.urlsafe_b64encode(str(version_id).encode("ascii")).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> int:
    """The arrival position a cursor stands for; '' is the beginning."""
    if not text:
        return 0
    if not text.startswith("v1."):
        raise BadRequest(f"cursor {text[:40]!r} was not made by this node")
    raw = text[3:]
    try:
        value = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest(f"cursor {text[:40]!r} was not made by this node") from None
    if not value.isdigit():
        raise BadRequest(f"cursor {text[:40]!r} was not made by this node")
    return int(value)


def _limit(query: dict[str, list[str]], default: int, maximum: int) -> int:
    text = (query.get("limit") or [str(default)])[0]
    if not text.isdigit() or not (1 <= int(text) <= maximum):
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}")
    return int(text)


def version_item(version: Any) -> dict[str, Any]:
    """A version as it travels: its exact signed bytes, the signature, and the attachments it needs."""
    data = bytes(version.canonical)
    envelope = json.loads(data)
    return {
        "version": b64(data),
        "signature": version.signature,
        "kid": version.sig_kid,
        "attachments": [{"sha256": a["sha256"], "size": a["size"]} for a in envelope.get("attachments", [])],
    }


def entitled_versions(peer: Peer) -> Any:
    from accord.records.models import Version

    return Version.objects.filter(feed_q(peer.member, exclude_node=peer.node_id))


def node_document() -> dict[str, Any]:
    from accord.members.models import NodeKey
    from accord.records.actions import this_node

    node = this_node()
    keys = NodeKey.objects.filter(node_id=node.node_id).order_by("created_at", "id")
    return {
        "protocol": 1,
        "node_id": str(node.node_id),
        "name": node.name,
        "member": node.member.code,
        "url": node.url,
        "keys": [
            {
                "kid": k.kid,
                "public_key": k.public_key,
                "active": k.active,
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in keys
        ],
    }


# At most this many origins in a feed request's `direct` list.
DIRECT_MAX = 200


def _direct(query: dict[str, list[str]]) -> list[uuid.UUID]:
    """The origins the caller pulls from directly (`direct=<node id>,<node id>`): their versions are left out."""
    text = (query.get("direct") or [""])[0]
    if not text:
        return []
    parts = text.split(",")
    if len(parts) > DIRECT_MAX:
        raise BadRequest(f"direct names at most {DIRECT_MAX} nodes")
    try:
        return [uuid.UUID(part) for part in parts]
    except ValueError:
        raise BadRequest("direct must be node ids separated by commas") from None


def _feed(peer: Peer, query: dict[str, list[str]]) -> Reply:
    from accord.records.models import Version

    after_text = (query.get("after") or [""])[0]
    after = decode_cursor(after_text)
    limit = _limit(query, settings.ACCORD_FEDERATION_PAGE, 1000)
    entitled = entitled_versions(peer)
    direct = _direct(query)
    if direct:
        entitled = entitled.exclude(origin_node__in=direct)
    # Versions get their ids in commit order (writers take the audit lock first), so every id up to this head is
    # committed: a page that ends the feed can move the cursor to it, past versions left out (not entitled, or of
    # an origin in `direct`), and the next request does not scan them again.
    head = Version.objects.aggregate(top=Max("id"))["top"] or 0
    rows = list(
        entitled.filter(id__gt=after, id__lte=head)
        .order_by("id")
        .only("id", "canonical", "signature", "sig_kid")[: limit + 1]
    )
    items: list[dict[str, Any]] = []
    size = 0
    last = after
    for version in rows[:limit]:
        item = version_item(version)
        size += len(item["version"])
        if items and size > PAGE_BYTES:
            break
        items.append(item)
        last = version.id
    more = len(items) < len(rows)
    if not more:
        last = max(last, head)
    remaining = entitled.filter(id__gt=last, id__lte=head).count() if more else 0
    Peer.objects.filter(pk=peer.pk).update(served_cursor=after_text, served_at=timezone.now())
    return Reply(200, {"versions": items, "next": encode_cursor(last), "more": more, "remaining": remaining})


def _manifest(peer: Peer, query: dict[str, list[str]]) -> Reply:
    after = decode_cursor((query.get("after") or [""])[0])
    limit = _limit(query, MANIFEST_PAGE, MANIFEST_PAGE)
    rows = list(
        entitled_versions(peer)
        .filter(id__gt=after)
        .order_by("id")
        .values_list("id", "origin_node", "record_uuid", "seq", "content_hash")[: limit + 1]
    )
    page = rows[:limit]
    entries = [[str(o), str(r), s, h] for (_, o, r, s, h) in page]
    last = page[-1][0] if page else after
    return Reply(200, {"entries": entries, "next": encode_cursor(last), "more": len(rows) > limit})


def _fetch(peer: Peer, body: bytes) -> Reply:
    from accord.records.models import Version

    try:
        wanted = json.loads(body)["versions"]
        keys = [(uuid.UUID(str(o)), uuid.UUID(str(r)), int(s)) for o, r, s in wanted]
    except (ValueError, KeyError, TypeError):
        raise BadRequest('the body must be {"versions": [[origin node, record, seq], ...]}') from None
    if len(keys) > FETCH_MAX:
        raise BadRequest(f"at most {FETCH_MAX} versions per fetch")
    if not keys:
        return Reply(200, {"versions": []})
    # The versions of the records asked for, then those exactly asked for (a condition per key, ORed, would be too
    # deep for SQLite with many keys).
    asked = set(keys)
    candidates = entitled_versions(peer).filter(record_uuid__in={record for _, record, _ in keys})
    ids = [pk for pk, *key in candidates.values_list("id", "origin_node", "record_uuid", "seq") if tuple(key) in asked]
    rows = Version.objects.filter(id__in=ids).order_by("id").only("id", "canonical", "signature", "sig_kid")
    return Reply(200, {"versions": [version_item(v) for v in rows]})


def _attachment(peer: Peer, sha256: str) -> Reply:
    from accord.records import attachments as attachment_store
    from accord.records.models import VersionAttachment

    linked = VersionAttachment.objects.filter(
        attachment__sha256=sha256, version__in=entitled_versions(peer).values("pk")
    ).exists()
    path = attachment_store.path_for(sha256) if linked else None
    if path is None or not path.exists():
        raise BadRequest(f"no attachment {sha256} for this peer", status=404)
    return Reply(200, raw=path.read_bytes())


def _checkpoint(peer: Peer) -> Reply:
    """The latest audit checkpoint of the asking node held here (highest sequence), and those that fork its chain of
    checkpoints, as its node signed them: the asker checks them against its own audit chain (`accord audit
    verify`). Only the asker's own versions are looked at."""
    from accord.records import checkpoint
    from accord.records.models import Version

    latest, forks = checkpoint.held_for(Version.objects.filter(kind=checkpoint.KIND, origin_node=peer.node_id))
    return Reply(
        200,
        {
            "checkpoint": version_item(latest) if latest is not None else None,
            "forks": [version_item(v) for v in forks],
        },
    )


def _hint(peer: Peer) -> Reply:
    Peer.objects.filter(pk=peer.pk).update(wake_pending=True)
    return Reply(202, {"ok": True})


def log_event(
    kind: str, detail: str, *, peer: Peer | None = None, node_id: uuid.UUID | None = None, level: str = "warning"
) -> None:
    FederationEvent.objects.create(
        kind=kind, detail=detail[:4000], peer=peer, node_id=node_id or (peer.node_id if peer else None), level=level
    )


def serve(method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
    """Answer one federation request. `headers` has lower-case names."""
    from accord.records.actions import here

    parts = urlsplit(target)
    path = parts.path
    if not path.startswith(PREFIX):
        return Reply(404, {"error": f"no federation endpoint {path}"})
    name = path[len(PREFIX) :]
    query = parse_qs(parts.query, keep_blank_values=True)
    if name == "node" and method == "GET":
        return Reply(200, node_document())
    routes = {("feed", "GET"), ("manifest", "GET"), ("fetch", "POST"), ("hint", "POST"), ("checkpoint", "GET")}
    is_attachment = name.startswith("attachments/") and method == "GET"
    if (name, method) not in routes and not is_attachment:
        known = {n for n, _ in routes} | {"node"}
        status = 405 if name in known else 404
        return Reply(status, {"error": f"no federation endpoint {method} {path}"})
    node = here()
    try:
        peer = auth.check_request(method=method, target=target, headers=headers, body=body, recipient=node.node_id)
    except auth.Refused as refused:
        log_event("request.refused", f"{method} {path}: {refused.message}", peer=refused.peer, node_id=refused.node_id)
        reply = Reply(refused.status, {"error": refused.message})
        reply.headers[auth.H_TIME] = str(int(auth.clock()))
        return reply
    try:
        if name == "feed":
            return _feed(peer, query)
        if name == "manifest":
            return _manifest(peer, query)
        if name == "fetch":
            return _fetch(peer, body)
        if name == "hint":
            return _hint(peer)
        if name == "checkpoint":
            return _checkpoint(peer)
        sha = name[len("attachments/") :]
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise BadRequest("an attachment is named by the lowercase hex of its SHA-256")
        return _attachment(peer, sha)
    except BadRequest as error:
        if error.status != 404:
            log_event("request.bad", f"{method} {path}: {error.message}", peer=peer)
        return Reply(error.status, {"error": error.message})
