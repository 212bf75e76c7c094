"""An alliance's council, set on this node (`membership_actions.set_council`, `accord alliance council`): adding and
removing organisations is audited and replays the alliance's memberships, since the replay counts the decisions of
the council as it is now; bad input names what was wrong and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.alliances import membership_actions as actions
from accord.alliances import membership_queries as queries
from accord.alliances.models import Alliance
from accord.records.errors import ActionError, NotFound
from accord.records.models import AuditEntry
from tests.alliances.conftest import Campus
from tests.cli_support import new_node


def council() -> list[str]:
    return sorted(o.slug for o in Alliance.objects.get(slug="medicine").council.all())


@pytest.mark.django_db
def test_a_council_change_is_audited_and_replays_the_memberships(campus: Campus) -> None:
    application = actions.apply("medicine", acting_user=campus.li, motivation="Public health school.")
    actions.decide(application.record_uuid, acting_user=campus.aida, decision="accept", reason="Welcome.")
    assert queries.is_member("cn-demo-uni", "medicine")

    # KZ's university leaves the council: its decision no longer counts (RU's university, still on it, did not
    # decide), so the membership it accepted is pending again, on this node as on any that replays the same records
    members, changed = actions.set_council("medicine", add=[], remove=["kz-demo-uni"], acting_user=None)
    assert [o.slug for o in members] == ["ru-demo-uni"] == council()
    assert changed == [{"organisation": "cn-demo-uni", "before": "member", "after": "pending"}]
    assert not queries.is_member("cn-demo-uni", "medicine")
    entry = AuditEntry.objects.filter(action="alliance.council").latest("seq")
    assert entry.data == {"added": [], "removed": ["kz-demo-uni"], "council": ["ru-demo-uni"]}

    members, changed = actions.set_council("medicine", add=["kz-demo-uni"], remove=[], acting_user=None)
    assert council() == ["kz-demo-uni", "ru-demo-uni"] and queries.is_member("cn-demo-uni", "medicine")
    assert changed == [{"organisation": "cn-demo-uni", "before": "pending", "after": "member"}]


@pytest.mark.django_db
def test_bad_council_input_names_the_field_and_changes_nothing(campus: Campus) -> None:
    entries = AuditEntry.objects.count()
    with pytest.raises(NotFound) as unknown_alliance:
        actions.set_council("astronomy", add=["cn-demo-uni"], remove=[], acting_user=None)
    assert unknown_alliance.value.field == "alliance"
    with pytest.raises(ActionError) as unknown:
        actions.set_council("medicine", add=["cn-demo-uni", "no-such-uni"], remove=[], acting_user=None)
    assert unknown.value.field == "organisation" and "no-such-uni" in str(unknown.value)
    with pytest.raises(ActionError) as both:
        actions.set_council("medicine", add=["cn-demo-uni"], remove=["cn-demo-uni"], acting_user=None)
    assert both.value.field == "organisation" and "both added and removed" in str(both.value)
    assert council() == ["kz-demo-uni", "ru-demo-uni"] and AuditEntry.objects.count() == entries


@pytest.mark.sqlite_pass
def test_the_council_from_the_command_line(tmp_path: Path) -> None:
    with new_node(tmp_path) as node:
        node.run("organisation", "add", "--slug", "kz-agro", "--member", "KZ", "--type", "university", "--name", "Agro")
        added = json.loads(node.run("alliance", "council", "--alliance", "agriculture", "--add", "kz-agro").stdout)
        assert added["council"] == ["kz-agro"] and added["changed"] == []
        listed = {a["slug"]: a for a in json.loads(node.run("alliance", "list", "--json").stdout)}
        assert sorted(listed) == ["agriculture", "law", "medicine"] and listed["agriculture"]["council"] == ["kz-agro"]
        refused = node.run("alliance", "council", "--alliance", "agriculture", "--add", "nope", check=False)
        assert refused.returncode == 1 and "no organisation nope" in refused.stderr
        unknown = node.run("alliance", "council", "--alliance", "astronomy", "--add", "kz-agro", check=False)
        assert unknown.returncode == 1 and "no such alliance" in unknown.stderr
        removed = json.loads(node.run("alliance", "council", "--alliance", "agriculture", "--remove", "kz-agro").stdout)
        assert removed["council"] == []
