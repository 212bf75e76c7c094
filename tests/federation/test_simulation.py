"""A stateful fuzz of federation: a simulated network of nodes publishes, syncs, fails and is attacked, and
after every step nothing is stored outside its audience, nothing is lost or changed, and after healing
every entitled node converges.

The nodes run the real code (records.actions, federation.client, protocol.serve, auth) over a
FakeTransport; see sim.py. `make fuzz-federation` runs it with ACCORD_FUZZ_EXAMPLES=10000.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from pytest_django import DjangoDbBlocker

from accord.federation import actions as fed_actions
from accord.federation import auth, client, protocol, runner
from accord.federation.models import Peer, SeenNonce
from accord.members.models import Account
from accord.records import actions
from accord.records.envelope import Audience
from accord.records.models import Record, Version
from accord.records.verify import verify_all
from tests.federation import sim

# The simulation gives each node its own SQLite file, whatever the pass.
pytestmark = pytest.mark.sqlite_pass

EXAMPLES = int(os.environ.get("ACCORD_FUZZ_EXAMPLES", "200"))
NODES = int(os.environ.get("ACCORD_FUZZ_NODES", "4"))
STEPS = int(os.environ.get("ACCORD_FUZZ_STEPS", "12"))

Key = tuple[uuid.UUID, uuid.UUID, int]  # (origin node, record, seq)


@dataclass(frozen=True)
class ModelVersion:
    """A version as its origin issued it, and the step it was issued at."""

    origin: int
    record: uuid.UUID
    seq: int
    content_hash: str
    everyone: bool
    members: frozenset[str]
    origin_member: str
    status: str
    step: int

    def reaches(self, member: str) -> bool:
        if self.status == "draft":
            return False
        return self.everyone or member == self.origin_member or member in self.members


@dataclass
class ModelRecord:
    origin: int
    uuid: uuid.UUID
    seq: int
    withdrawn: bool
    status: str


audiences = st.one_of(
    st.tuples(st.just(True), st.just(frozenset[str]())),
    st.tuples(
        st.just(False),
        st.frozensets(st.sampled_from((*sim.MEMBERS[:NODES], sim.OUTSIDER)), min_size=1, max_size=3),
    ),
)
# Control characters are refused in bodies.
titles = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=12)
nodes = st.integers(0, NODES - 1)
others = st.integers(0, NODES - 2)  # node j = (i + 1 + d) % NODES, so j != i
picks = st.integers(0, 10**6)


def other(i: int, d: int) -> int:
    return (i + 1 + d) % NODES


class FederationMachine(RuleBasedStateMachine):
    template: ClassVar[sim.NetworkTemplate]

    def __init__(self) -> None:
        super().__init__()
        self.exception_outside = sys.exc_info()[1]  # whatever Hypothesis is handling while it runs us
        self.workdir = Path(tempfile.mkdtemp(dir=self.template.root, prefix="example-"))
        self.net = sim.Network.copy_of(self.template, self.workdir)
        self.transport = sim.FakeTransport(self.net)
        self.transport.snapshot = self._receiver_state
        self.step = 0
        self.versions: dict[Key, ModelVersion] = {}
        self.records: list[ModelRecord] = []
        # (i, j) -> the step at which node i revoked node j.
        self.revoked: dict[tuple[int, int], int] = {}
        # (node, origin, record) -> the highest current_seq seen there.
        self.current: dict[tuple[int, uuid.UUID, uuid.UUID], int] = {}

    # ---- helpers ------------------------------------------------------------------------------------

    def node_id(self, i: int) -> uuid.UUID:
        return self.net.nodes[i].node_id

    def member(self, i: int) -> str:
        return self.net.nodes[i].member

    def cut_off(self, i: int, j: int) -> bool:
        return (i, j) in self.revoked or (j, i) in self.revoked

    def _receiver_state(self) -> Any:
        return (
            Version.objects.count(),
            Record.objects.count(),
            SeenNonce.objects.count(),
            list(Peer.objects.order_by("id").values_list("served_cursor", "wake_pending", "state")),
        )

    def _record_version(self, origin: int, version: Version) -> None:
        envelope = version.envelope()
        audience = envelope["audience"]
        model = ModelVersion(
            origin=origin,
            record=version.record_uuid,
            seq=version.seq,
            content_hash=version.content_hash,
            everyone=bool(audience["everyone"]),
            members=frozenset(audience["members"]),
            origin_member=self.member(origin),
            status=version.status,
            step=self.step,
        )
        self.versions[(self.node_id(origin), version.record_uuid, version.seq)] = model

    def _publisher(self, i: int) -> Account:
        return Account.objects.select_related("organisation__member").get(username=sim.publisher_name(self.member(i)))

    def _refused_events(self) -> int:
        # A version that waited for its signer's key and is refused once the key arrives is logged then, in the
        # exchange that brought the key, not in the one that brought the version: those are not counted here.
        return int(
            _query(
                "SELECT count(*) FROM federation_federationevent WHERE kind = 'version.refused' "
                "AND detail NOT LIKE '%(after key %'"
            )[0][0]
        )

    def _check_sync(self, i: int, counts: client.Counts, events_before: int, tampered_before: int) -> None:
        """What every sync must satisfy: a request refused for its time succeeds after the correction,
        and each refused version is logged (a tampered one always is, and is refused)."""
        failure = _failure(counts)
        assert "this node's clock" not in failure, f"the clock correction failed: {failure}"
        with self.net.as_node(i):
            logged = self._refused_events() - events_before
        if failure:  # the counts of the pages before the failure are lost with it
            assert logged >= counts.refused, (logged, counts)
        else:
            assert logged == counts.refused, (logged, counts)
            # a tampered version is refused, or, when the key it names is not known here yet, kept until that key's
            # announcement arrives (and refused then, its signature checked in full)
            assert counts.refused + counts.awaiting >= self.transport.tampered - tampered_before, counts

    def _sync(self, i: int, j: int, how: str) -> None:
        with self.net.as_node(i):
            peer = Peer.objects.get(node_id=self.node_id(j))
            if not peer.is_active:
                return  # the worker pulls only from active peers
            events_before, tampered_before = self._refused_events(), self.transport.tampered
            counts = client.Counts()
            try:
                if how == "sync":
                    counts = client.sync(peer, self.transport)
                elif how == "sync+ae":
                    counts = client.sync(peer, self.transport, force_anti_entropy=True)
                elif how == "pull":
                    counts = client.pull(peer, self.transport)
                else:
                    counts = client.anti_entropy(peer, self.transport)
            except (client.TransportError, client.PeerError) as error:
                counts.errors.append(str(error))
        failure = _failure(counts)
        _note(f"{how}: " + (_kind_of_error(failure) if failure else "ok"))
        if counts.stored:
            _note(f"{how}: stored versions")
        if counts.refused:
            _note(f"{how}: refused versions")
        self._check_sync(i, counts, events_before, tampered_before)
        if (j, i) in self.revoked:
            assert failure and not counts.stored, f"node-{j} revoked node-{i} but answered it: {counts}"

    # ---- rules: records -----------------------------------------------------------------------------

    @rule(
        i=nodes,
        audience=audiences,
        amber=st.booleans(),
        status=st.sampled_from(("actual", "actual", "exercise", "draft")),
        title=titles,
        attachment=st.none() | st.binary(min_size=1, max_size=40),
    )
    def publish(
        self,
        i: int,
        audience: tuple[bool, frozenset[str]],
        amber: bool,
        status: str,
        title: str,
        attachment: bytes | None,
    ) -> None:
        everyone, members = audience
        tlp = ("GREEN" if amber else "CLEAR") if everyone else ("AMBER" if amber else "GREEN")
        files = [actions.NewAttachment("data.bin", "application/octet-stream", attachment)] if attachment else None
        with self.net.as_node(i):
            version = actions.publish(
                "note",
                {"title": title},
                audience=Audience(everyone=everyone, members=sorted(members)),
                tlp=tlp,
                status=status,
                acting_user=self._publisher(i),
                files=files,
            )
            self._record_version(i, version)
        self.records.append(ModelRecord(i, version.record_uuid, 1, withdrawn=False, status=status))

    def _active_record(self, pick: int) -> ModelRecord:
        active = [r for r in self.records if not r.withdrawn]
        return active[pick % len(active)]

    @precondition(lambda self: any(not r.withdrawn for r in self.records))
    @rule(pick=picks, audience=st.none() | audiences, title=st.none() | titles, release=st.booleans())
    def revise(self, pick: int, audience: tuple[bool, frozenset[str]] | None, title: str | None, release: bool) -> None:
        record = self._active_record(pick)
        new_audience = None
        tlp = None
        if audience is not None:
            everyone, members = audience
            new_audience = Audience(everyone=everyone, members=sorted(members))
            tlp = "GREEN"
        status = "actual" if release and record.status == "draft" else None
        with self.net.as_node(record.origin):
            row = Record.objects.get(origin_node=self.node_id(record.origin), uuid=record.uuid)
            version = actions.revise(
                row,
                acting_user=self._publisher(record.origin),
                expected_seq=record.seq,
                body={"title": title} if title is not None else None,
                audience=new_audience,
                tlp=tlp,
                status=status,
            )
            self._record_version(record.origin, version)
        record.seq = version.seq
        record.status = version.status

    @precondition(lambda self: any(not r.withdrawn for r in self.records))
    @rule(pick=picks)
    def withdraw(self, pick: int) -> None:
        record = self._active_record(pick)
        with self.net.as_node(record.origin):
            row = Record.objects.get(origin_node=self.node_id(record.origin), uuid=record.uuid)
            version = actions.withdraw(row, acting_user=self._publisher(record.origin), reason="simulated")
            self._record_version(record.origin, version)
        record.seq = version.seq
        record.withdrawn = True

    # ---- rules: exchange ----------------------------------------------------------------------------

    @rule(i=nodes, d=others)
    def pull(self, i: int, d: int) -> None:
        """Node i pulls node j's change feed from its cursor."""
        self._sync(i, other(i, d), "pull")

    @rule(i=nodes, d=others, force_anti_entropy=st.booleans())
    def sync(self, i: int, d: int, force_anti_entropy: bool) -> None:
        """One round of node i with node j as the worker does it (pull, anti-entropy when due or forced)."""
        self._sync(i, other(i, d), "sync+ae" if force_anti_entropy else "sync")

    @rule(i=nodes, d=others)
    def anti_entropy(self, i: int, d: int) -> None:
        self._sync(i, other(i, d), "anti-entropy")

    @rule(i=nodes)
    def worker_round(self, i: int) -> None:
        """One round of node i's federation loop: hints to peers, then pulls from the peers that are due."""
        with self.net.as_node(i):
            runner.step(self.transport)

    # ---- rules: faults ------------------------------------------------------------------------------

    @rule(
        i=nodes,
        d=others,
        state=st.sampled_from(("cut", "heal", "lossy", "duplicate", "tamper-flip", "tamper-widen")),
        everywhere=st.booleans(),
    )
    def link(self, i: int, d: int, state: str, everywhere: bool) -> None:
        """The link between nodes i and j (or every link of node i) is cut or healed; or, both ways, it
        loses every other answer, delivers each request twice (the copy must be refused as a replay), or
        passes a tampering relay that alters the first version of each answer."""
        for j in range(self.net.size) if everywhere else [other(i, d)]:
            if j == i:
                continue
            if state == "cut":
                self.transport.partitioned.add(frozenset((i, j)))
            elif state == "heal":
                self.transport.partitioned.discard(frozenset((i, j)))
                self.transport.modes.pop((i, j), None)
                self.transport.modes.pop((j, i), None)
            else:
                self.transport.modes[(i, j)] = self.transport.modes[(j, i)] = cast(sim.LinkMode, state)

    @rule(seconds=st.sampled_from((1, 7, 31, 121, 301, 601, 901, 3600)))
    def tick(self, seconds: int) -> None:
        """Time passes: past a second (created_at), the poll interval, a lease, the request window, the
        nonce memory, the anti-entropy interval, an hour."""
        sim.CLOCK.advance(seconds)

    @rule(i=nodes)
    def restart(self, i: int) -> None:
        self.net.restart(i)

    @rule(i=nodes, hours=st.integers(-6, 6))
    def skew_clock(self, i: int, hours: int) -> None:
        self.net.nodes[i].skew = hours * 3600.0

    @rule(i=nodes)
    def rotate_key(self, i: int) -> None:
        """Node i makes a new key; peers that have not yet heard of it are sent requests signed with the
        earlier keys until they have."""
        _note("rotate_key: done")
        with self.net.as_node(i):
            fed_actions.rotate_key(acting_user=None)
            announcement = Version.objects.filter(kind="node_key").order_by("-id").first()
            assert announcement is not None
            self._record_version(i, announcement)

    @precondition(lambda self: len(self.revoked) < 2)
    @rule(i=nodes, d=others, go=st.integers(0, 2))
    def revoke(self, i: int, d: int, go: int) -> None:
        j = other(i, d)
        if go != 0 or (i, j) in self.revoked:
            return
        with self.net.as_node(i):
            fed_actions.revoke_peer(Peer.objects.get(node_id=self.node_id(j)), acting_user=None, reason="simulated")
        self.revoked[(i, j)] = self.step

    # ---- rules: attacks -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.transport.delivered) > 0)
    @rule(pick=picks, alter=st.booleans())
    def replay(self, pick: int, alter: bool) -> None:
        """Send again a request a node accepted (or a copy with its target altered): always refused."""
        old = self.transport.delivered[pick % len(self.transport.delivered)]
        target = old.target + ("&limit=1" if "?" in old.target else "?limit=1") if alter else old.target
        with self.net.as_node(old.receiver):
            before = self._receiver_state()
            reply = protocol.serve(old.method, target, old.headers, old.body)
            assert reply.status in (401, 403), (reply.status, reply.body())
            _note(f"replay: {_kind_of_error(reply.body().decode())}")
            assert self._receiver_state() == before

    @rule(j=nodes, dk=others, i=nodes, pick=picks, style=st.sampled_from(("flip", "widen", "none")), position=picks)
    def relay(self, j: int, dk: int, i: int, pick: int, style: str, position: int) -> None:
        """A version from node j's feed as node k sees it is handed to node i out of band (like a bundle),
        altered or not. An altered one, or one whose audience does not reach node i, is refused and logged."""
        k = other(j, dk)
        with self.net.as_node(j):
            peer = Peer.objects.get(node_id=self.node_id(k))
            rows = list(protocol.entitled_versions(peer).order_by("id"))
            if not rows:
                return
            version = rows[pick % len(rows)]
            item = protocol.version_item(version)
            key = (version.origin_node, version.record_uuid, version.seq)
        if style != "none":
            item = sim.tamper_item(item, style, position)
        with self.net.as_node(i):
            stored_before = Version.objects.count()
            events_before = self._refused_events()
            counts = client.receive(None, [item], None, source="relay:simulated")
            _note(f"relay {style}: " + ("refused" if counts.refused else "stored" if counts.stored else "duplicate"))
            if style != "none" or not self.versions[key].reaches(self.member(i)):
                # refused, or kept aside until the key it names is known (never stored)
                assert counts.refused + counts.awaiting == 1 and counts.stored == 0, counts
                assert Version.objects.count() == stored_before
                assert self._refused_events() == events_before + counts.refused
            else:
                assert counts.refused + counts.stored + counts.duplicates + counts.awaiting == 1, counts

    # ---- invariants ---------------------------------------------------------------------------------

    @invariant()
    def stored_versions_are_sound(self) -> None:
        """At every node: every version is one its origin issued, byte for byte; it reaches this node's
        member; a node that revoked another has nothing that one issued after; an origin lost nothing;
        no record's current version goes back; nothing is quarantined."""
        for i in range(self.net.size):
            with self.net.as_node(i):
                rows = [
                    (uuid.UUID(o), uuid.UUID(r), s, h)
                    for o, r, s, h in _query("SELECT origin_node, record_uuid, seq, content_hash FROM records_version")
                ]
                records = [
                    (uuid.UUID(o), uuid.UUID(r), s)
                    for o, r, s in _query("SELECT origin_node, uuid, current_seq FROM records_record")
                ]
                quarantined = _query("SELECT count(*) FROM records_quarantinedversion")[0][0]
            assert quarantined == 0
            me = self.node_id(i)
            keys = {(o, r, s) for o, r, s, _ in rows}
            assert len(keys) == len(rows)
            for origin, record, seq, digest in rows:
                model = self.versions.get((origin, record, seq))
                assert model is not None, f"node-{i} stores a version nobody issued: {record}#{seq}"
                assert model.content_hash == digest, f"node-{i} stores altered bytes of {record}#{seq}"
                if origin != me:
                    assert model.reaches(self.member(i)), f"node-{i} stores {record}#{seq} outside its audience"
                    revoked_at = self.revoked.get((i, model.origin))
                    assert revoked_at is None or model.step < revoked_at, (
                        f"node-{i} stores {record}#{seq}, issued by node-{model.origin} after node-{i} revoked it"
                    )
            own = {key for key, v in self.versions.items() if v.origin == i}
            assert {key for key in keys if key[0] == me} == own, f"node-{i} lost versions it issued"
            highest: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
            for origin, record, seq in keys:
                highest[(origin, record)] = max(seq, highest.get((origin, record), 0))
            for origin, record, current_seq in records:
                assert current_seq == highest.get((origin, record)), f"node-{i}: {record} current is not its highest"
                seen = self.current.get((i, origin, record), 0)
                assert current_seq >= seen, f"node-{i}: the current version of {record} went back"
                self.current[(i, origin, record)] = current_seq
        self.step += 1

    # ---- the end: heal everything and converge ------------------------------------------------------

    def _missing(self) -> dict[tuple[int, int], list[str]]:
        """(node, origin) -> what the node lacks of the versions that origin issued and it is entitled to,
        for the pairs where neither revoked the other."""
        missing: dict[tuple[int, int], list[str]] = {}
        for i in range(self.net.size):
            with self.net.as_node(i):
                held = {(uuid.UUID(o), uuid.UUID(r), s) for o, r, s in _query(_HELD)}
            for key, model in self.versions.items():
                if model.origin == i or self.cut_off(i, model.origin) or not model.reaches(self.member(i)):
                    continue
                if key not in held:
                    missing.setdefault((i, model.origin), []).append(f"{key[1]}#{key[2]}")
        return missing

    def converge(self) -> None:
        """Heal every link and clock. Then each node pulls from each origin it lacks something of; then syncs
        with anti-entropy where something is still missing (an item refused once, e.g. tampered, that the
        cursor moved past); then, as the workers would, every node syncs with every peer, so versions and key
        announcements also travel through relays, until nothing is missing."""
        self.transport.heal_all()
        for node in self.net.nodes:
            node.skew = 0.0
        missing = self._missing()
        for attempt in range(self.net.size + 2):
            if not missing:
                _note(f"converged after {attempt} rounds")
                break
            if attempt < 2:
                pairs = sorted(missing)
            else:
                pairs = [(i, j) for i in range(self.net.size) for j in range(self.net.size) if i != j]
            for i, origin in pairs:
                self._sync(i, origin, "pull" if attempt == 0 else "sync+ae")
            missing = self._missing()
        self.stored_versions_are_sound()
        assert not missing, "the network did not converge: " + "; ".join(
            f"node-{i} lacks {', '.join(what[:3])} of node-{origin}" for (i, origin), what in sorted(missing.items())
        )
        # `accord audit verify` (audit chain, every version against its bytes and signature, record pointers)
        # at one node per example, in turn: at all of them it would cost a tenth of the run.
        i = len(self.versions) % self.net.size
        with self.net.as_node(i):
            report = verify_all()
        assert report.ok, f"node-{i}: {report.problems[:5]}"

    def teardown(self) -> None:
        try:
            # After a failed step, report that failure, not what the convergence makes of the wreck.
            if sys.exc_info()[1] is self.exception_outside:
                self.converge()
        finally:
            for what, count in self.transport.effects.items():
                _note(f"transport: {what}" + (" (10+)" if count >= 10 else ""))
            self.net.close()
            _remove_tree(self.workdir)


