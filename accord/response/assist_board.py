"""The matching board of mutual assistance and the history of a request, for the web pages: reads only, each
through the record core's audience filter (`Record.objects.visible_to`) and the assistance queries
(`assist_queries`).

* `acceptances_of(principal, request)`: the acceptances of a request the principal may see, oldest first;
* `board(principal, incident)`: per open request (still a gap) the offers that could fill it: of the same
  resource type, for the requesting member, with something still unaccepted, available by the time it is needed
  (`fills`: enough on its own to close the gap), each with the great-circle distance from the providing member's
  capital to the delivery location (the request's point when it has one, else its region's administrative
  centre), sorted by fit, then distance; and the unsolicited offers still waiting for a decision;
* `delivery_point(point, region)`: where something is delivered, for the distance and the 3W map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from accord.lib.geo import LatLon, distance_km, valid
from accord.members.capitals import capital
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_queries
from accord.response.assist_kinds import ACCEPTANCE_KIND
from accord.response.assist_ledger import moment
from accord.surveillance import reference

CLOSED = frozenset({"withdrawn", "closed"})


def acceptances_of(principal: Principal, request: Record) -> QuerySet[Record]:
    return (
        Record.objects.visible_to(principal)
        .filter(
            kind=ACCEPTANCE_KIND,
            acceptance_view__request_node=request.origin_node,
            acceptance_view__request_record=request.uuid,
        )
        .select_related("current_version", "acceptance_view")
        .order_by("acceptance_view__at", "uuid")
    )


@dataclass(frozen=True)
class Delivery:
    """Where something is delivered: the point given, else the administrative centre of its region."""

    lat: float
    lon: float
    given: bool  # the record's own point (else its region's centre)
    centre: str  # the region's administrative centre, English name ("" when `given`)

    @property
    def point(self) -> LatLon:
        return (self.lat, self.lon)


def delivery_point(point: Any, region: str) -> Delivery | None:
    """The record's `point` ({"lat", "lon"}) when it has a valid one, else its region's administrative centre."""
    if isinstance(point, dict):
        try:
            given = (float(point["lat"]), float(point["lon"]))
        except (KeyError, TypeError, ValueError):
            given = None
        if given is not None and valid(given):
            return Delivery(given[0], given[1], True, "")
    found = reference.regions().get(region)
    if found is None or found.lat is None or found.lon is None:
        return None
    return Delivery(found.lat, found.lon, False, found.centre)


def distance_from(member: str, to: Delivery | None) -> int | None:
    """Kilometres (rounded) from the member's capital (the Secretariat's seat) to the delivery location."""
    home = capital(member)
    if home is None or to is None:
        return None
    return round(distance_km(home.point, to.point))


@dataclass
class Candidate:
    offer: dict[str, Any]
    open_quantity: int  # what is still unaccepted of the offer
    fills: bool  # enough on its own for the request's gap
    solicited: bool  # made on this request (else unsolicited, on the incident)
    distance_km: int | None = None  # from the providing member's capital to the delivery location
    from_city: str = ""  # that capital, English name


@dataclass
class Row:
    request: dict[str, Any]
    candidates: list[Candidate] = field(default_factory=list)
    delivery: Delivery | None = None  # what the distances are measured to


@dataclass
class Board:
    rows: list[Row]  # open requests with a gap, most urgent first
    others: list[dict[str, Any]]  # the other requests (covered, withdrawn, closed)
    waiting: list[dict[str, Any]]  # unsolicited offers with something still unaccepted


def _in_time(offer: dict[str, Any], needed_by: datetime | None) -> bool:
    start = offer.get("available_from")
    if not start or needed_by is None:
        return True
    return moment(str(start)) <= needed_by


def _open(offer: dict[str, Any]) -> int:
    return max(int(offer["quantity"]) - int(offer["accepted"]), 0)


def board(principal: Principal, incident: Record) -> Board:
    requests = list(assist_queries.requests_of(principal, incident))
    unsolicited = [assist_queries.offer_out(o) for o in assist_queries.unsolicited_offers(principal, incident)]
    unsolicited = [o for o in unsolicited if o["state"] == "active"]
    rows: list[Row] = []
    others: list[dict[str, Any]] = []
    for record in requests:
        out = assist_queries.request_out(record, principal)
        if out["status"] in CLOSED or out["gap"] <= 0:
            others.append(out)
            continue
        view = getattr(record, "request_view", None)
        needed_by = view.needed_by if view is not None else None
        row = Row(request=out, delivery=delivery_point(out.get("point"), str(out.get("region", ""))))
        solicited = [o for o in out["offers"] if o.get("request") is not None]
        for offer, own in [(o, True) for o in solicited] + [(o, False) for o in unsolicited]:
            if offer["state"] != "active" or _open(offer) <= 0:
                continue
            if offer["resource_type"] != out["resource_type"] or offer["to_member"] != out["member"]:
                continue
            if not _in_time(offer, needed_by):
                continue
            home = capital(str(offer["member"]))
            row.candidates.append(
                Candidate(
                    offer,
                    _open(offer),
                    _open(offer) >= out["gap"],
                    own,
                    distance_from(str(offer["member"]), row.delivery),
                    home.city if home is not None else "",
                )
            )
        # Those that fill the gap first, then the nearest, then the largest; an unknown distance after known ones.
        row.candidates.sort(key=lambda c: (not c.fills, c.distance_km is None, c.distance_km or 0, -c.open_quantity))
        rows.append(row)
    waiting = [o for o in unsolicited if _open(o) > 0]
    return Board(rows=rows, others=others, waiting=waiting)
