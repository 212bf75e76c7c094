"""The `accord` command, run as separate processes against their own data dirs.

Each test starts several `accord` processes, so most run on one pass only (markers sqlite_pass and
postgresql_pass): the embedded default (identity, demo, Ctrl-C) on SQLite, the rest on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from accord.records import guard
from tests.cli_support import ACCORD, Node, new_node


@pytest.mark.sqlite_pass
def test_node_identity_is_created_once_with_a_private_key_file(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        first = json.loads(node.run("node", "show", "--json").stdout)
        assert first["member"] == "SCO" and first["kid"].startswith("ed25519:")
        key_file = node.data_dir / "keys" / "node-ed25519.pem"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert json.loads(node.run("node", "show", "--json").stdout) == first
        # --data-dir may also stand before the subcommand.
        before = subprocess.run(
            [ACCORD, "--data-dir", str(node.data_dir), "node", "show", "--json"],
            capture_output=True,
            text=True,
            env=node.env(),
            check=True,
        )
        assert json.loads(before.stdout) == first


@pytest.mark.sqlite_pass
def test_demo_is_idempotent_and_verifies_and_a_tampered_copy_does_not(tmp_path: Path) -> None:
    with new_node(tmp_path, "origin") as node:
        first = node.run("demo")
        assert "sco.coordinator" in first.stdout and "accord-demo-2026" in first.stdout and "pk.vet" in first.stdout
        # accounts: 23 of the members' organisations, 12 of the alliances' universities and institutes; records:
        # 11 notes (3, and one in each of eight members' languages), 2 alerts, 35 series-years of counts, an
        # incident with 3 consents, 3 tasks (3 status updates), a meeting,
        # a decision and its 3 positions, 42 daily situation reports; versions: 7 more (level 2, the 3 tasks'
        # status changes, the decision counting 3 positions); the alliances: 10 applications, 9 decisions (one left
        # pending), 3 activities, library documents and legal register entries (14), 12 expert profiles, a request for
        # an expert, a roster call for it and one reply
        assert "35 accounts and 166 records created now" in first.stdout
        assert "0 accounts and 0 records created now" in node.run("demo").stdout
        verified = node.run("audit", "verify")
        assert "OK" in verified.stdout and "versions:      173" in verified.stdout
        report = json.loads(node.run("audit", "verify", "--json").stdout)
        assert report["ok"] and report["audit_entries"] > 50

        with new_node(tmp_path, "copy", template=node) as copy:
            assert copy.run("audit", "verify", check=False).returncode == 0
            ((vid, record, _seq),) = copy.sql(
                "SELECT id, record_uuid, seq FROM records_version WHERE tlp = 'AMBER' AND kind = 'note'"
            )
            copy.sql("UPDATE records_version SET tlp = 'GREEN' WHERE id = ?", (vid,))
            ((entry,),) = copy.sql("SELECT max(seq) - 3 FROM records_auditentry")
            # Whoever holds the database can drop the append-only triggers (accord/records/guard.py) first.
            for statement in guard.remove_statements("postgresql" if copy.database_url else "sqlite"):
                copy.sql(statement)
            copy.sql("UPDATE records_auditentry SET actor_name = 'mallory' WHERE seq = ?", (entry,))
            broken = copy.run("audit", "verify", check=False)
            assert broken.returncode == 1
            record_text = str(record) if "-" in str(record) else f"{str(record)[:8]}-"
            assert "BROKEN: version" in broken.stdout and "column tlp" in broken.stdout
            assert record_text[:8] in broken.stdout
            assert f"BROKEN: audit entry {entry} " in broken.stdout
            assert "FAILED: 2 problems" in broken.stdout
        # The original is untouched by what was done to its copy.
        assert node.run("audit", "verify", check=False).returncode == 0


@pytest.mark.postgresql_pass
def test_accounts_and_tokens_from_the_command_line(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        added = node.run(
            "account",
            "add",
            "--username",
            "aigerim",
            "--member",
            "KZ",
            "--role",
            "focal_point,analyst",
            "--email",
            "a@kz.example",
            "--password-stdin",
            stdin="a-long-enough-password\n",
        )
        account = json.loads(added.stdout)
        assert account["member"] == "KZ" and account["roles"] == ["analyst", "focal_point"]
        assert "created organisation kz-national" in added.stderr
        token = node.run("token", "create", "--username", "aigerim", "--scope", "read")
        lines = token.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("accord_")
        assert "shown only this once" in token.stderr
        prefix = lines[0][len("accord_") :].split(".")[0]
        assert node.sql("SELECT digest != ? FROM members_apitoken WHERE prefix = ?", (lines[0], prefix)) == [
            (True,)
        ] or node.sql("SELECT digest != ? FROM members_apitoken WHERE prefix = ?", (lines[0], prefix)) == [(1,)]

        listed = [json.loads(line) for line in node.run("account", "list", "--json").stdout.splitlines()]
        assert [a["username"] for a in listed] == ["aigerim"]
        node.run("account", "disable", "--username", "aigerim")
        listed = [json.loads(line) for line in node.run("account", "list", "--json").stdout.splitlines()]
        assert listed[0]["active"] is False
        revoked = node.sql("SELECT count(*) FROM members_apitoken WHERE revoked_at IS NOT NULL")
        assert revoked == [(1,)]


@pytest.fixture(scope="module")
def refusing_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """One node for the commands that must be refused: a refusal changes nothing, so they can share it (making a
    node migrates a new database, seconds each)."""
    with new_node(tmp_path_factory.mktemp("refusing")) as node:
        # Migrated now: a refusal by argparse (serve --port 99999) ends before any command would migrate it, and the
        # checks below read its tables whichever test comes first.
        node.run("account", "list")
        yield node


@pytest.mark.postgresql_pass
@pytest.mark.xdist_group("refusing-node")
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["account", "add", "--username", "x", "--member", "ZZ", "--role", "viewer"], 2, "no member with code 'ZZ'"),
        (["account", "add", "--username", "x", "--member", "CN", "--role", "king"], 1, "unknown roles: king"),
        (
            ["account", "add", "--username", "x", "--member", "CN", "--role", "coordinator"],
            1,
            "coordinator role is for Secretariat",
        ),
        (["token", "create", "--username", "nobody"], 1, "no account 'nobody'"),
        (["serve", "--port", "99999"], 2, "not between 1 and 65535"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(refusing_node: Node, args: list[str], code: int, message: str) -> None:
    result = refusing_node.run(*args, check=False)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert refusing_node.sql("SELECT count(*) FROM members_account") == [(0,)]


@pytest.mark.postgresql_pass
@pytest.mark.xdist_group("refusing-node")
def test_a_weak_password_is_refused(refusing_node: Node) -> None:
    result = refusing_node.run(
        "account",
        "add",
        "--username",
        "u",
        "--member",
        "CN",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="short\n",
        check=False,
    )
    assert result.returncode == 1 and "too short" in result.stderr
    assert refusing_node.sql("SELECT count(*) FROM members_account") == [(0,)]


def test_production_refuses_the_default_secret_key(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.extra_env = {"ACCORD_ENV": "production"}
        result = node.run("node", "show", check=False)
        assert result.returncode == 1 and "ACCORD_SECRET_KEY must be set" in result.stderr
        node.extra_env = {"ACCORD_ENV": "production", "ACCORD_SECRET_KEY": "short"}
        assert "at least 32 characters" in node.run("node", "show", check=False).stderr
        node.extra_env = {"ACCORD_MAX_BODY_BYTES": "lots"}
        assert "ACCORD_MAX_BODY_BYTES='lots' is not a whole number" in node.run("node", "show", check=False).stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310  (loopback only)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _processes_of(data_dir: Path) -> list[int]:
    marker = f"ACCORD_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(signal.SIGINT, id="ctrl-c", marks=pytest.mark.sqlite_pass),
        pytest.param(signal.SIGTERM, id="sigterm", marks=pytest.mark.postgresql_pass),
    ],
)
def test_serve_runs_the_web_app_and_a_worker_and_a_signal_stops_both(tmp_path: Path, stop: signal.Signals) -> None:
    with new_node(tmp_path) as node:
        port = _free_port()
        env = node.env() | {"ACCORD_DATA_DIR": str(node.data_dir)}
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--web-workers", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            health: tuple[int, bytes] = (0, b"")
            while time.monotonic() < deadline:
                try:
                    health = _get(f"http://127.0.0.1:{port}/healthz")
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    health = (0, b"")
                if health[0] == 200:
                    break
                time.sleep(0.5)
            assert health[0] == 200, health
            assert json.loads(health[1]) == {"status": "ok", "database": "ok", "workers": "ok", "worker_count": 1}
            status, page = _get(f"http://127.0.0.1:{port}/login/")
            assert status == 200 and b"id_username" in page
            assert len(_processes_of(node.data_dir)) == 2  # the server and its worker
        finally:
            server.send_signal(stop)
            output = server.communicate(timeout=30)[0].decode()
        assert "Accord serving on" in output
        deadline = time.monotonic() + 15
        while _processes_of(node.data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_of(node.data_dir) == [], output


@pytest.mark.postgresql_pass
def test_serve_answers_from_several_server_processes_and_a_signal_stops_them_all(tmp_path: Path) -> None:
    from accord.cli import default_web_workers

    assert default_web_workers() == ((os.cpu_count() or 1) if connection.vendor == "postgresql" else 1)
    with new_node(tmp_path) as node:
        port = _free_port()
        env = node.env() | {"ACCORD_DATA_DIR": str(node.data_dir)}
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--workers", "0", "--web-workers", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            status = 0
            while time.monotonic() < deadline and status != 200:
                try:
                    status, page = _get(f"http://127.0.0.1:{port}/login/")
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.5)
            assert status == 200 and b"id_username" in page
            children = [pid for pid in _processes_of(node.data_dir) if b"spawn_main" in _cmdline(pid)]
            assert len(children) == 2  # two server processes under the supervisor
        finally:
            server.send_signal(signal.SIGTERM)
            output = server.communicate(timeout=30)[0].decode()
        assert "with 2 server process(es) and 0 worker(s)" in output
        deadline = time.monotonic() + 15
        while _processes_of(node.data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_of(node.data_dir) == [], output


def test_the_command_is_installed_in_the_venv() -> None:
    assert os.access(ACCORD, os.X_OK)
    assert "audit" in subprocess.run([ACCORD, "--help"], capture_output=True, text=True, check=True).stdout


@pytest.mark.postgresql_pass
def test_alert_import_from_files_and_feeds(tmp_path: Path) -> None:
    from tests.alerts.support import cap_xml

    good = tmp_path / "good.xml"
    good.write_bytes(cap_xml())
    bad = tmp_path / "bad.xml"
    bad.write_bytes(cap_xml(identifier="has space", sent="2026-11-27T10:00:00Z"))
    with new_node(tmp_path) as node:
        node.run("demo")
        result = node.run(
            "alert", "import", str(good), str(bad), "--json", "--audience", "KZ,RU", "--tlp", "AMBER", check=False
        )
        assert result.returncode == 3  # some stored, some invalid
        report = json.loads(result.stdout)
        assert (report["stored"], report["duplicate"], report["invalid"]) == (1, 0, 1)
        assert report["items"][1]["source"] == str(bad) and report["items"][1]["rules"][0].startswith("CAP-")
        again = node.run("alert", "import", str(good))
        assert "nothing new" in again.stdout
        assert node.run("alert", "import", str(bad), check=False).returncode == 1
        assert node.run("alert", "import", str(good), "--tlp", "RED", check=False).returncode == 2
        assert node.run("audit", "verify", check=False).returncode == 0


@pytest.mark.sqlite_pass
def test_serve_warns_at_start_up_in_production_without_a_public_url(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.run("node", "show")  # the database and identity, before production settings apply
        port = _free_port()
        env = node.env() | {
            "ACCORD_DATA_DIR": str(node.data_dir),
            "ACCORD_ENV": "production",
            "ACCORD_SECRET_KEY": "a-private-test-key-that-is-long-enough-0123456789",
        }
        env.pop("ACCORD_PUBLIC_URL", None)
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--workers", "0", "--web-workers", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if _get(f"http://127.0.0.1:{port}/healthz")[0] in (200, 503):
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.5)
        finally:
            server.send_signal(signal.SIGINT)
            output = server.communicate(timeout=30)[0].decode()
        assert "accord: warning: ACCORD_PUBLIC_URL is not set" in output, output
        assert output.index("ACCORD_PUBLIC_URL is not set") < output.index("Accord serving on"), output
