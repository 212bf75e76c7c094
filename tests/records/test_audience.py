"""A person outside a record's audience sees nothing of it, on any read path.

Each scenario is published by alice (CN ministry of health); the table says who may see it.
`ann` is alice's colleague in the same organisation (the origin organisation).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client

from accord.members import actions as member_actions
from accord.members.models import Account
from accord.records import actions
from accord.records.envelope import Audience
from accord.records.models import Record, Version
from accord.records.principal import Principal
from tests.conftest import World, client_for


@dataclass(frozen=True)
class Scenario:
    name: str
    audience: dict[str, object]
    tlp: str
    status: str
    sees: frozenset[str]


PEOPLE = ("alice", "ann", "bob", "carol", "dave", "sam", "eve", "anonymous")

SCENARIOS = [
    Scenario("public", {"everyone": True}, "CLEAR", "actual", frozenset(PEOPLE)),
    Scenario(
        "green-all", {"everyone": True}, "GREEN", "actual", frozenset({"alice", "ann", "bob", "carol", "dave", "sam"})
    ),
    Scenario("green-kz", {"members": ["KZ"]}, "GREEN", "actual", frozenset({"alice", "ann", "carol", "dave"})),
    Scenario("clear-kz", {"members": ["KZ"]}, "CLEAR", "actual", frozenset({"alice", "ann", "carol", "dave"})),
    Scenario("amber-kz", {"members": ["KZ"]}, "AMBER", "actual", frozenset({"alice", "ann", "carol", "dave"})),
    Scenario("amber-cn", {"members": ["CN"]}, "AMBER", "actual", frozenset({"alice", "ann", "bob"})),
    Scenario(
        "strict-kz-org",
        {"organisations": ["kz_health"]},
        "AMBER+STRICT",
        "actual",
        frozenset({"alice", "ann", "carol", "dave"}),
    ),
    Scenario(
        "strict-cn-emergency",
        {"organisations": ["cn_emergency"]},
        "AMBER+STRICT",
        "actual",
        frozenset({"alice", "ann", "bob"}),
    ),
    Scenario("red-carol", {"persons": ["carol"]}, "RED", "actual", frozenset({"alice", "carol"})),
    Scenario("red-sam", {"persons": ["sam"]}, "RED", "exercise", frozenset({"alice", "sam"})),
    Scenario("draft", {"everyone": True}, "GREEN", "draft", frozenset({"alice"})),
    Scenario("amber-persons", {"persons": ["dave"]}, "AMBER", "test", frozenset({"alice", "ann", "dave"})),
]
# Public means anyone, a disabled account (eve) being no more than anonymous.


def _audience(world: World, raw: dict[str, object]) -> Audience:
    resolved: dict[str, object] = {}
    for key, value in raw.items():
        if key in {"organisations", "persons"}:
            resolved[key] = [getattr(world, name).uuid for name in value]  # type: ignore[attr-defined]
        else:
            resolved[key] = value
    return Audience.model_validate(resolved)


def _people(world: World) -> dict[str, Account | None]:
    ann = member_actions.create_account(
        username="ann", organisation=world.cn_health, roles=["viewer"], password=None, acting_user=None
    )
    return {
        "alice": world.alice,
        "ann": ann,
        "bob": world.bob,
        "carol": world.carol,
        "dave": world.dave,
        "sam": world.sam,
        "eve": world.eve,
        "anonymous": None,
    }


def _api(client: Client, path: str, token: str | None) -> tuple[int, str]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.get(path, **headers)  # type: ignore[arg-type]
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_only_the_audience_sees_a_record(world: World, scenario: Scenario) -> None:
    people = _people(world)
    secret = f"zq{uuid.uuid4().hex[:12]}"
    version = actions.publish(
        "note",
        {"title": f"Report {secret}", "text": f"Details {secret}", "language": "en"},
        audience=_audience(world, scenario.audience),
        tlp=scenario.tlp,
        status=scenario.status,
        acting_user=world.alice,
        files=[actions.NewAttachment(name="original.txt", media_type="text/plain", data=secret.encode())],
    )
    record_uuid = str(version.record_uuid)
    tokens = {
        name: member_actions.create_token(person, name="t", acting_user=None)[1]
        for name, person in people.items()
        if person is not None and person.is_active
    }
    for name, person in people.items():
        allowed = name in scenario.sees
        principal = Principal.of(person)
        where = f"{scenario.name}: {name}"

        # The one filter itself, and counts through it.
        assert Record.objects.visible_to(principal).filter(uuid=record_uuid).exists() is allowed, where
        assert Version.objects.visible_to(principal).filter(record_uuid=record_uuid).count() == int(allowed), where

        # The API: list, count, search, detail, versions, attachment.
        token = tokens.get(name)
        api = Client()
        if token is not None:
            status, text = _api(api, "/api/v1/records?limit=200", token)
            assert status == 200, where
            listed = json.loads(text)
            assert (secret in text) is allowed, where
            assert listed["count"] == len(listed["items"]), where
            status, text = _api(api, f"/api/v1/records?q={secret}", token)
            assert json.loads(text)["count"] == int(allowed), where
            for path in (
                f"/api/v1/records/{record_uuid}",
                f"/api/v1/records/{record_uuid}/versions",
                f"/api/v1/records/{record_uuid}/attachments/original.txt",
            ):
                status, text = _api(api, path, token)
                if allowed:
                    assert status == 200, f"{where} {path}"
                else:
                    # Exactly what a record that never existed gets: nothing to tell them apart.
                    missing = _api(api, path.replace(record_uuid, str(uuid.uuid4())), token)
                    assert (status, text) == missing, f"{where} {path}"
                    assert status == 404 and secret not in text, f"{where} {path}"
        else:
            status, text = _api(api, "/api/v1/records", None)
            assert status == 401 and secret not in text, where

        # The web pages: the list, its count, search, and the record's own page.
        web = client_for(person) if person is not None and person.is_active else Client()
        page = web.get("/records/", {"q": secret})
        if person is None or not person.is_active:
            assert page.status_code == 302, where  # to the login page
            continue
        html = page.content.decode()
        # The search box echoes the query itself, so look for the title and the count.
        assert (f"Report {secret}" in html) is allowed, where
        assert ("1 record<" in html) is allowed, where
        assert ("0 records<" in html) is not allowed, where
        detail = web.get(f"/records/{record_uuid}/")
        assert detail.status_code == (200 if allowed else 404), where
        assert (secret in detail.content.decode()) is allowed, where


def test_public_records_reach_anonymous_callers_only_when_clear_and_for_everyone(world: World) -> None:
    actions.publish("note", {"title": "open"}, audience=Audience(everyone=True), tlp="CLEAR", acting_user=world.alice)
    actions.publish("note", {"title": "green"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice)
    actions.publish("note", {"title": "kz"}, audience=Audience(members=["KZ"]), tlp="CLEAR", acting_user=world.alice)
    visible = Record.objects.visible_to(Principal.anonymous())
    assert [r.current_version.body["title"] for r in visible if r.current_version] == ["open"]


def test_a_disabled_account_is_no_more_than_anonymous(world: World) -> None:
    assert Principal.of(world.eve).is_anonymous


def test_an_account_of_no_organisation_sees_only_public_records(world: World) -> None:
    from accord.members.models import Account

    loose = Account.objects.create_user(username="loose", password=None)
    actions.publish("note", {"title": "open"}, audience=Audience(everyone=True), tlp="CLEAR", acting_user=world.alice)
    actions.publish("note", {"title": "green"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice)
    visible = Record.objects.visible_to(Principal.of(loose))
    assert [r.current_version.body["title"] for r in visible if r.current_version] == ["open"]


def test_narrowing_the_audience_hides_the_record_at_its_new_version(world: World) -> None:
    first = actions.publish(
        "note", {"title": "wide"}, audience=Audience(everyone=True), tlp="GREEN", acting_user=world.alice
    )
    record = first.record
    actions.revise(record, acting_user=world.alice, audience=Audience(members=["CN"]), tlp="AMBER")
    carol = Principal.of(world.carol)
    assert not Record.objects.visible_to(carol).filter(pk=record.pk).exists()
    # The first version stays what it was: carol saw it when it was shared with her.
    assert list(Version.objects.visible_to(carol).filter(record=record).values_list("seq", flat=True)) == [1]
