"""Full-text search (accord/records/search.py): tokens, the database's index, the audience filter, updates."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from accord.alerts import actions
from accord.records import search
from accord.records.envelope import Audience
from accord.records.models import SearchEntry
from tests.alerts.support import cap, info
from tests.conftest import World


def test_han_runs_become_bigrams_and_words_their_stems() -> None:
    assert search.document("霍乱疫情") == "霍乱 乱疫 疫情"
    assert search.document("疫") == "疫"
    assert search.document("Вспышка холеры") == "вспышка вспышк холеры холер"
    assert search.document("Floods in Kashgar") == "floods flood in kashgar"
    assert search.document("新疆喀什地区Cholera") == "新疆 疆喀 喀什 什地 地区 cholera"
    assert search.query_tokens("холера") == ["холер"]
    assert search.query_tokens("喀什 霍乱") == ["喀什", "霍乱"]
    assert search.query_tokens("FLOODING!!") == ["flood"]
    assert search.query_tokens("?!  ") == []
    assert len(search.query_tokens(" ".join(f"w{n}" for n in range(100)))) == search.MAX_QUERY_TOKENS


def _publish(world: World, *infos: dict[str, Any], members: list[str] | None = None) -> Any:
    result = actions.publish_alert(
        cap(*infos),
        audience=Audience(members=members) if members else Audience(everyone=True),
        tlp="AMBER" if members else "GREEN",
        status="actual",
        acting_user=world.carol,
    )
    return result.version


def _found(world: World, token_for: Any, q: str, account: Any = None) -> list[str]:
    token = token_for(account or world.carol)
    response = Client().get("/api/v1/alerts", {"q": q}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    return sorted(item["event"] for item in response.json()["items"])


def test_alerts_are_found_in_chinese_russian_and_english(world: World, token_for: Any) -> None:
    _publish(world, info("zh-CN", event="霍乱疫情", headline="新疆喀什地区发生霍乱疫情", description="报告34例"))
    _publish(world, info("ru-RU", event="Вспышка холеры", headline="Холера в Туркестанской области"))
    _publish(world, info(event="Flood", headline="Floods along the Ili river", description="Roads closed"))
    assert _found(world, token_for, "霍乱") == ["霍乱疫情"]
    assert _found(world, token_for, "喀什 霍乱") == ["霍乱疫情"]
    assert _found(world, token_for, "什霍") == []  # bigrams across words that are not next to each other
    assert _found(world, token_for, "холера") == ["Вспышка холеры"]
    assert _found(world, token_for, "Туркестанская холера") == ["Вспышка холеры"]
    assert _found(world, token_for, "flooding") == ["Flood"]
    assert _found(world, token_for, "ili roads") == ["Flood"]
    assert _found(world, token_for, "ili cholera") == []
    assert _found(world, token_for, "%") == []


def test_search_finds_only_what_the_reader_may_see(world: World, token_for: Any) -> None:
    _publish(world, info(event="Anthrax", headline="Anthrax near Shymkent"), members=["KZ"])
    assert _found(world, token_for, "anthrax") == ["Anthrax"]
    assert _found(world, token_for, "anthrax", world.alice) == []  # a Chinese account is outside the audience
    response = Client().get(
        "/api/v1/records", {"q": "anthrax"}, headers={"Authorization": f"Bearer {token_for(world.alice)}"}
    )
    assert json.loads(response.content)["count"] == 0


def test_an_update_replaces_what_a_record_is_found_by(world: World, token_for: Any) -> None:
    first = _publish(world, info(event="Mudflow", headline="Mudflow in Almaty region"))
    record = first.record
    actions.update_alert(record, cap(info(event="Mudflow", headline="Mudflow in Talgar")), acting_user=world.carol)
    assert _found(world, token_for, "talgar") == ["Mudflow"]
    assert _found(world, token_for, "almaty") == []
    assert SearchEntry.objects.filter(record=record).count() == 1


def test_rebuild_indexes_every_record_again(world: World, token_for: Any) -> None:
    _publish(world, info(event="Dust storm", headline="Dust storm over Kyzylorda"))
    SearchEntry.objects.all().delete()
    assert _found(world, token_for, "kyzylorda") == []
    assert search.rebuild() == 1
    assert _found(world, token_for, "kyzylorda") == ["Dust storm"]


def test_alerts_imported_in_bulk_are_found(world: World, token_for: Any) -> None:
    from accord.alerts import bulk
    from tests.alerts.support import cap_xml

    sources = [(f"a{n}.xml", cap_xml(identifier=f"KZ-BULK-{n}")) for n in range(3)]
    report = bulk.ingest_many(sources, acting_user=world.carol)
    assert report is not None
    assert _found(world, token_for, "shymkent measles") == ["Measles"] * 3


def _pages(token: str, q: str, limit: int) -> list[str]:
    """Every identifier a searched alert list shows, following its `next` links from the first page."""
    seen: list[str] = []
    params: dict[str, Any] = {"q": q, "limit": limit}
    for _ in range(20):
        response = Client().get("/api/v1/alerts", params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [item["identifier"] for item in body["items"]]
        if body["cursor"] is None:
            return seen
        params = {"q": q, "limit": limit, "cursor": body["cursor"]}
    raise AssertionError("the pages never ended")


def test_a_searched_list_is_in_sent_order_and_pages_through_every_match(world: World, token_for: Any) -> None:
    from accord.alerts import bulk
    from accord.alerts.models import AlertView
    from tests.alerts.support import cap_xml

    # Written in one order, sent in another: the list follows `sent`, newest first, as the unsearched list does.
    days = [20, 27, 22, 25, 21, 26, 23]
    sources = [
        (f"s{day}.xml", cap_xml(identifier=f"KZ-SENT-{day}", sent=f"2026-11-{day}T10:00:00+05:00")) for day in days
    ]
    assert bulk.ingest_many(sources, acting_user=world.carol) is not None
    _publish(world, info(event="Flood", headline="Floods along the Ili river"))  # not found by the search
    expected = [f"KZ-SENT-{day}" for day in sorted(days, reverse=True)]
    token = token_for(world.carol)
    assert _pages(token, "shymkent measles", 2) == expected
    assert _pages(token, "shymkent measles", 3) == expected
    assert _pages(token, "shymkent measles", 50) == expected
    unsearched = Client().get("/api/v1/alerts", {"limit": 50}, headers={"Authorization": f"Bearer {token}"}).json()
    assert [i["identifier"] for i in unsearched["items"] if i["identifier"].startswith("KZ-SENT")] == expected

    # An update sent later moves its alert to the top of the searched list, as of the unsearched one.
    record = AlertView.objects.get(identifier="KZ-SENT-20").record
    actions.update_alert(record, cap(info(event="Measles", headline="Measles in Shymkent")), acting_user=world.carol)
    assert _pages(token, "shymkent measles", 3)[0] == AlertView.objects.get(record=record).identifier
    for view in AlertView.objects.all():
        assert SearchEntry.objects.get(record=view.record_id).listed_at == view.sent_at


def test_the_migration_fills_listed_at_from_the_alerts_held(world: World) -> None:
    import importlib

    from django.db import connection

    from accord.alerts.models import AlertView

    _publish(world, info(event="Mudflow", headline="Mudflow in Almaty region"))
    _publish(world, info(event="Dust storm", headline="Dust storm over Kyzylorda"))
    SearchEntry.objects.update(listed_at=None)
    migration = importlib.import_module("accord.alerts.migrations.0004_search_listed_at")

    class Editor:
        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.fill(None, Editor())
    views = list(AlertView.objects.all())
    assert len(views) == 2
    for view in views:
        assert SearchEntry.objects.get(record=view.record_id).listed_at == view.sent_at


def test_reindex_writes_every_entry_again_and_orders_them_on_postgresql(
    world: World, token_for: Any, capsys: Any
) -> None:
    from django.db import connection

    from accord.cli import main

    _publish(world, info(event="Dust storm", headline="Dust storm over Kyzylorda"))
    _publish(world, info(event="Mudflow", headline="Mudflow in Almaty region"))
    SearchEntry.objects.all().delete()
    assert main(["records", "reindex", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    postgres = connection.vendor == "postgresql"
    assert (summary["indexed"], summary["ordered"]) == (SearchEntry.objects.count(), postgres)
    assert summary["indexed"] >= 2
    assert _found(world, token_for, "kyzylorda") == ["Dust storm"]
    assert main(["records", "reindex", "--order-only"]) == 0
    out = capsys.readouterr().out
    assert "indexed nothing" in out and ("stored in search order" if postgres else "SQLite") in out
    assert _found(world, token_for, "almaty") == ["Mudflow"]
