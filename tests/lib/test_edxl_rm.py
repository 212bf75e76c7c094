"""EDXL-RM 1.0 messages for mutual assistance: no schema is bundled, so each message is read back with the hardened
parser (well-formed, no entities) and its element tree is checked against the standard's element names,
namespaces and sequence order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from lxml import etree

from accord.lib import edxl_rm
from accord.lib.cap.secure import make_parser
from accord.lib.edxl_rm import CommitMessage, DeploymentMessage, OfferMessage, RequestMessage

MSG = edxl_rm.MSG_NS
RM = edxl_rm.RM_NS
NS = {"msg": MSG, "rm": RM, "gml": edxl_rm.GML_NS}

# The standard's sequences (EDXL-RM 1.0, the message types and the common types), in order.
MESSAGE_ORDER = [
    "MessageID",
    "SentDateTime",
    "MessageContentType",
    "MessageDescription",
    "OriginatingMessageID",
    "PrecedingMessageID",
    "IncidentInformation",
    "MessageRecall",
    "Funding",
    "ContactInformation",
    "ResourceInformation",
]
RESOURCE_INFORMATION_ORDER = [
    "ResourceInfoElementID",
    "ResponseInformation",
    "Resource",
    "AssignmentInformation",
    "ScheduleInformation",
]
RESOURCE_ORDER = [
    "ResourceID",
    "Name",
    "TypeStructure",
    "TypeInfo",
    "Keyword",
    "Description",
    "Credentials",
    "Certifications",
    "SpecialRequirements",
    "ResponsibleParty",
    "OwnershipInformation",
    "ResourceStatus",
]
REQUIRED = ["MessageID", "SentDateTime", "MessageContentType", "ContactInformation", "ResourceInformation"]

REQUEST: RequestMessage = {
    "id": "7d1c0f7a-0000-4000-8000-000000000001",
    "sent": "2026-02-01T10:00:00+06:00",
    "incident": "7d1c0f7a-0000-4000-8000-0000000000aa",
    "incident_title": "Influenza A(H5N1) cluster, Almaty",
    "member": "KZ",
    "organisation": "Ministry of Health",
    "resource_type": "pcr_tests",
    "resource_name": "PCR tests",
    "quantity": 10000,
    "unit": "tests",
    "needed_by": "2026-02-15",
    "region": "KZ-ALA",
    "region_name": "Almaty",
    "point": (43.25, 76.95),
    "priority": "high",
    "conditions": "Tests for H5 subtype <with> reagents & controls",
}


def _parse(data: bytes) -> etree._Element:
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data
    return etree.fromstring(data, make_parser())


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element) -> list[str]:
    return [_local(child) for child in element]


def _in_order(names: list[str], order: list[str]) -> bool:
    positions = [order.index(name) for name in names]  # ValueError for a name the standard does not have there
    return positions == sorted(positions)


def _check_envelope(root: etree._Element, kind: str) -> None:
    assert root.tag == f"{{{MSG}}}{kind}"
    names = _children(root)
    assert _in_order(names, MESSAGE_ORDER), names
    for required in REQUIRED:
        assert required in names
    assert root.findtext("msg:MessageContentType", namespaces=NS) == kind
    # Message-level elements in the msg namespace, the common types' children in the rm namespace.
    for child in root:
        assert etree.QName(child).namespace == MSG
    for element in root.iterfind("msg:IncidentInformation/*", NS):
        assert etree.QName(element).namespace == RM
    for element in root.iterfind("msg:ContactInformation/*", NS):
        assert etree.QName(element).namespace == RM
    info = root.find("msg:ResourceInformation", NS)
    assert info is not None
    assert _in_order(_children(info), RESOURCE_INFORMATION_ORDER), _children(info)
    resource = info.find("msg:Resource", NS)
    assert resource is not None
    assert _in_order(_children(resource), RESOURCE_ORDER), _children(resource)
    for schedule in info.iterfind("msg:ScheduleInformation", NS):
        names = _children(schedule)
        assert names[0] == "ScheduleType" and _in_order(names, ["ScheduleType", "DateTime", "Location"])


def test_request_resource_tree() -> None:
    root = _parse(edxl_rm.request_resource(REQUEST))
    _check_envelope(root, "RequestResource")
    assert root.nsmap[None if None in root.nsmap else "msg"] == MSG
    assert root.findtext("msg:MessageID", namespaces=NS) == REQUEST["id"]
    assert root.findtext("msg:SentDateTime", namespaces=NS) == "2026-02-01T10:00:00+06:00"
    assert root.find("msg:OriginatingMessageID", NS) is None  # a request starts its thread
    assert root.findtext("msg:IncidentInformation/rm:IncidentID", namespaces=NS) == REQUEST["incident"]
    assert root.findtext("msg:IncidentInformation/rm:IncidentDescription", namespaces=NS) == REQUEST["incident_title"]
    assert root.findtext("msg:ContactInformation/rm:ContactRole", namespaces=NS) == "Requester"
    assert root.findtext("msg:ContactInformation/rm:ContactDescription", namespaces=NS) == "Ministry of Health (KZ)"
    info = "msg:ResourceInformation/"
    assert root.findtext(info + "msg:ResourceInfoElementID", namespaces=NS) == "1"
    assert root.findtext(info + "msg:Resource/msg:Name", namespaces=NS) == "PCR tests"
    assert root.findtext(info + "msg:Resource/msg:TypeStructure/rm:ValueListURN", namespaces=NS) == (
        edxl_rm.RESOURCE_TYPES_URN
    )
    assert root.findtext(info + "msg:Resource/msg:TypeStructure/rm:Value", namespaces=NS) == "pcr_tests"
    assert root.findtext(info + "msg:Resource/msg:Keyword/rm:Value", namespaces=NS) == "high"
    # Text is escaped by lxml and reads back unchanged.
    assert root.findtext(info + "msg:Resource/msg:SpecialRequirements", namespaces=NS) == REQUEST["conditions"]
    quantity = info + "msg:AssignmentInformation/msg:Quantity/rm:MeasuredQuantity/"
    assert root.findtext(quantity + "rm:Amount", namespaces=NS) == "10000"
    assert root.findtext(quantity + "rm:UnitOfMeasure/rm:ValueListURN", namespaces=NS) == edxl_rm.UNITS_URN
    assert root.findtext(quantity + "rm:UnitOfMeasure/rm:Value", namespaces=NS) == "tests"
    schedule = root.find(info + "msg:ScheduleInformation", NS)
    assert schedule is not None
    assert schedule.findtext("msg:ScheduleType", namespaces=NS) == "RequestedArrival"
    assert schedule.findtext("msg:DateTime", namespaces=NS) == "2026-02-15T00:00:00Z"
    assert schedule.findtext("msg:Location/rm:LocationDescription", namespaces=NS) == "Almaty (KZ-ALA)"
    assert schedule.findtext("msg:Location/rm:TargetArea/gml:Point/gml:pos", namespaces=NS) == "43.25 76.95"


def test_a_request_without_date_or_place_has_only_its_schedule_type() -> None:
    request: RequestMessage = {**REQUEST, "needed_by": None, "region": None, "point": None}
    root = _parse(edxl_rm.request_resource(request))
    schedule = root.find("msg:ResourceInformation/msg:ScheduleInformation", NS)
    assert schedule is not None and _children(schedule) == ["ScheduleType"]


def _offer(**changes: object) -> OfferMessage:
    offer: OfferMessage = {
        "id": "7d1c0f7a-0000-4000-8000-000000000002",
        "sent": datetime(2026, 2, 2, 9, 0, tzinfo=UTC),
        "incident": REQUEST["incident"],
        "incident_title": REQUEST["incident_title"],
        "request": REQUEST["id"],
        "member": "CN",
        "organisation": "National Health Commission",
        "resource_type": "pcr_tests",
        "resource_name": "PCR tests",
        "quantity": 6000,
        "unit": "tests",
        "available_from": date(2026, 2, 5),
        "available_until": "2026-03-05T00:00:00+08:00",
        "status": "open",
        "note": "Shipped by air to Almaty",
    }
    offer.update(changes)  # type: ignore[typeddict-item]
    return offer


def test_solicited_offer_is_a_response_to_the_request() -> None:
    root = _parse(edxl_rm.offer_resource(_offer()))
    _check_envelope(root, "ResponseToRequestResource")
    assert root.findtext("msg:SentDateTime", namespaces=NS) == "2026-02-02T09:00:00Z"
    assert root.findtext("msg:OriginatingMessageID", namespaces=NS) == REQUEST["id"]
    assert root.findtext("msg:PrecedingMessageID", namespaces=NS) == REQUEST["id"]
    assert root.findtext("msg:ContactInformation/rm:ContactRole", namespaces=NS) == "RespondingOrg"
    response = root.find("msg:ResourceInformation/msg:ResponseInformation", NS)
    assert response is not None
    assert _children(response) == ["PrecedingResourceInfoElementID", "ResponseType"]
    assert all(etree.QName(e).namespace == RM for e in response)
    assert response.findtext("rm:PrecedingResourceInfoElementID", namespaces=NS) == "1"
    assert response.findtext("rm:ResponseType", namespaces=NS) == "Accept"
    info = "msg:ResourceInformation/"
    assert root.findtext(info + "msg:Resource/msg:Description", namespaces=NS) == "Shipped by air to Almaty"
    schedules = [
        (s.findtext("msg:ScheduleType", namespaces=NS), s.findtext("msg:DateTime", namespaces=NS))
        for s in root.iterfind(info + "msg:ScheduleInformation", NS)
    ]
    assert schedules == [("BeginAvailable", "2026-02-05T00:00:00Z"), ("EndAvailable", "2026-03-05T00:00:00+08:00")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({"conditions": "Team speaks Russian"}, "Conditional"), ({"status": "withdrawn"}, "Decline")],
)
def test_response_type_follows_the_offer(changes: dict[str, object], expected: str) -> None:
    root = _parse(edxl_rm.offer_resource(_offer(**changes)))
    path = "msg:ResourceInformation/msg:ResponseInformation/rm:ResponseType"
    assert root.findtext(path, namespaces=NS) == expected


def test_unsolicited_offer_starts_its_own_thread() -> None:
    root = _parse(edxl_rm.offer_resource(_offer(request=None, available_from=None, available_until=None)))
    _check_envelope(root, "OfferUnsolicitedResource")
    assert root.find("msg:OriginatingMessageID", NS) is None
    assert root.find("msg:PrecedingMessageID", NS) is None
    assert root.find("msg:ResourceInformation/msg:ResponseInformation", NS) is None
    assert root.find("msg:ResourceInformation/msg:ScheduleInformation", NS) is None


def test_commit_resource_follows_the_offer() -> None:
    commit: CommitMessage = {
        "offer": "7d1c0f7a-0000-4000-8000-000000000002",
        "request": REQUEST["id"],
        "sent": "2026-02-03T12:00:00+08:00",
        "incident": REQUEST["incident"],
        "incident_title": REQUEST["incident_title"],
        "member": "CN",
        "organisation": "National Health Commission",
        "resource_type": "pcr_tests",
        "resource_name": "PCR tests",
        "quantity": 6000,
        "unit": "tests",
    }
    root = _parse(edxl_rm.commit_resource(commit))
    _check_envelope(root, "CommitResource")
    assert root.findtext("msg:MessageID", namespaces=NS) == f"{commit['offer']}/commit"
    assert root.findtext("msg:OriginatingMessageID", namespaces=NS) == REQUEST["id"]
    assert root.findtext("msg:PrecedingMessageID", namespaces=NS) == commit["offer"]
    schedule = root.find("msg:ResourceInformation/msg:ScheduleInformation", NS)
    assert schedule is not None
    assert schedule.findtext("msg:ScheduleType", namespaces=NS) == "Committed"
    assert schedule.findtext("msg:DateTime", namespaces=NS) == "2026-02-03T12:00:00+08:00"
    unsolicited = _parse(edxl_rm.commit_resource({**commit, "request": None}))
    assert unsolicited.findtext("msg:OriginatingMessageID", namespaces=NS) == commit["offer"]


def test_deployment_status_report() -> None:
    deployment: DeploymentMessage = {
        "id": "7d1c0f7a-0000-4000-8000-000000000003",
        "offer": "7d1c0f7a-0000-4000-8000-000000000002",
        "request": REQUEST["id"],
        "sent": "2026-02-06T08:00:00+06:00",
        "incident": REQUEST["incident"],
        "incident_title": REQUEST["incident_title"],
        "member": "CN",
        "organisation": "National Health Commission",
        "resource_type": "emt_type1_mobile",
        "resource_name": "EMT type 1 mobile",
        "quantity": 1,
        "unit": "team",
        "status": "arrived",
        "region": "KZ-ALA",
        "location": "City Hospital No. 7",
        "contact": "Dr Li",
        "departed": "2026-02-05T06:00:00+08:00",
        "arrived": "2026-02-06T07:30:00+06:00",
    }
    root = _parse(edxl_rm.report_deployment_status(deployment))
    _check_envelope(root, "ReportResourceDeploymentStatus")
    assert root.findtext("msg:MessageID", namespaces=NS) == f"{deployment['id']}/status/arrived"
    assert root.findtext("msg:PrecedingMessageID", namespaces=NS) == f"{deployment['offer']}/commit"
    resource = "msg:ResourceInformation/msg:Resource/"
    status = resource + "msg:ResourceStatus/msg:DeploymentStatus/"
    assert root.findtext(status + "rm:ValueListURN", namespaces=NS) == edxl_rm.DEPLOYMENT_STATUS_URN
    assert root.findtext(status + "rm:Value", namespaces=NS) == "arrived"
    assert root.findtext(resource + "msg:ResponsibleParty/rm:ContactDescription", namespaces=NS) == "Dr Li"
    assert root.findtext(resource + "msg:Description", namespaces=NS) == "City Hospital No. 7"
    schedules = [
        (s.findtext("msg:ScheduleType", namespaces=NS), s.findtext("msg:DateTime", namespaces=NS))
        for s in root.iterfind("msg:ResourceInformation/msg:ScheduleInformation", NS)
    ]
    assert schedules == [
        ("ActualDeparture", "2026-02-05T06:00:00+08:00"),
        ("ActualArrival", "2026-02-06T07:30:00+06:00"),
        ("Current", None),
    ]
    current = root.findtext(
        "msg:ResourceInformation/msg:ScheduleInformation[msg:ScheduleType='Current']/msg:Location/rm:LocationDescription",
        namespaces=NS,
    )
    assert current == "KZ-ALA"


def test_a_time_without_its_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        edxl_rm.request_resource({**REQUEST, "sent": "2026-02-01T10:00:00"})
    assert edxl_rm.date_time("2026-02-01T10:00:00Z") == "2026-02-01T10:00:00Z"
    assert edxl_rm.date_time(date(2026, 2, 1)) == "2026-02-01T00:00:00Z"
