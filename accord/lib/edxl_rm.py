"""Mutual assistance as OASIS EDXL-RM 1.0 (Emergency Data Exchange Language, Resource Messaging) messages.

Plain dicts in (the shapes below), UTF-8 XML bytes out, built with lxml (nothing is parsed here). One message per
document, as the standard has it:

- a request: `RequestResource`;
- an offer answering a request: `ResponseToRequestResource`; an offer on an incident: `OfferUnsolicitedResource`;
- an offering member's commitment: `CommitResource`;
- a deployment's status report: `ReportResourceDeploymentStatus`.

The message elements are in the namespace `urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg` (prefix `msg`); the
children of the standard's common types (ValueListType, QuantityType, IncidentInformationType,
ContactInformationType, ResponseInformationType, LocationType) are in `urn:oasis:names:tc:emergency:EDXL:RM:1.0`
(prefix `rm`), and a point in GML (`http://www.opengis.net/gml`). Elements appear in the order of the standard's
sequences. Which elements each message carries is listed in docs/response.md ("Exports").

Coded values use value lists named by URN (ValueListURN + Value): Accord's resource catalogue, its units, request
priorities and deployment statuses. Each message carries one ResourceInformation, numbered `1`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import NotRequired, TypedDict

from lxml import etree

MSG_NS = "urn:oasis:names:tc:emergency:EDXL:RM:1.0:msg"
RM_NS = "urn:oasis:names:tc:emergency:EDXL:RM:1.0"
GML_NS = "http://www.opengis.net/gml"
NSMAP = {"msg": MSG_NS, "rm": RM_NS, "gml": GML_NS}

RESOURCE_TYPES_URN = "urn:x-accord:assistance:resource-type"
UNITS_URN = "urn:x-accord:assistance:unit"
PRIORITIES_URN = "urn:x-accord:assistance:priority"
DEPLOYMENT_STATUS_URN = "urn:x-accord:assistance:deployment-status"

ELEMENT_ID = "1"  # each message carries one ResourceInformation

# A deployment's dates as EDXL-RM schedule types.
DEPLOYMENT_SCHEDULE = (
    ("departed", "ActualDeparture"),
    ("arrived", "ActualArrival"),
    ("demobilised", "ActualReturnDeparture"),
    ("returned", "ActualReturnArrival"),
)


class Resource(TypedDict):
    """What a message is about: a catalogue type, a quantity in the type's unit."""

    resource_type: str  # catalogue code
    resource_name: str
    quantity: int
    unit: str  # unit code


class Place(TypedDict):
    region: str | None  # first-level region code
    region_name: NotRequired[str]
    point: NotRequired[tuple[float, float] | None]  # latitude, longitude (WGS 84)


class RequestMessage(Resource, Place):
    id: str  # the request's record uuid: the MessageID
    sent: str | datetime  # when the request was made (time zone required)
    incident: str
    incident_title: str
    member: str
    organisation: str
    needed_by: str | date | datetime | None
    priority: str
    conditions: NotRequired[str]


class OfferMessage(Resource):
    id: str  # the offer's record uuid: the MessageID
    sent: str | datetime
    incident: str
    incident_title: str
    request: str | None  # the request answered; None for an unsolicited offer
    member: str  # the offering member
    organisation: str
    available_from: str | date | datetime | None
    available_until: str | date | datetime | None
    status: str  # the offer's status; withdrawn or declined answers "Decline"
    conditions: NotRequired[str]
    note: NotRequired[str]


class CommitMessage(Resource):
    offer: str  # the committed offer's record uuid (the MessageID is "<offer>/commit")
    request: str | None
    sent: str | datetime  # when the commitment was made
    incident: str
    incident_title: str
    member: str
    organisation: str


class DeploymentMessage(Resource, Place):
    id: str  # the deployment's record uuid (the MessageID is "<id>/status/<status>")
    offer: str
    request: str | None
    sent: str | datetime  # when the status was reported
    incident: str
    incident_title: str
    member: str  # the providing member
    organisation: str
    status: str
    location: NotRequired[str | None]
    contact: NotRequired[str | None]
    departed: NotRequired[str | date | datetime | None]
    arrived: NotRequired[str | date | datetime | None]
    demobilised: NotRequired[str | date | datetime | None]
    returned: NotRequired[str | date | datetime | None]


