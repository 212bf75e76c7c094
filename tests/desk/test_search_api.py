"""GET /api/v1/search: across kinds, in Chinese, Russian and English, filtered, with snippets and facets, and never
finding, counting or facetting a record the reader may not see. It runs on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accord.alerts import actions as alert_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from tests.alerts.support import cap, info
from tests.conftest import World


def _get(token: str, **params: Any) -> Any:
    return Client().get("/api/v1/search", params, headers={"Authorization": f"Bearer {token}"})


def _seed(world: World) -> dict[str, str]:
    made = {}
    made["ru_alert"] = alert_actions.publish_alert(
        cap(info("ru-RU", event="Вспышка холеры", headline="Холера в Туркестанской области", description="34 случая")),
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.carol,
    ).version.record_uuid
    made["zh_note"] = record_actions.publish(
        "note",
        {"title": "新疆喀什地区发生霍乱疫情", "text": "报告34例"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.alice,
    ).record_uuid
    made["en_note"] = record_actions.publish(
        "note",
        {"title": "Floods along the Ili river", "text": "Roads closed; cholera risk in the camps"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.alice,
    ).record_uuid
    made["secret"] = record_actions.publish(
        "note",
        {"title": "Cholera among soldiers", "text": "for China's ministries only"},
        audience=Audience(members=["CN"]),
        tlp="AMBER",
        acting_user=world.alice,
    ).record_uuid
    return {key: str(value) for key, value in made.items()}


def test_search_finds_inflected_russian_chinese_and_english_across_kinds(world: World, token_for: Any) -> None:
    made = _seed(world)
    token = token_for(world.carol)
    body = _get(token, q="холеры").json()
    assert body["total"] == 1 and body["results"][0]["record"] == made["ru_alert"]
    hit = body["results"][0]
    assert hit["kind"] == "alert" and hit["title"] == "Холера в Туркестанской области"
    assert hit["url"] == f"/alerts/{made['ru_alert']}/"
    marked = [hit["snippet"][a:b] for a, b in hit["highlights"]]
    assert marked and all(word.lower().startswith("холер") for word in marked)
    chinese = _get(token, q="霍乱").json()
    assert [r["record"] for r in chinese["results"]] == [made["zh_note"]]
    assert [chinese["results"][0]["snippet"][a:b] for a, b in chinese["results"][0]["highlights"]] == ["霍乱"]
    english = _get(token, q="flooding").json()
    assert [r["record"] for r in english["results"]] == [made["en_note"]]
    both = _get(token, q="cholera").json()  # the English note (and the alert's "Cholera outbreak" is Russian here)
    assert {r["record"] for r in both["results"]} == {made["en_note"]}


def test_a_record_outside_the_audience_never_counts_shows_or_moves_a_facet(world: World, token_for: Any) -> None:
    made = _seed(world)
    inside = _get(token_for(world.bob), q="cholera").json()  # bob is Chinese: he sees the CN-only note
    assert {r["record"] for r in inside["results"]} == {made["en_note"], made["secret"]}
    assert inside["total"] == 2 and inside["facets"]["kind"] == {"note": 2} and inside["facets"]["member"] == {"CN": 2}
    outside = _get(token_for(world.carol), q="cholera soldiers").json()
    assert outside == {"total": 0, "results": [], "facets": {"kind": {}, "member": {}}, "next_offset": None}
    carol = _get(token_for(world.carol), q="cholera").json()
    assert carol["total"] == 1 and carol["facets"]["member"] == {"CN": 1}


def test_filters_by_kind_member_and_time_and_pages(world: World, token_for: Any) -> None:
    made = _seed(world)
    token = token_for(world.bob)
    notes = _get(token, q="34", kind="note").json()
    assert [r["record"] for r in notes["results"]] == [made["zh_note"]]
    assert notes["facets"]["kind"] == {"alert": 1, "note": 1}  # the kind facet ignores the kind filter
    both = _get(token, q="34", kind="note,alert").json()
    assert both["total"] == 2
    assert _get(token, q="34", member="KZ").json()["results"][0]["record"] == made["ru_alert"]
    assert _get(token, q="34", until="2000-01-01T00:00:00Z").json()["total"] == 0
    assert _get(token, q="34", since="2000-01-01T00:00:00Z").json()["total"] == 2
    first = _get(token, q="34", limit=1).json()
    assert first["next_offset"] == 1 and len(first["results"]) == 1
    second = _get(token, q="34", limit=1, offset=1).json()
    assert second["next_offset"] is None and second["results"][0]["record"] != first["results"][0]["record"]


def test_bad_searches_are_refused_naming_the_field(world: World, token_for: Any) -> None:
    token = token_for(world.carol)
    unknown = _get(token, q="x", kind="node_key")
    assert unknown.status_code == 400 and unknown.json()["field"] == "kind"
    assert "node_key" in unknown.json()["detail"] and "alert" in unknown.json()["detail"]
    missing = _get(token)
    assert missing.status_code == 422 and missing.json()["field"] == "q"  # a query's validation error, as elsewhere
    assert _get(token, q="x", since="yesterday").json()["field"] == "since"
    assert _get(token, q="x", member="kazakhstan").json()["field"] == "member"
    assert Client().get("/api/v1/search", {"q": "x"}).status_code == 401
    assert _get(token, q="?!").json()["total"] == 0


def test_a_hindi_word_keeps_its_vowel_signs(world: World, token_for: Any) -> None:
    """Without the combining marks "डेंगू" would be the consonants ड and ग, found in any Hindi text holding them."""
    dengue = record_actions.publish(
        "note",
        {"title": "डेंगू से बचाव हेतु स्वास्थ्य परामर्श", "text": "मच्छरदानी का प्रयोग करें", "language": "hi"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.alice,
    ).record_uuid
    record_actions.publish(
        "note",
        {"title": "गाँव में डाक घर", "text": "डगर पर गड्ढे", "language": "hi"},
        audience=Audience(everyone=True),
        tlp="GREEN",
        acting_user=world.alice,
    )
    token = token_for(world.carol)
    found = _get(token, q="डेंगू").json()
    assert [r["record"] for r in found["results"]] == [str(dengue)]
    assert [found["results"][0]["snippet"][a:b] for a, b in found["results"][0]["highlights"]] == ["डेंगू"]
    assert _get(token, q="मच्छरदानी").json()["total"] == 1
