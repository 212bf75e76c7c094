"""Three real nodes, each `accord serve` on its own 127.0.0.1 port with its own database, talking real HTTP.

An alert published at one node with an audience of one other arrives there and nowhere else; a node killed
with SIGKILL in the middle of a large sync is restarted and converges with nothing lost or duplicated.
The nodes' databases are PostgreSQL databases (this test runs on the PostgreSQL pass).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.cli_support import ACCORD
from tests.federation.nodes import real_nodes, versions, wait

# On the PostgreSQL pass, where concurrent commits can finish out of order (docs/federation.md, Terms).
pytestmark = pytest.mark.postgresql_pass

PUBLISH_NOTES = """
from accord.members import actions as m
from accord.members.models import Account, Organisation
from accord.records import actions
from accord.records.envelope import Audience
org = Organisation.objects.filter(slug="cn-bulk").first() or m.create_organisation(
    member_code="CN", slug="cn-bulk", kind="health_ministry", name_en="CN bulk", acting_user=None)
user = Account.objects.filter(username="bulk").first() or m.create_account(
    username="bulk", organisation=org, roles=["focal_point"], acting_user=None)
for n in range({count}):
    actions.publish("note", {{"title": f"bulk {{n}}", "text": "x" * 2000}}, audience=Audience(members=["KZ"]),
                    tlp="GREEN", acting_user=user)
"""


def test_an_alert_reaches_its_audience_only_and_a_killed_node_converges(tmp_path: Path) -> None:
    from tests.alerts.support import cap_xml

    with real_nodes(tmp_path, ("CN", "KZ", "RU")) as nodes:
        cn, kz, ru = nodes["CN"].node, nodes["KZ"].node, nodes["RU"].node
        kz_server = nodes["KZ"].server
        alert = tmp_path / "alert.xml"
        alert.write_bytes(cap_xml())
        cn.run("alert", "import", str(alert), "--audience", "KZ", "--tlp", "AMBER")
        published = versions(cn)
        alert_rows = [v for v in published if v[2] == 1]
        assert alert_rows
        wait("the alert to reach KZ", lambda: set(alert_rows) <= set(versions(kz)), timeout=60)
        # RU must have pulled from CN since then, and still not hold it.
        since = time.time()

        wait("RU to complete a pull from CN", lambda: nodes["RU"].pulled_since("CN", since), timeout=60)
        ru_has = {(o, r) for o, r, _, _ in versions(ru)}
        assert not any((o, r) in ru_has for o, r, _, _ in alert_rows)

        # A large backlog for KZ while it is down; then kill it in the middle of catching up.
        kz_server.kill()
        # `manage` hands its arguments to Django, so --data-dir goes before it.
        published_bulk = subprocess.run(
            [ACCORD, "--data-dir", str(cn.data_dir), "manage", "shell", "-c", PUBLISH_NOTES.format(count=300)],
            env=cn.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert published_bulk.returncode == 0, published_bulk.stderr
        expected = set(versions(cn))
        before = len(versions(kz))
        # Not waiting for its web server to answer: its worker may catch up meanwhile (several server processes
        # start slower than the worker under load), and the kill must come part-way through.
        kz_server.start(wait_ready=False)
        wait("KZ to be part-way through the sync", lambda: len(versions(kz)) > before + 25, timeout=60)
        assert len(versions(kz)) < before + 300, "the sync finished before it could be interrupted; make it larger"
        kz_server.kill()
        kz_server.start()
        wait("KZ to converge after the crash", lambda: expected <= set(versions(kz)), timeout=120)
        held = versions(kz)
        assert len(held) == len(set(held)), "a version is stored twice"
        assert not {(o, r) for o, r, _, _ in versions(ru)} & {(o, r) for o, r, _, _ in alert_rows}
        assert kz.run("audit", "verify", check=False).returncode == 0
