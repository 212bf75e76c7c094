"""`{% provenance version as origin %}`: a version's origin and signature status, for the record and alert pages."""

from __future__ import annotations

from django import template

from accord.federation import web
from accord.records.models import Version

register = template.Library()


@register.simple_tag
def provenance(version: Version) -> web.Provenance:
    return web.provenance(version)
