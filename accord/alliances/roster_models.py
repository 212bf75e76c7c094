"""The query tables of the alliances' roster: one row per expert profile whose current version is active, with its
fields, languages, availability windows and alliances, kept in step with the signed versions by the kind's
`project` (`project_profile`), on every write path: versions issued here and versions received from peers.

Nothing here is a source of truth, and nothing here is read without the audience filter: every read joins back to
`Record.objects.visible_to()` (`roster_queries`). A withdrawn profile has no row at all, so no search, list or count
can find it; its versions stay in the record store for the audit.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import models

from accord.records.models import Record, Version

__all__ = ["ExpertAlliance", "ExpertField", "ExpertLanguage", "ExpertProfile", "ExpertWindow"]

logger = logging.getLogger("accord.alliances")


class ExpertProfile(models.Model):
    """An expert profile as its current (active) version states it."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="expert_profile")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    node = models.UUIDField()  # the profile's origin node: the one that issues its versions
    account = models.UUIDField(null=True, db_index=True)  # the person's own account; none for a managed profile
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=80)  # the affiliation's slug
    member = models.CharField(max_length=8, db_index=True)  # the affiliation's member
    organisation_name = models.CharField(max_length=200)
    deployable = models.BooleanField()
    deploy_within_days = models.PositiveIntegerField(null=True)
    contact_email = models.CharField(max_length=254, blank=True)
    managed = models.BooleanField(default=False)  # managed by a focal point (with the person's consent)
    updated_at = models.CharField(max_length=40)  # the version's signed created_at

    class Meta:
        ordering = ["name", "record_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation}, {self.member})"


class ExpertField(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="field_rows")
    code = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["code", "profile"], name="expertfield_code")]


class ExpertLanguage(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="language_rows")
    code = models.CharField(max_length=3)
    level = models.CharField(max_length=6)

    class Meta:
        indexes = [models.Index(fields=["code", "profile"], name="expertlanguage_code")]


class ExpertWindow(models.Model):
    """An availability window, both days included."""

    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="window_rows")
    start = models.DateField()
    until = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["start", "until"], name="expertwindow_dates")]


class ExpertAlliance(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="alliance_rows")
    slug = models.CharField(max_length=40)

    class Meta:
        indexes = [models.Index(fields=["slug", "profile"], name="expertalliance_slug")]


def project_profile(version: Version) -> None:
    """Keep the profile's rows in step with its current version: gone when withdrawn, replaced otherwise."""
    ExpertProfile.objects.filter(record_id=version.record_id).delete()  # (its rows go with it)
    if version.state != "active" or version.status == "draft":
        return
    body = version.body
    try:
        affiliation = body["affiliation"]
        values: dict[str, Any] = {
            "version": version,
            "node": version.origin_node,
            "account": body.get("account"),
            "name": str(body["name"])[:200],
            "organisation": str(affiliation["organisation"])[:80],
            "member": str(affiliation["member"])[:8],
            "organisation_name": str(affiliation["name"])[:200],
            "deployable": bool(body["deployable"]),
            "deploy_within_days": body.get("deploy_within_days"),
            "contact_email": str(body.get("contact_email") or "")[:254],
            "managed": body.get("account") is None,
            "updated_at": version.created_at,
        }
        fields = [str(code)[:40] for code in body["fields"]]
        languages = [(str(item["code"])[:3], str(item["level"])[:6]) for item in body.get("languages", [])]
        windows = [(date.fromisoformat(w["from"]), date.fromisoformat(w["until"])) for w in body.get("available", [])]
        alliances = [str(slug)[:40] for slug in body.get("alliances", [])]
    except (KeyError, TypeError, ValueError) as error:
        logger.warning("expert profile %s#%s projects nothing: %s", version.record_uuid, version.seq, error)
        return
    profile = ExpertProfile.objects.create(record_id=version.record_id, **values)
    ExpertField.objects.bulk_create([ExpertField(profile=profile, code=code) for code in fields])
    ExpertLanguage.objects.bulk_create([ExpertLanguage(profile=profile, code=c, level=lv) for c, lv in languages])
    ExpertWindow.objects.bulk_create([ExpertWindow(profile=profile, start=s, until=u) for s, u in windows])
    ExpertAlliance.objects.bulk_create([ExpertAlliance(profile=profile, slug=slug) for slug in alliances])
