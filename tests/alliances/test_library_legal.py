"""The law alliance's legal register through the API: who may write an entry for which member, the entry's rules
(status and date, link, topics, languages), filters, revision, withdrawal and the audience filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accord.alliances.library_models import LegalInstrumentView
from accord.records.models import Record
from tests.alliances.library_support import Shelf, shelf, token_client

__all__ = ["shelf"]


def entry(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "member": "RU",
        "title": "Федеральный закон о санитарно-эпидемиологическом благополучии населения (демо)",
        "title_translations": {"en": "Federal law on the sanitary-epidemiological welfare of the population (demo)"},
        "original_language": "ru",
        "adopted": "1999-03-30",
        "status": "amended",
        "citation": "Demo citation RU-52",
        "link": "https://example.org/ru/52-fz",
        "summary": {"ru": "Санитарно-эпидемиологические требования и карантинные меры."},
        "topics": ["sanitary_epidemiological_law", "quarantine"],
    }
    found.update(changes)
    return found


def _client(token_for: Any, account: Any) -> Client:
    return token_client(token_for(account))


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/legal-register", body, content_type="application/json")


def test_an_entry_is_added_read_listed_and_revised(shelf: Shelf, token_for: Any) -> None:
    ruslan = _client(token_for, shelf.ruslan)  # an expert of a RU law alliance (council) university
    answer = _post(ruslan, entry())
    assert answer.status_code == 201, answer.content
    out = answer.json()
    assert out["member"] == "RU" and out["status"] == "amended" and out["seq"] == 1
    assert out["topics"] == ["sanitary_epidemiological_law", "quarantine"]
    carol = _client(token_for, shelf.world.carol)
    assert carol.get(f"/api/v1/legal-register/{out['id']}").json()["citation"] == "Demo citation RU-52"
    listed = carol.get("/api/v1/legal-register", {"member": "RU", "topic": "quarantine", "status": "amended"}).json()
    assert [item["id"] for item in listed["items"]] == [out["id"]] and listed["count"] == 1
    assert carol.get("/api/v1/legal-register", {"topic": "cross_border_data_sharing"}).json()["count"] == 0
    assert carol.get("/api/v1/legal-register", {"member": "CN"}).json()["count"] == 0
    assert carol.get("/api/v1/legal-register", {"status": "repealed"}).json()["count"] == 0

    changed = ruslan.put(
        f"/api/v1/legal-register/{out['id']}",
        {**entry(status="repealed", topics=["quarantine"]), "expected_seq": 1},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["seq"] == 2 and changed.json()["status"] == "repealed"
    view = LegalInstrumentView.objects.get(record__uuid=out["id"])
    assert view.status == "repealed" and view.topics == ",quarantine,"
    stale = ruslan.put(
        f"/api/v1/legal-register/{out['id']}", {**entry(), "expected_seq": 1}, content_type="application/json"
    )
    assert stale.status_code == 409
    moved = ruslan.put(f"/api/v1/legal-register/{out['id']}", entry(member="KZ"), content_type="application/json")
    assert moved.status_code == 400 and moved.json()["field"] == "member"


def test_who_may_write_for_which_member(shelf: Shelf, token_for: Any) -> None:
    before = Record.objects.filter(kind="legal_instrument").count()
    # an expert of a RU law university writes RU entries, never another member's
    refused = _post(_client(token_for, shelf.ruslan), entry(member="CN"))
    assert refused.status_code == 403 and refused.json()["field"] == "member"
    # an expert of a university on no law alliance council, a viewer, a focal point for another member
    for account, member in ((shelf.lev, "RU"), (shelf.lena, "CN"), (shelf.world.alice, "KZ")):
        answer = _post(_client(token_for, account), entry(member=member))
        assert answer.status_code == 403, (account.username, answer.content)
    # li is an expert of a CN university in the medicine alliance, not the law alliance
    assert _post(_client(token_for, shelf.li), entry(member="CN")).status_code == 403
    assert Record.objects.filter(kind="legal_instrument").count() == before
    # a member's focal point writes for it; the Secretariat's coordinators for any member state
    assert _post(_client(token_for, shelf.world.alice), entry(member="CN", original_language="zh")).status_code == 201
    assert _post(_client(token_for, shelf.world.sam), entry(member="KZ")).status_code == 201
    # but not for the Secretariat itself, which has no law of its own here
    answer = _post(_client(token_for, shelf.world.sam), entry(member="SCO"))
    assert answer.status_code == 400 and answer.json()["field"] == "member"
    # another organisation of the member may not revise an entry it did not write (the record core's rule)
    ru_entry = _post(_client(token_for, shelf.ruslan), entry()).json()["id"]
    other = _client(token_for, shelf.world.sam).put(
        f"/api/v1/legal-register/{ru_entry}", entry(status="repealed"), content_type="application/json"
    )
    assert other.status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"link": "ftp://example.org/law"}, "link"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "https://"}, "link"),
        ({"adopted": None}, "adopted"),  # only a draft may have no date
        ({"adopted": "1999-02-30"}, "adopted"),
        ({"status": "suspended"}, "status"),
        ({"topics": []}, "topics"),
        ({"topics": ["tax_law"]}, "topics"),
        ({"topics": ["quarantine", "quarantine"]}, "topics"),
        ({"original_language": "xx"}, "original_language"),
        ({"title": "  "}, "title"),
        ({"citation": ""}, "citation"),
        ({"title_translations": {"de": "Gesetz"}}, "title_translations"),
        ({"member": "XX"}, "member"),
    ],
)
def test_broken_rules_are_a_4xx_naming_the_field(
    shelf: Shelf, token_for: Any, changes: dict[str, Any], field: str
) -> None:
    before = Record.objects.filter(kind="legal_instrument").count()
    answer = _post(_client(token_for, shelf.ruslan), entry(**changes))
    assert answer.status_code in (400, 422), answer.content
    assert answer.json()["field"].split(".")[0] == field, answer.json()
    assert Record.objects.filter(kind="legal_instrument").count() == before


def test_a_draft_needs_no_date_and_the_link_is_never_fetched(shelf: Shelf, token_for: Any) -> None:
    answer = _post(
        _client(token_for, shelf.ruslan),
        entry(status="draft", adopted=None, link="http://192.0.2.1/never-fetched"),
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["adopted"] is None and answer.json()["link"] == "http://192.0.2.1/never-fetched"


def test_an_entry_outside_the_readers_audience_is_never_shown(shelf: Shelf, token_for: Any) -> None:
    ruslan = _client(token_for, shelf.ruslan)
    hidden = _post(ruslan, {**entry(), "audience": {"members": ["RU", "SCO"]}, "tlp": "AMBER"}).json()["id"]
    carol = _client(token_for, shelf.world.carol)
    assert carol.get(f"/api/v1/legal-register/{hidden}").status_code == 404
    assert carol.get("/api/v1/legal-register").json()["count"] == 0
    assert carol.get("/api/v1/legal-register", {"q": "санитарно"}).json()["count"] == 0
    put = carol.put(f"/api/v1/legal-register/{hidden}", entry(), content_type="application/json")
    assert put.status_code == 404
    sam = _client(token_for, shelf.world.sam)
    assert sam.get("/api/v1/legal-register", {"q": "санитарного"}).json()["count"] == 1


def test_withdrawing_an_entry_takes_it_off_the_register(shelf: Shelf, token_for: Any) -> None:
    ruslan = _client(token_for, shelf.ruslan)
    found = _post(ruslan, entry()).json()["id"]
    answer = ruslan.post(
        f"/api/v1/legal-register/{found}/withdraw", {"reason": "entered twice"}, content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json()["state"] == "withdrawn"
    assert ruslan.get("/api/v1/legal-register").json()["count"] == 0
    assert ruslan.get(f"/api/v1/legal-register/{found}").json()["reason"] == "entered twice"
