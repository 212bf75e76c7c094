"""Checkpoints travel to a peer over real HTTP on 127.0.0.1, and a node restored from an old backup is told by
`accord audit verify` that it lost audit entries. Each node is its own process, data dir and database."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import ACCORD, Node, new_node
from tests.federation.test_cli_federation import LOOPBACK, _befriend, _free_port, _init, _lines

pytestmark = pytest.mark.sqlite_pass


@contextmanager
def serving(node: Node, port: int) -> Iterator[None]:
    server = subprocess.Popen(
        [ACCORD, "serve", "--port", str(port), "--workers", "0", "--data-dir", str(node.data_dir)],
        env=node.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def _until(check: Any, what: str, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.3)


def _own_checkpoints(node: Node) -> int:
    return int(str(node.sql("SELECT count(*) FROM records_version WHERE kind = 'audit_checkpoint'")[0][0]))


def _stored_checkpoints(node: Node, origin: str) -> int:
    return sum(
        1
        for v in _lines(node, "records", "list", "--json")
        if v["kind"] == "audit_checkpoint" and v["origin"] == origin
    )


def _verify(node: Node) -> tuple[int, dict[str, Any]]:
    result = node.run("audit", "verify", "--json", check=False)
    return result.returncode, json.loads(result.stdout)


def _verify_reaching_peers(node: Node) -> tuple[int, dict[str, Any]] | None:
    """`audit verify`, once the peer's server answers (None while it is still starting)."""
    code, report = _verify(node)
    return None if report["warnings"] else (code, report)


def test_a_node_restored_from_an_old_backup_is_told_it_lost_entries(tmp_path: Path) -> None:
    cn_port, kz_port = _free_port(), _free_port()
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        cn.extra_env = kz.extra_env = LOOPBACK
        cn_id = _init(cn, "accord-cn", "CN", f"http://127.0.0.1:{cn_port}")["node_id"]
        _init(kz, "accord-kz", "KZ", f"http://127.0.0.1:{kz_port}")
        _befriend(cn, kz)
        with new_node(tmp_path, "cn-backup", template=cn) as backup:  # a copy of cn's database and key, taken now
            backup.extra_env = LOOPBACK
            backup_head = int(str(backup.sql("SELECT max(seq) FROM records_auditentry")[0][0]))
            cn.run("account", "add", "--username", "li.wei", "--member", "CN", "--role", "viewer")

            # cn's worker signs the audit head once the interval (10 s here) has passed since the node began.
            worker = subprocess.Popen(
                [ACCORD, "worker", "--data-dir", str(cn.data_dir)],
                env={**cn.env(), "ACCORD_AUDIT_CHECKPOINT_SECONDS": "10"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _until(lambda: _own_checkpoints(cn) == 1, "the worker's checkpoint")
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
            # More entries, and a checkpoint from the command line.
            cn.run("account", "add", "--username", "zhang.min", "--member", "CN", "--role", "viewer")
            issued = json.loads(cn.run("audit", "checkpoint", "--json").stdout)
            assert issued["issued"] is True and _own_checkpoints(cn) == 2

            # kz pulls both over HTTP, as any version.
            with serving(cn, cn_port):
                _until(
                    lambda: kz.run("federation", "sync", "--peer", "accord-cn", check=False).returncode == 0,
                    "cn to serve",
                )
            assert _stored_checkpoints(kz, cn_id) == 2
            latest = int(issued["sequence"])
            assert latest > backup_head + 2

            with serving(kz, kz_port):
                code, report = _until(lambda: _verify_reaching_peers(cn), "kz to serve")
                assert code == 0 and report["ok"], report
                assert report["checkpoints"]["stored"] == 2 and report["checkpoints"]["peers_asked"] is True
                (agrees,) = report["checkpoints"]["findings"]
                assert agrees["source"] == "peer accord-kz" and agrees["status"] == "agrees"
                assert agrees["sequence"] == latest

                # The backup: its chain is whole, but it lacks what kz saw it sign.
                code, report = _verify(backup)
                assert code == 1 and not report["ok"], report
                (lost,) = report["problems"]
                assert lost.startswith("peer accord-kz: holds checkpoint ")
                assert (
                    f"this node has lost audit entries {backup_head + 1}..{latest}: restored from an old backup?"
                    in lost
                )
                text = backup.run("audit", "verify", check=False)
                assert text.returncode == 1 and f"BROKEN: {lost}" in text.stdout and "FAILED: 1 problems" in text.stdout
                assert "checkpoints:   0 of this node stored here" in text.stdout

            # kz is down: the backup cannot be told; that is shown, not a failure of its chain.
            code, report = _verify(backup)
            assert code == 0 and report["ok"] and report["problems"] == []
            (down,) = report["warnings"]
            assert down.startswith("peer accord-kz: unreachable")
            assert report["checkpoints"]["findings"][0]["status"] == "unreachable"
