"""One Health on the agriculture alliance's page: the incidents whose One Health domains include animal, plant or
environment, as the reader may see them, each with the alerts linked to it.

The incidents are read through the response app's own query (`accord.response.queries.incidents_for`, the audience
filter) and narrowed by their projected domains; the alerts through its links (`links_for`: the link and its alert
both visible to the reader). CAP alerts carry no One Health domain of their own (CAP has categories, not domains),
so an alert is listed here through the incident it belongs to.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accord.records import kinds
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import hazards
from accord.response import queries as response_queries
from accord.response.refs import pick

DOMAINS: dict[str, Promise] = {
    "human": _("Human health"),
    "animal": _("Animal health"),
    "plant": _("Plant health"),
    "environment": _("Environment"),
}
ONE_HEALTH = ("animal", "plant", "environment")
LIMIT = 20


def incidents(principal: Principal, limit: int = LIMIT) -> list[Record]:
    """The newest incidents `principal` may see whose domains include animal, plant or environment."""
    wanted = Q()
    for domain in ONE_HEALTH:
        wanted |= Q(incident_view__domains__contains=f",{domain},")
    return list(response_queries.incidents_for(principal).filter(wanted)[:limit])


def _alerts(principal: Principal, incident: Record) -> list[dict[str, str]]:
    found = []
    for link in response_queries.links_for(principal, incident):
        view: Any = link.link_view
        if view.target_kind != "alert":
            continue
        target = (
            Record.objects.visible_to(principal)
            .filter(origin_node=view.target_node, uuid=view.target_record)
            .select_related("current_version")
            .first()
        )
        if target is None or target.current_version is None:
            continue
        kind = kinds.get(target.kind)
        title = kind.title(target.current_version.body) if kind is not None else str(target.uuid)
        found.append({"title": title, "url": reverse("alert", args=[target.uuid])})
    return found


def listed(principal: Principal, limit: int = LIMIT) -> list[dict[str, Any]]:
    """The One Health incidents as the section shows them, with their linked alerts."""
    language = (get_language() or "en")[:2]
    items = []
    for record in incidents(principal, limit):
        view: Any = record.incident_view
        version = record.current_version
        assert version is not None
        body = version.body
        domains = [str(d) for d in body.get("domains", [])]
        items.append(
            {
                "id": str(record.uuid),
                "title": pick(body.get("title"), language) or view.title,
                "hazard": hazards.label(dict(body.get("hazard") or {})),
                "domains": [str(DOMAINS.get(d, d)) for d in domains],
                "affected": [m for m in view.affected.split(",") if m],
                "open": view.status == "open",
                "opened_at": view.opened_at,
                "traffic": version.status,
                "url": reverse("incident", args=[record.uuid]),
                "alerts": _alerts(principal, record),
            }
        )
    return items
