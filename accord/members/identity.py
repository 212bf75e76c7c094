"""This node's identity and signing key.

The private key lives in `<data dir>/keys/node-ed25519.pem` (mode 0600), created on first
start, or comes from ACCORD_NODE_PRIVATE_KEY (PEM or base64 of the 32-byte seed). Its public
half is registered as a NodeKey, so old keys remain to verify old versions after a change.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from accord.lib import canonical


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: str
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> str:
        return canonical.sign(self.private_key, data)


def key_path() -> Path:
    return Path(settings.DATA_DIR) / "keys" / "node-ed25519.pem"


def _load_or_create_private_key() -> Ed25519PrivateKey:
    if settings.ACCORD_NODE_PRIVATE_KEY:
        return canonical.private_key_from_text(settings.ACCORD_NODE_PRIVATE_KEY.encode("ascii"))
    path = key_path()
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(f"{path} is readable by others (mode {mode:o}); run: chmod 600 {path}")
        return canonical.private_key_from_text(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = canonical.generate_private_key()
    # O_EXCL: two processes starting together must not both write a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return canonical.private_key_from_text(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(canonical.private_key_to_pem(key))
    return key


@lru_cache(maxsize=1)
def signing_key() -> SigningKey:
    private = _load_or_create_private_key()
    public = canonical.public_key_b64(private)
    return SigningKey(kid=canonical.key_id(public), public_key=public, private_key=private)


def retired_signing_keys() -> list[SigningKey]:
    """This node's earlier keys that are still valid (rotated, not revoked), newest first.

    A peer that has not yet pulled the announcement of the current key knows only these; requests to it are
    signed with them until it has (see federation.client.call)."""
    from django.utils import timezone

    from accord.members.models import NodeKey

    current = signing_key()
    folder = key_path().parent / "retired"
    found: list[SigningKey] = []
    node_rows = NodeKey.objects.filter(kid=current.kid).values_list("node_id", flat=True)
    rows = NodeKey.objects.filter(node_id__in=list(node_rows)).exclude(kid=current.kid).order_by("-created_at", "-id")
    for row in rows:
        if row.revoked_at is not None and row.revoked_at <= timezone.now():
            continue
        path = folder / f"{row.kid.replace(':', '-')}.pem"
        if not path.exists():
            continue
        private = canonical.private_key_from_text(path.read_bytes())
        found.append(SigningKey(kid=row.kid, public_key=row.public_key, private_key=private))
    return found


@dataclass(frozen=True)
class Here:
    """What most writers and every federation request need of this node: its id and its member's code."""

    node_id: uuid.UUID
    member: str


def here() -> Here | None:
    """This node's id and member code (None before the node has its identity), in one small SQL statement.

    Both are fixed when the node is created. The ORM's `this_node()` costs about thirty times as much to build
    and run, and publishing, ingest and each federation request ask for them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_here_sql(connection.vendor))
        row = cursor.fetchone()
    if row is None:
        return None
    return Here(node_id=row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])), member=str(row[1]))


@lru_cache(maxsize=4)
def _here_sql(vendor: str) -> str:
    """here()'s statement, made once per database vendor (the quoting is the vendor's)."""
    from django.db import connection

    from accord.members.models import Member, NodeIdentity

    quote = connection.ops.quote_name
    node, member = NodeIdentity._meta, Member._meta
    return (
        f"SELECT n.{quote(node.get_field('node_id').column)}, m.{quote(member.get_field('code').column)} "  # noqa: S608
        f"FROM {quote(node.db_table)} n JOIN {quote(member.db_table)} m "
        f"ON m.{quote(member.pk.column)} = n.{quote(node.get_field('member').column)} "
        f"WHERE n.{quote(node.pk.column)} = 1"
    )


def reset_cache() -> None:
    signing_key.cache_clear()


def default_node_name() -> str:
    return settings.ACCORD_NODE_NAME or f"accord@{socket.gethostname()}"
