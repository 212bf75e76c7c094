"""A simulated network of Accord nodes in one process, running the real federation code.

Each node has its own SQLite file and its own data folder (signing key, attachments). `Network.as_node(i)`
makes node i the current one: Django's default connection, settings.DATA_DIR, the signing-key cache, the
clock node i signs requests with (client.clock), the clock it checks requests against (auth.clock) and what
it learnt of its peers' clocks (client._offsets) all switch to node i, and switch back on exit. Calls nest:
a pull at node i runs `protocol.serve` at node j inside it.

`FakeTransport` carries a request to the node it is addressed to. A link can be cut (partition), lose
answers after the request was served, deliver each request twice (the copy must be refused as a replay),
or pass through a tampering relay that alters the versions in the answers.

Time is simulated (`VirtualClock`, installed by `virtual_time()`): it moves only when a rule says so, so a run
is reproducible and hours pass in no time. Django's timezone.now, the time versions and audit entries are
stamped with, and the model fields defaulting to the time all read it; each node's clock is it plus the node's
skew.

Building a network is slow (migrations, keys, peering), so `build_template()` does it once per test session
and `Network.copy_of()` copies the files for each example.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper

from accord.federation import auth, client, protocol
from accord.lib.canonical import canonical_bytes
from accord.members import identity

# The members of the simulated nodes, in order: node i belongs to MEMBERS[i].
MEMBERS = ("CN", "KZ", "RU", "IN", "PK", "SCO")
# A member with no node in the network: audiences may name it.
OUTSIDER = "UZ"

LinkMode = Literal["lossy", "duplicate", "tamper-flip", "tamper-widen"]


class VirtualClock:
    """Simulated time in Unix seconds. It moves only when `advance` is called."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def time(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds, UTC)

    def rfc3339(self) -> str:
        return self.now().replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


CLOCK = VirtualClock()


@contextmanager
def virtual_time() -> Iterator[VirtualClock]:
    """Make CLOCK the time of everything the nodes do, until exit."""
    from django.apps import apps
    from django.utils import timezone

    from accord.records import audit, envelope

    real_now = timezone.now
    fields = [
        f for model in apps.get_models() for f in model._meta.concrete_fields if getattr(f, "default", None) is real_now
    ]
    saved = (envelope.now_rfc3339, getattr(audit, "now_rfc3339"))  # noqa: B009  (audit imports it)

    def set_defaults(value: Callable[[], datetime]) -> None:
        for f in fields:
            f.default = value
            f.__dict__.pop("_get_default", None)  # a cached_property that holds the old default

    timezone.now = CLOCK.now
    envelope.now_rfc3339 = CLOCK.rfc3339
    setattr(audit, "now_rfc3339", CLOCK.rfc3339)  # noqa: B010
    set_defaults(CLOCK.now)
    try:
        yield CLOCK
    finally:
        timezone.now = real_now
        envelope.now_rfc3339 = saved[0]
        setattr(audit, "now_rfc3339", saved[1])  # noqa: B010
        set_defaults(real_now)


def node_url(index: int) -> str:
    return f"http://node-{index}.sim"


def sqlite_wrapper(path: Path) -> BaseDatabaseWrapper:
    """A connection to the SQLite file `path`, configured like the project's default SQLite database."""
    config: dict[str, Any] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # As in settings, but without waiting for the disk: a simulated node's files are thrown away.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON;",
        },
    }
    configured = connections.configure_settings({"default": config})["default"]
    return SqliteWrapper(configured, alias="default")


@dataclass
class NodeInfo:
    """What the template knows of a node: its files and identity."""

    index: int
    member: str
    name: str
    node_id: uuid.UUID
    public_key: str


@dataclass
class SimNode:
    info: NodeInfo
    db_path: Path
    data_dir: Path
    skew: float = 0.0
    offsets: dict[uuid.UUID, float] = field(default_factory=dict)
    wrapper: BaseDatabaseWrapper | None = None

    @property
    def index(self) -> int:
        return self.info.index

    @property
    def member(self) -> str:
        return self.info.member

    @property
    def node_id(self) -> uuid.UUID:
        return self.info.node_id

    def clock(self) -> float:
        return CLOCK.time() + self.skew

    def connection(self) -> BaseDatabaseWrapper:
        if self.wrapper is None:
            self.wrapper = sqlite_wrapper(self.db_path)
        return self.wrapper

    def close(self) -> None:
        if self.wrapper is not None:
            self.wrapper.close()
            self.wrapper = None


