"""`accord subscription` and the notify thread of `accord worker`: killed mid-batch, then two workers racing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from accord.cli import main
from tests.cli_support import ACCORD, Node, new_node
from tests.conftest import World
from tests.notify.support import Receiver, verify


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse refuses bad usage with exit status 2
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.django_db
def test_subscription_add_list_remove(world: World, receiver: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(
        capsys,
        "subscription",
        "add",
        "--username",
        "carol",
        "--webhook",
        receiver.url(),
        "--kind",
        "alert",
        "--min-severity",
        "Severe",
        "--member",
        "cn",
        "--area-member",
        "KZ",
    )
    assert code == 0
    added = json.loads(out)
    assert added["secret"].startswith("whsec_") and added["kind"] == "webhook" and len(added["id"]) == 36
    code, out, _ = _cli(capsys, "subscription", "add", "--username", "dave", "--email", "dave@example.org")
    assert code == 0 and "secret" not in json.loads(out)
    code, out, _ = _cli(capsys, "subscription", "list")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["owner"] for r in rows] == ["carol", "dave"]
    assert rows[0]["kinds"] == ["alert"] and rows[0]["min_severity"] == "Severe" and rows[0]["members"] == ["CN"]
    assert rows[0]["area_members"] == ["KZ"] and rows[0]["channels"][0]["target"] == receiver.url()
    assert "secret" not in out  # shown once, when made
    code, out, _ = _cli(capsys, "subscription", "list", "--username", "dave")
    assert len(out.splitlines()) == 1
    code, out, _ = _cli(capsys, "subscription", "remove", added["id"])
    assert code == 0 and json.loads(out) == {"removed": added["id"]}
    code, out, _ = _cli(capsys, "subscription", "list")
    assert [json.loads(line)["owner"] for line in out.splitlines()] == ["dave"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--username", "carol", "--webhook", "ftp://example.org/x"], 1, "only http and https"),
        (["--username", "carol", "--webhook", "http://u:p@example.org/x"], 1, "user information"),
        (["--username", "carol", "--webhook", "http://192.168.1.10/x"], 1, "private"),
        (["--username", "carol", "--email", "carol at example"], 1, "not a valid e-mail address"),
        (["--username", "nobody", "--email", "x@example.org"], 1, "no account 'nobody'"),
        (["--username", "carol", "--email", "x@example.org", "--member", "XX"], 1, "'XX' is not a known member"),
        (["--username", "carol", "--email", "x@example.org", "--kind", "tweet"], 1, "unknown record kind"),
        (["--username", "carol", "--email", "x@example.org", "--min-severity", "Huge"], 2, "invalid choice"),
        (["--username", "carol"], 2, "one of the arguments --webhook --email is required"),
    ],
)
def test_subscription_add_refuses_bad_input(
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.setenv("ACCORD_OUTBOUND_ALLOW", "")
    got, out, err = _cli(capsys, "subscription", "add", *args)
    assert got == code and message in err and out == ""


@pytest.mark.django_db
def test_subscription_remove_refuses_unknown_ids(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(capsys, "subscription", "remove", "not-a-uuid")[0] == 1
    code, _, err = _cli(capsys, "subscription", "remove", "6c0fd0fe-20d1-4053-b270-27c4e32025d0")
    assert code == 1 and "no subscription" in err


SETUP = """
from accord.members import actions as m
from accord.members.models import Organisation
from accord.notify import actions as notify
from accord.records import actions
from accord.records.envelope import Audience
org = Organisation.objects.filter(member__code="KZ").first() or m.create_organisation(
    member_code="KZ", slug="kz-health", kind="health_ministry", name_en="KZ health", acting_user=None)
alice = m.create_account(username="alice", organisation=org, roles=["focal_point"], acting_user=None)
carol = m.create_account(username="carol", organisation=org, roles=["viewer"], acting_user=None)
channel = notify.create_channel(kind="webhook", target="{url}", account=carol, acting_user=None)
notify.create_subscription(channels=[channel], account=carol, filters=notify.Filters(kinds=["note"]), acting_user=None)
everyone = Audience(everyone=True)
for n in range({count}):
    actions.publish("note", {{"title": f"note {{n}}"}}, audience=everyone, tlp="GREEN", acting_user=alice)
