"""The pages of mutual assistance (Django test client): the request form with its errors named on their fields, the
request page with its ledger, offers by two other members and partial acceptances (the 409 shown with the quantity
still open), who sees which form, and the matching board with an unsolicited offer accepted from it."""

from __future__ import annotations

from django.urls import reverse

from accord.records.envelope import Audience
from accord.records.models import Record
from accord.response import assist_actions
from tests.conftest import client_for
from tests.response.assist_support import page_ledger
from tests.response.conftest import People, measles, text_of

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])


def _request_form(**changes: str) -> dict[str, str]:
    data = {
        "resource_type": "pcr_tests",
        "detail": "measles virus",
        "quantity": "10000",
        "needed_by": "2026-05-10",
        "region": "KZ-61",
        "priority": "high",
        "conditions": "Russian-speaking trainers",
        "audience": "incident",
    }
    data.update(changes)
    return data


def test_request_two_offers_and_partial_acceptances_through_the_pages(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    carol, alice, umid = (client_for(a) for a in (people.world.carol, people.world.alice, people.umid))
    page = text_of(carol.get(reverse("incident", args=[incident.uuid])))
    assert reverse("assist-board", args=[incident.uuid]) in page
    form = text_of(carol.get(reverse("assist-request-new", args=[incident.uuid])))
    assert "PCR tests — tests" in form and "Turkistan Region (KZ-61)" in form and "Osh Region" not in form
    made = carol.post(reverse("assist-request-new", args=[incident.uuid]), _request_form())
    assert made.status_code == 302, text_of(made)
    request = Record.objects.get(kind="assistance_request")
    assert made["Location"] == reverse("assist-request", args=[request.uuid])
    url = made["Location"]

    # Two other members offer through the form; the requester sees no offer form, they see no accept form.
    shown = text_of(alice.get(url))
    assert 'id="offer-quantity"' in shown and "accept-form" not in shown
    assert "Russian-speaking trainers" in shown and page_ledger(shown)["requested"] == "10000"
    offer_url = reverse("assist-offer-new", args=[request.uuid])
    sent = alice.post(offer_url, {"quantity": "6000", "available_from": "2026-05-03", "note": "from the reserve"})
    assert sent.status_code == 302 and sent["Location"].endswith("#offers")
    assert umid.post(offer_url, {"quantity": "6000", "lead_time_days": "3"}).status_code == 302
    offers = {o.current_version.body["member"]: o for o in Record.objects.filter(kind="assistance_offer")}  # type: ignore[union-attr]
    shown = text_of(carol.get(url))
    assert 'id="offer-quantity"' not in shown and shown.count('class="inline-form accept-form"') == 2
    assert page_ledger(shown)["offered"] == "12000"

    # carol accepts 6000 from CN; 6000 more from UZ is refused with the quantity still open; 4000 is accepted.
    accept_cn = reverse("assist-accept", args=[offers["CN"].uuid])
    accept_uz = reverse("assist-accept", args=[offers["UZ"].uuid])
    assert carol.post(accept_cn, {"quantity": "6000", "request": str(request.uuid)}).status_code == 302
    refused = carol.post(accept_uz, {"quantity": "6000", "request": str(request.uuid)})
    assert refused.status_code == 409
    assert "4000 tests are still open" in text_of(refused)
    assert f'aria-describedby="accept-error-{offers["UZ"].uuid}"' in text_of(refused)
    assert Record.objects.filter(kind="assistance_acceptance").count() == 1  # nothing stored
    assert carol.post(accept_uz, {"quantity": "4000", "request": str(request.uuid)}).status_code == 302
    shown = text_of(umid.get(url))
    assert page_ledger(shown) == {
        "requested": "10000",
        "offered": "12000",
        "accepted": "10000",
        "committed": "0",
        "delivered": "0",
        "gap": "0",
        "status": "Covered",
    }
    assert "Accepted 4000 tests offered by UZ" in shown and "Accepted 6000 tests offered by CN" in shown
    # Covered: another member may still make a standby offer, and the form says the request is covered.
    assert 'id="offer-quantity"' in shown and 'id="covered-note"' in shown


def test_the_request_form_names_each_wrong_field_and_stores_nothing(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    carol = client_for(people.world.carol)
    url = reverse("assist-request-new", args=[incident.uuid])
    refused = carol.post(url, _request_form(resource_type="unicorns", quantity="0", needed_by="", audience="named"))
    assert refused.status_code == 400
    page = text_of(refused)
    for name in ("resource_type", "quantity", "needed_by"):
        assert f'id="{name}-error"' in page and f'href="#{name}"' in page
    assert 'id="audience-error"' in page and "Choose the members who may see the request." in page
    # A rule of the kind: the region is the requester's own.
    wrong_region = carol.post(url, _request_form(region="KG-O"))
    assert wrong_region.status_code == 400 and 'id="region-error"' in text_of(wrong_region)
    assert "KG-O is a region of KG, not of KZ" in text_of(wrong_region)
    assert not Record.objects.filter(kind="assistance_request").exists()
    # Only a focal point of an affected member (or the Secretariat) requests: not CN, not a viewer.
    assert client_for(people.world.alice).get(url).status_code == 403
    assert client_for(people.kim).post(url, _request_form(region="KG-O")).status_code == 403


def test_who_sees_the_request_and_its_forms(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    version = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="ppe_respirators",
        quantity=500,
        needed_by="2026-05-10",
        region="KZ-61",
        audience=Audience(members=["KZ", "CN", "SCO"]),
    )
    url = reverse("assist-request", args=[version.record_uuid])
    assert client_for(people.world.alice).get(url).status_code == 200
    assert client_for(people.umid).get(url).status_code == 404  # UZ is not in the request's audience
    assert client_for(people.ivan).get(url).status_code == 404
    assert client_for(people.world.dave).get(url).status_code == 200  # a viewer of KZ: no forms
    page = text_of(client_for(people.world.dave).get(url))
    assert "accept-form" not in page and 'id="offer-quantity"' not in page
    board = text_of(client_for(people.umid).get(reverse("assist-board", args=[incident.uuid])))
    assert "Respirators" not in board and "No open request." in board


def test_the_board_matches_offers_and_accepts_an_unsolicited_one(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    carol, alice = people.world.carol, people.world.alice
    wanted = assist_actions.create_request(
        incident.uuid,
        acting_user=carol,
        resource_type="ppe_respirators",
        quantity=1000,
        needed_by="2026-05-10",
        region="KZ-61",
    )
    assist_actions.make_offer(wanted.record_uuid, acting_user=people.umid, quantity=400, available_from="2026-05-20")
    unsolicited = assist_actions.offer_unsolicited(
        incident.uuid, acting_user=alice, resource_type="ppe_respirators", quantity=1500, note="N95, certified"
    )
    assist_actions.offer_unsolicited(incident.uuid, acting_user=alice, resource_type="ventilators", quantity=5)
    board_url = reverse("assist-board", args=[incident.uuid])
    page = text_of(client_for(carol).get(board_url))
    assert 'id="request-assistance"' in page
    assert "candidate-CN" in page and "Fills the gap" in page
    assert "candidate-UZ" not in page  # available only after the request's date
    assert page.count('class="waiting-offer"') == 2 and "Request this resource type first to accept it." in page
    assert "accept-form" in page
    assert "accept-form" not in text_of(client_for(alice).get(board_url))
    accept = reverse("assist-accept", args=[unsolicited.record_uuid])
    form = {"from": "board", "request": str(wanted.record_uuid)}
    refused = client_for(carol).post(accept, {**form, "quantity": "1200"})
    assert refused.status_code == 409 and "1000 pieces are still open" in text_of(refused)
    done = client_for(carol).post(accept, {**form, "quantity": "1000"})
    assert done.status_code == 302 and done["Location"] == board_url
    page = text_of(client_for(carol).get(board_url))
    assert "Covered, withdrawn and closed requests" in page and "1000 / 1000" in page
    shown = text_of(client_for(carol).get(reverse("assist-request", args=[wanted.record_uuid])))
    assert page_ledger(shown)["accepted"] == "1000" and "Unsolicited" in shown
