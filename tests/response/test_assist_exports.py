"""Mutual assistance exports through the API: an incident's requests and offers as CSV with HXL hashtags (read back
with libhxl), a request and an offer as EDXL-RM 1.0 XML; each holds only what its reader may see."""

from __future__ import annotations

import io
from typing import Any

import hxl
import pytest
from lxml import etree

from accord.lib import edxl_rm
from accord.lib.cap.secure import make_parser
from accord.records.models import Record
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People

pytestmark = pytest.mark.django_db

NS = {"msg": edxl_rm.MSG_NS, "rm": edxl_rm.RM_NS}


def _rows(response: Any) -> list[Any]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    source = hxl.data(hxl.input.make_input(io.BytesIO(response.content), hxl.input.InputOptions()))
    return list(source)


def _xml(response: Any) -> etree._Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    return etree.fromstring(response.content, make_parser())


def _scene(people: People) -> dict[str, str]:
    """KZ (carol) requests PCR tests for everyone in the incident's audience and respirators for CN and the
    Secretariat only; CN (alice) offers 6000 tests, 4000 of them accepted; UZ (umid) offers 3000."""
    carol, alice, umid = Api(people.world.carol), Api(people.world.alice), Api(people.umid)
    opened = open_incident(carol)
    tests = created_id(request(carol, opened["id"]))
    masks = created_id(
        request(
            carol,
            opened["id"],
            resource_type="ppe_respirators",
            quantity=2000,
            priority="medium",
            audience={"members": ["KZ", "CN", "SCO"]},
        )
    )
    from_cn = created_id(offer(alice, tests, 6000, conditions="Shipped by air"))
    from_uz = created_id(offer(umid, tests, 3000))
    assert accept(carol, from_cn, 4000).status_code == 200
    return {"incident": opened["id"], "tests": tests, "masks": masks, "from_cn": from_cn, "from_uz": from_uz}


def test_requests_csv_has_hxl_hashtags_the_ledger_and_only_what_the_reader_may_see(people: People) -> None:
    scene = _scene(people)
    path = f"/api/v1/incidents/{scene['incident']}/requests.csv"
    rows = {row.get("#meta+id"): row for row in _rows(Api(people.world.carol).get(path))}
    assert set(rows) == {scene["tests"], scene["masks"]}
    tests = rows[scene["tests"]]
    assert tests.get("#event+id") == scene["incident"]
    assert tests.get("#country+code") == "KZ"
    assert tests.get("#org+name")  # the requesting organisation's name
    assert tests.get("#sector") == "health"
    assert tests.get("#item+code") == "pcr_tests" and tests.get("#item+name")
    assert tests.get("#item+unit") == "tests"
    assert tests.get("#adm1+code") == "KZ-61"
    assert tests.get("#date+needed") == "2026-05-10"
    assert tests.get("#meta+priority") == "high"
    assert tests.get("#status") == "partly_covered"
    ledger = [tests.get(f"#item+num+{k}") for k in ("requested", "offered", "accepted", "delivered", "gap")]
    assert ledger == ["10000", "9000", "4000", "0", "6000"]
    assert rows[scene["masks"]].get("#item+code") == "ppe_respirators"

    # UZ is in the incident's audience but not in the respirators request's.
    seen_by_uz = _rows(Api(people.umid).get(path))
    assert [row.get("#meta+id") for row in seen_by_uz] == [scene["tests"]]
    # IN does not see the incident at all: the same 404 as for none.
    assert Api(people.ivan).get(path).status_code == 404


def test_offers_csv_lists_solicited_and_unsolicited_offers(people: People) -> None:
    scene = _scene(people)
    alice = Api(people.world.alice)
    unsolicited = alice.post(
        f"/api/v1/incidents/{scene['incident']}/offers",
        {"resource_type": "ppe_gloves", "quantity": 500, "available_from": "2026-05-01"},
    )
    unsolicited_id = created_id(unsolicited)
    rows = {row.get("#meta+id"): row for row in _rows(alice.get(f"/api/v1/incidents/{scene['incident']}/offers.csv"))}
    assert set(rows) == {scene["from_cn"], scene["from_uz"], unsolicited_id}
    from_cn = rows[scene["from_cn"]]
    assert from_cn.get("#meta+request") == scene["tests"]
    assert from_cn.get("#country+code+provider") == "CN"
    assert (from_cn.get("#item+num+offered"), from_cn.get("#item+num+accepted")) == ("6000", "4000")
    assert from_cn.get("#status") == "partly_accepted"
    assert rows[scene["from_uz"]].get("#status") == "open"
    assert rows[unsolicited_id].get("#meta+request") is None
    assert rows[unsolicited_id].get("#item+code") == "ppe_gloves"
    assert (rows[unsolicited_id].get("#date+start") or "").startswith("2026-05-01")
    assert Api(people.ivan).get(f"/api/v1/incidents/{scene['incident']}/offers.csv").status_code == 404