print(channel.secret)
"""


def _worker(node: Node) -> subprocess.Popen[bytes]:
    env = node.env() | {"ACCORD_DATA_DIR": str(node.data_dir)}
    log = (node.data_dir / "worker.log").open("ab")
    # Its own session, so SIGKILL takes it whole, as a crash would.
    return subprocess.Popen(
        [ACCORD, "worker", "--no-federation"], env=env, stdout=log, stderr=log, start_new_session=True
    )


def _wait(what: str, check: object, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_batch_then_two_racing_workers_send_each_delivery_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    count, concurrency = 40, 4
    receiver.answer = lambda path: (204, 0.1, b"")
    with new_node(tmp_path, "kz") as node:
        node.extra_env.update(
            {
                "ACCORD_OUTBOUND_ALLOW": "127.0.0.1/32",
                # Long enough for a worker's batch on a loaded machine (with 3 s, batches outlived their leases on
                # the PostgreSQL pass and deliveries went out four times), short enough to take over soon.
                "ACCORD_NOTIFY_LEASE_SECONDS": "10",
                "ACCORD_NOTIFY_CONCURRENCY": str(concurrency),
                "ACCORD_NOTIFY_TIMEOUT_SECONDS": "1",
            }
        )
        node.run("init", "--name", "kz-node", "--member", "KZ")
        # One process makes the accounts, the subscription and the notes (`accord subscription add` is tested above).
        published = subprocess.run(
            [
                ACCORD,
                "--data-dir",
                str(node.data_dir),
                "manage",
                "shell",
                "-c",
                SETUP.format(url=receiver.url(), count=count),
            ],
            env=node.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert published.returncode == 0, published.stderr
        secret = published.stdout.strip().splitlines()[-1]
        worker = _worker(node)
        try:
            _wait("the first deliveries", lambda: len(receiver.received) >= 10)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        time.sleep(0.3)  # what the dead worker had already written reaches the receiver
        before = {r.headers["webhook-id"] for r in receiver.received}
        assert len(before) < count, "the worker finished before it was killed"
        # Two workers take over, racing for the same deliveries.
        workers = [_worker(node), _worker(node)]
        try:
            # Sent means the receiver answered and the worker recorded it: what the dead worker had in flight is
            # sent again once its lease expires, although the receiver saw it before.
            _wait(
                "every delivery to be recorded as sent",
                lambda: node.sql("SELECT COUNT(*) FROM notify_delivery WHERE status = 'sent'")[0][0] == count,
                timeout=60.0,  # the dead worker's leases expire first
            )
            time.sleep(0.5)  # nothing more arrives
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=20)
        ids = Counter(r.headers["webhook-id"] for r in receiver.received)
        assert len(ids) == count
        titles = {verify(r, secret)["data"]["title"] for r in receiver.received}
        assert titles == {f"note {n}" for n in range(count)}
        # Only what the worker had sent and not yet recorded when it died (in flight, or waiting to be recorded with
        # the next outcomes: fewer than twice its send slots) went out again, with the same webhook-id, so a receiver
        # that deduplicates on it (as Standard Webhooks asks) processes each delivery exactly once.
        repeated = {key: n for key, n in ids.items() if n > 1}
        assert sum(n - 1 for n in repeated.values()) < 2 * concurrency, repeated
        assert set(repeated) <= before, "the two workers sent the same delivery"
        rows = node.sql("SELECT status, COUNT(*) FROM notify_delivery GROUP BY status")
        assert [(str(s), int(str(n))) for s, n in rows] == [("sent", count)]
        # Every delivery has its answered attempt logged. The log is of what happened: a worker slower than its lease
        # (a loaded machine) logs its answered attempt although another worker took the delivery over and sent it
        # again, so there may be more answered attempts than deliveries, never more than the receiver saw.
        ok = node.sql("SELECT COUNT(*), COUNT(DISTINCT delivery_id) FROM notify_deliveryattempt WHERE outcome = 'ok'")
        attempts, delivered = (int(str(n)) for n in ok[0])
        assert delivered == count
        assert count <= attempts <= len(receiver.received), (attempts, len(receiver.received))
