"""Incidents, consents and links across three simulated nodes (tests/federation/sim.py: the real federation code
over a fake transport): CN and KZ in the audience, RU outside it. The incident's origin (KZ) reacts to a consent
withdrawn on the CN node once it has received it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import DjangoDbBlocker

from accord.federation import client
from accord.federation.models import Peer
from accord.members.models import Account
from accord.records.envelope import Audience
from accord.records.models import QuarantinedVersion, Record, Version
from accord.response import actions, tasks
from tests.federation import sim

pytestmark = pytest.mark.sqlite_pass

CN, KZ, RU = 0, 1, 2


@pytest.fixture(scope="module")
def template(django_db_blocker: DjangoDbBlocker) -> Iterator[sim.NetworkTemplate]:
    import shutil

    root = Path(tempfile.mkdtemp(prefix="accord-response-sim-"))
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


def _publisher(net: sim.Network, i: int) -> Account:
    return Account.objects.get(username=sim.publisher_name(net.nodes[i].member))


def _incident(net: sim.Network, i: int, uuid: str) -> Record | None:
    with net.as_node(i):
        return Record.objects.filter(uuid=uuid).select_related("current_version").first()


def _level(net: sim.Network, i: int, uuid: str) -> int | None:
    with net.as_node(i):
        record = Record.objects.filter(uuid=uuid).select_related("current_version").first()
        return None if record is None or record.current_version is None else int(record.current_version.body["level"])


def test_consents_travel_and_the_origin_drops_the_level(net: sim.Network) -> None:
    with net.as_node(KZ):
        opened = actions.open_incident(
            title={"en": "Crimean-Congo haemorrhagic fever", "zh": "克里米亚-刚果出血热"},
            hazard="A98.0",
            affected_members=["KZ", "CN"],
            regions=["KZ-61", "CN-XJ"],
            audience=Audience(members=["KZ", "CN"]),
            tlp="AMBER",
            acting_user=_publisher(net, KZ),
        )
        incident_id = str(opened.record_uuid)
        incident = Record.objects.get(uuid=incident_id)
        actions.record_consent(incident, consent="given", acting_user=_publisher(net, KZ))
    _sync(net)
    assert _incident(net, RU, incident_id) is None
    with net.as_node(CN):
        received = Record.objects.get(uuid=incident_id)
        actions.record_consent(received, consent="given", condition="Xinjiang only", acting_user=_publisher(net, CN))
    _sync(net)
    with net.as_node(KZ):
        raised = actions.change_level(
            Record.objects.get(uuid=incident_id), level=2, reason="cases on both sides", acting_user=_publisher(net, KZ)
        )
        assert {c["member"] for c in raised.body["consents"]} == {"KZ", "CN"}
    _sync(net)
    assert _level(net, CN, incident_id) == 2
    with net.as_node(CN):
        withdrawn = actions.record_consent(
            Record.objects.get(uuid=incident_id), consent="withdrawn", acting_user=_publisher(net, CN)
        )
        # The CN node is not the incident's origin: it issues nothing of the incident.
        assert Version.objects.filter(record_uuid=incident_id).count() == 2
    _sync(net)
    with net.as_node(KZ):
        stored = Version.objects.get(
            origin_node=withdrawn.origin_node, record_uuid=withdrawn.record_uuid, seq=withdrawn.seq
        )
        tasks.consent_committed(stored.pk)  # what the worker runs for a consent it received
    assert _level(net, KZ, incident_id) == 1
    _sync(net)
    assert _level(net, CN, incident_id) == 1
    with net.as_node(CN):
        current = Record.objects.get(uuid=incident_id).current_version
        assert current is not None and current.body["change"]["action"] == "consent_withdrawn"
        assert current.origin_member == "KZ"
    for i in (CN, KZ, RU):
        with net.as_node(i):
            assert not QuarantinedVersion.objects.exists()
    with net.as_node(RU):
        assert not Record.objects.filter(kind__in=["incident", "consent", "incident_link"]).exists()


def test_no_write_path_issues_activation_without_consents(net: sim.Network) -> None:
    """A version at level 2 that lists no consents breaks the incident kind's rules: even the record core's
    generic revision refuses it (and a receiving node applies the same rules, quarantining it)."""
    from accord.records import actions as record_actions

    with net.as_node(KZ):
        opened = actions.open_incident(
            title={"en": "Anthrax"},
            hazard="A22",
            affected_members=["KZ", "CN"],
            audience=Audience(members=["KZ", "CN"]),
            tlp="AMBER",
            acting_user=_publisher(net, KZ),
        )
        body = {**opened.body, "level": 2, "change": {"action": "level", "reason": "forced", "from_level": 0}}
        with pytest.raises(Exception, match="consent"):
            record_actions.revise(Record.objects.get(pk=opened.record_id), acting_user=_publisher(net, KZ), body=body)