def _msg(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{MSG_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _rm(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{RM_NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _value_list(element: etree._Element, urn: str, value: str) -> etree._Element:
    _rm(element, "ValueListURN", urn)
    _rm(element, "Value", value)
    return element


def date_time(value: str | date | datetime) -> str:
    """An xsd:dateTime with its offset: a date alone is midnight UTC of that day; a naive time is refused."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        raise ValueError("an EDXL-RM date-time needs a time zone")
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _header(
    kind: str,
    message_id: str,
    *,
    sent: str | datetime,
    description: str,
    incident: str,
    incident_title: str,
    originating: str | None = None,
    preceding: str | None = None,
) -> etree._Element:
    root = etree.Element(f"{{{MSG_NS}}}{kind}", nsmap=NSMAP)
    _msg(root, "MessageID", message_id)
    _msg(root, "SentDateTime", date_time(sent))
    _msg(root, "MessageContentType", kind)
    _msg(root, "MessageDescription", description)
    if originating is not None:
        _msg(root, "OriginatingMessageID", originating)
    if preceding is not None:
        _msg(root, "PrecedingMessageID", preceding)
    info = _msg(root, "IncidentInformation")
    _rm(info, "IncidentID", incident)
    _rm(info, "IncidentDescription", incident_title)
    return root


def _contact(root: etree._Element, organisation: str, member: str, role: str) -> None:
    contact = _msg(root, "ContactInformation")
    _rm(contact, "ContactDescription", f"{organisation} ({member})")
    _rm(contact, "ContactRole", role)


def _resource(
    info: etree._Element,
    message: Resource,
    *,
    priority: str | None = None,
    description: str | None = None,
    requirements: str | None = None,
    contact: str | None = None,
    deployment_status: str | None = None,
) -> None:
    resource = _msg(info, "Resource")
    _msg(resource, "Name", message["resource_name"])
    _value_list(_msg(resource, "TypeStructure"), RESOURCE_TYPES_URN, message["resource_type"])
    if priority:
        _value_list(_msg(resource, "Keyword"), PRIORITIES_URN, priority)
    if description:
        _msg(resource, "Description", description)
    if requirements:
        _msg(resource, "SpecialRequirements", requirements)
    if contact:
        _rm(_msg(resource, "ResponsibleParty"), "ContactDescription", contact)
    if deployment_status:
        status = _msg(resource, "ResourceStatus")
        _value_list(_msg(status, "DeploymentStatus"), DEPLOYMENT_STATUS_URN, deployment_status)
    assignment = _msg(info, "AssignmentInformation")
    measured = _rm(_msg(assignment, "Quantity"), "MeasuredQuantity")
    _rm(measured, "Amount", str(message["quantity"]))
    _value_list(_rm(measured, "UnitOfMeasure"), UNITS_URN, message["unit"])


def _schedule(info: etree._Element, kind: str, when: str | date | datetime | None, place: Place | None = None) -> None:
    schedule = _msg(info, "ScheduleInformation")
    _msg(schedule, "ScheduleType", kind)
    if when is not None:
        _msg(schedule, "DateTime", date_time(when))
    if place is not None and (place.get("region") or place.get("point")):
        location = _msg(schedule, "Location")
        region = place.get("region")
        if region:
            name = place.get("region_name")
            _rm(location, "LocationDescription", f"{name} ({region})" if name else region)
        point = place.get("point")
        if point:
            area = _rm(location, "TargetArea")
            gml_point = etree.SubElement(area, f"{{{GML_NS}}}Point")
            etree.SubElement(gml_point, f"{{{GML_NS}}}pos").text = f"{point[0]} {point[1]}"


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def request_resource(request: RequestMessage) -> bytes:
    root = _header(
        "RequestResource",
        request["id"],
        sent=request["sent"],
        description=f"Request for {request['quantity']} {request['unit']} of {request['resource_name']}",
        incident=request["incident"],
        incident_title=request["incident_title"],
    )
    _contact(root, request["organisation"], request["member"], "Requester")
    info = _msg(root, "ResourceInformation")
    _msg(info, "ResourceInfoElementID", ELEMENT_ID)
    _resource(info, request, priority=request["priority"], requirements=request.get("conditions"))
    _schedule(info, "RequestedArrival", request["needed_by"], request)
    return _bytes(root)


def response_type(offer: OfferMessage) -> str:
    """The EDXL-RM ResponseType of an offer: Decline once withdrawn or declined, Conditional with conditions."""
    if offer["status"] in {"withdrawn", "declined"}:
        return "Decline"
    return "Conditional" if offer.get("conditions") else "Accept"


def offer_resource(offer: OfferMessage) -> bytes:
    """ResponseToRequestResource for an offer answering a request; OfferUnsolicitedResource otherwise."""
    request = offer["request"]
    kind = "OfferUnsolicitedResource" if request is None else "ResponseToRequestResource"
    root = _header(
        kind,
        offer["id"],
        sent=offer["sent"],
        description=f"Offer of {offer['quantity']} {offer['unit']} of {offer['resource_name']}",
        incident=offer["incident"],
        incident_title=offer["incident_title"],
        originating=request,
        preceding=request,
    )
    _contact(root, offer["organisation"], offer["member"], "RespondingOrg")
    info = _msg(root, "ResourceInformation")
    _msg(info, "ResourceInfoElementID", ELEMENT_ID)
    if request is not None:
        response = _msg(info, "ResponseInformation")
        _rm(response, "PrecedingResourceInfoElementID", ELEMENT_ID)
        _rm(response, "ResponseType", response_type(offer))
    _resource(info, offer, description=offer.get("note"), requirements=offer.get("conditions"))
    if offer["available_from"] is not None:
        _schedule(info, "BeginAvailable", offer["available_from"])
    if offer["available_until"] is not None:
        _schedule(info, "EndAvailable", offer["available_until"])
    return _bytes(root)


def commit_resource(commit: CommitMessage) -> bytes:
    offer = commit["offer"]
    root = _header(
        "CommitResource",
        f"{offer}/commit",
        sent=commit["sent"],
        description=f"Commitment of {commit['quantity']} {commit['unit']} of {commit['resource_name']}",
        incident=commit["incident"],
        incident_title=commit["incident_title"],
        originating=commit["request"] or offer,
        preceding=offer,
    )
    _contact(root, commit["organisation"], commit["member"], "RespondingOrg")
    info = _msg(root, "ResourceInformation")
    _msg(info, "ResourceInfoElementID", ELEMENT_ID)
    _resource(info, commit)
    _schedule(info, "Committed", commit["sent"])
    return _bytes(root)


def report_deployment_status(deployment: DeploymentMessage) -> bytes:
    offer = deployment["offer"]
    root = _header(
        "ReportResourceDeploymentStatus",
        f"{deployment['id']}/status/{deployment['status']}",
        sent=deployment["sent"],
        description=f"Deployment of {deployment['quantity']} {deployment['unit']} of "
        f"{deployment['resource_name']}: {deployment['status']}",
        incident=deployment["incident"],
        incident_title=deployment["incident_title"],
        originating=deployment["request"] or offer,
        preceding=f"{offer}/commit",
    )
    _contact(root, deployment["organisation"], deployment["member"], "RespondingOrg")
    info = _msg(root, "ResourceInformation")
    _msg(info, "ResourceInfoElementID", ELEMENT_ID)
    _resource(
        info,
        deployment,
        description=deployment.get("location"),
        contact=deployment.get("contact"),
        deployment_status=deployment["status"],
    )
    dates: list[str | date | datetime | None] = [
        deployment.get("departed"),
        deployment.get("arrived"),
        deployment.get("demobilised"),
        deployment.get("returned"),
    ]
    for (_, kind), when in zip(DEPLOYMENT_SCHEDULE, dates, strict=True):
        if when is not None:
            _schedule(info, kind, when)
    if deployment.get("region") or deployment.get("point"):
        _schedule(info, "Current", None, deployment)
    return _bytes(root)
