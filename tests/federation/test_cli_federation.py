"""The federation subcommands of `accord`, run as separate processes, one data dir (and database) per node."""

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
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.cli_support import ACCORD, Node, new_node

pytestmark = pytest.mark.sqlite_pass

CAP_DIR = Path(__file__).resolve().parent.parent / "data" / "cap"
ALERT = CAP_DIR / "oasiscap-rs__v1dot2_appendix_adot1.xml"  # the CAP 1.2 specification's example A.1
OTHER_ALERT = CAP_DIR / "google-cap-library__thunderstorm.cap"
LOOPBACK = {"ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32"}


def _json(node: Node, *args: str, stdin: str | None = None) -> Any:
    return json.loads(node.run(*args, stdin=stdin).stdout)


def _lines(node: Node, *args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in node.run(*args).stdout.splitlines()]


def _init(node: Node, name: str, member: str, url: str | None = None) -> dict[str, Any]:
    extra = ["--url", url] if url else []
    info: dict[str, Any] = _json(node, "init", "--name", name, "--member", member, *extra)
    return info


def _befriend(a: Node, b: Node) -> None:
    """Each node accepts the other's invitation."""
    b.run("peer", "accept", a.run("peer", "invite").stdout.strip())
    a.run("peer", "accept", b.run("peer", "invite").stdout.strip())


