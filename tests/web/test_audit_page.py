"""The audit log page: for the node's administrators only, newest first, filtered by action, actor and object."""

from __future__ import annotations

from accord.members import actions as member_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from tests.conftest import World, _account, client_for


def test_only_administrators_read_the_audit_log_and_filter_it(world: World) -> None:
    admin = _account("root", world.secretariat, "admin")
    note = record_actions.publish(
        "note", {"title": "t", "text": "x"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol
    )
    member_actions.set_active(world.dave, False, acting_user=admin)
    forbidden = client_for(world.sam).get("/admin/audit/")
    assert forbidden.status_code == 403
    client = client_for(admin)
    page = client.get("/admin/audit/").content.decode()
    assert "record.publish" in page and "account" in page
    published = client.get("/admin/audit/", {"action": "record.publish"}).content.decode()
    assert str(note.record_uuid) in published
    by_object = client.get("/admin/audit/", {"object": str(note.record_uuid)}).content.decode()
    assert "1 entry" in by_object
    assert "No entry matches" in client.get("/admin/audit/", {"actor": "nobody"}).content.decode()
