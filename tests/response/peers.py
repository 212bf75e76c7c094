"""A peer node in a test: a key registered as a peer of this node (speaking for one member), signing versions of
its own that this node ingests as if they came through federation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from accord.federation.actions import add_peer
from accord.lib import canonical
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import Version


@dataclass
class Peer:
    node_id: uuid.UUID
    member: str
    key: Any
    kid: str

    def ingest(
        self,
        kind: str,
        body: dict[str, Any],
        *,
        record: uuid.UUID | None = None,
        seq: int = 1,
        prev_hash: str | None = None,
        status: str = "actual",
        state: str = "active",
        reason: str | None = None,
    ) -> Version:
        """Sign a version of `kind` with `body` as this peer (an account of one of its organisations) and ingest
        it here; returns the stored version."""
        envelope = build_envelope(
            kind=kind,
            origin={
                "node": str(self.node_id),
                "member": self.member,
                "organisation": str(uuid.uuid4()),
                "account": str(uuid.uuid4()),
            },
            record=record or uuid.uuid4(),
            seq=seq,
            prev_hash=prev_hash,
            status=status,
            state=state,
            audience=Audience(everyone=True),
            tlp="GREEN",
            body=body,
            attachments=[],
            reason=reason,
        )
        data, _ = encode(envelope)
        result = actions.ingest(data, canonical.sign(self.key, data), self.kid, source="test")
        assert result.version is not None, (result.outcome, result.quarantined)
        assert result.outcome == "stored", result.outcome
        return result.version


def make_peer(member: str) -> Peer:
    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    node_id = uuid.uuid4()
    add_peer(name=f"peer-{str(node_id)[:8]}", node_id=str(node_id), public_key=public, member=member, acting_user=None)
    return Peer(node_id=node_id, member=member, key=key, kid=canonical.key_id(public))
