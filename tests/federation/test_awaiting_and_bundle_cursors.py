"""A version signed by a key not known yet is kept and stored as soon as the key's announcement arrives (real HTTP
from a node run by `accord serve`); bundles to a peer reached only by bundles carry only what is new, and each side
acknowledges the other's cursor in its own bundles' header."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from accord.federation import actions as fed_actions
from accord.federation import client
from accord.federation.models import AwaitingKey, FederationEvent, Peer
from accord.members.identity import signing_key
from accord.members.models import NodeKey
from accord.records import attachments as attachment_store
from accord.records.actions import this_node
from accord.records.models import Version
from tests.cli_support import ACCORD, Node, new_node

CAP_DIR = Path(__file__).resolve().parent.parent / "data" / "cap"
ALERT = CAP_DIR / "oasiscap-rs__v1dot2_appendix_adot1.xml"
OTHER_ALERT = CAP_DIR / "google-cap-library__thunderstorm.cap"
LOOPBACK = {"ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _json(node: Node, *args: str) -> Any:
    return json.loads(node.run(*args).stdout)


def _items(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["item"] for line in bundle.read_text().splitlines() if line.startswith('{"item"')]


def _kind(item: dict[str, Any]) -> str:
    return str(json.loads(base64.b64decode(item["version"]))["kind"])


def _header(bundle: Path) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(bundle.read_text().splitlines()[0])
    return header


@pytest.mark.django_db(transaction=True)
def test_a_version_waiting_for_its_key_is_stored_when_the_announcement_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "127.0.0.1/32")
    here = this_node()
    port = _free_port()
    with new_node(tmp_path, "cn") as cn:
        cn.extra_env = LOOPBACK
        info = _json(cn, "init", "--name", "accord-cn", "--member", "CN", "--url", f"http://127.0.0.1:{port}")
        cn.run("peer", "add", "--name", "here", "--node-id", str(here.node_id), "--public-key",
               signing_key().public_key, "--member", here.member.code)  # fmt: skip
        peer = fed_actions.add_peer(
            name="accord-cn",
            node_id=info["node_id"],
            public_key=info["public_key"],
            member="CN",
            url=f"http://127.0.0.1:{port}",
            acting_user=None,
        )
        rotated = _json(cn, "node", "rotate-key")  # this node knows only cn's first key
        cn.run("alert", "import", str(ALERT), "--audience", here.member.code, "--tlp", "AMBER")
        bundle = tmp_path / "cn.bundle"
        cn.run("bundle", "export", "--peer", "here", "--out", str(bundle))
        (alert,) = [item for item in _items(bundle) if _kind(item) == "alert"]
        assert alert["kid"] == rotated["kid"]

        # The alert arrives first (as a relay or a fetch may bring it): kept, not stored, not refused.
        for data in alert["attachment_data"].values():
            attachment_store.store_bytes(base64.b64decode(data))
        counts = client.receive(peer, [alert], None, source="relay:test")
        assert (counts.awaiting, counts.stored, counts.refused) == (1, 0, 0), counts.errors
        assert AwaitingKey.objects.filter(origin_node=peer.node_id, kid=rotated["kid"]).count() == 1
        assert not Version.objects.filter(kind="alert").exists()
        assert FederationEvent.objects.filter(kind="version.awaiting_key", peer=peer).exists()
        again = client.receive(peer, [alert], None, source="relay:test")
        assert again.awaiting == 1 and AwaitingKey.objects.count() == 1  # kept once

        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--workers", "0", "--data-dir", str(cn.data_dir)],
            env=cn.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            settings.ACCORD_FEDERATION_PAGE = 1  # one version a page: the announcement comes before the alert
            transport = client.HttpTransport()
            deadline = time.monotonic() + 120
            pages = 0
            while not NodeKey.objects.filter(kid=rotated["kid"]).exists():
                try:
                    client.pull(peer, transport, max_pages=1)
                except client.TransportError:
                    assert time.monotonic() < deadline, "cn's server did not start"
                    time.sleep(0.5)
                    continue
                pages += 1
                assert pages < 10
            peer.refresh_from_db()
            # The page that carried the announcement is committed: the alert was stored with it, though cn's
            # feed has not sent it yet and no manifest was compared.
            assert peer.remote_remaining >= 1 and peer.last_anti_entropy_at is None
            stored = Version.objects.get(kind="alert")
            assert stored.sig_kid == rotated["kid"] and stored.origin_node == uuid.UUID(info["node_id"])
            assert not AwaitingKey.objects.exists()
            rest = client.pull(peer, transport)
            assert rest.duplicates >= 1 and rest.stored == 0 and rest.refused == 0
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_versions_under_a_key_that_never_comes_are_kept_within_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.federation import awaiting
    from accord.lib import canonical
    from accord.records.envelope import Audience, build_envelope, encode

    origin = uuid.uuid4()
    key = canonical.generate_private_key()
    known = canonical.generate_private_key()
    peer = fed_actions.add_peer(
        name="ru", node_id=str(origin), public_key=canonical.public_key_b64(known), member="RU", acting_user=None
    )
    kid = canonical.key_id(canonical.public_key_b64(key))

    def item(n: int, node: uuid.UUID = origin) -> dict[str, Any]:
        envelope = build_envelope(
            kind="note",
            origin={"node": str(node), "member": "RU", "organisation": None, "account": None},
            record=uuid.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="GREEN",
            body={"title": f"note {n}", "text": "from a key announced later"},
            attachments=[],
        )
        data, _ = encode(envelope)
        return {"version": base64.b64encode(data).decode(), "signature": canonical.sign(key, data), "kid": kid}

    # A node this node has never heard of (any id can be invented): refused as before, not kept.
    stranger = client.receive(peer, [item(0, uuid.uuid4())], None, source="peer:ru")
    assert (stranger.awaiting, stranger.refused) == (0, 1) and not AwaitingKey.objects.exists()
    monkeypatch.setattr(awaiting, "AWAITING_MAX", 2)
    counts = client.receive(peer, [item(n) for n in range(3)], None, source="peer:ru")
    assert (counts.awaiting, counts.refused) == (2, 1)
    assert "is not a known key" in counts.errors[0]
    assert FederationEvent.objects.filter(kind=awaiting.OVERFLOW).exists()
    Peer.objects.filter(pk=peer.pk).update(last_anti_entropy_at="2026-01-01T00:00:00Z")
    # The admin registers the key: the two kept are stored at once; for the third, anti-entropy is made due.
    with transaction.atomic():
        fed_actions._trust_older_key(peer, canonical.public_key_b64(key), acting_user=None)
    assert Version.objects.filter(kind="note", origin_node=origin).count() == 2
    assert not AwaitingKey.objects.exists()
    peer.refresh_from_db()
    assert peer.last_anti_entropy_at is None


@pytest.mark.sqlite_pass
def test_bundles_send_only_what_is_new_and_acknowledge_each_other(tmp_path: Path) -> None:
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        _json(cn, "init", "--name", "accord-cn", "--member", "CN")
        _json(kz, "init", "--name", "accord-kz", "--member", "KZ")
        kz.run("peer", "accept", cn.run("peer", "invite").stdout.strip())
        cn.run("peer", "accept", kz.run("peer", "invite").stdout.strip())
        cn.run("alert", "import", str(ALERT), "--audience", "KZ", "--tlp", "AMBER")

        def export(node: Node, peer: str, name: str, *extra: str) -> tuple[dict[str, Any], Path]:
            path = tmp_path / name
            return _json(node, "bundle", "export", "--peer", peer, "--out", str(path), *extra), path

        first, first_path = export(cn, "accord-kz", "1.bundle")
        assert first["count"] >= 1 and _header(first_path)["ack"] == ""
        empty, _ = export(cn, "accord-kz", "2.bundle")
        assert empty["count"] == 0 and empty["next"] == first["next"]  # nothing new: nothing resent
        assert _json(kz, "bundle", "import", str(first_path))["stored"] == first["count"]

        cn.run("alert", "import", str(OTHER_ALERT), "--audience", "KZ", "--tlp", "AMBER")
        second, second_path = export(cn, "accord-kz", "3.bundle")
        assert second["count"] == 1 and [_kind(i) for i in _items(second_path)] == ["alert"]
        everything, everything_path = export(cn, "accord-kz", "4.bundle", "--resend")
        assert everything["count"] == first["count"] + 1 and _header(everything_path)["after"] == ""
        assert _json(kz, "bundle", "import", str(second_path))["stored"] == 1
        assert _json(kz, "bundle", "import", str(everything_path))["duplicates"] == everything["count"]
        (status,) = [json.loads(line) for line in cn.run("federation", "status", "--json").stdout.splitlines()]
        assert status["pending_to_peer"] == first["count"] + 1  # kz has not said what it holds yet

        # kz's bundle back to cn acknowledges what kz imported; cn then counts nothing pending for kz.
        _, back_path = export(kz, "accord-cn", "back.bundle")
        assert _header(back_path)["ack"] == second["next"]
        assert _json(cn, "bundle", "import", str(back_path))["refused"] == 0
        (status,) = [json.loads(line) for line in cn.run("federation", "status", "--json").stdout.splitlines()]
        assert status["served_cursor"] == second["next"] and status["pending_to_peer"] == 0
        assert status["bundle_sent_cursor"] == second["next"]
        (kz_status,) = [json.loads(line) for line in kz.run("federation", "status", "--json").stdout.splitlines()]
        assert kz_status["bundle_received_cursor"] == second["next"]
        assert "not allowed with argument" in kz.run(
            "bundle", "export", "--peer", "accord-cn", "--out", str(tmp_path / "x"), "--resend", "--since", "",
            check=False,
        ).stderr  # fmt: skip
        assert cn.run("audit", "verify", "--no-peers", check=False).returncode == 0