def test_deployments_csv_is_the_3w_of_what_the_reader_may_see(people: People) -> None:
    scene = _scene(people)
    alice = Api(people.world.alice)
    made = alice.post(
        f"/api/v1/offers/{scene['from_cn']}/deployments",
        {
            "quantity": 4000,
            "contact": {"name": "Wang Li"},
            "location": {"region": "KZ-61", "place": "Kyzylorda regional laboratory"},
            "departure": "2026-05-04",
        },
    )
    deployment = created_id(made)
    assert alice.post(f"/api/v1/deployments/{deployment}/status", {"status": "in_transit"}).status_code == 200
    path = f"/api/v1/incidents/{scene['incident']}/deployments.csv"
    (row,) = _rows(Api(people.world.carol).get(path))
    assert row.get("#meta+id") == deployment and row.get("#meta+offer") == scene["from_cn"]
    assert (row.get("#country+code+provider"), row.get("#item+code"), row.get("#item+num")) == (
        "CN",
        "pcr_tests",
        "4000",
    )
    assert (row.get("#status"), row.get("#adm1+code"), row.get("#loc+name")) == (
        "in_transit",
        "KZ-61",
        "Kyzylorda regional laboratory",
    )
    assert (row.get("#date+start"), row.get("#contact")) == ("2026-05-04", "Wang Li")
    assert row.get("#org+name+provider")
    assert Api(people.ivan).get(path).status_code == 404


def test_a_request_as_edxl_rm_request_resource(people: People) -> None:
    scene = _scene(people)
    root = _xml(Api(people.umid).get(f"/api/v1/requests/{scene['tests']}.xml"))
    assert root.tag == f"{{{edxl_rm.MSG_NS}}}RequestResource"
    assert root.findtext("msg:MessageID", namespaces=NS) == scene["tests"]
    assert root.findtext("msg:MessageContentType", namespaces=NS) == "RequestResource"
    assert root.findtext("msg:IncidentInformation/rm:IncidentID", namespaces=NS) == scene["incident"]
    assert root.findtext("msg:IncidentInformation/rm:IncidentDescription", namespaces=NS) == (
        "Measles across the Fergana valley"
    )
    assert root.findtext("msg:ContactInformation/rm:ContactRole", namespaces=NS) == "Requester"
    info = "msg:ResourceInformation/"
    assert root.findtext(info + "msg:Resource/msg:TypeStructure/rm:Value", namespaces=NS) == "pcr_tests"
    amount = info + "msg:AssignmentInformation/msg:Quantity/rm:MeasuredQuantity/rm:Amount"
    assert root.findtext(amount, namespaces=NS) == "10000"
    schedule = info + "msg:ScheduleInformation/"
    assert root.findtext(schedule + "msg:ScheduleType", namespaces=NS) == "RequestedArrival"
    assert root.findtext(schedule + "msg:DateTime", namespaces=NS).startswith("2026-05-10")  # type: ignore[union-attr]
    assert root.findtext(schedule + "msg:Location/rm:LocationDescription", namespaces=NS) == "KZ-61"
    # Not in the respirators request's audience: the same 404 as for a request that does not exist.
    assert Api(people.umid).get(f"/api/v1/requests/{scene['masks']}.xml").status_code == 404
    assert Api(people.ivan).get(f"/api/v1/requests/{scene['tests']}.xml").status_code == 404