class Network:
    def __init__(self, nodes: list[SimNode]) -> None:
        self.nodes = nodes
        self._stack: list[int] = []
        self._by_id = {node.node_id: node.index for node in nodes}

    @classmethod
    def copy_of(cls, template: NetworkTemplate, workdir: Path) -> Network:
        nodes = []
        for info in template.infos:
            db_path = workdir / f"node-{info.index}.sqlite3"
            data_dir = workdir / f"node-{info.index}"
            shutil.copyfile(template.db_path(info.index), db_path)
            shutil.copytree(template.data_dir(info.index), data_dir)
            nodes.append(SimNode(info=info, db_path=db_path, data_dir=data_dir))
        CLOCK.seconds = template.epoch
        return cls(nodes)

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def current(self) -> int:
        if not self._stack:
            raise RuntimeError("no simulated node is current; use as_node()")
        return self._stack[-1]

    def index_of(self, node_id: uuid.UUID) -> int:
        return self._by_id[node_id]

    @contextmanager
    def as_node(self, index: int) -> Iterator[SimNode]:
        """Run the body as node `index`; everything switched is restored on exit, even on failure."""
        node = self.nodes[index]
        saved_connection = connections["default"]
        saved_data_dir = settings.DATA_DIR
        saved_clocks = (client.clock, auth.clock)
        saved_offsets = client._offsets
        connections["default"] = node.connection()
        settings.DATA_DIR = node.data_dir
        identity.reset_cache()
        client.clock = node.clock
        auth.clock = node.clock
        client._offsets = node.offsets
        self._stack.append(index)
        try:
            yield node
        finally:
            self._stack.pop()
            connections["default"] = saved_connection
            settings.DATA_DIR = saved_data_dir
            client.clock, auth.clock = saved_clocks
            client._offsets = saved_offsets
            identity.reset_cache()

    def restart(self, index: int) -> None:
        """The node's process ends and starts again: its connection and in-memory state are gone,
        its database and files stay."""
        node = self.nodes[index]
        node.close()
        node.offsets.clear()
        identity.reset_cache()

    def close(self) -> None:
        for node in self.nodes:
            node.close()


@dataclass
class NetworkTemplate:
    root: Path
    infos: list[NodeInfo]
    # Where the simulated time of each example starts: after the template was made, 7 s past a minute.
    epoch: float = 0.0

    def db_path(self, index: int) -> Path:
        return self.root / f"node-{index}.sqlite3"

    def data_dir(self, index: int) -> Path:
        return self.root / f"node-{index}"


@contextmanager
def _using(path: Path, data_dir: Path) -> Iterator[None]:
    saved_connection, saved_data_dir = connections["default"], settings.DATA_DIR
    wrapper = sqlite_wrapper(path)
    connections["default"] = wrapper
    settings.DATA_DIR = data_dir
    identity.reset_cache()
    try:
        yield
    finally:
        wrapper.close()
        connections["default"] = saved_connection
        settings.DATA_DIR = saved_data_dir
        identity.reset_cache()


