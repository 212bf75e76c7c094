"""The deployment pages of mutual assistance (Django test client): the commit form on the request page, the deploy
form and a deployment's page with its status reports, for the offering member's focal points only; every wrong
field named on its field with nothing stored, the actions' 409s (more than accepted, a status going back, a delivered
quantity going down) shown on their fields, and an offer made on another node refused with the reason."""

from __future__ import annotations

import re
import uuid

from django.urls import reverse

from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import assist_actions
from tests.conftest import client_for
from tests.response.assist_support import page_ledger
from tests.response.conftest import People, measles, text_of

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])
GOOD = {
    "quantity": "4000",
    "contact_name": "Wang Li",
    "contact_phone": "+86 10 0000 0000",
    "contact_email": "wang.li@example.org",
    "region": "KZ-61",
    "place": "Regional reference laboratory",
    "departure": "2026-05-04",
    "arrival": "",
    "status": "mobilising",
}


def _setup(people: People) -> tuple[str, dict[str, Record]]:
    """carol (KZ) requests 10,000 PCR tests; CN (alice) and UZ (umid) offer 6,000 each; carol accepts 6,000 from CN
    and 3,000 from UZ."""
    incident = measles(people, audience=AUDIENCE)
    made = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="pcr_tests",
        quantity=10_000,
        needed_by="2026-05-10",
        region="KZ-61",
    )
    offers = {}
    for member, account in (("CN", people.world.alice), ("UZ", people.umid)):
        version = assist_actions.make_offer(made.record_uuid, acting_user=account, quantity=6000)
        offers[member] = Record.objects.get(uuid=version.record_uuid)
    assist_actions.accept(offers["CN"].uuid, acting_user=people.world.carol, quantity=6000)
    assist_actions.accept(offers["UZ"].uuid, acting_user=people.world.carol, quantity=3000)
    return str(made.record_uuid), offers


def test_commit_on_the_request_page(people: People) -> None:
    request_id, offers = _setup(people)
    url = reverse("assist-request", args=[request_id])
    cn, uz = str(offers["CN"].uuid), str(offers["UZ"].uuid)
    alice, carol = client_for(people.world.alice), client_for(people.world.carol)

    # Each offering member's focal points see the forms of their own offer only; the others see the section.
    shown = text_of(alice.get(url))
    assert f'id="commit-{cn}"' in shown and f'id="commit-{uz}"' not in shown
    assert 'max="6000"' in shown and f'id="deploy-link-{cn}"' in shown and f'id="deploy-link-{uz}"' not in shown
    shown = text_of(client_for(people.umid).get(url))
    assert f'id="commit-{uz}"' in shown and f'id="commit-{cn}"' not in shown and 'max="3000"' in shown
    for reader in (carol, client_for(people.world.dave), client_for(people.kira)):
        shown = text_of(reader.get(url))
        assert "Commitments and deployments" in shown and "commit-form" not in shown and "deploy-link" not in shown

    commit = reverse("assist-commit", args=[cn])
    over = alice.post(commit, {"quantity": "6001", "request": request_id, "note": "two lots"})
    assert over.status_code == 409
    page = text_of(over)
    assert "That is more than was accepted and not yet committed: 6000 tests." in page
    assert f'aria-describedby="commit-error-{cn}"' in page and 'value="6001"' in page and "two lots" in page
    bad = alice.post(commit, {"quantity": "six", "request": request_id})
    assert bad.status_code == 400 and "Give the quantity as a whole number above zero." in text_of(bad)
    refused = carol.post(commit, {"quantity": "1", "request": request_id})
    assert refused.status_code == 403
    assert "Only the offering member&#x27;s focal points commit and deploy its offer." in text_of(refused)
    assert client_for(people.kim).post(commit, {"quantity": "1"}).status_code == 403  # another member's viewer
    assert client_for(people.ivan).post(commit, {"quantity": "1"}).status_code == 404  # outside the audience
    assert not Record.objects.filter(kind="assistance_commitment").exists()  # nothing stored

    done = alice.post(commit, {"quantity": "6000", "request": request_id, "note": "ready in Urumqi"})
    assert done.status_code == 302 and done["Location"] == url + "#deployments"
    shown = text_of(carol.get(url))
    assert page_ledger(shown)["committed"] == "6000"
    shown = text_of(alice.get(url))
    assert f'id="commit-{cn}"' not in shown and f'id="deploy-link-{cn}"' in shown  # all committed; deploy still open


