"""Query tables of tasks, task updates, decisions and positions, kept in step with their signed versions.

Nothing here is a source of truth: every row is derived from the current version of a record (the kinds in
`tasks_kind` and `decisions_kind`), and every read joins back to `Record.objects.visible_to()`. Imported by
`accord.response.models`, so that Django finds them.
"""

from __future__ import annotations

from django.db import models

from accord.records.models import Record, Version


class TaskView(models.Model):
    """A task as its current version states it: which incident, who it is assigned to, status and due time."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="task_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    title = models.CharField(max_length=300)
    assignee_type = models.CharField(max_length=12)  # member / organisation / person
    assignee = models.CharField(max_length=36)  # a member code, or an organisation's or account's UUID
    assignee_member = models.CharField(max_length=8)  # the member the assignee belongs to
    priority = models.CharField(max_length=8)
    status = models.CharField(max_length=12)  # open / in_progress / done / cancelled
    due = models.DateTimeField(null=True)
    traffic = models.CharField(max_length=10)  # the envelope status: actual / exercise / test
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["assignee_type", "assignee", "status"], name="taskview_assignee"),
            models.Index(fields=["incident_record"], name="taskview_incident"),
            models.Index(fields=["status", "due"], name="taskview_due"),
        ]


class TaskEscalation(models.Model):
    """A task that passed its due time unfinished and was escalated through notify: once per task and due time."""

    task = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    due = models.DateTimeField()
    at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "due"], name="taskescalation_once")]


class TaskUpdateView(models.Model):
    """A status change or comment on a task, by whoever made it (a record of its own)."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="task_update_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    task_node = models.UUIDField()
    task_record = models.UUIDField()
    status = models.CharField(max_length=12, blank=True)  # empty for a comment alone
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["task_record", "at"], name="taskupdateview_task")]


class DecisionView(models.Model):
    """A decision as its current version states it."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="decision_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    incident_node = models.UUIDField()
    incident_record = models.UUIDField()
    state = models.CharField(max_length=10)  # open / adopted / rejected
    sets_level = models.SmallIntegerField(null=True)
    participants = models.CharField(max_length=2000)  # ",KZ,KG,"

    class Meta:
        indexes = [models.Index(fields=["incident_record", "state"], name="decisionview_incident")]


class PositionView(models.Model):
    """One member's position on a decision."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="position_view")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    decision_node = models.UUIDField()
    decision_record = models.UUIDField()
    member = models.CharField(max_length=8)
    position = models.CharField(max_length=8)  # support / abstain / object
    active = models.BooleanField(default=True)  # false once withdrawn

    class Meta:
        indexes = [models.Index(fields=["decision_record", "member"], name="positionview_decision")]