def _public_key() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fails(node: Node, *args: str, code: int = 1, stdin: str | None = None) -> str:
    result = node.run(*args, check=False, stdin=stdin)
    assert result.returncode == code, (args, result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accord: "), result.stderr
    return lines[0]


def test_init_creates_the_node_once_and_refuses_to_change_it(tmp_path: Path) -> None:
    with new_node(tmp_path, "kz") as node:
        first = _init(node, "accord-kz", "kz", "http://127.0.0.1:8101/")
        assert set(first) == {"node_id", "name", "member", "url", "public_url", "public_key", "kid"}
        assert first["name"] == "accord-kz" and first["member"] == "KZ" and first["url"] == "http://127.0.0.1:8101"
        assert first["public_url"] == "http://127.0.0.1:8101"  # the links in e-mails and feeds start with it
        assert uuid.UUID(first["node_id"]) and first["kid"].startswith("ed25519:") and len(first["public_key"]) == 44
        assert _init(node, "accord-kz", "KZ", "http://127.0.0.1:8101") == first  # init twice: the same node
        assert _json(node, "node", "show", "--json") == first

        other_member = _fails(node, "init", "--name", "accord-kz", "--member", "RU")
        assert "'accord-kz' for member KZ" in other_member and first["node_id"] in other_member
        assert "for member KZ" in _fails(node, "init", "--name", "accord-ru", "--member", "KZ")
        assert "'ZZ' is not a known member code" in _fails(node, "init", "--name", "x", "--member", "ZZ")
        assert "must be an http:// or https:// address" in _fails(
            node, "init", "--name", "accord-kz", "--member", "KZ", "--url", "ftp://example.org"
        )
        assert _json(node, "node", "show", "--json") == first
        assert node.sql("SELECT count(*) FROM members_nodeidentity") == [(1,)]
        # ACCORD_PUBLIC_URL, where set, is the public address; a bad one stops every command, naming it.
        node.extra_env = {"ACCORD_PUBLIC_URL": "https://accord.example.kz/"}
        assert _json(node, "node", "show", "--json")["public_url"] == "https://accord.example.kz"
        node.extra_env = {"ACCORD_PUBLIC_URL": "accord.example.kz"}
        assert "ACCORD_PUBLIC_URL='accord.example.kz' must be an absolute http:// or https:// address" in _fails(
            node, "node", "show"
        )


def test_peers_are_added_listed_removed_and_revoked(tmp_path: Path) -> None:
    with new_node(tmp_path, "cn") as node:
        me = _init(node, "accord-cn", "CN")
        other_id, other_key = str(uuid.uuid4()), _public_key()
        added = _json(
            node, "peer", "add", "--url", "http://127.0.0.1:9/", "--node-id", other_id, "--public-key", other_key,
            "--member", "kz",
        )  # fmt: skip
        assert added == {
            "name": f"kz-{other_id[:8]}",
            "node_id": other_id,
            "member": "KZ",
            "url": "http://127.0.0.1:9",
            "state": "active",
            "pull_cursor": "",
            "served_cursor": "",
            "last_success_at": None,
            "last_error": "",
        }
        name = added["name"]
        assert _lines(node, "peer", "list", "--json") == [added]
        assert name in node.run("peer", "list").stdout

        assert f"peer {name} is removed" in node.run("peer", "remove", name).stdout
        assert [p["state"] for p in _lines(node, "peer", "list", "--json")] == ["removed"]
        again = _json(node, "peer", "add", "--node-id", other_id, "--public-key", other_key, "--member", "KZ")
        assert again["state"] == "active" and again["url"] == ""
        node.run("peer", "revoke", other_id, "--reason", "key stolen")  # by node id as well as by name
        assert [p["state"] for p in _lines(node, "peer", "list", "--json")] == ["revoked"]
        # The peer's key is revoked with it: only this node's own key is left unrevoked.
        assert node.sql("SELECT count(*) FROM members_nodekey WHERE revoked_at IS NULL") == [(1,)]
        assert "revoked" in _fails(
            node, "peer", "add", "--node-id", other_id, "--public-key", other_key, "--member", "KZ"
        )

        good = ["--public-key", _public_key(), "--member", "RU"]
        assert "node id 'not-a-uuid' is not a UUID" in _fails(node, "peer", "add", "--node-id", "not-a-uuid", *good)
        assert "base64 of a 32-byte Ed25519 key" in _fails(
            node, "peer", "add", "--node-id", str(uuid.uuid4()), "--public-key", "c2hvcnQ=", "--member", "RU"
        )
        assert "member 'ZZ' is not a known member code" in _fails(
            node, "peer", "add", "--node-id", str(uuid.uuid4()), "--public-key", _public_key(), "--member", "zz"
        )
        assert "cannot be its own peer" in _fails(
            node, "peer", "add", "--node-id", me["node_id"], "--public-key", _public_key(), "--member", "CN"
        )
        assert "no peer named 'ghost'" in _fails(node, "peer", "remove", "ghost")
        assert len(_lines(node, "peer", "list", "--json")) == 1


def test_invitations_are_accepted_both_ways(tmp_path: Path) -> None:
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        cn_info = _init(cn, "Accord CN", "CN", "http://127.0.0.1:8101")
        kz_info = _init(kz, "accord-kz", "KZ", "http://127.0.0.1:8102")
        token = cn.run("peer", "invite", "--hours", "2").stdout
        assert len(token.splitlines()) == 1 and token.startswith("accord-invitation:")

        accepted = _json(kz, "peer", "accept", token.strip())
        assert accepted["peer"]["name"] == "accord-cn"
        assert accepted["peer"]["node_id"] == cn_info["node_id"] and accepted["peer"]["member"] == "CN"
        assert accepted["peer"]["url"] == "http://127.0.0.1:8101" and accepted["peer"]["state"] == "active"
        assert accepted["reply"].startswith("accord-invitation:")

        # The other admin accepts the reply (here from standard input) under a name of their own.
        back = _json(cn, "peer", "accept", "-", "--name", "kazakhstan", stdin=accepted["reply"] + "\n")
        assert back["peer"]["name"] == "kazakhstan"
        assert back["peer"]["node_id"] == kz_info["node_id"] and back["peer"]["url"] == "http://127.0.0.1:8102"
        assert [p["name"] for p in _lines(cn, "peer", "list", "--json")] == ["kazakhstan"]
        assert [p["node_id"] for p in _lines(kz, "peer", "list", "--json")] == [cn_info["node_id"]]

        damaged = token.strip()[:-12] + "AAAAAAAAAAAA"
        assert "invitation" in _fails(kz, "peer", "accept", damaged)
        assert "an invitation starts with" in _fails(kz, "peer", "accept", "hello")
        # A node without a URL may invite, and is told the peer cannot pull from it.
        with new_node(tmp_path, "ru") as ru:
            _init(ru, "accord-ru", "RU")
            result = ru.run("peer", "invite")
            assert result.stdout.startswith("accord-invitation:") and "has no URL" in result.stderr


def test_records_travel_in_bundles_only_to_the_audience(tmp_path: Path) -> None:
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        cn_info = _init(cn, "accord-cn", "CN")
        _init(kz, "accord-kz", "KZ")
        _befriend(cn, kz)
        (report,) = _lines(cn, "alert", "import", str(ALERT), "--audience", "KZ", "--tlp", "AMBER", "--json")
        assert report["stored"] == 1
        imported = report["items"]
        assert len(imported) == 1 and imported[0]["outcome"] == "stored"

        (line,) = _lines(cn, "records", "list", "--json")
        assert line["origin"] == cn_info["node_id"] and line["origin_member"] == "CN"
        assert line["record"] == imported[0]["record"] and line["seq"] == 1 and line["kind"] == "alert"
        assert line["content_hash"].startswith("sha256:") and len(line["content_hash"]) == 71
        assert (line["status"], line["state"], line["tlp"]) == ("actual", "active", "AMBER")
        assert line["audience"] == {"everyone": False, "members": ["KZ"], "organisations": [], "persons": []}
        assert line["kid"] == cn_info["kid"]
        assert "AMBER" in cn.run("records", "list").stdout

        (status,) = _lines(cn, "federation", "status", "--json")
        assert status["name"] == "accord-kz" and status["pending_to_peer"] == 1 and status["remote_remaining"] == 0
        assert {"last_pull_at", "last_error_at", "stored", "refused", "served_cursor", "pull_cursor"} <= set(status)

        bundle = tmp_path / "for-kz.bundle"
        exported = _json(cn, "bundle", "export", "--peer", "accord-kz", "--out", str(bundle))
        assert exported["count"] == 1 and exported["path"] == str(bundle) and bundle.is_file()

        # One byte changed in a version line: the import is refused and nothing is stored.
        raw = bundle.read_bytes()
        at = raw.index(b'"version":"') + 40
        tampered = tmp_path / "tampered.bundle"
        tampered.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :])
        assert "altered" in _fails(kz, "bundle", "import", str(tampered))
        assert kz.sql("SELECT count(*) FROM records_version") == [(0,)]

        assert _json(kz, "bundle", "import", str(bundle)) == {
            "stored": 1, "duplicates": 0, "quarantined": 0, "refused": 0, "awaiting_key": 0, "errors": []
        }  # fmt: skip
        (received,) = _lines(kz, "records", "list", "--json")
        assert received == line
        again = _json(kz, "bundle", "import", str(bundle))
        assert again["stored"] == 0 and again["duplicates"] == 1

        # A member outside the audience gets nothing; a revoked peer gets no bundle at all.
        cn.run("peer", "add", "--name", "ru", "--node-id", str(uuid.uuid4()), "--public-key", _public_key(),
               "--member", "RU")  # fmt: skip
        assert _json(cn, "bundle", "export", "--peer", "ru", "--out", str(tmp_path / "ru.bundle"))["count"] == 0
        cn.run("peer", "revoke", "ru")
        assert "revoked" in _fails(cn, "bundle", "export", "--peer", "ru", "--out", str(tmp_path / "ru2.bundle"))
        assert kz.run("audit", "verify", check=False).returncode == 0