def test_deploy_form_names_each_wrong_field_and_stores_nothing(people: People) -> None:
    request_id, offers = _setup(people)
    cn = str(offers["CN"].uuid)
    url = reverse("assist-deploy", args=[cn]) + f"?request={request_id}"
    alice = client_for(people.world.alice)
    form = text_of(alice.get(url))
    assert '<option value="KZ-61" selected>' in form and "Osh Region (KG-O)" in form  # the affected members' regions
    assert 'id="quantity"' in form and 'value="6000"' in form and 'id="left-to-deploy">6000 tests' in form
    assert client_for(people.world.carol).get(url).status_code == 403
    assert client_for(people.umid).get(url).status_code == 403
    assert client_for(people.kira).get(url).status_code == 403
    assert client_for(people.ivan).get(url).status_code == 404

    wrong = {
        **GOOD,
        "quantity": "0",
        "contact_name": " ",
        "contact_email": "nobody",
        "region": "",
        "status": "flying",
    }
    refused = alice.post(url, wrong)
    assert refused.status_code == 400
    page = text_of(refused)
    for name in ("quantity", "contact_name", "contact_email", "region", "status"):
        assert f'id="{name}-error"' in page and f'href="#{name}"' in page, name
    assert "5 problems: nothing is deployed yet" in page
    cases = {
        "quantity": ({"quantity": "6001"}, 409, "That is more than was accepted and not yet deployed: 6000 tests."),
        "region": ({"region": "XX-1"}, 400, "XX-1 is not a listed first-level region"),
        "departure": ({"departure": "soon"}, 400, "not a date"),
        "arrival": ({"arrival": "2026-13-01"}, 400, "not a date"),
    }
    for name, (change, status, message) in cases.items():
        answer = alice.post(url, {**GOOD, **change})
        assert answer.status_code == status, (name, text_of(answer))
        assert f'id="{name}-error"' in text_of(answer) and message in text_of(answer), name
    assert not Record.objects.filter(kind="deployment").exists()
    assert client_for(people.world.carol).post(url, GOOD).status_code == 403
    assert not Record.objects.filter(kind="deployment").exists()

    made = alice.post(url, GOOD)
    assert made.status_code == 302, text_of(made)
    deployment = Record.objects.get(kind="deployment")
    assert made["Location"] == reverse("assist-deployment", args=[deployment.uuid])
    body = deployment.current_version.body  # type: ignore[union-attr]
    assert body["location"] == {"region": "KZ-61", "place": "Regional reference laboratory"}
    assert body["contact"]["email"] == "wang.li@example.org" and body["quantity"] == 4000
    assert 'id="left-to-deploy">2000 tests' in text_of(alice.get(url))


