"""The live stream, GET /api/v1/stream, served by a real ASGI server (uvicorn in a thread, on 127.0.0.1).

Alerts published through the action functions arrive on open streams of the people who may see them and of
nobody else; a stream resumes after Last-Event-ID (a visible version's arrival number, or the sealed cursor a
stream starts with); the caller is re-checked while the stream is open; idle streams cost one poll per
process, not one per stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from accord.alerts import actions as alert_actions
from accord.members import actions as member_actions
from accord.notify import stream
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.models import Record, Version
from tests.alerts.support import cap, info
from tests.conftest import World, client_for
from tests.notify.asgi_server import AsgiServer, SseClient, asgi_server


@pytest.fixture
def people(transactional_db: None, world: World) -> World:
    return world


@pytest.fixture
def server(people: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[AsgiServer]:
    monkeypatch.setattr(stream, "POLL_SECONDS", 0.1)
    with asgi_server() as running:
        yield running


@pytest.fixture
def token(people: World) -> Any:
    def make(account: Any, scope: str = "read") -> str:
        _, text = member_actions.create_token(account, name="stream", scope=scope, acting_user=None)
        return text

    return make


def _publish(author: Any, members: list[str], headline: str, **kwargs: Any) -> Version:
    fields: dict[str, Any] = {"audience": Audience(members=members), "tlp": "AMBER", "acting_user": author}
    fields.update(kwargs)
    return alert_actions.publish_alert(cap(info(headline=headline)), **fields).version


def _open(server: AsgiServer, bearer: str, **headers: str) -> SseClient:
    client = SseClient(server, headers={"Authorization": f"Bearer {bearer}", **headers}).open()
    assert client.status == 200, client.body()
    return client


def _headlines(events: list[Any]) -> list[str]:
    return [e.json()["title"] for e in events]


def test_the_stream_needs_an_account(server: AsgiServer) -> None:
    client = SseClient(server).open()
    assert client.status == 401
    assert "authentication required" in client.body()
    client = SseClient(server, headers={"Authorization": "Bearer accord_000000000000.nonsense"}).open()
    assert client.status == 401


def test_alerts_arrive_on_the_streams_of_their_audience_only(people: World, server: AsgiServer, token: Any) -> None:
    carol = _open(server, token(people.carol))  # KZ
    alice = _open(server, token(people.alice, "feed"))  # CN, with a feed token
    try:
        assert carol.content_type.startswith("text/event-stream")
        for_cn = _publish(people.sam, ["CN"], "For China only")
        for_kz = _publish(people.sam, ["KZ"], "For Kazakhstan only")
        got = carol.next_event()
        assert got is not None
        assert got.event == "alert"
        assert got.id == str(for_kz.pk)
        data = got.json()
        assert data["title"] == "For Kazakhstan only"
        assert data["record"] == str(for_kz.record_uuid)
        assert data["seq"] == 1 and data["status"] == "actual" and data["tlp"] == "AMBER"
        assert data["alert"]["severity"] == "Severe" and data["alert"]["msg_type"] == "Alert"
        assert data["url"] == f"/alerts/{for_kz.record_uuid}/"
        assert data["cap"] == f"/api/v1/alerts/{for_kz.record_uuid}.cap"
        assert carol.retry == stream.RETRY_MS
        got = alice.next_event()
        assert got is not None and got.id == str(for_cn.pk) and got.json()["title"] == "For China only"
        # Nothing else for either: not the other's alert, under any name.
        assert carol.events_until_quiet(1.0) == []
        assert alice.events_until_quiet(0.2) == []
    finally:
        carol.close()
        alice.close()


def test_drafts_exercises_and_other_kinds_are_not_sent_without_a_subscription(
    people: World, server: AsgiServer, token: Any
) -> None:
    carol = _open(server, token(people.carol))
    try:
        _publish(people.sam, ["KZ"], "A draft", status="draft")
        _publish(people.sam, ["KZ"], "An exercise", status="exercise")
        record_actions.publish(
            "note", {"title": "A note"}, audience=Audience(members=["KZ"]), tlp="GREEN", acting_user=people.sam
        )
        real = _publish(people.sam, ["KZ"], "The real one")
        events = carol.take(1)
        assert [(e.id, e.json()["title"]) for e in events] == [(str(real.pk), "The real one")]
        assert carol.events_until_quiet(0.5) == []
    finally:
        carol.close()


def test_a_cancel_arrives_as_a_new_event_of_the_same_record(people: World, server: AsgiServer, token: Any) -> None:
    first = _publish(people.carol, ["KZ", "CN"], "Cholera in Turkistan")
    carol = _open(server, token(people.alice))
    try:
        cancelled = alert_actions.cancel_alert(first.record, acting_user=people.carol, reason="sent in error")
        got = carol.next_event()
        assert got is not None
        data = got.json()
        assert got.id == str(cancelled.version.pk)
        assert data["record"] == str(first.record_uuid) and data["seq"] == 2
        assert data["state"] == "withdrawn" and data["alert"]["msg_type"] == "Cancel"
    finally:
        carol.close()


def test_resume_after_the_last_event_id(people: World, server: AsgiServer, token: Any) -> None:
    bearer = token(people.carol)
    carol = _open(server, bearer)
    first = _publish(people.sam, ["KZ"], "First")
    got = carol.next_event()
    assert got is not None and got.id == str(first.pk)
    carol.close()

    # While carol is away: two for her, one that is not.
    second = _publish(people.sam, ["KZ"], "Second")
    _publish(people.sam, ["CN"], "Not for carol")
    third = _publish(people.sam, ["KZ", "CN"], "Third")

    again = _open(server, bearer, **{"Last-Event-ID": str(first.pk)})
    try:
        events = again.take(2)
        assert [(e.id, e.json()["title"]) for e in events] == [(str(second.pk), "Second"), (str(third.pk), "Third")]
        assert again.events_until_quiet(0.5) == []
    finally:
        again.close()
    # The query parameter does the same, for clients that cannot set headers.
    client = SseClient(
        server, path=f"/api/v1/stream?last_event_id={second.pk}", headers={"Authorization": f"Bearer {bearer}"}
    ).open()
    try:
        assert _headlines(client.take(1)) == ["Third"]
        assert client.events_until_quiet(0.5) == []
    finally:
        client.close()


def test_a_fresh_stream_starts_with_a_sealed_cursor_that_resumes_without_loss(
    people: World, server: AsgiServer, token: Any
) -> None:
    bearer = token(people.carol)
    _publish(people.sam, ["KZ"], "Before the stream")
    carol = _open(server, bearer)
    assert carol.events_until_quiet(0.5) == []
    cursor = carol.ready_id
    assert cursor is not None and cursor.startswith("c.") and carol.last_id == cursor
    assert not cursor[2:].isdigit(), "the cursor is sealed, not the plain arrival id"
    carol.close()

    missed = _publish(people.sam, ["KZ"], "Published between two connections")
    again = _open(server, bearer, **{"Last-Event-ID": cursor})
    try:
        events = again.take(1)
        assert [(e.id, e.json()["title"]) for e in events] == [(str(missed.pk), "Published between two connections")]
        assert again.events_until_quiet(0.5) == []
    finally:
        again.close()


@pytest.mark.parametrize("value", ["abc", "-1", "c.not-a-token", "1" * 30, "１２"])
def test_a_wrong_last_event_id_is_refused(people: World, server: AsgiServer, token: Any, value: str) -> None:
    client = SseClient(server, headers={"Authorization": f"Bearer {token(people.carol)}", "Last-Event-ID": value})
    try:
        client.open()
    except UnicodeEncodeError:
        return  # http.client refuses a non-Latin-1 header before sending it
    assert client.status == 400
    assert "Last-Event-ID" in client.body()


def test_a_last_event_id_beyond_the_newest_arrival_waits_for_the_next_one(
    people: World, server: AsgiServer, token: Any
) -> None:
    carol = _open(server, token(people.carol), **{"Last-Event-ID": "999999999"})
    try:
        fresh = _publish(people.sam, ["KZ"], "Next")
        got = carol.next_event()
        assert got is not None and got.id == str(fresh.pk)
    finally:
        carol.close()


def test_a_version_is_sent_once_its_writing_is_done(
    people: World, server: AsgiServer, token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version seen before its record points at it (a reader of uncommitted rows) waits; it is not passed by."""
    carol = _open(server, token(people.carol))
    try:
        first = _publish(people.sam, ["KZ"], "First")
        assert carol.next_event() is not None
        # Written as its transaction leaves it just before the record is pointed at it: the record's pointer is
        # never set, so the stream cannot have seen the version as current before the test holds it back.
        save = Record.save

        def save_but_the_pointer(record: Record, *args: Any, **kwargs: Any) -> None:
            if "current_version" not in (kwargs.get("update_fields") or ()):
                save(record, *args, **kwargs)

        monkeypatch.setattr(Record, "save", save_but_the_pointer)
        later = _publish(people.sam, ["KZ"], "Later")
        monkeypatch.undo()
        held = Record.objects.filter(pk=later.record_id)
        assert held.get().current_version_id is None
        assert stream.newest_arrival() == first.pk
        assert carol.events_until_quiet(1.0) == []
        held.update(current_seq=1, current_version=later.pk)
        got = carol.next_event()
        assert got is not None and (got.id, got.json()["title"]) == (str(later.pk), "Later")
    finally:
        carol.close()


