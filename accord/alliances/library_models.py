"""The query tables of the alliances' library and of the law alliance's legal register, kept in step with the signed
versions of `library_document` and `legal_instrument` records (`library_project`), whichever node issued them.

Nothing here is a source of truth: every row is derived from a record's current version, and every read joins back
to `Record.objects.visible_to()` (`library_queries`). Lists in the rows are kept as ",a,b," so that a filter matches
a whole entry (`contains=",tag,"`); tags are kept lower-cased for that.
"""

from __future__ import annotations

from django.db import models

from accord.records.models import Record, Version

__all__ = ["LegalInstrumentView", "LibraryDocumentView"]


class LibraryDocumentView(models.Model):
    """A document of an alliance's library, as its current version states it."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="library_document")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    alliance = models.CharField(max_length=40)
    doc_type = models.CharField(max_length=20)
    title = models.CharField(max_length=500)  # in English if given, else Russian, else Chinese
    tags = models.CharField(max_length=2000)  # ",one health,brucellosis," (lower-case)
    languages = models.CharField(max_length=200)  # ",ru,en,"
    date = models.CharField(max_length=10)  # as given: 2025, 2025-03 or 2025-03-14
    dated = models.DateField()  # the start of that period, for ordering
    member = models.CharField(max_length=8)  # the publishing organisation's member
    organisation = models.CharField(max_length=80)  # and its slug
    files = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)  # false once withdrawn
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["alliance", "active", "dated"], name="librarydoc_alliance"),
            models.Index(fields=["active", "dated"], name="librarydoc_dated"),
        ]


class LegalInstrumentView(models.Model):
    """An entry of the law alliance's register of the members' legal instruments for emergencies."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, primary_key=True, related_name="legal_instrument")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")
    member = models.CharField(max_length=8)  # whose instrument it is
    status = models.CharField(max_length=10)  # in_force / amended / repealed / draft
    topics = models.CharField(max_length=200)  # ",quarantine,ihr_implementing_law,"
    original_language = models.CharField(max_length=8)
    adopted = models.DateField(null=True)
    title = models.CharField(max_length=1000)  # in the original language
    active = models.BooleanField(default=True)  # false once withdrawn
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "active"], name="legalinstrument_member")]
