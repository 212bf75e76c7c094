"""Who a node may speak for: its own member, and for a Secretariat hub the members whose accounts it hosts.

A version's signature proves which node issued it; whether that node may issue it for the member it names is
decided here. A receiver knows a peer's member from its own admin (`Peer.member`, set when the peer was added).
A hub that hosts accounts of other members declares them in its **node record**, a record of the kind
`node_record` that it issues in its own name (audience everyone, TLP:CLEAR) and that its peers store like any
other version. A receiver honours the hosted members only of a peer whose member is the Secretariat.

This node issues or revises its own node record when the members it hosts change (the federation loop of each
worker looks every `SYNC_EVERY` seconds, and `sync()` can be called directly). A version from a hub that arrives
before the node record declaring its member is quarantined, and released when the record arrives.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.records import hooks, kinds
from accord.records.errors import ActionError

KIND = "node_record"
SECRETARIAT = "SCO"
SYNC_EVERY = 30
_CODE = r"^[A-Z0-9]{2,8}$"


class NodeRecordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(pattern=_CODE)
    hosts: list[str] = Field(default_factory=list, max_length=300)

    @model_validator(mode="after")
    def _consistent(self) -> NodeRecordBody:
        for code in self.hosts:
            if not (2 <= len(code) <= 8 and code.isalnum() and code.upper() == code):
                raise ValueError(f"hosts: {code!r} is not a member code")
        if self.hosts != sorted(set(self.hosts)):
            raise ValueError("hosts must be sorted and without duplicates")
        if self.member in self.hosts:
            raise ValueError("hosts must not name the node's own member")
        return self


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    if body["member"] != author.member:
        raise ValueError(f"member is {body['member']}, but the node issues it as {author.member}")


def _project(version: Any) -> None:
    """A peer's node record became current: what it may issue may have grown, so look at its quarantine again."""
    from accord.records.actions import here

    forget()
    if version.origin_node == here().node_id:
        return
    from accord.federation.tasks import release_quarantined

    origin = str(version.origin_node)
    transaction.on_commit(lambda: release_quarantined.enqueue(origin))


NODE_RECORD = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Node record"),
        body_model=NodeRecordBody,
        title=lambda body: f"node of {body.get('member', '')}",
        search_text=lambda body: " ".join([str(body.get("member", "")), *map(str, body.get("hosts", []))]),
        project=_project,
        issuer="node",
        rules=_rules,
        endpoint="the node itself (accord federation status shows it)",
    )
)


def hosted_members() -> list[str]:
    """The members, other than this node's own, of the organisations whose accounts this node holds."""
    from accord.members.models import Organisation
    from accord.records.actions import here

    own = here().member
    codes = Organisation.objects.exclude(member__code=own).values_list("member__code", flat=True).distinct()
    return sorted(set(codes))


def _current(node_id: uuid.UUID) -> Any:
    from accord.records.models import Record

    return (
        Record.objects.filter(origin_node=node_id, kind=KIND)
        .select_related("current_version")
        .order_by("-current_seq", "id")
        .first()
    )


def declared_hosts(node_id: uuid.UUID) -> list[str]:
    record = _current(node_id)
    if record is None or record.current_version is None or record.current_version.state != "active":
        return []
    return [str(code) for code in record.current_version.body.get("hosts", [])]


def sync() -> Any:
    """Issue (or revise) this node's node record if the members it hosts changed; the new version, or None.

    A node that hosts no other member issues none (its peers know its member from their own configuration)."""
    from accord.members.identity import signing_key
    from accord.records.actions import here, issue_as_node

    me = here()
    hosts = hosted_members()
    record = _current(me.node_id)
    body = {"member": me.member, "hosts": hosts}
    if record is None and not hosts:
        return None
    if record is not None and record.current_version is not None and record.current_version.body == body:
        return None
    try:
        version = issue_as_node(KIND, body, key=signing_key(), action="node.record", actor=None, record=record)
    except ActionError:
        return None  # another worker issued it at the same moment
    forget()
    return version


# ---- who an origin may speak for (the record core asks through hooks.origin_members) ---------------------

_CACHE_SECONDS = 5.0
_cache: dict[tuple[uuid.UUID, bool], tuple[float, frozenset[str]]] = {}


def forget() -> None:
    _cache.clear()


def origin_members(node_id: uuid.UUID, by_node: bool) -> frozenset[str]:
    """The members `node_id` may issue versions for, as this node knows it; empty for a node that is not a peer.

    Cached for a few seconds: a page of received versions asks once per version."""
    now = time.monotonic()
    cached = _cache.get((node_id, by_node))
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    found = _origin_members(node_id, by_node)
    _cache[(node_id, by_node)] = (now, found)
    return found


def _origin_members(node_id: uuid.UUID, by_node: bool) -> frozenset[str]:
    from accord.federation.models import Peer
    from accord.records.actions import here

    me = here()
    if node_id == me.node_id:
        return frozenset({me.member} if by_node else {me.member, *hosted_members()})
    member = Peer.objects.filter(node_id=node_id).values_list("member", flat=True).first()
    if member is None:
        return frozenset()
    if by_node or member != SECRETARIAT:
        return frozenset({member})
    return frozenset({member, *declared_hosts(node_id)})


hooks.set_origin_members(origin_members)
