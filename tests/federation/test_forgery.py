"""A node that speaks for another member, over real HTTP between two nodes: its receiver quarantines what it sent.

The sending node is made to misbehave the only way a node can: its database gets versions written around the
actions (as a modified installation would), signed with its own key. The receiving node pulls them through the
federation protocol like anything else."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli_support import ACCORD, new_node
from tests.federation.test_cli_federation import LOOPBACK, _befriend, _free_port, _init, _json, _lines

pytestmark = pytest.mark.sqlite_pass

ACK_CAP = {
    "identifier": "urn:uuid:1b6f0d4e-0000-4000-8000-000000000001",
    "sender": "cn-health@accord.example",
    "sent": "2026-12-04T10:00:00+08:00",
    "status": "Actual",
    "msgType": "Ack",
    "scope": "Public",
    "references": ["moh@gov.kz.example,KZ-MOH-2026-001,2026-11-27T10:00:00+05:00"],
}

# Run on the sending node (`accord manage shell -c`): write two forged acknowledgements in India's name, one
# issued "for IN" in the envelope and one for CN whose body says IN, and one honest note.
FORGE = """
import json, uuid
from django.db import transaction
from accord.members.identity import signing_key
from accord.records import audit
from accord.records.actions import _write_version, here
from accord.records.envelope import Audience, EnvelopeShape, build_envelope, encode

me, key = here(), signing_key()
ack = {"alert": {"node": str(uuid.uuid4()), "record": str(uuid.uuid4()), "seq": 1}, "member": "IN", "note": "",
       "cap": json.loads(CAP)}
for kind, member, body in [("acknowledgement", "IN", ack), ("acknowledgement", "CN", ack),
                           ("note", "CN", {"title": "honest", "text": "", "language": "en"})]:
    envelope = build_envelope(
        kind=kind, origin={"node": str(me.node_id), "member": member, "organisation": str(uuid.uuid4()),
                           "account": str(uuid.uuid4())},
        record=uuid.uuid4(), seq=1, prev_hash=None, status="actual", state="active",
        audience=Audience(everyone=True), tlp="GREEN", body=body, attachments=[])
    data, digest = encode(envelope)
    with transaction.atomic():
        audit.lock()
        _write_version(data, digest, key.sign(data), key.kid, EnvelopeShape.model_validate(envelope))
        audit.append("record.publish", actor=None, object_type=kind, object_id="forged", data={})
"""


def test_a_forged_acknowledgement_sent_over_http_is_quarantined(tmp_path: Path) -> None:
    cn_port = _free_port()
    with new_node(tmp_path, "cn") as cn, new_node(tmp_path, "kz") as kz:
        cn.extra_env = kz.extra_env = LOOPBACK
        _init(cn, "accord-cn", "CN", f"http://127.0.0.1:{cn_port}")
        _init(kz, "accord-kz", "KZ", f"http://127.0.0.1:{_free_port()}")
        _befriend(cn, kz)
        forged = subprocess.run(
            [
                ACCORD,
                "--data-dir",
                str(cn.data_dir),
                "manage",
                "shell",
                "-c",
                f"CAP = {json.dumps(json.dumps(ACK_CAP))}\n{FORGE}",
            ],
            env=cn.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert forged.returncode == 0, forged.stderr
        # By bundle first: the same receiving path as a pull.
        bundle = tmp_path / "for-kz.bundle"
        assert _json(cn, "bundle", "export", "--peer", "accord-kz", "--out", str(bundle))["count"] == 3
        imported = _json(kz, "bundle", "import", str(bundle))
        assert imported["stored"] == 1 and imported["quarantined"] == 2, imported
        kz.sql("DELETE FROM records_quarantinedversion")
        kz.sql("DELETE FROM records_version")
        kz.sql("DELETE FROM records_record")
        server = subprocess.Popen(
            [ACCORD, "serve", "--port", str(cn_port), "--workers", "0", "--data-dir", str(cn.data_dir)],
            env=cn.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                result = kz.run("federation", "sync", "--peer", "accord-cn", check=False)
                if result.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)  # the server is still starting
        finally:
            server.send_signal(signal.SIGINT)
            server.communicate(timeout=30)
        assert result.returncode == 0, result.stderr
        counts = json.loads(result.stdout)
        assert counts["stored"] == 1 and counts["quarantined"] == 2, counts
        reasons = sorted(str(r) for (r,) in kz.sql("SELECT reason FROM records_quarantinedversion"))
        assert len(reasons) == 2
        assert "may issue versions for CN, not for IN" in reasons[1]
        assert "body.member is IN, but this acknowledgement is issued for CN" in reasons[0]
        assert kz.sql("SELECT kind FROM records_version WHERE kind = 'acknowledgement'") == []
        assert [r["kind"] for r in _lines(kz, "records", "list", "--json")] == ["note"]
        assert kz.sql("SELECT count(*) FROM records_auditentry WHERE action = 'record.quarantine'") == [(4,)]