NOTES: Counter[str] = Counter()


def _note(what: str) -> None:
    """A Hypothesis event, also counted for the summary the test prints (pytest -s shows it)."""
    event(what)
    NOTES[what] += 1


def _failure(counts: client.Counts) -> str:
    """Why a sync failed, or "". Counts.errors holds the refused versions' messages, then the failure."""
    return counts.errors[-1] if len(counts.errors) > counts.refused else ""


def _kind_of_error(message: str) -> str:
    for words, kind in (
        ("not a known key", "unknown key"),
        ("revoked", "revoked"),
        ("replayed", "replayed nonce"),
        ("this node's clock", "clock"),
        ("partition", "partition"),
        ("was lost", "lost answer"),
        ("signature does not verify", "bad signature"),
    ):
        if words in message:
            return kind
    return "other: " + message[:60]


_HELD = "SELECT origin_node, record_uuid, seq FROM records_version"


def _query(sql: str) -> list[tuple[Any, ...]]:
    """Plain SQL on the current node: the invariants run after every step, and the ORM would dominate."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def network_template(django_db_blocker: DjangoDbBlocker) -> Iterator[sim.NetworkTemplate]:
    root = Path(tempfile.mkdtemp(prefix="accord-sim-"))
    try:
        with django_db_blocker.unblock():
            template = sim.build_template(root, NODES)
        yield template
    finally:
        _remove_tree(root)


@pytest.fixture
def simulation_settings() -> Iterator[None]:
    """Small feed pages, so that paging and cursors are exercised with few versions."""
    saved = django_settings.ACCORD_FEDERATION_PAGE
    django_settings.ACCORD_FEDERATION_PAGE = 2
    try:
        yield
    finally:
        django_settings.ACCORD_FEDERATION_PAGE = saved


def test_federation_survives_faults_and_attacks(
    network_template: sim.NetworkTemplate, django_db_blocker: DjangoDbBlocker, simulation_settings: None
) -> None:
    FederationMachine.template = network_template
    NOTES.clear()
    with django_db_blocker.unblock(), sim.virtual_time():
        run_state_machine_as_test(
            FederationMachine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
            ),
        )
    print("\n".join(f"{count:7d}  {what}" for what, count in sorted(NOTES.items())))


# ---- scenarios the fuzz found, replayed deterministically ------------------------------------------------


@pytest.fixture
def network(
    network_template: sim.NetworkTemplate, django_db_blocker: DjangoDbBlocker, tmp_path: Path
) -> Iterator[sim.Network]:
    net = sim.Network.copy_of(network_template, tmp_path)
    try:
        with django_db_blocker.unblock(), sim.virtual_time():
            yield net
    finally:
        net.close()


def _sync_all(net: sim.Network, transport: sim.FakeTransport, rounds: int = 3) -> None:
    for _ in range(rounds):
        for i in range(net.size):
            for j in range(net.size):
                if i != j:
                    with net.as_node(i):
                        peer = Peer.objects.get(node_id=net.nodes[j].node_id)
                        if peer.is_active:
                            client.sync(peer, transport, force_anti_entropy=True)


def _publish_note(net: sim.Network, i: int, title: str) -> Version:
    with net.as_node(i):
        publisher = Account.objects.get(username=sim.publisher_name(net.nodes[i].member))
        return actions.publish(
            "note", {"title": title}, audience=Audience(everyone=True), tlp="CLEAR", acting_user=publisher
        )


def _holds(net: sim.Network, i: int, version: Version) -> bool:
    with net.as_node(i):
        return Version.objects.filter(origin_node=version.origin_node, record_uuid=version.record_uuid).exists()


def test_a_key_announced_before_a_peer_revocation_but_received_after_it_is_revoked_too(network: sim.Network) -> None:
    """Node 1 rotates its key; node 0 revokes node 1 before hearing of the new key, and hears of it later
    through node 2. Versions node 1 signs with the new key after the revocation must not reach node 0."""
    transport = sim.FakeTransport(network)
    with network.as_node(1):
        fed_actions.rotate_key(acting_user=None)
    sim.CLOCK.advance(5)
    with network.as_node(0):
        fed_actions.revoke_peer(Peer.objects.get(node_id=network.nodes[1].node_id), acting_user=None)
    late = _publish_note(network, 1, "signed with the new key after the revocation")
    with network.as_node(2):
        client.sync(Peer.objects.get(node_id=network.nodes[1].node_id), transport, force_anti_entropy=True)
    assert _holds(network, 2, late)
    with network.as_node(0):
        counts = client.sync(Peer.objects.get(node_id=network.nodes[2].node_id), transport, force_anti_entropy=True)
    assert not _holds(network, 0, late), counts
    assert counts.refused >= 1


def test_peers_that_both_rotate_before_syncing_can_sync_again(network: sim.Network) -> None:
    transport = sim.FakeTransport(network)
    for i in range(network.size):
        with network.as_node(i):
            fed_actions.rotate_key(acting_user=None)
    note = _publish_note(network, 0, "after the rotations")
    _sync_all(network, transport)
    assert all(_holds(network, i, note) for i in range(network.size))


def test_a_replay_is_refused_after_the_receivers_clock_steps_back(network: sim.Network) -> None:
    transport = sim.FakeTransport(network)
    with network.as_node(1):
        client.pull(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
    accepted = transport.delivered[-1]
    sim.CLOCK.advance(3600 + 20)
    with network.as_node(0):
        auth.prune_nonces()  # the worker does it once a minute
    network.nodes[0].skew = -3600.0  # node 0's clock is put back an hour
    with network.as_node(0):
        reply = protocol.serve(accepted.method, accepted.target, accepted.headers, accepted.body)
    assert reply.status == 401, reply.body()


def test_a_version_waiting_for_an_unknown_key_is_stored_once_the_key_is_announced(network: sim.Network) -> None:
    """Node 1 rotates and signs a note with its new key; node 0 gets the note out of band before the key
    announcement and keeps it aside (not stored, not refused). When the announcement arrives, the note is stored
    at once, without waiting for anti-entropy."""
    transport = sim.FakeTransport(network)
    _sync_all(network, transport, rounds=1)  # every anti-entropy done: none is due for 15 minutes
    with network.as_node(1):
        fed_actions.rotate_key(acting_user=None)
    note = _publish_note(network, 1, "signed with the new key")
    with network.as_node(1):
        item = protocol.version_item(note)
    with network.as_node(0):
        counts = client.receive(None, [item], None, source="relay:simulated")
        assert (counts.awaiting, counts.refused, counts.stored) == (1, 0, 0)
    assert not _holds(network, 0, note)
    with network.as_node(1):
        # The announcement then arrives alone, as a fetch of just it would bring it.
        announcement = Version.objects.filter(kind="node_key").order_by("-id").first()
        assert announcement is not None
        announced = protocol.version_item(announcement)
    with network.as_node(0):
        assert client.receive(None, [announced], None, source="relay:simulated").stored == 1
        assert not Peer.objects.filter(last_anti_entropy_at=None).exists()  # no anti-entropy was needed
    assert _holds(network, 0, note)


def test_a_relay_leaves_out_an_origin_pulled_directly_and_anti_entropy_covers_a_broken_link(
    network: sim.Network,
) -> None:
    """Node 1 pulls from node 0 directly, so node 2 does not relay node 0's versions to it (`direct`). When the
    link 1-0 breaks, anti-entropy with node 2 becomes due and brings what node 0 issued just before."""
    transport = sim.FakeTransport(network)
    _sync_all(network, transport, rounds=1)
    note = _publish_note(network, 0, "issued just before the link broke")
    with network.as_node(2):
        client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
    assert _holds(network, 2, note)
    with network.as_node(1):
        client.sync(Peer.objects.get(node_id=network.nodes[2].node_id), transport)
    assert f"direct={network.nodes[0].node_id}" in transport.delivered[-1].target
    assert not _holds(network, 1, note)
    transport.partitioned.add(frozenset((0, 1)))
    with network.as_node(1):
        counts = client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
        assert counts.errors and "partition" in counts.errors[0]
        relay = Peer.objects.get(node_id=network.nodes[2].node_id)
        assert relay.last_anti_entropy_at is None
        client.sync(relay, transport)
    assert _holds(network, 1, note)


def test_anti_entropy_finds_an_origin_that_showed_another_peer_a_different_version(network: sim.Network) -> None:
    """Node 0 signs two different versions 1 of one record; node 1 holds the first, node 2 the second. With relays
    of node 0's versions left out for node 1, its anti-entropy with node 2 still finds the fork and quarantines it."""
    from accord.members.identity import signing_key
    from accord.records.envelope import build_envelope, encode
    from accord.records.models import QuarantinedVersion

    transport = sim.FakeTransport(network)
    _sync_all(network, transport, rounds=1)
    shown = _publish_note(network, 0, "the version node 1 sees")
    with network.as_node(1):
        client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
    with network.as_node(0):
        envelope = shown.envelope()
        fork = build_envelope(
            kind=envelope["kind"],
            origin=envelope["origin"],
            record=shown.record_uuid,
            seq=1,
            prev_hash=None,
            status=envelope["status"],
            state=envelope["state"],
            audience=Audience(everyone=True),
            tlp="CLEAR",
            body={"title": "the version node 2 sees"},
            attachments=[],
        )
        data, _ = encode(fork)
        key = signing_key()
        item = {"version": base64.b64encode(data).decode(), "signature": key.sign(data), "kid": key.kid}
    with network.as_node(2):
        assert client.receive(None, [item], None, source="relay:simulated").stored == 1
    with network.as_node(1):
        counts = client.anti_entropy(Peer.objects.get(node_id=network.nodes[2].node_id), transport)
        assert counts.quarantined == 1, counts
        assert QuarantinedVersion.objects.filter(record_uuid=shown.record_uuid).count() == 1
        assert Version.objects.get(record_uuid=shown.record_uuid).content_hash == shown.content_hash


