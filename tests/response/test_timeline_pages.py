"""The incident timeline a page at a time: keyset pages cover every item once in either order, ties in signed time
are ordered by record then seq, what a reader may not see neither shows nor shifts a page, bad parameters are a 4xx
naming the field, and the incident page shows the latest items with a link to older ones."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from accord.alerts import actions as alert_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import timeline, timeline_views
from accord.response.task_actions import create_task
from accord.response.timeline_models import TimelineEntry
from tests.alerts.support import cap
from tests.conftest import client_for
from tests.response.conftest import Api, People, incident

pytestmark = pytest.mark.django_db


def _room(people: People, tasks: int) -> tuple[Api, str, list[Record]]:
    """carol's incident (KZ, KG, CN, SCO; GREEN), both consents, and `tasks` tasks set by carol."""
    carol, kira = Api(people.world.carol), Api(people.kira)
    created = carol.post("/api/v1/incidents", incident())
    assert created.status_code == 201, created.content
    incident_id = created.json()["id"]
    assert carol.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given"}).status_code == 201
    assert kira.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given"}).status_code == 201
    made = []
    for n in range(tasks):
        version = create_task(
            incident=incident_id,
            title={"en": f"Task {n}"},
            assignee_type="member",
            assignee="KG",
            acting_user=people.world.carol,
        )
        made.append(Record.objects.get(pk=version.record_id))
    return carol, incident_id, made


def _walk(api: Api, incident_id: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page from the first, following `next`; each page's `previous` leads back to the page before."""
    path = f"/api/v1/incidents/{incident_id}/timeline"
    pages: list[list[dict[str, Any]]] = []
    answer = api.get(path, **params)
    while True:
        assert answer.status_code == 200, answer.content
        body = answer.json()
        pages.append(body["items"])
        if len(pages) > 1:
            assert f'<{body["previous"]}>; rel="prev"' in answer["Link"]
            back = api.get(body["previous"])
            assert back.status_code == 200 and back.json()["items"] == pages[-2]
        else:
            assert body["previous"] is None
        if body["next"] is None:
            return pages
        assert body["cursor"] and f"cursor={body['cursor']}" in body["next"]
        assert 'rel="next"' in answer["Link"]
        answer = api.get(body["next"])


def _key(item: dict[str, Any]) -> tuple[str, str, int]:
    return (item["at"], item["record"], item["seq"])


def test_pages_cover_every_item_once_in_either_order(people: People) -> None:
    carol, incident_id, _ = _room(people, tasks=7)
    everything = carol.get(f"/api/v1/incidents/{incident_id}/timeline", limit=500).json()
    items = everything["items"]
    assert everything["next"] is None and everything["previous"] is None
    assert len(items) == 1 + 2 + 7  # opened, two consents, seven tasks
    assert [_key(i) for i in items] == sorted(_key(i) for i in items)
    oldest_first = _walk(carol, incident_id, limit=3)
    assert [len(page) for page in oldest_first] == [3, 3, 3, 1]
    assert [i for page in oldest_first for i in page] == items
    latest_first = _walk(carol, incident_id, limit=4, order="desc")
    assert [len(page) for page in latest_first] == [4, 4, 2]
    assert [i for page in latest_first for i in page] == items[::-1]
    # The default call: the whole of a short timeline, oldest first (as before pages).
    assert carol.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"] == items


def test_ties_in_signed_time_are_ordered_by_record_then_seq(people: People) -> None:
    carol, incident_id, tasks = _room(people, tasks=5)
    # Signed times have whole seconds: many items share one. Make them all share it.
    same = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert TimelineEntry.objects.filter(incident_record=incident_id).update(at=same) == 8
    record_actions.revise(tasks[2], acting_user=people.world.carol, body=tasks[2].current_version.body)  # type: ignore[union-attr]
    TimelineEntry.objects.filter(incident_record=incident_id).update(at=same)
    items = [i for page in _walk(carol, incident_id, limit=2) for i in page]
    assert len(items) == 9 and len({(i["record"], i["seq"]) for i in items}) == 9
    assert [(i["record"], i["seq"]) for i in items] == sorted((i["record"], i["seq"]) for i in items)
    backwards = [i for page in _walk(carol, incident_id, limit=2, order="desc") for i in page]
    assert backwards == items[::-1]


def test_what_a_reader_may_not_see_neither_shows_nor_shifts_a_page(people: People) -> None:
    carol, incident_id, tasks = _room(people, tasks=6)
    kz_only = Audience(members=["KZ"])
    # A task narrowed to KZ: CN sees none of its versions (its record is not visible to CN).
    hidden = tasks[1]
    record_actions.revise(hidden, acting_user=people.world.carol, audience=kz_only, tlp="AMBER")
    # A task narrowed, then widened again: CN sees its first and third versions, not the second.
    gap = tasks[4]
    record_actions.revise(gap, acting_user=people.world.carol, audience=kz_only, tlp="AMBER")
    gap.refresh_from_db()
    record_actions.revise(
        gap, acting_user=people.world.carol, audience=Audience(members=["KZ", "KG", "CN", "SCO"]), tlp="GREEN"
    )
    # kira's alert for KG and KZ linked to the incident: CN sees neither the link nor the alert.
    alert = alert_actions.publish_alert(
        cap(), audience=Audience(members=["KG", "KZ"]), tlp="AMBER", acting_user=people.kira
    ).version
    linked = Api(people.kira).post(f"/api/v1/incidents/{incident_id}/links", {"record": str(alert.record_uuid)})
    assert linked.status_code == 201, linked.content

    every = [i for page in _walk(carol, incident_id, limit=4) for i in page]
    seen_by_kz = {(i["record"], i["seq"]) for i in every}
    assert (str(hidden.uuid), 2) in seen_by_kz and (str(gap.uuid), 2) in seen_by_kz
    assert (str(alert.record_uuid), 1) in seen_by_kz
    alice = Api(people.world.alice)  # CN
    pages = _walk(alice, incident_id, limit=4)
    assert all(len(page) == 4 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 4
    shown = [(i["record"], i["seq"]) for page in pages for i in page]
    assert len(shown) == len(set(shown))
    assert str(hidden.uuid) not in {record for record, _ in shown}
    assert str(alert.record_uuid) not in {record for record, _ in shown}
    assert (str(gap.uuid), 1) in shown and (str(gap.uuid), 3) in shown and (str(gap.uuid), 2) not in shown
    expected = [
        (i["record"], i["seq"])
        for i in every
        if i["record"] not in (str(hidden.uuid), str(alert.record_uuid))
        and (i["record"], i["seq"]) != (str(gap.uuid), 2)
    ]
    assert shown == expected
    # ivan (IN) sees no incident at all.
    assert Api(people.ivan).get(f"/api/v1/incidents/{incident_id}/timeline").status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": timeline.MAX_LIMIT + 1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"order": "sideways"}, "order"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eHx5fHo"}, "cursor"),  # base64 of nonsense
    ],
)
def test_bad_parameters_are_refused_naming_the_field(people: People, params: dict[str, Any], field: str) -> None:
    carol, incident_id, _ = _room(people, tasks=0)
    answer = carol.get(f"/api/v1/incidents/{incident_id}/timeline", **params)
    assert 400 <= answer.status_code < 500, answer.content
    assert answer.json()["field"] == field


