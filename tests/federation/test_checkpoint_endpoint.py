"""GET /federation/v1/checkpoint: a peer learns the latest checkpoint of itself held here, and nothing else."""

from __future__ import annotations

import base64
import json
import uuid

from django.test import Client

from accord.records import actions, checkpoint
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import Version
from tests.conftest import World
from tests.federation.test_protocol import Remote, make_remote

TARGET = "/federation/v1/checkpoint"


def _remote_checkpoint(remote: Remote, sequence: int) -> None:
    """A checkpoint signed by the remote node, stored here as federation would store it."""
    data, _ = encode(
        build_envelope(
            kind="audit_checkpoint",
            origin={"node": str(remote.node_id), "member": "KZ", "organisation": None, "account": None},
            record=uuid.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="CLEAR",
            body={"sequence": sequence, "head_hash": "sha256:" + f"{sequence:064x}", "head_at": "2026-12-01T00:00:00Z"},
            attachments=[],
        )
    )
    actions.ingest(data, remote.key.sign(data), remote.key.kid, source="test")


def _sequence(response: object) -> int | None:
    item = response.json()["checkpoint"]  # type: ignore[attr-defined]
    if item is None:
        return None
    return int(json.loads(base64.b64decode(item["version"]))["body"]["sequence"])


def test_the_peer_gets_the_highest_checkpoint_of_itself(world: World) -> None:
    kz, ru = make_remote("KZ", "kz-node"), make_remote("RU", "ru-node")
    web = Client()
    assert kz.get(web, TARGET).json() == {"checkpoint": None}
    for sequence in (12, 40, 25):  # arrival order is not sequence order
        _remote_checkpoint(kz, sequence)
    _remote_checkpoint(ru, 99)
    assert checkpoint.issue() is not None  # this node's own: never handed to a peer as its own
    response = kz.get(web, TARGET)
    assert response.status_code == 200 and _sequence(response) == 40
    item = response.json()["checkpoint"]
    # Exactly as the peer signed it: it verifies with the peer's own key.
    assert kz.key.sign(base64.b64decode(item["version"])) == item["signature"] and item["kid"] == kz.key.kid
    assert _sequence(ru.get(web, TARGET)) == 99
    assert Version.objects.filter(kind="audit_checkpoint").count() == 5


def test_only_a_signed_request_of_a_peer_is_answered(world: World) -> None:
    web = Client()
    assert web.get(TARGET).status_code == 401
    kz = make_remote()
    assert kz.get(web, "/federation/v1/checkpoint", now=0).status_code == 401  # outside the time window
    assert web.post(TARGET, b"{}", content_type="application/json").status_code == 405