def test_hints_go_out_for_versions_a_node_issued_and_not_for_those_it_received(network: sim.Network) -> None:
    transport = sim.FakeTransport(network)
    _sync_all(network, transport, rounds=1)
    with network.as_node(0):
        runner.push_hints(transport)  # whatever the set-up left to hint
    _publish_note(network, 0, "hinted")
    with network.as_node(0):
        assert runner.push_hints(transport) == network.size - 1
        assert runner.push_hints(transport) == 0  # once per version
    with network.as_node(1):
        runner.push_hints(transport)
        client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
        assert runner.push_hints(transport) == 0  # a relayed copy is not hinted
        head = Version.objects.order_by("-id").values_list("id", flat=True).first()
        assert set(Peer.objects.exclude(url="").values_list("hinted_upto", flat=True)) == {head}
    for i in range(1, network.size):
        with network.as_node(i):
            assert Peer.objects.get(node_id=network.nodes[0].node_id).wake_pending


def test_a_peer_that_owes_a_pull_is_not_hinted_again_until_it_pulls(network: sim.Network) -> None:
    transport = sim.FakeTransport(network)
    _sync_all(network, transport, rounds=1)
    with network.as_node(0):
        runner.push_hints(transport)  # whatever the set-up left to hint
    sim.CLOCK.advance(1)  # (time moves only when told)
    _publish_note(network, 0, "first")
    with network.as_node(0):
        assert runner.push_hints(transport) == network.size - 1
    sim.CLOCK.advance(1)
    second = _publish_note(network, 0, "second")
    with network.as_node(0):
        # Every peer accepted the first hint and has not pulled since: the pull each owes brings the second too.
        assert runner.push_hints(transport) == 0
        assert set(Peer.objects.values_list("hinted_upto", flat=True)) == {second.pk - 1}
    sim.CLOCK.advance(1)
    with network.as_node(1):
        client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
    assert _holds(network, 1, second)
    sim.CLOCK.advance(1)
    third = _publish_note(network, 0, "third")
    with network.as_node(0):
        # Peer 1 has pulled (after its hint): it is hinted again; the others still owe their pull.
        assert runner.push_hints(transport) == 1
        assert Peer.objects.get(node_id=network.nodes[1].node_id).hinted_upto == third.pk
        # A hint is not held back for ever: past HINT_PATIENCE the others are hinted again (peer 1 is up to date).
        Peer.objects.update(hinted_at=timezone.now() - timedelta(seconds=runner.HINT_PATIENCE + 1))
        assert runner.push_hints(transport) == network.size - 2
    for i in range(1, network.size):
        with network.as_node(i):
            client.sync(Peer.objects.get(node_id=network.nodes[0].node_id), transport)
        assert _holds(network, i, third)


