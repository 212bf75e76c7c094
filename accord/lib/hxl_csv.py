"""CSV with HXL hashtags (https://hxlstandard.org) for mutual assistance: requests, offers and deployments.

Plain dicts in (the row shapes below), UTF-8 CSV bytes out: a row of column names, a row of HXL hashtags, then one
row per dict. Every hashtag is a core HXL hashtag with lowercase attributes, so libhxl and HDX tools read it.

A cell that a spreadsheet would take for a formula (text starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) is written with a leading apostrophe, as OWASP advises against CSV injection: the text stays readable and is
never evaluated. Numbers are written as numbers; `None` as an empty cell.

Members are named by their code (`CN`, `KZ` ... ISO 3166-1 alpha-2; the Secretariat is `SCO`), first-level regions
by their code (`KZ-ALA`, ISO 3166-2 where there is one), resource types and units by their catalogue codes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import NotRequired, TypedDict

Cell = str | int | None
Column = tuple[str, str, str]  # the row key, the column name, the HXL hashtag

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RequestRow(TypedDict):
    """One assistance request with its ledger, as the request CSV shows it."""

    id: str  # the request's record uuid
    incident: str  # the incident's record uuid
    member: str  # the requesting member's code
    organisation: str  # the requesting organisation's name
    resource_type: str  # catalogue code, e.g. pcr_tests
    resource_name: str  # catalogue name in the reader's language
    quantity: int  # requested
    unit: str  # unit code, e.g. tests
    needed_by: str | None  # ISO 8601 date or date-time
    region: str | None  # first-level region code of the delivery location
    priority: str  # high | medium | low
    status: str  # open | partly_covered | covered | withdrawn | closed
    offered: int
    accepted: int
    committed: int
    delivered: int
    gap: int  # requested - accepted, never below 0
    sector: NotRequired[str]  # defaults to "health"


class OfferRow(TypedDict):
    """One offer (solicited: `request` set; unsolicited: `request` None)."""

    id: str
    incident: str
    request: str | None
    member: str  # the offering member's code
    organisation: str
    resource_type: str
    resource_name: str
    quantity: int  # offered
    unit: str
    accepted: int
    available_from: str | None
    available_until: str | None
    status: str
    sector: NotRequired[str]


class DeploymentRow(TypedDict):
    """One deployment (who does what where: the 3W view)."""

    id: str
    incident: str
    offer: str
    member: str  # the providing member's code
    organisation: str
    resource_type: str
    resource_name: str
    quantity: int
    unit: str
    status: str  # mobilising | in_transit | arrived | operating | demobilised | returned
    region: str | None
    location: str | None  # a place name within the region
    started: str | None  # mobilisation began
    arrived: str | None
    ended: str | None  # demobilised or returned
    contact: str | None  # the contact point on site
    sector: NotRequired[str]


REQUEST_COLUMNS: tuple[Column, ...] = (
    ("id", "Request", "#meta+id"),
    ("incident", "Incident", "#event+id"),
    ("member", "Requesting member", "#country+code"),
    ("organisation", "Requesting organisation", "#org+name"),
    ("sector", "Sector", "#sector"),
    ("resource_type", "Resource type", "#item+code"),
    ("resource_name", "Resource", "#item+name"),
    ("quantity", "Requested", "#item+num+requested"),
    ("unit", "Unit", "#item+unit"),
    ("needed_by", "Needed by", "#date+needed"),
    ("region", "Delivery region", "#adm1+code"),
    ("priority", "Priority", "#meta+priority"),
    ("status", "Status", "#status"),
    ("offered", "Offered", "#item+num+offered"),
    ("accepted", "Accepted", "#item+num+accepted"),
    ("committed", "Committed", "#item+num+committed"),
    ("delivered", "Delivered", "#item+num+delivered"),
    ("gap", "Gap", "#item+num+gap"),
)

OFFER_COLUMNS: tuple[Column, ...] = (
    ("id", "Offer", "#meta+id"),
    ("incident", "Incident", "#event+id"),
    ("request", "Request", "#meta+request"),
    ("member", "Offering member", "#country+code+provider"),
    ("organisation", "Offering organisation", "#org+name+provider"),
    ("sector", "Sector", "#sector"),
    ("resource_type", "Resource type", "#item+code"),
    ("resource_name", "Resource", "#item+name"),
    ("quantity", "Offered", "#item+num+offered"),
    ("unit", "Unit", "#item+unit"),
    ("accepted", "Accepted", "#item+num+accepted"),
    ("available_from", "Available from", "#date+start"),
    ("available_until", "Available until", "#date+end"),
    ("status", "Status", "#status"),
)

DEPLOYMENT_COLUMNS: tuple[Column, ...] = (
    ("id", "Deployment", "#meta+id"),
    ("incident", "Incident", "#event+id"),
    ("offer", "Offer", "#meta+offer"),
    ("member", "Providing member", "#country+code+provider"),
    ("organisation", "Providing organisation", "#org+name+provider"),
    ("sector", "Sector", "#sector"),
    ("resource_type", "Resource type", "#item+code"),
    ("resource_name", "Resource", "#item+name"),
    ("quantity", "Quantity", "#item+num"),
    ("unit", "Unit", "#item+unit"),
    ("status", "Status", "#status"),
    ("region", "Region", "#adm1+code"),
    ("location", "Location", "#loc+name"),
    ("started", "Mobilised", "#date+start"),
    ("arrived", "Arrived", "#date+arrived"),
    ("ended", "Ended", "#date+end"),
    ("contact", "Contact point", "#contact"),
)

DEFAULTS: dict[str, Cell] = {"sector": "health"}


def neutralise(value: Cell) -> Cell:
    """A text cell a spreadsheet would evaluate, with a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(columns: Sequence[Column], rows: Iterable[Mapping[str, object]]) -> bytes:
    """The CSV bytes: names, hashtags, then each row's cells in the columns' order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for _, name, _ in columns])
    writer.writerow([tag for _, _, tag in columns])
    for row in rows:
        cells: list[Cell] = []
        for key, _, _ in columns:
            value = row.get(key, DEFAULTS.get(key))
            if value is not None and not isinstance(value, str | int):
                raise TypeError(f"{key}: a CSV cell is text, a whole number or None, not {type(value).__name__}")
            cells.append(neutralise(value))
        writer.writerow(["" if cell is None else cell for cell in cells])
    return out.getvalue().encode("utf-8")


def requests_csv(rows: Iterable[RequestRow]) -> bytes:
    return write(REQUEST_COLUMNS, rows)


def offers_csv(rows: Iterable[OfferRow]) -> bytes:
    return write(OFFER_COLUMNS, rows)


def deployments_csv(rows: Iterable[DeploymentRow]) -> bytes:
    return write(DEPLOYMENT_COLUMNS, rows)