def test_a_rotated_key_signs_new_versions_and_reaches_peers_that_knew_the_old_one(tmp_path: Path) -> None:
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        old = _init(cn, "accord-cn", "CN")
        _init(kz, "accord-kz", "KZ")
        _befriend(cn, kz)  # kz knows only the old key of cn

        rotated = _json(cn, "node", "rotate-key")
        assert rotated["previous_kid"] == old["kid"] and rotated["kid"] != old["kid"]
        assert rotated["kid"].startswith("ed25519:") and rotated["public_key"] != old["public_key"]
        shown = _json(cn, "node", "show", "--json")
        assert (shown["kid"], shown["public_key"]) == (rotated["kid"], rotated["public_key"])
        assert (cn.data_dir / "keys" / "retired" / f"{old['kid'].replace(':', '-')}.pem").is_file()

        cn.run("alert", "import", str(OTHER_ALERT), "--audience", "KZ", "--tlp", "AMBER")
        announcement, alert = _lines(cn, "records", "list", "--json")
        assert announcement["kind"] == "node_key" and announcement["kid"] == old["kid"]
        assert announcement["audience"]["everyone"] is True and announcement["tlp"] == "CLEAR"
        assert alert["kind"] == "alert" and alert["kid"] == rotated["kid"]

        bundle = tmp_path / "after-rotation.bundle"
        assert _json(cn, "bundle", "export", "--peer", "accord-kz", "--out", str(bundle))["count"] == 2
        counts = _json(kz, "bundle", "import", str(bundle))
        assert (counts["stored"], counts["refused"]) == (2, 0), counts
        assert [(v["kind"], v["kid"], v["content_hash"]) for v in _lines(kz, "records", "list", "--json")] == [
            ("node_key", old["kid"], announcement["content_hash"]),
            ("alert", rotated["kid"], alert["content_hash"]),
        ]

        assert "rotate the key first" in _fails(
            cn, "node", "revoke-key", "--kid", rotated["kid"], "--from", "2026-01-01T00:00:00Z"
        )
        assert "not an RFC 3339 time" in _fails(
            cn, "node", "revoke-key", "--kid", old["kid"], "--from", "yesterday", code=2
        )
        revoked = _json(cn, "node", "revoke-key", "--kid", old["kid"], "--from", "2099-01-01T00:00:00Z")
        assert revoked["kid"] == old["kid"] and revoked["revoked_at"].startswith("2099-01-01T00:00:00")
        assert cn.run("audit", "verify", check=False).returncode == 0