def test_anti_entropy_compares_a_manifest_page_of_thousands_of_entries(network: sim.Network) -> None:
    """A full manifest page (2000 entries) is compared in one query by record: a condition per entry, ORed, is
    deeper than SQLite allows beyond 1000, and anti-entropy with a peer holding more than that failed."""
    held = _publish_note(network, 0, "held here")
    other = _publish_note(network, 0, "held here, the peer shows other bytes")
    origin = str(network.nodes[1].node_id)
    unknown = [[origin, str(uuid.uuid4()), 1, "0" * 64] for _ in range(protocol.MANIFEST_PAGE - 2)]
    entries = [
        [str(held.origin_node), str(held.record_uuid), held.seq, held.content_hash],
        [str(other.origin_node), str(other.record_uuid), other.seq, "f" * 64],
        *unknown,
    ]
    asked: list[list[Any]] = []

    class Peer1:
        """Peer 1 as anti-entropy sees it: a manifest of one full page, and fetches that bring nothing."""

        def send(
            self, peer: Any, method: str, target: str, headers: dict[str, str], body: bytes
        ) -> client.WireResponse:
            if target.startswith("/federation/v1/manifest"):
                page = {"entries": entries, "next": protocol.encode_cursor(len(entries)), "more": False}
                return client.WireResponse(200, {}, json.dumps(page).encode())
            asked.extend(json.loads(body)["versions"])
            return client.WireResponse(200, {}, b'{"versions": []}')

    with network.as_node(0):
        counts = client.anti_entropy(Peer.objects.get(node_id=network.nodes[1].node_id), Peer1())
    assert counts.errors == [] and counts.stored == 0
    # Everything not held byte for byte is asked for (in fetches of at most FETCH_MAX), and nothing held.
    assert len(asked) == len(entries) - 1
    assert [str(other.origin_node), str(other.record_uuid), other.seq] in asked
    assert [str(held.origin_node), str(held.record_uuid), held.seq] not in asked
