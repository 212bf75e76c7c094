"""The query tables of the alliances' membership, kept in step with the signed versions of applications, decisions
and departures (`membership_kinds`) by `membership_replay`, on every write path (versions received from peers too).

Nothing here is a source of truth: `MembershipEntry` copies what a record's current version says, and `Membership`
(the current state of an organisation in an alliance, with its history) is recomputed from the entries by
`membership_replay.refresh`, the same way on every node. Every read joins back to `Record.objects.visible_to()`.
"""

from __future__ import annotations

from django.db import models

from accord.records.models import Record, Version

__all__ = ["Membership", "MembershipEntry"]

STATES = ("pending", "member", "declined", "left")


class MembershipEntry(models.Model):
    """One application, decision or departure, as its current version states it. `valid`: active, shared with
    everyone at TLP:CLEAR or GREEN and readable; only valid entries enter the replay."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="membership_entry")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12)  # application / decision / departure
    alliance = models.CharField(max_length=40)
    organisation = models.CharField(max_length=80)  # the applying organisation's slug
    member = models.CharField(max_length=8)  # and its member
    name = models.CharField(max_length=200, blank=True)  # an application's: the organisation's name
    node = models.UUIDField()  # the record's origin node
    issuer = models.UUIDField(null=True)  # the organisation that issued it (its UUID on its node)
    author_member = models.CharField(max_length=8)  # the member it was issued for
    # A decision's or departure's application; an application's previous application (null for the first).
    application_node = models.UUIDField(null=True)
    application_record = models.UUIDField(null=True)
    decision = models.CharField(max_length=8, blank=True)  # accept / decline
    reason = models.TextField(blank=True)
    motivation = models.TextField(blank=True)
    at = models.DateTimeField()  # the signed created_at
    valid = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["alliance", "organisation", "member"], name="membershipentry_key"),
            models.Index(fields=["application_record"], name="membershipentry_app"),
        ]


class Membership(models.Model):
    """An organisation's membership of an alliance now: `pending` (applied, undecided), `member`, `declined` or
    `left`, by its latest application that counts (`application`), `since` when, with the reason of the decision or
    departure that put it there, and `history`: the chain of what happened, oldest first (a list of
    {"event": applied|accepted|declined|left, "record", "node", "at", "member", "reason", "rejoin"})."""

    alliance = models.CharField(max_length=40)
    organisation = models.CharField(max_length=80)
    member = models.CharField(max_length=8)
    name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10)
    application = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField()
    reason = models.TextField(blank=True)
    decided_by = models.CharField(max_length=8, blank=True)  # the member whose decision counted
    history = models.JSONField(default=list)

    class Meta:
        ordering = ["alliance", "member", "organisation"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "organisation", "member"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["alliance", "state"], name="membership_state")]