def test_an_offer_as_edxl_rm_response_or_unsolicited_offer(people: People) -> None:
    scene = _scene(people)
    alice = Api(people.world.alice)
    root = _xml(alice.get(f"/api/v1/offers/{scene['from_cn']}.xml"))
    assert root.tag == f"{{{edxl_rm.MSG_NS}}}ResponseToRequestResource"
    assert root.findtext("msg:OriginatingMessageID", namespaces=NS) == scene["tests"]
    response = "msg:ResourceInformation/msg:ResponseInformation/rm:ResponseType"
    assert root.findtext(response, namespaces=NS) == "Conditional"  # the offer has conditions
    unsolicited = created_id(
        alice.post(f"/api/v1/incidents/{scene['incident']}/offers", {"resource_type": "ppe_gloves", "quantity": 500})
    )
    root = _xml(alice.get(f"/api/v1/offers/{unsolicited}.xml"))
    assert root.tag == f"{{{edxl_rm.MSG_NS}}}OfferUnsolicitedResource"
    assert root.find("msg:OriginatingMessageID", NS) is None
    assert Api(people.ivan).get(f"/api/v1/offers/{unsolicited}.xml").status_code == 404


def _deployed(people: People, scene: dict[str, str]) -> str:
    """CN commits 3000 and then 1000 of its accepted 4000 tests, and deploys 4000 that arrive with 2500 delivered."""
    alice = Api(people.world.alice)
    for quantity in (3000, 1000):
        assert alice.post(f"/api/v1/offers/{scene['from_cn']}/commit", {"quantity": quantity}).status_code == 200
    made = alice.post(
        f"/api/v1/offers/{scene['from_cn']}/deployments",
        {
            "quantity": 4000,
            "contact": {"name": "Wang Li"},
            "location": {"region": "KZ-61", "place": "Kyzylorda laboratory", "point": {"lat": 44.85, "lon": 65.5}},
            "departure": "2026-05-04",
        },
    )
    deployment = created_id(made)
    for status, delivered in (("arrived", 2500), ("operating", 2500), ("demobilised", 4000)):
        reported = alice.post(f"/api/v1/deployments/{deployment}/status", {"status": status, "delivered": delivered})
        assert reported.status_code == 200, reported.content
    return deployment


def test_a_commitment_as_edxl_rm_commit_resource(people: People) -> None:
    scene = _scene(people)
    carol = Api(people.world.carol)
    # Nothing committed yet: no commitment to show.
    assert carol.get(f"/api/v1/offers/{scene['from_cn']}/commitment.xml").status_code == 404
    _deployed(people, scene)
    root = _xml(carol.get(f"/api/v1/offers/{scene['from_cn']}/commitment.xml"))
    assert root.tag == f"{{{edxl_rm.MSG_NS}}}CommitResource"
    assert root.findtext("msg:MessageID", namespaces=NS) == f"{scene['from_cn']}/commit"
    assert root.findtext("msg:MessageContentType", namespaces=NS) == "CommitResource"
    assert root.findtext("msg:OriginatingMessageID", namespaces=NS) == scene["tests"]
    assert root.findtext("msg:PrecedingMessageID", namespaces=NS) == scene["from_cn"]
    assert root.findtext("msg:IncidentInformation/rm:IncidentID", namespaces=NS) == scene["incident"]
    assert root.findtext("msg:ContactInformation/rm:ContactRole", namespaces=NS) == "RespondingOrg"
    assert "CN" in (root.findtext("msg:ContactInformation/rm:ContactDescription", namespaces=NS) or "")
    info = "msg:ResourceInformation/"
    amount = info + "msg:AssignmentInformation/msg:Quantity/rm:MeasuredQuantity/rm:Amount"
    assert root.findtext(amount, namespaces=NS) == "4000"  # both commitments
    assert root.findtext(info + "msg:ScheduleInformation/msg:ScheduleType", namespaces=NS) == "Committed"
    assert root.findtext(info + "msg:ScheduleInformation/msg:DateTime", namespaces=NS)
    # An offer the reader may not see, and one nobody committed: 404.
    assert Api(people.ivan).get(f"/api/v1/offers/{scene['from_cn']}/commitment.xml").status_code == 404
    assert carol.get(f"/api/v1/offers/{scene['from_uz']}/commitment.xml").status_code == 404


