"""The pages that end things in mutual assistance and the unsolicited offer form (Django test client): the requester
withdraws or closes its request with a reason, the offering member withdraws its offer (what was accepted and not
committed goes back to the gap), a covered request still takes standby offers, and an offer no request asked for is
made from the board; each refusal is shown on its field with nothing stored."""

from __future__ import annotations

from django.urls import reverse

from accord.records.envelope import Audience
from accord.records.models import Record, Version
from accord.response import actions, assist_actions, assist_deploy
from tests.conftest import client_for
from tests.response.assist_support import page_ledger
from tests.response.conftest import Api, People, measles, text_of

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])


def _request(people: People, incident: Record, quantity: int = 100) -> str:
    version = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="pcr_tests",
        quantity=quantity,
        needed_by="2026-05-10",
        region="KZ-61",
    )
    return str(version.record_uuid)


def test_the_requester_withdraws_or_closes_its_request_with_a_reason(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    request_id = _request(people, incident)
    offer = assist_actions.make_offer(request_id, acting_user=people.world.alice, quantity=60)
    carol, alice, dave = (client_for(a) for a in (people.world.carol, people.world.alice, people.world.dave))
    url = reverse("assist-request", args=[request_id])
    mine = text_of(carol.get(url))
    assert 'id="withdraw-form"' in mine and 'id="close-form"' in mine and "accept-form" in mine
    for other in (alice, dave):
        assert 'id="withdraw-form"' not in text_of(other.get(url))

    withdraw_url = reverse("assist-request-withdraw", args=[request_id])
    close_url = reverse("assist-request-close", args=[request_id])
    before = Version.objects.count()
    assert alice.post(withdraw_url, {"reason": "not ours"}).status_code == 403
    assert dave.post(close_url, {"reason": "a viewer"}).status_code == 403
    blank = carol.post(withdraw_url, {"reason": "  "})
    assert blank.status_code == 400
    page = text_of(blank)
    assert 'id="withdraw-error"' in page and 'aria-describedby="withdraw-error"' in page and "Say why" in page
    too_long = carol.post(close_url, {"reason": "x" * 2001})
    assert too_long.status_code == 400 and 'id="close-error"' in text_of(too_long)
    assert client_for(people.world.carol).get(reverse("assist-request-withdraw", args=[request_id])).status_code == 405
    assert Version.objects.count() == before

    closed = carol.post(close_url, {"reason": "the national reserve covers the rest"})
    assert closed.status_code == 302 and closed["Location"] == url
    page = text_of(carol.get(url))
    assert 'id="request-status">Closed<' in page and "the national reserve covers the rest" in page
    assert "accept-form" not in page and 'id="withdraw-form"' not in page and "Closed" in page
    seen = text_of(alice.get(url))
    assert 'id="offer-quantity"' not in seen and page_ledger(seen)["status"] == "Closed"
    before = Version.objects.count()
    again = carol.post(withdraw_url, {"reason": "changed my mind"})
    assert again.status_code == 409 and "already closed" in text_of(again)
    assert Version.objects.count() == before
    # The offer on it stays as it was.
    assert Record.objects.get(uuid=offer.record_uuid).current_version.state == "active"  # type: ignore[union-attr]


def test_the_secretariat_withdraws_its_own_request(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    version = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.sam,
        resource_type="expert",
        detail="epidemiologist",
        quantity=2,
        needed_by="2026-05-10",
        region="KG-O",
    )
    url = reverse("assist-request", args=[version.record_uuid])
    sam, carol = client_for(people.world.sam), client_for(people.world.carol)
    assert 'id="withdraw-form"' in text_of(sam.get(url)) and 'id="withdraw-form"' not in text_of(carol.get(url))
    assert (
        carol.post(reverse("assist-request-withdraw", args=[version.record_uuid]), {"reason": "x"}).status_code == 403
    )
    done = sam.post(reverse("assist-request-withdraw", args=[version.record_uuid]), {"reason": "KG found a team"})
    assert done.status_code == 302
    assert 'id="request-status">Withdrawn<' in text_of(sam.get(url))


def test_the_offering_member_withdraws_its_offer_and_the_gap_opens_again(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    request_id = _request(people, incident)
    world = people.world
    from_cn = assist_actions.make_offer(request_id, acting_user=world.alice, quantity=60).record_uuid
    from_uz = assist_actions.make_offer(request_id, acting_user=people.umid, quantity=50).record_uuid
    assist_actions.accept(from_cn, acting_user=world.carol, quantity=60)
    assist_actions.accept(from_uz, acting_user=world.carol, quantity=40)
    assist_deploy.commit(from_cn, acting_user=world.alice, quantity=20)
    alice, umid, carol = client_for(world.alice), client_for(people.umid), client_for(world.carol)
    url = reverse("assist-request", args=[request_id])

    # Covered: other members still see the offer form, which says an offer now is a standby one (as the API takes it).
    kira = text_of(client_for(people.kira).get(url))
    assert page_ledger(kira)["status"] == "Covered" and 'id="covered-note"' in kira and 'id="offer-quantity"' in kira
    assert Api(people.kira).post(f"/api/v1/requests/{request_id}/offers", {"quantity": 5}).status_code == 201
    assert f'id="withdraw-offer-{from_cn}"' in text_of(alice.get(url))
    uz_page = text_of(umid.get(url))
    assert f'id="withdraw-offer-{from_uz}"' in uz_page and f'id="withdraw-offer-{from_cn}"' not in uz_page
    assert "withdraw-offer-form" not in text_of(carol.get(url))

    withdraw_url = reverse("assist-offer-withdraw", args=[from_cn])
    before = Version.objects.count()
    assert carol.post(withdraw_url, {"reason": "no", "request": request_id}).status_code == 403
    refused = client_for(world.bob).post(withdraw_url, {"reason": "CN, another ministry", "request": request_id})
    assert refused.status_code == 403 and f'id="withdraw-offer-error-{from_cn}"' in text_of(refused)
    blank = alice.post(withdraw_url, {"reason": "", "request": request_id})
    assert blank.status_code == 400
    assert f'aria-describedby="withdraw-offer-error-{from_cn}"' in text_of(blank) and "Say why" in text_of(blank)
    assert Version.objects.count() == before

    done = alice.post(withdraw_url, {"reason": "needed at home", "request": request_id})
    assert done.status_code == 302 and done["Location"].endswith("#offers")
    page = text_of(carol.get(url))
    ledger = page_ledger(page)
    assert (ledger["accepted"], ledger["committed"], ledger["gap"], ledger["status"]) == (
        "60",
        "20",
        "40",
        "Partly covered",
    )
    assert "Withdrew the offer: needed at home" in page
    assert f'id="withdraw-offer-{from_cn}"' not in text_of(alice.get(url))
    # The gap that opened again takes the rest of UZ's offer.
    assert (
        carol.post(reverse("assist-accept", args=[from_uz]), {"quantity": "10", "request": request_id}).status_code
        == 302
    )
    assert page_ledger(text_of(carol.get(url)))["accepted"] == "70"


def _offer_form(**changes: str) -> dict[str, str]:
    data = {
        "resource_type": "ppe_respirators",
        "detail": "",
        "quantity": "2000",
        "to_member": "KG",
        "available_from": "2026-05-03",
        "available_until": "2026-06-30",
        "lead_time_days": "4",
        "conditions": "FFP2",
        "costs_borne_by": "provider",
        "note": "from the Urumqi depot",
    }
    data.update(changes)
    return data


def test_an_unsolicited_offer_from_the_board_form(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    url = reverse("assist-unsolicited", args=[incident.uuid])
    board_url = reverse("assist-board", args=[incident.uuid])
    alice = client_for(people.world.alice)
    assert 'id="offer-unsolicited"' in text_of(alice.get(board_url))
    assert 'id="offer-unsolicited"' not in text_of(client_for(people.world.dave).get(board_url))
    form = text_of(alice.get(url))
    assert "Respirators" in form and "<optgroup" in form and 'value="KZ"' in form and 'value="KG"' in form
    # KZ, an affected member, may offer to KG, not to itself.
    own = text_of(client_for(people.world.carol).get(url))
    assert 'value="KG"' in own and '<option value="KZ"' not in own
    assert client_for(people.world.dave).get(url).status_code == 403  # a viewer
    assert client_for(people.ivan).get(url).status_code == 404  # outside the incident's audience

    before = Version.objects.count()
    refused = alice.post(
        url, _offer_form(resource_type="unicorns", quantity="0", to_member="CN", lead_time_days="soon")
    )
    assert refused.status_code == 400
    page = text_of(refused)
    for name in ("resource_type", "quantity", "to_member", "lead_time_days"):
        assert f'id="{name}-error"' in page and f'href="#{name}"' in page, name
    assert "4 problems: the offer is not sent yet" in page
    for changes, name in (
        ({"resource_type": "other"}, "detail"),
        ({"available_from": "soon"}, "available_from"),
        ({"available_until": "2026-01-01"}, "available_until"),
        ({"lead_time_days": "99999"}, "lead_time_days"),
    ):
        wrong = alice.post(url, _offer_form(**changes))
        assert wrong.status_code == 400 and f'id="{name}-error"' in text_of(wrong), (name, text_of(wrong)[:3000])
        assert 'id="error-summary"' in text_of(wrong)
    assert Version.objects.count() == before

    sent = alice.post(url, _offer_form())
    assert sent.status_code == 302 and sent["Location"] == board_url + "#waiting-offers"
    offer = Record.objects.get(kind="assistance_offer").current_version
    assert offer is not None
    assert (offer.body["member"], offer.body["to_member"], offer.body["quantity"]) == ("CN", "KG", 2000)
    assert (offer.body["lead_time_days"], offer.body["costs_borne_by"]) == (4, "provider")
    board = text_of(client_for(people.kira).get(board_url))
    assert "from the Urumqi depot" in board and "2000" in board

    # The offering member withdraws it from the board (a reason first); no one else gets the form.
    withdraw_url = reverse("assist-offer-withdraw", args=[offer.record_uuid])
    form_id = f'id="withdraw-offer-{offer.record_uuid}"'
    assert form_id in text_of(alice.get(board_url))
    assert form_id not in board and form_id not in text_of(client_for(people.world.carol).get(board_url))
    before = Version.objects.count()
    blank = alice.post(withdraw_url, {"reason": " "})
    assert blank.status_code == 400
    page = text_of(blank)
    assert f'id="withdraw-offer-error-{offer.record_uuid}"' in page and "Say why" in page and form_id in page
    assert client_for(people.kira).post(withdraw_url, {"reason": "not hers"}).status_code == 403
    assert Version.objects.count() == before
    gone = alice.post(withdraw_url, {"reason": "the depot is empty"})
    assert gone.status_code == 302 and gone["Location"] == board_url + "#waiting-offers"
    withdrawn = Record.objects.get(kind="assistance_offer").current_version
    assert withdrawn is not None and withdrawn.state == "withdrawn"
    assert "from the Urumqi depot" not in text_of(alice.get(board_url))

    # A closed incident takes no offers.
    actions.close_incident(incident, acting_user=people.world.carol, reason="over")
    assert alice.get(url).status_code == 403
    assert 'id="offer-unsolicited"' not in text_of(alice.get(board_url))
