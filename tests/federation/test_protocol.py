"""The serving side of the federation protocol over HTTP: authentication, entitlement, paging, refusals."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from accord.federation import actions as fed_actions
from accord.federation import auth, client, protocol
from accord.federation.models import FederationEvent, Peer
from accord.lib import canonical
from accord.members.identity import SigningKey, signing_key
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import Version
from tests.conftest import World


@dataclass
class Remote:
    """Another node, as this node knows it: its key, and the peer row our admin made for it."""

    node_id: uuid.UUID
    key: SigningKey
    peer: Peer

    def headers(self, method: str, target: str, body: bytes = b"", now: float | None = None) -> dict[str, str]:
        node = actions.this_node()
        return auth.sign_request(
            self.key,
            sender=self.node_id,
            recipient=node.node_id,
            method=method,
            target=target,
            body=body,
            now=time.time() if now is None else now,
        )

    def get(self, web: Client, target: str, **kw: Any) -> Any:
        return web.get(target, headers=self.headers("GET", target, **kw))

    def post(self, web: Client, target: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        return web.post(target, body, content_type="application/json", headers=self.headers("POST", target, body))

    def envelope(self, body: dict[str, Any], audience: Audience, tlp: str, created_at: str) -> tuple[bytes, str]:
        data, _ = encode(
            build_envelope(
                kind="note",
                origin={"node": str(self.node_id), "member": "KZ", "organisation": None, "account": None},
                record=uuid.uuid4(),
                seq=1,
                prev_hash=None,
                status="actual",
                state="active",
                audience=audience,
                tlp=tlp,
                body=body,
                attachments=[],
                created_at=created_at,
            )
        )
        return data, self.key.sign(data)


def make_remote(member: str = "KZ", name: str = "kz-node") -> Remote:
    private = canonical.generate_private_key()
    public = canonical.public_key_b64(private)
    key = SigningKey(kid=canonical.key_id(public), public_key=public, private_key=private)
    node_id = uuid.uuid4()
    peer = fed_actions.add_peer(
        name=name, node_id=str(node_id), public_key=public, member=member, url="http://kz.example", acting_user=None
    )
    return Remote(node_id=node_id, key=key, peer=peer)


@pytest.fixture
def remote(world: World) -> Remote:
    return make_remote()


def note(world: World, title: str, audience: Audience, tlp: str, *, by: str = "alice", status: str = "actual") -> str:
    author = getattr(world, by)
    version = actions.publish(
        "note", {"title": title, "text": title}, audience=audience, tlp=tlp, acting_user=author, status=status
    )
    return version.content_hash


def titles(payload: dict[str, Any]) -> set[str]:
    return {json.loads(base64.b64decode(item["version"]))["body"]["title"] for item in payload["versions"]}


def test_the_feed_carries_exactly_what_the_peers_member_may_receive(world: World, remote: Remote) -> None:
    note(world, "public", Audience(everyone=True), "CLEAR")
    note(world, "to KZ", Audience(members=["KZ"]), "AMBER")
    note(world, "to RU", Audience(members=["RU"]), "AMBER")
    note(world, "draft to KZ", Audience(members=["KZ"]), "AMBER", status="draft")
    note(world, "to KZ health only", Audience(organisations=[world.kz_health.uuid]), "AMBER+STRICT")
    note(world, "to alice only", Audience(persons=[world.alice.uuid]), "RED")
    note(world, "to carol only", Audience(persons=[world.carol.uuid]), "RED")
    response = remote.get(Client(), "/federation/v1/feed")
    assert response.status_code == 200, response.content
    payload = response.json()
    assert titles(payload) == {"public", "to KZ", "to KZ health only", "to carol only"}
    assert payload["more"] is False
    for item in payload["versions"]:
        data = base64.b64decode(item["version"])
        assert canonical.verify(signing_key().public_key, data, item["signature"])


def test_the_feed_pages_with_an_opaque_cursor_and_refuses_a_forged_one(world: World, remote: Remote) -> None:
    for n in range(5):
        note(world, f"n{n}", Audience(members=["KZ"]), "GREEN")
    web = Client()
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        payload = remote.get(web, f"/federation/v1/feed?after={cursor}&limit=2").json()
        seen.extend(sorted(titles(payload)))
        cursor = payload["next"]
        pages += 1
        if not payload["more"]:
            break
        assert payload["remaining"] > 0
    assert pages == 3
    assert sorted(seen) == [f"n{n}" for n in range(5)]
    remote.peer.refresh_from_db()
    assert remote.peer.served_cursor  # what the peer last confirmed
    bad = remote.get(web, "/federation/v1/feed?after=12")
    assert bad.status_code == 400
    assert "cursor" in bad.json()["error"]
    assert remote.get(web, "/federation/v1/feed?limit=0").status_code == 400


def test_unsigned_unknown_revoked_tampered_replayed_and_stale_requests_are_refused(
    world: World, remote: Remote
) -> None:
    note(world, "to KZ", Audience(members=["KZ"]), "GREEN")
    web = Client()
    assert web.get("/federation/v1/feed").status_code == 401
    stranger = make_remote(member="RU", name="ru-node")
    fed_actions.remove_peer(stranger.peer, acting_user=None)
    removed = stranger.get(web, "/federation/v1/feed")
    assert removed.status_code == 403
    assert "removed" in removed.json()["error"]

    headers = remote.headers("GET", "/federation/v1/feed")
    wrong_target = web.get("/federation/v1/feed?limit=1", headers=headers)
    assert wrong_target.status_code == 401
    assert "signature" in wrong_target.json()["error"]

    headers = remote.headers("GET", "/federation/v1/feed")
    assert web.get("/federation/v1/feed", headers=headers).status_code == 200
    replay = web.get("/federation/v1/feed", headers=headers)
    assert replay.status_code == 401
    assert "replayed" in replay.json()["error"]

    stale = remote.get(web, "/federation/v1/feed", now=time.time() - 3 * 3600)
    assert stale.status_code == 401
    assert abs(int(stale.headers[auth.H_TIME]) - time.time()) < 60

    fed_actions.revoke_peer(remote.peer, acting_user=None, reason="key leaked")
    revoked = remote.get(web, "/federation/v1/feed")
    assert revoked.status_code == 403
    kinds = list(FederationEvent.objects.values_list("kind", flat=True))
    assert kinds.count("request.refused") >= 5


def test_a_hint_wakes_the_puller_and_manifest_and_fetch_stay_within_the_audience(world: World, remote: Remote) -> None:
    kz_hash = note(world, "to KZ", Audience(members=["KZ"]), "GREEN")
    note(world, "to RU", Audience(members=["RU"]), "GREEN")
    web = Client()
    assert remote.post(web, "/federation/v1/hint", {"head": "x"}).status_code == 202
    remote.peer.refresh_from_db()
    assert remote.peer.wake_pending is True

    manifest = remote.get(web, "/federation/v1/manifest").json()
    assert [entry[3] for entry in manifest["entries"]] == [kz_hash]
    wanted = [[str(v.origin_node), str(v.record_uuid), v.seq] for v in Version.objects.all()]
    fetched = remote.post(web, "/federation/v1/fetch", {"versions": wanted}).json()
    assert titles(fetched) == {"to KZ"}
    garbage = remote.post(web, "/federation/v1/fetch", {"versions": "all"})
    assert garbage.status_code == 400


def test_the_node_document_is_public_and_names_the_keys(world: World) -> None:
    document = Client().get("/federation/v1/node").json()
    assert document["node_id"] == str(actions.this_node().node_id)
    assert document["keys"][0]["kid"] == signing_key().kid


def test_received_versions_outside_this_nodes_audience_or_after_a_key_revocation_are_refused(
    world: World, remote: Remote
) -> None:
    here = actions.this_node().member.code
    elsewhere = "RU" if here != "RU" else "KZ"
    ok_data, ok_sig = remote.envelope(
        {"title": "to us", "text": "x"}, Audience(members=[here]), "AMBER", "2026-11-27T10:00:00Z"
    )
    wide_data, wide_sig = remote.envelope(
        {"title": "not to us", "text": "x"}, Audience(members=[elsewhere]), "AMBER", "2026-11-27T10:00:00Z"
    )
    items = [
        {"version": base64.b64encode(ok_data).decode(), "signature": ok_sig, "kid": remote.key.kid},
        {"version": base64.b64encode(wide_data).decode(), "signature": wide_sig, "kid": remote.key.kid},
    ]
    counts = client.receive(remote.peer, items, None, source="test")
    assert (counts.stored, counts.refused) == (1, 1)
    assert "may not be relayed here" in counts.errors[0]

    # Tampering with the signed bytes (widening the audience) breaks the signature.
    envelope = json.loads(wide_data)
    envelope["audience"] = Audience(everyone=True).canonical()
    envelope["tlp"] = "GREEN"
    forged = canonical.canonical_bytes(envelope)
    counts = client.receive(
        remote.peer,
        [{"version": base64.b64encode(forged).decode(), "signature": wide_sig, "kid": remote.key.kid}],
        None,
        source="test",
    )
    assert counts.refused == 1
    assert "signature" in counts.errors[0]

    # The peer's key is revoked from a date: what it signed before stays valid, nothing after is accepted.
    from accord.members.models import NodeKey

    NodeKey.objects.filter(kid=remote.key.kid).update(revoked_at="2026-11-27T12:00:00Z")
    before_data, before_sig = remote.envelope(
        {"title": "before", "text": "x"}, Audience(everyone=True), "GREEN", "2026-11-27T11:00:00Z"
    )
    after_data, after_sig = remote.envelope(
        {"title": "after", "text": "x"}, Audience(everyone=True), "GREEN", "2026-11-27T13:00:00Z"
    )
    counts = client.receive(
        remote.peer,
        [
            {"version": base64.b64encode(before_data).decode(), "signature": before_sig, "kid": remote.key.kid},
            {"version": base64.b64encode(after_data).decode(), "signature": after_sig, "kid": remote.key.kid},
        ],
        None,
        source="test",
    )
    assert (counts.stored, counts.refused) == (1, 1)
    assert "revoked" in counts.errors[0]
    stored_titles = {v.body["title"] for v in Version.objects.filter(origin_node=remote.node_id)}
    assert stored_titles == {"to us", "before"}
    assert FederationEvent.objects.filter(kind="version.refused").count() == 3


@pytest.fixture
def private_key_dir(settings: Any, tmp_path: Path) -> Iterator[None]:
    """A copy of the node's key folder, so rotating the key here leaves the other tests' key alone."""
    from accord.members import identity

    shutil.copytree(Path(settings.DATA_DIR) / "keys", tmp_path / "keys")
    settings.DATA_DIR = tmp_path
    identity.reset_cache()
    yield
    identity.reset_cache()


def test_an_invitation_carries_the_keys_of_before_a_rotation(world: World, private_key_dir: None) -> None:
    from accord.members.models import NodeKey

    before = signing_key().kid
    fed_actions.rotate_key(acting_user=None)
    offer = fed_actions.read_invitation(fed_actions.create_invitation())
    assert offer["kid"] == signing_key().kid != before
    assert {k["kid"] for k in offer["keys"]} == {before, offer["kid"]}

    # Accepting a remote node's invitation trusts every key it lists, so its older versions verify here.
    old, new = canonical.generate_private_key(), canonical.generate_private_key()
    old_public, new_public = canonical.public_key_b64(old), canonical.public_key_b64(new)
    remote_offer = {
        "node_id": str(uuid.uuid4()),
        "name": "KZ node",
        "member": "KZ",
        "url": "https://kz.example",
        "kid": canonical.key_id(new_public),
        "public_key": new_public,
        "keys": [{"kid": canonical.key_id(k), "public_key": k} for k in (old_public, new_public)],
        "expires_at": "2099-01-01T00:00:00+00:00",
        "nonce": "abcdefgh",
    }
    signature = canonical.sign(new, canonical.canonical_bytes(remote_offer))
    raw = json.dumps({"offer": remote_offer, "signature": signature}).encode()
    token = fed_actions.INVITATION_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    peer = fed_actions.accept_invitation(token, name=None, acting_user=None)
    assert peer.name == "kz-node"
    assert set(NodeKey.objects.filter(node_id=peer.node_id).values_list("public_key", flat=True)) == {
        old_public,
        new_public,
    }
    # A token whose key list was altered after signing is refused.
    remote_offer["keys"] = [{"kid": "ed25519:0000000000000000", "public_key": old_public}]
    forged = fed_actions.INVITATION_PREFIX + base64.urlsafe_b64encode(
        json.dumps({"offer": remote_offer, "signature": signature}).encode()
    ).decode().rstrip("=")
    with pytest.raises(Exception, match="signature does not verify"):
        fed_actions.read_invitation(forged)


def test_the_feed_leaves_out_the_origins_the_caller_names_as_direct(world: World, remote: Remote) -> None:
    note(world, "from this node", Audience(everyone=True), "CLEAR")
    web = Client()
    here = actions.this_node().node_id
    assert titles(remote.get(web, "/federation/v1/feed").json()) == {"from this node"}
    other = uuid.uuid4()
    payload = remote.get(web, f"/federation/v1/feed?direct={here},{other}").json()
    assert payload["versions"] == [] and payload["more"] is False
    bad = remote.get(web, "/federation/v1/feed?direct=not-a-node")
    assert bad.status_code == 400 and "direct" in bad.json()["error"]
    many = ",".join(str(uuid.uuid4()) for _ in range(protocol.DIRECT_MAX + 1))
    assert remote.get(web, f"/federation/v1/feed?direct={many}").status_code == 400


def test_a_feed_that_ends_moves_the_cursor_past_what_it_left_out(world: World, remote: Remote) -> None:
    note(world, "to KZ", Audience(members=["KZ"]), "AMBER")
    note(world, "to RU only", Audience(members=["RU"]), "AMBER")
    note(world, "to RU again", Audience(members=["RU"]), "AMBER")
    web = Client()
    payload = remote.get(web, "/federation/v1/feed").json()
    assert titles(payload) == {"to KZ"} and payload["more"] is False
    head = Version.objects.order_by("-id").values_list("id", flat=True).first()
    assert protocol.decode_cursor(payload["next"]) == head  # not the id of "to KZ": the next pull scans nothing
    again = remote.get(web, f"/federation/v1/feed?after={payload['next']}").json()
    assert again["versions"] == [] and again["next"] == payload["next"]


def test_each_link_polls_at_its_own_steady_interval_around_the_setting(
    world: World, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from accord.federation import runner
    from accord.records.actions import here

    settings.ACCORD_FEDERATION_POLL_SECONDS = 20
    remotes = [make_remote(name=f"peer-{n}") for n in range(24)]
    me = here().node_id
    intervals = {r.peer.name: runner.poll_interval(me, r.node_id) for r in remotes}
    assert all(15 <= seconds < 25 for seconds in intervals.values())
    assert len({round(seconds, 3) for seconds in intervals.values()}) > 12  # spread, not all at one instant
    assert intervals == {r.peer.name: runner.poll_interval(me, r.node_id) for r in remotes}  # the same each round
    assert sorted(p.name for p in runner.due_peers()) == sorted(intervals)  # never pulled: all due

    now = timezone.now()
    # The clock stands still while the test looks: on a busy machine the milliseconds between setting the
    # times and asking would otherwise make a peer whose interval is just above 19.99 s due as well.
    monkeypatch.setattr(timezone, "now", lambda: now)
    for r in remotes:
        Peer.objects.filter(pk=r.peer.pk).update(last_pull_at=now - timedelta(seconds=19.99))
    due = {p.name for p in runner.due_peers()}
    assert due == {name for name, seconds in intervals.items() if seconds <= 19.99}
    assert due and due != set(intervals)
    Peer.objects.filter(pk=remotes[0].peer.pk).update(last_pull_at=now - timedelta(seconds=25))
    Peer.objects.filter(pk=remotes[1].peer.pk).update(last_pull_at=now, wake_pending=True)
    due = {p.name for p in runner.due_peers()}
    assert {"peer-0", "peer-1"} <= due
    Peer.objects.filter(pk__in=[r.peer.pk for r in remotes]).update(last_pull_at=now - timedelta(seconds=14.9))
    assert {p.name for p in runner.due_peers()} == {"peer-1"}


def test_a_worker_forgets_old_nonces_once_a_minute_at_its_own_time() -> None:
    from accord.federation import runner

    seen: dict[str, int | bool] = {}
    # Three minutes of rounds every 0.25 s.
    due = [runner._prune_due(seen, clock=1000 + n * 0.25) for n in range(3 * 60 * 4)]
    times = [n * 0.25 for n, was in enumerate(due) if was]
    assert len(times) in (2, 3)
    assert all(later - earlier == 60 for earlier, later in itertools.pairwise(times))
    offsets = set()
    for _ in range(20):  # workers started together prune at different seconds
        fresh: dict[str, int | bool] = {}
        runner._prune_due(fresh)
        offsets.add(fresh["pruned"])
    assert len(offsets) > 5
