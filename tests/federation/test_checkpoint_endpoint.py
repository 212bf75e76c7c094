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


def _signed(remote: Remote, sequence: int, previous: str | None = None) -> tuple[bytes, str]:
    """A checkpoint signed by the remote node, and its content hash."""
    return encode(
        build_envelope(
            kind="audit_checkpoint",
            origin={"node": str(remote.node_id), "member": remote.peer.member, "organisation": None, "account": None},
            record=uuid.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="CLEAR",
            body={
                "sequence": sequence,
                "head_hash": "sha256:" + f"{sequence:064x}",
                "head_at": "2026-12-01T00:00:00Z",
                **({"previous": previous} if previous else {}),
            },
            attachments=[],
        )
    )


def _store(remote: Remote, data: bytes) -> None:
    """Stored here as federation would store it."""
    actions.ingest(data, remote.key.sign(data), remote.key.kid, source="test")


def _remote_checkpoint(remote: Remote, sequence: int, previous: str | None = None) -> str:
    data, digest = _signed(remote, sequence, previous)
    _store(remote, data)
    return digest


def _sequences(items: list[dict[str, str]]) -> list[int]:
    return [int(json.loads(base64.b64decode(item["version"]))["body"]["sequence"]) for item in items]


def _sequence(response: object) -> int | None:
    item = response.json()["checkpoint"]  # type: ignore[attr-defined]
    if item is None:
        return None
    return int(json.loads(base64.b64decode(item["version"]))["body"]["sequence"])


def test_the_peer_gets_the_highest_checkpoint_of_itself(world: World) -> None:
    kz, ru = make_remote("KZ", "kz-node"), make_remote("RU", "ru-node")
    web = Client()
    assert kz.get(web, TARGET).json() == {"checkpoint": None, "forks": []}
    first, first_hash = _signed(kz, 12)
    second, second_hash = _signed(kz, 25, first_hash)
    third, _ = _signed(kz, 40, second_hash)
    for data in (first, third, second):  # arrival order is not sequence order
        _store(kz, data)
    _remote_checkpoint(ru, 99)
    assert checkpoint.issue() is not None  # this node's own: never handed to a peer as its own
    response = kz.get(web, TARGET)
    assert response.status_code == 200 and _sequence(response) == 40
    item = response.json()["checkpoint"]
    # Exactly as the peer signed it: it verifies with the peer's own key.
    assert kz.key.sign(base64.b64decode(item["version"])) == item["signature"] and item["kid"] == kz.key.kid
    assert _sequence(ru.get(web, TARGET)) == 99
    assert Version.objects.filter(kind="audit_checkpoint").count() == 5
    assert response.json()["forks"] == []


def test_the_peer_gets_the_forks_of_its_checkpoint_chain(world: World) -> None:
    kz = make_remote()
    first = _remote_checkpoint(kz, 10)
    second = _remote_checkpoint(kz, 20, previous=first)
    _remote_checkpoint(kz, 30, previous=second)  # the branch that was lost by the node, held here
    _remote_checkpoint(kz, 15, previous=second)  # the node restored from a backup taken after `second`
    _remote_checkpoint(kz, 25, previous=first)  # and once more, from an older backup
    payload = kz.get(Client(), TARGET).json()
    assert _sequences([payload["checkpoint"]]) == [30]
    assert _sequences(payload["forks"]) == [25, 20, 15]


def test_only_a_signed_request_of_a_peer_is_answered(world: World) -> None:
    web = Client()
    assert web.get(TARGET).status_code == 401
    kz = make_remote()
    assert kz.get(web, "/federation/v1/checkpoint", now=0).status_code == 401  # outside the time window
    assert web.post(TARGET, b"{}", content_type="application/json").status_code == 405
