"""Peers this node exchanges versions with, the nonces that stop replays, and the federation log."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Peer(models.Model):
    """Another node, configured by this node's admin. Nothing is shared with a node that is not a peer."""

    class State(models.TextChoices):
        ACTIVE = "active", "active"
        REMOVED = "removed", "removed"
        REVOKED = "revoked", "revoked"

    name = models.SlugField(max_length=80, unique=True)
    node_id = models.UUIDField(unique=True)
    member = models.CharField(max_length=8)
    url = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # Pulling from the peer: its opaque cursor, stored only after the versions before it are committed.
    pull_cursor = models.CharField(max_length=200, blank=True)
    remote_remaining = models.PositiveBigIntegerField(default=0)
    wake_pending = models.BooleanField(default=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_anti_entropy_at = models.DateTimeField(null=True, blank=True)
    stored = models.PositiveBigIntegerField(default=0)
    refused = models.PositiveBigIntegerField(default=0)

    # The peer pulling from us: the last cursor it presented (everything before it is committed there).
    served_cursor = models.CharField(max_length=200, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    hinted_upto = models.PositiveBigIntegerField(default=0)
    # When the peer last accepted a hint from us; until it pulls (served_at) it owes a pull, and is not hinted again.
    hinted_at = models.DateTimeField(null=True, blank=True)
    # The newest request time whose nonces this node has forgotten; requests signed at or before it are refused.
    nonce_floor = models.BigIntegerField(default=0)

    # Bundles (store-and-forward): the last of our cursors exported to the peer (the next export starts after
    # it), and the last of the peer's cursors we imported from it (sent back in the header of our bundles to it,
    # as its acknowledgement: it then knows we hold everything before it, as a pull's cursor says).
    bundle_sent_cursor = models.CharField(max_length=200, blank=True)
    bundle_received_cursor = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.member}, {self.node_id})"

    @property
    def is_active(self) -> bool:
        return self.state == self.State.ACTIVE


class SeenNonce(models.Model):
    """A request nonce already used by a node; a second request with it is a replay."""

    node_id = models.UUIDField()
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now)
    # The time the sender signed the request with (Unix seconds); nonces are forgotten by it.
    signed_at = models.BigIntegerField(default=0, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node_id", "nonce"], name="seen_nonce_unique")]


class FederationEvent(models.Model):
    """Something an operator should see: a refused request or version, a failed pull, a key change."""

    class Level(models.TextChoices):
        INFO = "info", "info"
        WARNING = "warning", "warning"
        ERROR = "error", "error"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    peer = models.ForeignKey(Peer, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    node_id = models.UUIDField(null=True, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.WARNING)
    kind = models.CharField(max_length=40)
    detail = models.TextField()

    class Meta:
        ordering = ["-at", "-id"]


class AwaitingKey(models.Model):
    """A received version signed by a key this node does not know yet for its origin: kept, and stored as soon
    as the key is registered here (its announcement received, or added by the admin) -- not left for the next
    anti-entropy round. At most AWAITING_MAX are kept per origin node; past that they are refused as before."""

    origin_node = models.UUIDField()
    kid = models.CharField(max_length=80)
    content_hash = models.CharField(max_length=80)
    canonical = models.BinaryField()
    signature = models.CharField(max_length=200)
    peer = models.ForeignKey(Peer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=120)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin_node", "kid", "content_hash"], name="awaiting_key_unique")
        ]
        indexes = [models.Index(fields=["origin_node", "kid"])]