def test_the_migration_makes_the_entries_the_writers_make(people: People) -> None:
    _, incident_id, _ = _room(people, tasks=3)
    alert = alert_actions.publish_alert(
        cap(), audience=Audience(members=["KG", "KZ"]), tlp="AMBER", acting_user=people.kira
    ).version
    Api(people.kira).post(f"/api/v1/incidents/{incident_id}/links", {"record": str(alert.record_uuid)})
    fields = ("incident_node", "incident_record", "at", "record_uuid", "seq", "kind", "version", "record", "via")
    written = sorted(TimelineEntry.objects.values_list(*fields))
    assert len(written) == 1 + 2 + 3 + 1
    TimelineEntry.objects.all().delete()
    migration = importlib.import_module("accord.response.migrations.0004_timeline_entries")
    migration.backfill(apps, None)
    assert sorted(TimelineEntry.objects.values_list(*fields)) == written


def _section(response: Any) -> str:
    """The timeline panel of an incident page (the tasks panel names the tasks too)."""
    html: str = response.content.decode()
    start = html.index('<section class="panel" id="timeline"')
    return html[start : html.index("</section>", start)]


def test_the_incident_page_shows_the_latest_items_and_links_to_older_ones(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeline_views, "PAGE", 4)
    _, incident_id, _ = _room(people, tasks=5)  # 8 items: opened, two consents, five tasks
    everything = timeline.timeline(Principal.of(people.world.carol), Record.objects.get(uuid=incident_id))
    titles = [i["title"] for i in everything][::-1]  # the latest first
    browser = client_for(people.world.carol)
    url = reverse("incident", args=[incident_id])
    first = browser.get(url)
    assert first.status_code == 200
    html = _section(first)
    assert html.count('class="timeline-item') == 4
    assert all(title in html for title in titles[:4]) and titles[4] not in html
    assert 'class="timeline-latest"' not in html and 'class="timeline-newer"' not in html
    older = first.context["timeline_older"]
    assert older and f'href="?timeline={older}#timeline" rel="next" class="timeline-older"' in html
    second = _section(browser.get(url, {"timeline": older}))
    assert second.count('class="timeline-item') == 4
    assert all(title in second for title in titles[4:8])
    assert 'class="timeline-older"' not in second  # the oldest page
    assert 'class="timeline-latest"' in second and 'rel="prev" class="timeline-newer"' in second
    # A mangled cursor: the latest items, and a word that the link was not valid.
    broken = browser.get(url, {"timeline": "garbage"})
    assert broken.status_code == 200 and 'id="timeline-error"' in _section(broken)
    assert _section(broken).count('class="timeline-item') == 4