def test_the_web_session_opens_the_stream(people: World, server: AsgiServer) -> None:
    session = client_for(people.carol).cookies["sessionid"].value
    client = SseClient(server, headers={"Cookie": f"sessionid={session}"}).open()
    try:
        assert client.status == 200
        fresh = _publish(people.sam, ["KZ"], "Seen in the browser")
        got = client.next_event()
        assert got is not None and got.id == str(fresh.pk)
    finally:
        client.close()


def test_the_headline_is_in_the_readers_language(people: World, server: AsgiServer, token: Any) -> None:
    body = cap(info(headline="Cholera in Turkistan"), info("ru-RU", headline="Холера в Туркестанской области"))
    client = _open(server, token(people.carol), **{"Accept-Language": "ru"})
    try:
        alert_actions.publish_alert(body, audience=Audience(members=["KZ"]), tlp="AMBER", acting_user=people.sam)
        got = client.next_event()
        assert got is not None and got.json()["title"] == "Холера в Туркестанской области"
    finally:
        client.close()


def test_the_stream_ends_when_the_account_is_disabled(
    people: World, server: AsgiServer, token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.5)
    client = _open(server, token(people.carol))
    try:
        member_actions.set_active(people.carol, False, acting_user=None)
        started = time.monotonic()
        assert client.events_until_quiet(5) == []
        assert time.monotonic() - started < 4.5  # ended by the server, not by the quiet timeout
    finally:
        client.close()


