"""The record kind `deployment`: what an offering member sends for an accepted offer, and where it is.

A deployment is a record of the providing member (`member`, `speaks_for`), issued on the offer's origin node (the
ledger counts no other: `assist_ledger`). Its body states the offer and request it serves, the quantity, the contact
point, the location (first-level region, optional point and place), the dates, the status and what was delivered.
Status reports are new versions of the same record, by the same organisation; the status moves forward only:
mobilising → in_transit → arrived → operating → demobilised → returned (release and return are the last two). A
version states the status it came from (`change.from_status`), and the kind refuses one going backwards on every
write path. Its `follows` rule compares a version with the one before it, whenever that one is held: the current
version when a status report is issued here, the stored version `seq - 1` when one is received from a peer (whatever
its `from_status` says): what it is for and of (`FIXED`: incident, request, offer, member, resource type, unit,
quantity) never changes, the status never goes back and the delivered quantity never goes down.
"""

from __future__ import annotations

from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

from accord.records import kinds
from accord.response import assist_ledger as ledger
from accord.response.assist_kinds import (
    MAX_QUANTITY,
    MEMBER_CODE,
    Point,
    check_point,
    check_resource,
    offering_roles,
    optional_when,
    refuse,
)
from accord.response.refs import RecordRef
from accord.surveillance import reference

KIND = "deployment"
STATUSES = ("mobilising", "in_transit", "arrived", "operating", "demobilised", "returned")
Status = Literal["mobilising", "in_transit", "arrived", "operating", "demobilised", "returned"]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(min_length=2, max_length=12)
    point: Point | None = None
    place: str = Field(default="", max_length=300)


class DeploymentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["create", "status"]
    from_status: Status | None = None
    note: str = Field(default="", max_length=2000)


class DeploymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident: RecordRef
    request: RecordRef
    offer: RecordRef
    member: str = Field(pattern=MEMBER_CODE)  # the providing member
    resource_type: str = Field(min_length=1, max_length=40)
    unit: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    delivered: int = Field(default=0, ge=0, le=MAX_QUANTITY)
    contact: Contact
    location: Location
    departure: str | None = Field(default=None, max_length=40)
    arrival: str | None = Field(default=None, max_length=40)
    end: str | None = Field(default=None, max_length=40)
    status: Status
    change: DeploymentChange

    @field_validator("departure", "arrival", "end")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return optional_when(value)


def _rules(body: dict[str, Any], author: kinds.Author) -> None:
    check_resource(body)
    if body["delivered"] > body["quantity"]:
        raise refuse("delivered", f"{body['delivered']} is more than the deployment's quantity ({body['quantity']})")
    if reference.regions().get(body["location"]["region"]) is None:
        raise refuse("location", f"{body['location']['region']} is not a listed first-level region (ISO 3166-2)")
    check_point(body["location"].get("point"), body["location"]["region"], name="location.point", field="location")
    before = body["change"].get("from_status")
    if before is not None and STATUSES.index(body["status"]) < STATUSES.index(before):
        raise refuse("status", f"a deployment does not go back from {before} to {body['status']}")
    if body["change"]["action"] == "create" and before is not None:
        raise refuse("status", "a new deployment comes from no status")


# What a deployment is for and of: fixed by its first version (a status report changes none of it; more sent is a
# new deployment).
FIXED = ("incident", "request", "offer", "member", "resource_type", "unit", "quantity")


def _follows(body: dict[str, Any], previous: dict[str, Any]) -> None:
    """The version before this one (of the same deployment) as stored: what it is for and of stays the same, no
    going back, nothing undelivered."""
    for field in FIXED:
        if field in previous and body.get(field) != previous[field]:
            raise refuse(field, f"a deployment's {field} does not change after it is made (was {previous[field]})")
    before = previous.get("status")
    if before in STATUSES and STATUSES.index(body["status"]) < STATUSES.index(before):
        raise refuse("status", f"the deployment was {before}; it does not go back to {body['status']}")
    delivered = previous.get("delivered")
    if isinstance(delivered, int) and body["delivered"] < delivered:
        raise refuse("delivered", f"{body['delivered']} is less than the version before reported ({delivered})")


DEPLOYMENT = kinds.register(
    kinds.RecordKind(
        name=KIND,
        label=_("Deployment"),
        body_model=DeploymentBody,
        title=lambda body: f"{body.get('resource_type', '')}: {body.get('quantity', '')} ({body.get('status', '')})",
        search_text=lambda body: "\n".join(
            str(x)
            for x in (
                body.get("resource_type"),
                (body.get("location") or {}).get("place"),
                (body.get("contact") or {}).get("name"),
            )
            if x
        ),
        publish_roles=frozenset({"focal_point"}),
        member_roles=offering_roles,
        speaks_for=lambda body: str(body.get("member") or "") or None,
        project=ledger.project_deployment,
        rules=_rules,
        follows=_follows,
        endpoint="POST /api/v1/offers/{id}/deployments",
        # A deployment ends by its status (demobilised, returned), never by a plain withdrawal.
        withdraw_endpoint="POST /api/v1/deployments/{id}/status",
    )
)