def test_a_deployment_as_edxl_rm_report_resource_deployment_status(people: People) -> None:
    scene = _scene(people)
    deployment = _deployed(people, scene)
    root = _xml(Api(people.umid).get(f"/api/v1/deployments/{deployment}.xml"))
    assert root.tag == f"{{{edxl_rm.MSG_NS}}}ReportResourceDeploymentStatus"
    assert root.findtext("msg:MessageID", namespaces=NS) == f"{deployment}/status/demobilised"
    assert root.findtext("msg:OriginatingMessageID", namespaces=NS) == scene["tests"]
    assert root.findtext("msg:PrecedingMessageID", namespaces=NS) == f"{scene['from_cn']}/commit"
    assert root.findtext("msg:IncidentInformation/rm:IncidentDescription", namespaces=NS) == (
        "Measles across the Fergana valley"
    )
    resource = "msg:ResourceInformation/msg:Resource/"
    assert root.findtext(resource + "msg:Description", namespaces=NS) == "Kyzylorda laboratory"
    assert root.findtext(resource + "msg:ResponsibleParty/rm:ContactDescription", namespaces=NS) == "Wang Li"
    status = resource + "msg:ResourceStatus/msg:DeploymentStatus/rm:Value"
    assert root.findtext(status, namespaces=NS) == "demobilised"
    schedules = {
        s.findtext("msg:ScheduleType", namespaces=NS): s
        for s in root.findall("msg:ResourceInformation/msg:ScheduleInformation", NS)
    }
    assert list(schedules) == ["ActualDeparture", "ActualArrival", "ActualReturnDeparture", "Current"]
    assert (schedules["ActualDeparture"].findtext("msg:DateTime", namespaces=NS) or "").startswith("2026-05-04")
    current = schedules["Current"]
    assert current.findtext("msg:Location/rm:LocationDescription", namespaces=NS) == "KZ-61"
    assert current.findtext(
        "msg:Location/rm:TargetArea/gml:Point/gml:pos", namespaces={**NS, "gml": edxl_rm.GML_NS}
    ) == ("44.85 65.5")


def test_commitments_and_deployments_of_a_narrow_request_are_not_exported_to_others(people: People) -> None:
    scene = _scene(people)
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    on_masks = created_id(offer(alice, scene["masks"], 2000))
    assert accept(carol, on_masks, 2000).status_code == 200
    assert alice.post(f"/api/v1/offers/{on_masks}/commit", {"quantity": 2000}).status_code == 200
    made = alice.post(
        f"/api/v1/offers/{on_masks}/deployments",
        {"quantity": 2000, "contact": {"name": "Wang Li"}, "location": {"region": "KZ-61"}},
    )
    deployment = created_id(made)
    assert (
        _xml(carol.get(f"/api/v1/deployments/{deployment}.xml")).findtext("msg:MessageID", namespaces=NS)
        == f"{deployment}/status/mobilising"
    )
    assert _xml(carol.get(f"/api/v1/offers/{on_masks}/commitment.xml")) is not None
    # UZ is in the incident's audience, not in the respirators request's: the same 404 as for nothing at all.
    umid = Api(people.umid)
    assert umid.get(f"/api/v1/deployments/{deployment}.xml").status_code == 404
    assert umid.get(f"/api/v1/offers/{on_masks}/commitment.xml").status_code == 404
    assert umid.get("/api/v1/deployments/00000000-0000-4000-8000-000000000000.xml").status_code == 404


def test_a_point_with_decimals_is_kept_as_decimal_text_and_shown_as_numbers(people: People) -> None:
    """A signed record holds no float: a request's point is signed as decimal text, and the API shows numbers."""
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    made = request(carol, opened["id"], point={"lat": 44.8528, "lon": 65.5092})
    request_id = created_id(made)
    assert made.json()["point"] == {"lat": 44.8528, "lon": 65.5092}
    version = Record.objects.select_related("current_version").get(uuid=request_id).current_version
    assert version is not None and version.body["point"] == {"lat": "44.8528", "lon": "65.5092"}
    root = _xml(carol.get(f"/api/v1/requests/{request_id}.xml"))
    pos = "msg:ResourceInformation/msg:ScheduleInformation/msg:Location/rm:TargetArea/gml:Point/gml:pos"
    assert root.findtext(pos, namespaces={**NS, "gml": edxl_rm.GML_NS}) == "44.8528 65.5092"
    far = request(carol, opened["id"], point={"lat": 91, "lon": 0})
    assert far.status_code in (400, 422) and "point" in str(far.json().get("field")) + far.json()["detail"]