def test_the_stream_ends_when_its_token_is_revoked(
    people: World, server: AsgiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.5)
    api_token, text = member_actions.create_token(people.carol, name="stream", scope="read", acting_user=None)
    client = _open(server, text)
    try:
        member_actions.revoke_token(api_token, acting_user=None)
        started = time.monotonic()
        assert client.events_until_quiet(5) == []
        assert time.monotonic() - started < 4.5
    finally:
        client.close()


def test_an_idle_stream_sends_heartbeats(
    people: World, server: AsgiServer, token: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.4)
    client = _open(server, token(people.carol))
    try:
        assert client.events_until_quiet(1.5) == []
        assert client.comments.count("keepalive") >= 2
    finally:
        client.close()


def test_open_streams_share_one_bounded_poll(people: World, server: AsgiServer, token: Any) -> None:
    clients = [_open(server, token(account)) for account in (people.alice, people.bob, people.carol, people.sam)]
    try:
        for client in clients:
            client.events_until_quiet(0.2)
        beacons = [found for loop, found in stream._beacons.items() if not loop.is_closed()]
        assert len(beacons) == 1
        before = beacons[0].polls
        time.sleep(2.0)
        polls = beacons[0].polls - before
        # Every POLL_SECONDS (0.1 s here) once for all four streams: about 20, never one per stream per turn.
        assert 3 <= polls <= 25, polls
    finally:
        for client in clients:
            client.close()


