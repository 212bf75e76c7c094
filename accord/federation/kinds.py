"""The `node_key` record kind: a node announces its key changes to every peer as signed versions.

A rotation is announced by a version signed with the *old* key that adds the new one; a revocation
by a version signed with a current key that revokes a key from a date. Receivers apply them only to
the keys of the announcing node itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.lib.canonical import key_id
from accord.records import kinds


class NodeKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["add", "revoke"]
    kid: str = Field(min_length=4, max_length=40)
    public_key: str | None = Field(default=None, max_length=64)
    revoked_from: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _consistent(self) -> NodeKeyBody:
        if self.action == "add":
            if not self.public_key:
                raise ValueError("an added key needs public_key")
            try:
                expected = key_id(self.public_key)
            except ValueError:
                raise ValueError("public_key is not base64 of a 32-byte Ed25519 key") from None
            if expected != self.kid:
                raise ValueError(f"kid {self.kid} is not the id of public_key ({expected})")
        else:
            if not self.revoked_from:
                raise ValueError("a revocation needs revoked_from")
            try:
                when = datetime.fromisoformat(self.revoked_from.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("revoked_from is not an RFC 3339 time") from None
            if when.tzinfo is None:
                raise ValueError("revoked_from needs a time zone")
        return self


def apply_key_announcement(version: Any) -> None:
    """Make a node_key version take effect here (it is already verified and being stored)."""
    from accord.federation.models import Peer
    from accord.members.models import NodeKey

    body = version.body
    node_id = version.origin_node
    kid = str(body["kid"])
    if body["action"] == "add":
        existing = NodeKey.objects.filter(kid=kid).first()
        if existing is None:
            # A peer revocation covers every key of that node, also one announced before it but heard of after.
            revoked = Peer.objects.filter(node_id=node_id, state=Peer.State.REVOKED)
            revoked_at = revoked.values_list("revoked_at", flat=True).first()
            NodeKey.objects.create(
                node_id=node_id, kid=kid, public_key=str(body["public_key"]), active=True, revoked_at=revoked_at
            )
            NodeKey.objects.filter(node_id=node_id).exclude(kid=kid).update(active=False)
            # The versions that waited for this key are stored when this transaction commits (post_save of
            # NodeKey: federation/awaiting.py).
        return
    when = datetime.fromisoformat(str(body["revoked_from"]).replace("Z", "+00:00"))
    key = NodeKey.objects.filter(kid=kid, node_id=node_id).first()
    if key is not None and (key.revoked_at is None or key.revoked_at > when):
        key.revoked_at = when
        key.save(update_fields=["revoked_at"])


def _title(body: dict[str, Any]) -> str:
    return f"key {body.get('action')} {body.get('kid')}"


NODE_KEY = kinds.register(
    kinds.RecordKind(
        name="node_key",
        label=_("Node key announcement"),
        body_model=NodeKeyBody,
        title=_title,
        search_text=_title,
        project=apply_key_announcement,
        issuer="node",
        endpoint="accord node rotate-key / accord node revoke-key",
    )
)
