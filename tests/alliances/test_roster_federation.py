"""Expert profiles and federation: a profile goes only to the nodes of the members its audience names (the change
feed's entitlement, `accord.records.entitle`), so one visible to an alliance reaches the other members' nodes and one
visible to the Secretariat only does not; a receiving node's roster (the projection, filled by the kind's `project`)
finds it for its own accounts, and loses it at once when the withdrawal arrives.

The feed is read as a peer of each member receives it (`protocol._feed`, both databases); the whole way across
three simulated nodes (tests/federation/sim.py: the real federation code over a fake transport) on the SQLite pass.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import DjangoDbBlocker

from accord.alliances import roster_actions, roster_queries
from accord.alliances.roster_models import ExpertProfile
from accord.federation import client, protocol
from accord.federation.models import Peer
from accord.members import actions as member_actions
from accord.members.models import Account
from accord.records.models import Record, Version
from accord.records.principal import Principal
from tests.alliances.roster_support import Roster, join, profile, roster_fixture  # noqa: F401
from tests.federation import sim
from tests.response.peers import make_peer


def fed(member: str) -> set[tuple[str, int]]:
    """(record, seq) of every expert profile version the change feed gives a peer node of `member`."""
    peer = Peer.objects.get(node_id=make_peer(member).node_id)
    reply = protocol._feed(peer, {"limit": ["1000"]})
    assert reply.payload is not None
    found = set()
    for item in reply.payload["versions"]:
        envelope = json.loads(base64.b64decode(item["version"]))
        if envelope["kind"] == "expert_profile":
            found.add((envelope["record"], envelope["seq"]))
    return found


@pytest.mark.django_db
def test_the_change_feed_carries_a_profile_only_to_the_members_it_names(roster: Roster) -> None:
    sam = roster.world.sam
    join(roster.li, "medicine", sam)  # cn-uni
    join(roster.aida, "medicine", sam)  # kz-uni
    for_alliance, _ = roster_actions.put_own(roster.oleg, profile=profile(), audience={"alliances": ["medicine"]})
    assert for_alliance.envelope()["audience"]["members"] == ["CN", "KZ"]
    sco_only, _ = roster_actions.put_own(roster.li, profile=profile(), audience={"members": ["SCO"]}, tlp="AMBER")
    alliance, secretariat = str(for_alliance.record_uuid), str(sco_only.record_uuid)

    assert fed("KZ") == {(alliance, 1)}
    assert fed("SCO") == {(secretariat, 1)}
    assert fed("CN") == {(alliance, 1), (secretariat, 1)}  # li's own member, and named by oleg's
    assert fed("IN") == set()

    roster_actions.withdraw_own(roster.oleg)
    assert fed("KZ") == {(alliance, 1), (alliance, 2)}  # the withdrawal travels where the profile went
    assert fed("IN") == set()


# ---- three simulated nodes --------------------------------------------------------------------------------------

CN, KZ, RU = 0, 1, 2


@pytest.fixture(scope="module")
def template(django_db_blocker: DjangoDbBlocker) -> Iterator[sim.NetworkTemplate]:
    import shutil

    root = Path(tempfile.mkdtemp(prefix="accord-roster-sim-"))
    try:
        with django_db_blocker.unblock():
            yield sim.build_template(root, 3)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def net(template: sim.NetworkTemplate, django_db_blocker: DjangoDbBlocker, tmp_path: Path) -> Iterator[sim.Network]:
    network = sim.Network.copy_of(template, tmp_path)
    try:
        with django_db_blocker.unblock(), sim.virtual_time():
            yield network
    finally:
        network.close()


def _sync(net: sim.Network) -> None:
    transport = sim.FakeTransport(net)
    for _ in range(2):
        for i in range(net.size):
            for j in range(net.size):
                if i != j:
                    with net.as_node(i):
                        client.pull(Peer.objects.get(node_id=net.nodes[j].node_id), transport)
    sim.CLOCK.advance(5)


def _focal_point(net: sim.Network, i: int) -> Account:
    return Account.objects.get(username=sim.publisher_name(net.nodes[i].member))


def _found(net: sim.Network, i: int) -> list[str]:
    """The profiles the node's focal point finds in the roster there."""
    with net.as_node(i):
        rows = roster_queries.search(Principal.of(_focal_point(net, i)))
        return [str(row.record.uuid) for row in rows]


@pytest.mark.sqlite_pass
def test_a_profile_for_the_alliance_reaches_its_members_nodes_and_one_for_the_secretariat_does_not(
    net: sim.Network,
) -> None:
    with net.as_node(CN):
        university = member_actions.create_organisation(
            member_code="CN", slug="cn-sim-uni", kind="university", name_en="CN sim university", acting_user=None
        )
        li = member_actions.create_account(username="li", organisation=university, roles=["expert"], acting_user=None)
        wei = member_actions.create_account(username="wei", organisation=university, roles=["expert"], acting_user=None)
        # the members of the alliance (as the shorthand expands it), at TLP:AMBER
        shared, _ = roster_actions.put_own(li, profile=profile(), audience={"members": ["CN", "KZ"]}, tlp="AMBER")
        hidden, _ = roster_actions.put_own(wei, profile=profile(), audience={"members": ["SCO"]}, tlp="AMBER")
    _sync(net)
    assert _found(net, KZ) == [str(shared.record_uuid)]
    assert _found(net, RU) == []
    for i in (KZ, RU):
        with net.as_node(i):
            assert not Record.objects.filter(uuid=hidden.record_uuid).exists()  # never sent
    with net.as_node(RU):
        assert not Record.objects.filter(kind="expert_profile").exists()
    with net.as_node(KZ):
        row = ExpertProfile.objects.get()
        assert (row.account, row.organisation, row.member) == (li.uuid, "cn-sim-uni", "CN")

    with net.as_node(CN):
        roster_actions.withdraw_own(li)
    _sync(net)
    assert _found(net, KZ) == []
    with net.as_node(KZ):
        assert not ExpertProfile.objects.exists()
        states = list(Version.objects.filter(record_uuid=shared.record_uuid).order_by("seq").values_list("state"))
        assert states == [("active",), ("withdrawn",)]  # kept for the audit