def build_template(root: Path, size: int) -> NetworkTemplate:
    """Migrate one database, copy it for each node, give each node its own identity, key, member,
    organisation and publishing account, and make every node a peer of every other."""
    from accord.federation.actions import add_peer, set_node_url
    from accord.members import actions as member_actions
    from accord.members.models import NodeIdentity, NodeKey

    if not 2 <= size <= len(MEMBERS):
        raise ValueError(f"a simulated network has 2 to {len(MEMBERS)} nodes")
    root.mkdir(parents=True, exist_ok=True)
    migrated = root / "migrated.sqlite3"
    with _using(migrated, root / "migrated-data"):
        call_command("migrate", interactive=False, verbosity=0)
    infos: list[NodeInfo] = []
    template = NetworkTemplate(root=root, infos=infos)
    for index in range(size):
        member = MEMBERS[index]
        shutil.copyfile(migrated, template.db_path(index))
        template.data_dir(index).mkdir()
        with _using(template.db_path(index), template.data_dir(index)):
            # The migration made an identity for the template; this node makes its own.
            NodeKey.objects.all().delete()
            NodeIdentity.objects.all().delete()
            node = member_actions.ensure_node_identity(name=f"node-{index}", member_code=member)
            set_node_url(node_url(index), acting_user=None)
            kind = "secretariat" if member == "SCO" else "health_ministry"
            organisation = member_actions.create_organisation(
                member_code=member, slug=f"{member.lower()}-sim", kind=kind, name_en=f"{member} sim", acting_user=None
            )
            member_actions.create_account(
                username=publisher_name(member), organisation=organisation, roles=["focal_point"], acting_user=None
            )
            key = identity.signing_key()
            infos.append(
                NodeInfo(
                    index=index, member=member, name=f"node-{index}", node_id=node.node_id, public_key=key.public_key
                )
            )
    for info in infos:
        with _using(template.db_path(info.index), template.data_dir(info.index)):
            for other in infos:
                if other.index != info.index:
                    add_peer(
                        name=other.name,
                        node_id=str(other.node_id),
                        public_key=other.public_key,
                        member=other.member,
                        url=node_url(other.index),
                        acting_user=None,
                    )
    template.epoch = float((int(time.time()) // 60 + 2) * 60 + 7)
    for path in [migrated, *(template.db_path(index) for index in range(size))]:
        for suffix in ("-wal", "-shm"):
            leftover = Path(f"{path}{suffix}")
            if leftover.exists():
                raise RuntimeError(f"{leftover} is still there after closing: the copies would miss writes")
    return template


def publisher_name(member: str) -> str:
    return f"fp-{member.lower()}"


# ---- the transport ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """A request a node accepted, kept so that a rule can replay it."""

    sender: int
    receiver: int
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


def flip_byte(data: bytes, position: int) -> bytes:
    """`data` with one byte changed (never to itself)."""
    index = position % len(data)
    mask = 1 + (position // len(data)) % 255
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def widen_audience(data: bytes) -> bytes:
    """The version re-encoded canonically with an audience of everyone, without signing it again."""
    raw = json.loads(data)
    raw["audience"] = {"everyone": True, "members": [], "organisations": [], "persons": []}
    raw["tlp"] = "GREEN" if raw.get("tlp") != "GREEN" else "CLEAR"
    changed = canonical_bytes(raw)
    assert changed != data
    return changed


def tamper_item(item: dict[str, Any], style: str, position: int) -> dict[str, Any]:
    data = base64.b64decode(str(item["version"]))
    changed = widen_audience(data) if style == "widen" else flip_byte(data, position)
    return {**item, "version": base64.b64encode(changed).decode("ascii")}


@dataclass
class LinkStats:
    requests: int = 0


class FakeTransport:
    """client.Transport between the nodes of a Network: the request goes to `protocol.serve` of the node
    it is addressed to, run as that node."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.partitioned: set[frozenset[int]] = set()
        self.modes: dict[tuple[int, int], LinkMode] = {}
        self.stats: dict[tuple[int, int], LinkStats] = {}
        self.delivered: deque[Delivered] = deque(maxlen=40)
        # Versions the tampering relays altered since the counter was last reset.
        self.tampered = 0
        # What the faulty links did, for the statistics.
        self.effects: Counter[str] = Counter()
        # A check made on every duplicated request: (receiver state before, after) must be equal.
        self.snapshot: Callable[[], Any] = lambda: None

    def heal_all(self) -> None:
        self.partitioned.clear()
        self.modes.clear()

    def send(self, peer: Any, method: str, target: str, headers: dict[str, str], body: bytes) -> client.WireResponse:
        sender = self.network.current
        receiver = self.network.index_of(peer.node_id)
        if frozenset((sender, receiver)) in self.partitioned:
            raise client.TransportError(f"node-{receiver} is unreachable from node-{sender} (partition)")
        link = (sender, receiver)
        mode = self.modes.get(link)
        stats = self.stats.setdefault(link, LinkStats())
        stats.requests += 1
        lower = {name.lower(): value for name, value in headers.items()}
        with self.network.as_node(receiver):
            reply = protocol.serve(method, target, lower, body)
            if mode == "duplicate":
                self._check_duplicate(method, target, lower, body, accepted=reply.status < 400)
        if reply.status < 400:
            self.delivered.append(Delivered(sender, receiver, method, target, lower, body))
        if mode == "lossy" and stats.requests % 2 == 0:
            self.effects["answer lost"] += 1
            raise client.TransportError(f"the answer of node-{receiver} to node-{sender} was lost")
        payload = reply.body()
        if mode in ("tamper-flip", "tamper-widen") and reply.status == 200 and reply.raw is None:
            payload = self._tamper(payload, "flip" if mode == "tamper-flip" else "widen", stats.requests)
        return client.WireResponse(
            reply.status, {name.lower(): value for name, value in reply.headers.items()}, payload
        )

    def _check_duplicate(self, method: str, target: str, headers: dict[str, str], body: bytes, accepted: bool) -> None:
        before = self.snapshot()
        again = protocol.serve(method, target, headers, body)
        self.effects["duplicate refused"] += 1
        assert again.status in (401, 403), f"a duplicated request was answered {again.status}: {again.body()[:200]!r}"
        if accepted:
            assert again.status == 401 and b"replayed" in again.body(), again.body()
        assert self.snapshot() == before, "a refused duplicate request changed the receiving node"

    def _tamper(self, payload: bytes, style: str, position: int) -> bytes:
        document = json.loads(payload)
        items = document.get("versions")
        if not isinstance(items, list) or not items:
            return payload
        document["versions"] = [tamper_item(items[0], style, position * 7919), *items[1:]]
        self.tampered += 1
        self.effects["answer tampered"] += 1
        return json.dumps(document, separators=(",", ":")).encode("utf-8")