def test_sync_over_http_and_the_worker_federation_loop(tmp_path: Path) -> None:
    cn_port, kz_port = _free_port(), _free_port()  # nothing serves kz: the cn worker's pulls from it fail
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        cn.extra_env = kz.extra_env = LOOPBACK
        cn_info = _init(cn, "accord-cn", "CN", f"http://127.0.0.1:{cn_port}")
        _init(kz, "accord-kz", "KZ", f"http://127.0.0.1:{kz_port}")
        _befriend(cn, kz)
        cn.run("alert", "import", str(ALERT), "--audience", "KZ", "--tlp", "AMBER")
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(cn_port), "--data-dir", str(cn.data_dir)],
            env=cn.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                result = kz.run("federation", "sync", "--peer", "accord-cn", check=False)
                if result.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)  # the server is still starting
            assert result.returncode == 0, result.stderr
            counts = json.loads(result.stdout)
            assert counts["peer"] == "accord-cn" and counts["stored"] == 1 and counts["refused"] == 0
            (version,) = _lines(kz, "records", "list", "--json")
            assert version["origin"] == cn_info["node_id"] and version["tlp"] == "AMBER"

            (status,) = _lines(kz, "federation", "status", "--json")
            assert status["pull_cursor"] and status["last_success_at"] and status["last_error"] == ""
            assert status["stored"] == 1 and status["remote_remaining"] == 0
            # The next pull presents the cursor; then cn knows kz holds everything it is entitled to.
            again = _json(kz, "federation", "sync", "--anti-entropy")
            assert again["stored"] == 0 and again["errors"] == []
            deadline = time.monotonic() + 90
            while True:
                (served,) = _lines(cn, "federation", "status", "--json")
                if served["last_error"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert served["served_cursor"] == status["pull_cursor"] and served["pending_to_peer"] == 0
            # cn's worker runs the federation loop: it tried to pull from kz, which does not answer.
            assert str(kz_port) in served["last_error"] and served["last_error_at"], served
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
        # A peer that does not answer is a failed round: exit 1, said on stderr, recorded on the peer.
        failed = kz.run("federation", "sync", check=False)
        assert failed.returncode == 1 and "accord-cn" in failed.stderr
        assert json.loads(failed.stdout)["errors"]
        assert _lines(kz, "federation", "status", "--json")[0]["last_error"]