def test_under_wsgi_the_stream_answers_what_has_arrived_and_ends(people: World) -> None:
    first = _publish(people.sam, ["KZ"], "First")
    second = _publish(people.sam, ["KZ"], "Second")
    _publish(people.sam, ["CN"], "Not for carol")
    client: Client = client_for(people.carol)
    response = client.get("/api/v1/stream", headers={"Last-Event-ID": str(first.pk)})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert text.startswith(f"retry: {stream.WSGI_RETRY_MS}\nid: c.")
    assert "\nevent: ready\n" in text
    assert f"id: {second.pk}\nevent: alert\n" in text
    assert "Not for carol" not in text and '"First"' not in text


def test_closing_the_streams_ends_them_at_once(people: World, server: AsgiServer, token: Any) -> None:
    """What `accord serve` does when it is told to stop: streams end, so shutting down need not wait for them."""
    clients = [_open(server, token(people.carol)), _open(server, token(people.alice))]
    try:
        for client in clients:
            assert client.events_until_quiet(0.3) == []
        started = time.monotonic()
        stream.close_streams()
        for client in clients:
            assert client.next_event(timeout=5) is None  # the end of the stream, not a timeout
        assert time.monotonic() - started < 2
    finally:
        for client in clients:
            client.close()


def test_subscriptions_add_other_kinds_and_name_themselves(people: World, server: AsgiServer, token: Any) -> None:
    from accord.notify import actions as notify_actions

    notes = notify_actions.create_subscription(
        channels=[], filters=notify_actions.Filters(kinds=["note"]), account=people.carol, acting_user=people.carol
    )
    severe = notify_actions.create_subscription(
        channels=[],
        filters=notify_actions.Filters(kinds=["alert"], min_severity="Extreme"),
        account=people.carol,
        acting_user=people.carol,
    )
    bearer = token(people.carol)
    everything = _open(server, bearer)
    only = SseClient(server, path="/api/v1/stream?only=subscribed", headers={"Authorization": f"Bearer {bearer}"})
    only.open()
    try:
        note = record_actions.publish(
            "note", {"title": "A note for KZ"}, audience=Audience(members=["KZ"]), tlp="GREEN", acting_user=people.sam
        )
        record_actions.publish(
            "note", {"title": "A note for CN"}, audience=Audience(members=["CN"]), tlp="GREEN", acting_user=people.sam
        )
        severe_alert = _publish(people.sam, ["KZ"], "Severe, not Extreme")
        extreme = alert_actions.publish_alert(
            cap(info(headline="Extreme", severity="Extreme")),
            audience=Audience(members=["KZ"]),
            tlp="AMBER",
            acting_user=people.sam,
        ).version
        got = [(e.event, e.id, e.json()["title"], e.json()["subscriptions"]) for e in everything.take(3)]
        assert got == [
            ("record", str(note.pk), "A note for KZ", [str(notes.uuid)]),
            ("alert", str(severe_alert.pk), "Severe, not Extreme", []),
            ("alert", str(extreme.pk), "Extreme", [str(severe.uuid)]),
        ]
        assert [e.json()["title"] for e in only.take(2)] == ["A note for KZ", "Extreme"]
        assert everything.events_until_quiet(0.5) == [] and only.events_until_quiet(0.1) == []
    finally:
        everything.close()
        only.close()
    client = SseClient(server, path="/api/v1/stream?only=everything", headers={"Authorization": f"Bearer {bearer}"})
    assert client.open().status == 422
