"""Query tables of mutual assistance, kept in step with the signed versions of requests, offers, acceptances,
commitments and deployments (the kinds in `assist_kinds` and `assist_deploy_kind`).

Nothing here is a source of truth: every row is derived from the current version of a record, and every read joins
back to `Record.objects.visible_to()`. `AssistanceRequestView` is also the request's **ledger row**: its sums
(offered, accepted, committed, delivered) are recomputed from the other tables by `assist_ledger.refresh`, and the
requesting node locks it (`select_for_update`) while it decides an acceptance. Imported by `accord.response.models`,
so that Django finds them.
"""

from __future__ import annotations

from django.db import models

from accord.records.models import Record, Version

REQUEST_STATUSES = ("open", "partly_covered", "covered", "withdrawn", "closed")


class AssistanceRequestView(models.Model):
    """A request as its current version states it, with its ledger."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="request_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()  # the request's origin node: the one that decides its acceptances
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    member = models.CharField(max_length=8)  # the requesting member
    resource_type = models.CharField(max_length=40)
    unit = models.CharField(max_length=20)
    region = models.CharField(max_length=12)
    priority = models.CharField(max_length=8)  # high / medium / low
    needed_by = models.DateTimeField(null=True)
    state = models.CharField(max_length=10)  # the requester's: open / withdrawn / closed
    requested = models.BigIntegerField()
    offered = models.BigIntegerField(default=0)
    accepted = models.BigIntegerField(default=0)
    committed = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16)  # open / partly_covered / covered / withdrawn / closed
    traffic = models.CharField(max_length=10)  # the envelope status: actual / exercise / test
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["incident_record", "status"], name="requestview_incident"),
            models.Index(fields=["resource_type", "status"], name="requestview_type"),
        ]

    @property
    def gap(self) -> int:
        """What the request still needs: requested less accepted (never below zero)."""
        return max(self.requested - self.accepted, 0)


class AssistanceOfferView(models.Model):
    """An offer (on a request, or unsolicited on an incident), with what was accepted, committed and delivered of
    it."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="offer_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()  # the offer's origin node: the one that decides its commitments
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    request_node = models.UUIDField(null=True)  # none for an unsolicited offer
    request_record = models.UUIDField(null=True)
    member = models.CharField(max_length=8)  # the offering member
    to_member = models.CharField(max_length=8)  # the member who decides on it (the requester)
    resource_type = models.CharField(max_length=40)
    quantity = models.BigIntegerField()
    available_from = models.DateTimeField(null=True)
    active = models.BooleanField(default=True)  # false once withdrawn
    accepted = models.BigIntegerField(default=0)
    committed = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["request_record"], name="offerview_request"),
            models.Index(fields=["incident_record", "request_record"], name="offerview_incident"),
        ]


class AssistanceAcceptanceView(models.Model):
    """An acceptance of (part of) an offer for a request. `counted`: issued by the request's origin node for the
    requesting member and not withdrawn; only counted acceptances enter the ledger, whatever a peer sends."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="acceptance_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    request_node = models.UUIDField()
    request_record = models.UUIDField()
    offer_node = models.UUIDField()
    offer_record = models.UUIDField()
    member = models.CharField(max_length=8)
    quantity = models.BigIntegerField()
    counted = models.BooleanField(default=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["request_record", "counted"], name="acceptview_request"),
            models.Index(fields=["offer_record", "counted"], name="acceptview_offer"),
        ]


class AssistanceCommitmentView(models.Model):
    """A commitment of (part of) an accepted offer by the offering member. `counted`: issued by the offer's origin
    node for the offering member and not withdrawn."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="commitment_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    request_node = models.UUIDField()
    request_record = models.UUIDField()
    offer_node = models.UUIDField()
    offer_record = models.UUIDField()
    member = models.CharField(max_length=8)
    quantity = models.BigIntegerField()
    counted = models.BooleanField(default=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["request_record", "counted"], name="commitview_request"),
            models.Index(fields=["offer_record", "counted"], name="commitview_offer"),
        ]


class DeploymentView(models.Model):
    """A deployment as its current version states it: who (member), what (type, quantity), where (region, place),
    its status and what it delivered. `counted`: issued by the offering member, not withdrawn."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="deployment_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    request_node = models.UUIDField()
    request_record = models.UUIDField()
    offer_node = models.UUIDField()
    offer_record = models.UUIDField()
    member = models.CharField(max_length=8)
    resource_type = models.CharField(max_length=40)
    quantity = models.BigIntegerField()
    delivered = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12)
    region = models.CharField(max_length=12)
    counted = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["incident_record", "status"], name="deployview_incident"),
            models.Index(fields=["request_record", "counted"], name="deployview_request"),
            models.Index(fields=["offer_record", "counted"], name="deployview_offer"),
        ]