def test_the_deployment_page_and_its_status_reports(people: People) -> None:
    request_id, offers = _setup(people)
    cn = str(offers["CN"].uuid)
    alice, carol = client_for(people.world.alice), client_for(people.world.carol)
    assert alice.post(reverse("assist-deploy", args=[cn]) + f"?request={request_id}", GOOD).status_code == 302
    deployment = Record.objects.get(kind="deployment")
    url = reverse("assist-deployment", args=[deployment.uuid])
    status_url = reverse("assist-deployment-status", args=[deployment.uuid])

    page = text_of(alice.get(url))
    assert 'id="report-status"' in page and "Wang Li" in page and "Turkistan Region (KZ-61)" in page
    assert 'href="mailto:wang.li@example.org"' in page and "Regional reference laboratory" in page
    # Not for other members, nor for another organisation of CN (bob): a status report is a version of the record.
    for reader in (carol, client_for(people.world.dave), client_for(people.umid), client_for(people.world.bob)):
        answer = reader.get(url)
        assert answer.status_code == 200 and 'id="report-status"' not in text_of(answer)
    assert client_for(people.ivan).get(url).status_code == 404
    # The request page links it.
    assert url in text_of(carol.get(reverse("assist-request", args=[request_id])))

    assert alice.post(status_url, {"status": "in_transit", "note": "left Urumqi"}).status_code == 302
    arrived = alice.post(status_url, {"status": "arrived", "delivered": "3000"})
    assert arrived.status_code == 302 and arrived["Location"] == url + "#history"
    page = text_of(alice.get(url))
    options = re.findall(r'<option value="(\w+)"', page.split('id="status"')[1].split("</select>")[0])
    assert options == ["arrived", "operating", "demobilised", "returned"]  # the current and those after it
    assert 'id="deployment-delivered">3000 tests' in page and "left Urumqi" in page
    assert page.count("<li><time") == 3 and 'id="deployment-departure">2026-05-04' in page

    seq = Record.objects.get(pk=deployment.pk).current_seq
    cases = {
        "status": [
            ({"status": "in_transit"}, 409, "The deployment is Arrived: a status report goes forward only."),
            ({"status": "arrived"}, 409, "The deployment is already Arrived"),
            ({"status": "landed"}, 400, "Choose a status."),
        ],
        "delivered": [
            ({"status": "operating", "delivered": "1000"}, 409, "3000 tests are already reported delivered"),
            ({"status": "operating", "delivered": "4001"}, 400, "deployment&#x27;s quantity (4000 tests)"),
            ({"status": "operating", "delivered": "lots"}, 400, "as a whole number"),
        ],
    }
    for name, tries in cases.items():
        for data, status, message in tries:
            answer = alice.post(status_url, data)
            assert answer.status_code == status, (data, text_of(answer))
            shown = text_of(answer)
            assert f'id="{name}-error"' in shown and f'href="#{name}"' in shown and message in shown, (data, shown)
    for other in (carol, client_for(people.world.bob)):
        forbidden = other.post(status_url, {"status": "operating"})
        assert forbidden.status_code == 403 and "report-status" not in text_of(forbidden)
        assert "Only the focal points of the organisation that recorded the deployment" in text_of(forbidden)
    assert client_for(people.ivan).post(status_url, {"status": "operating"}).status_code == 404
    assert Record.objects.get(pk=deployment.pk).current_seq == seq  # nothing stored

    assert alice.post(status_url, {"status": "operating", "delivered": "4000"}).status_code == 302
    shown = text_of(carol.get(reverse("assist-request", args=[request_id])))
    assert page_ledger(shown)["delivered"] == "4000" and "4000 delivered" in shown


def test_an_offer_made_on_another_node_is_committed_and_deployed_there(people: People) -> None:
    request_id, offers = _setup(people)
    # The offer as a peer's node would have sent it: its origin is another node.
    Record.objects.filter(pk=offers["CN"].pk).update(origin_node=uuid.uuid4())
    cn = str(offers["CN"].uuid)
    alice = client_for(people.world.alice)
    shown = text_of(alice.get(reverse("assist-request", args=[request_id])))
    assert "committed and deployed on its own node" in shown and f'id="commit-{cn}"' not in shown
    refused = alice.post(reverse("assist-commit", args=[cn]), {"quantity": "10", "request": request_id})
    assert refused.status_code == 409 and "committed and deployed on its own node" in text_of(refused)
    url = reverse("assist-deploy", args=[cn]) + f"?request={request_id}"
    assert "committed and deployed on its own node" in text_of(alice.get(url))
    answer = alice.post(url, GOOD)
    assert answer.status_code == 409 and 'id="quantity-error"' in text_of(answer)
    assert not Record.objects.filter(kind__in=["assistance_commitment", "deployment"]).exists()
