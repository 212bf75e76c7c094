"""The JSON API: authentication, bad input, and that nothing stored changes on a refusal."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accord.members import actions as member_actions
from accord.members.models import ApiToken
from accord.records.models import AuditEntry, Record, Version
from tests.conftest import World, client_for

NOTE = {
    "kind": "note",
    "body": {"title": "Anthrax suspected", "text": "two cases"},
    "audience": {"members": ["CN", "KZ"]},
    "tlp": "AMBER",
}


def _state() -> tuple[int, int, int]:
    return Record.objects.count(), Version.objects.count(), AuditEntry.objects.count()


def _post(client: Client, path: str, payload: Any, token: str | None = None, raw: bytes | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(payload)
    return client.post(path, data=data, content_type="application/json", **headers)


@pytest.fixture
def alice_token(world: World) -> str:
    return member_actions.create_token(world.alice, name="t", acting_user=None)[1]


def test_publish_read_revise_and_withdraw(world: World, alice_token: str) -> None:
    client = Client()
    created = _post(client, "/api/v1/records", NOTE, alice_token)
    assert created.status_code == 201, created.content
    record = created.json()
    assert record["seq"] == 1 and record["tlp"] == "AMBER" and record["origin_member"] == "CN"
    revised = _post(
        client, f"/api/v1/records/{record['uuid']}/versions", {"expected_seq": 1, "tlp": "GREEN"}, alice_token
    )
    assert revised.status_code == 201 and revised.json()["seq"] == 2 and revised.json()["tlp"] == "GREEN"
    withdrawn = _post(client, f"/api/v1/records/{record['uuid']}/withdraw", {"reason": "duplicate"}, alice_token)
    assert withdrawn.json()["state"] == "withdrawn"
    versions = client.get(f"/api/v1/records/{record['uuid']}/versions", HTTP_AUTHORIZATION=f"Bearer {alice_token}")
    chain = versions.json()
    assert [v["seq"] for v in chain] == [1, 2, 3]
    assert chain[1]["prev_hash"] == chain[0]["content_hash"]
    assert chain[0]["signature"]["alg"] == "Ed25519"


def test_session_auth_works_and_needs_csrf_for_changes(world: World) -> None:
    client = client_for(world.alice)
    client.handler.enforce_csrf_checks = True
    assert client.get("/api/v1/me").json()["username"] == "alice"
    before = _state()
    refused = _post(client, "/api/v1/records", NOTE)
    assert refused.status_code in (401, 403)
    assert _state() == before


@pytest.mark.parametrize(
    ("header", "status", "message"),
    [
        ("Bearer nonsense", 401, "malformed"),
        ("Bearer accord_000000000000.secret", 401, "not valid"),
        ("Basic YWxpY2U6cHc=", 401, "authentication required"),
        (None, 401, "authentication required"),
    ],
)
def test_bad_credentials_are_refused_with_the_reason(
    world: World, header: str | None, status: int, message: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = Client().get("/api/v1/records", headers=headers)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_expired_revoked_and_disabled_tokens_are_refused(world: World) -> None:
    client = Client()
    token, text = member_actions.create_token(world.carol, name="t", acting_user=None)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {text}").json()["detail"] == "the token has expired"
    token, text = member_actions.create_token(world.carol, name="t2", acting_user=None)
    member_actions.revoke_token(token, acting_user=world.carol)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {text}").json()["detail"] == "the token was revoked"
    _, text = member_actions.create_token(world.carol, name="t3", acting_user=None)
    member_actions.set_active(world.carol, False, acting_user=None)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {text}")
    assert response.status_code == 401


def test_tokens_are_stored_hashed(world: World, alice_token: str) -> None:
    stored = ApiToken.objects.get(account=world.alice)
    assert alice_token not in (stored.digest, stored.prefix)
    assert alice_token.split(".")[1] not in stored.digest


def test_a_read_token_cannot_write(world: World) -> None:
    _, text = member_actions.create_token(world.alice, name="ro", scope="read", acting_user=None)
    before = _state()
    response = _post(Client(), "/api/v1/records", NOTE, text)
    assert response.status_code == 403 and "only read" in response.json()["detail"]
    assert _state() == before
    assert Client().get("/api/v1/records", HTTP_AUTHORIZATION=f"Bearer {text}").status_code == 200


def _with(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(json.dumps(NOTE))
    payload.update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "raw", "status", "message"),
    [
        (None, b'{"kind": "note", "body": ', 400, "not valid JSON"),
        (None, b"\xff\xfe", 400, "not"),
        (_with(kind="rumour"), None, 400, "unknown record kind 'rumour'"),
        (_with(tlp="AMBER-ISH"), None, 422, "tlp: Input should be 'CLEAR'"),
        (_with(tlp="RED"), None, 400, "TLP:RED is limited to named persons"),
        (_with(audience={"members": ["cn"]}), None, 422, "audience.members.0: String should match pattern"),
        (_with(audience={"members": ["CN"], "planets": ["Mars"]}), None, 422, "audience.planets"),
        (_with(audience={"everyone": True}), None, 400, "needs a named audience"),
        (_with(status="rumoured"), None, 422, "status: Input should be 'actual'"),
        (_with(body={"text": "no title"}), None, 400, "body.title"),
        (_with(body={"title": "x", "extra": 1}), None, 400, "body.extra"),
        (_with(body={"title": "x", "text": 1.5}), None, 400, "body.text"),
        ({"kind": "note"}, None, 422, "body"),
        ([1, 2], None, 400, "the request body is a JSON array; send a JSON object"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem_and_changes_nothing(
    world: World, alice_token: str, payload: Any, raw: bytes | None, status: int, message: str
) -> None:
    before = _state()
    response = _post(Client(), "/api/v1/records", payload, alice_token, raw=raw)
    assert response.status_code == status, response.content
    assert message in response.json()["detail"]
    assert _state() == before


def test_a_422_names_the_field_without_echoing_the_input(world: World, alice_token: str) -> None:
    response = _post(Client(), "/api/v1/records", _with(tlp="AMBER-ISH" + "x" * 500), alice_token)
    assert response.status_code == 422
    found = response.json()
    assert found["field"] == "tlp" and found["errors"][0]["loc"][-1] == "tlp" and found["errors"][0]["type"]
    assert "xxxx" not in response.content.decode()


def test_oversized_bodies_are_refused_before_parsing(world: World, alice_token: str, settings: Any) -> None:
    settings.ACCORD_MAX_BODY_BYTES = 2048
    before = _state()
    big = _with(body={"title": "x", "text": "y" * 5000})
    response = _post(Client(), "/api/v1/records", big, alice_token)
    assert response.status_code == 413
    assert "at most 2048 bytes" in response.json()["detail"]
    assert _state() == before


def test_revising_someone_elses_record_is_refused(world: World, alice_token: str) -> None:
    created = _post(Client(), "/api/v1/records", NOTE, alice_token).json()
    _, carol = member_actions.create_token(world.carol, name="t", acting_user=None)
    before = _state()
    response = _post(Client(), f"/api/v1/records/{created['uuid']}/versions", {"body": {"title": "mine now"}}, carol)
    assert response.status_code == 403
    assert _state() == before


def test_filters_and_paging(world: World, alice_token: str) -> None:
    client = Client()
    for n in range(5):
        status = "exercise" if n % 2 else "actual"
        _post(client, "/api/v1/records", _with(status=status, body={"title": f"item {n}"}), alice_token)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}
    page = client.get("/api/v1/records", {"limit": 2}, **auth).json()  # type: ignore[arg-type]
    assert page["count"] == 5 and len(page["items"]) == 2 and page["next_offset"] == 2
    actual = client.get("/api/v1/records", {"status": "actual"}, **auth).json()  # type: ignore[arg-type]
    assert {i["title"] for i in actual["items"]} == {"item 0", "item 2", "item 4"}
    assert client.get("/api/v1/records", {"limit": 1000}, **auth).status_code == 422  # type: ignore[arg-type]


def test_the_committed_openapi_document_matches_the_code() -> None:
    from accord.web.management.commands.export_openapi import openapi_text

    committed = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
    assert committed.read_text(encoding="utf-8") == openapi_text(), (
        "the API changed: run `make openapi` and commit docs/openapi.json"
    )
    assert json.loads(committed.read_text())["openapi"].startswith("3.1")


def test_the_openapi_document_is_served(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200 and "/api/v1/records" in response.json()["paths"]


# ---- errors under /api/: JSON in one shape, documented --------------------------------------------------------


def _error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "field", "errors"}
    return body


def test_unknown_paths_and_methods_under_api_answer_json(world: World, alice_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}
    assert "/api/v1/nothing" in _error_shape(Client().get("/api/v1/nothing", **auth), 404)["detail"]  # type: ignore[arg-type]
    assert "no such" in _error_shape(Client().get("/api/elsewhere"), 404)["detail"]
    refused = Client().delete("/api/v1/records", **auth)  # type: ignore[arg-type]
    assert "DELETE" in _error_shape(refused, 405)["detail"] and "GET" in refused["Allow"]
    # outside /api/ the pages stay pages
    assert Client().get("/no-such-page/").status_code == 404
    assert not Client().get("/no-such-page/")["Content-Type"].startswith("application/json")


def test_a_bug_is_a_json_500_that_tells_nothing(world: World, alice_token: str, monkeypatch: Any) -> None:
    from accord.members import api as members_api

    def broken(account: Any) -> dict[str, Any]:
        raise RuntimeError("secret-internal-detail at /srv/accord")

    monkeypatch.setattr(members_api, "describe_account", broken)
    client = Client(raise_request_exception=False)
    body = _error_shape(client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {alice_token}"), 500)
    assert "secret" not in json.dumps(body) and "RuntimeError" not in json.dumps(body)


def test_errors_raised_before_the_api_answer_json(world: World, alice_token: str, settings: Any) -> None:
    settings.ACCORD_MAX_BODY_BYTES = 2048
    big = _post(Client(), "/api/v1/alerts", {"note": "x" * 5000}, alice_token)
    assert "at most 2048 bytes" in _error_shape(big, 413)["detail"]
    # a session without the CSRF token is refused by the API's CSRF check, in JSON
    client = client_for(world.alice)
    client.handler.enforce_csrf_checks = True
    _error_shape(_post(client, "/api/v1/records", NOTE), 403)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/records", "/api/v1/alerts", "/api/v1/assessments", "/api/v1/surveillance/uploads"],
)
def test_deeply_nested_json_is_refused_with_400_everywhere(world: World, alice_token: str, path: str) -> None:
    before = _state()
    deep = b"[" * 100_000 + b"]" * 100_000
    if path.endswith("/uploads"):
        # A file: its own upload limits answer, naming the limit (docs/surveillance.md).
        body = _error_shape(_post(Client(), path, None, alice_token, raw=deep), 413)
        assert "nested deeper than 20 levels" in body["detail"]
        assert _state() == before
        return
    body = _error_shape(_post(Client(), path, None, alice_token, raw=deep), 400)
    assert "deeper than 32 levels" in body["detail"]
    nested: Any = {"title": "x"}
    for _ in range(40):
        nested = {"inner": nested}
    assert _post(Client(), path, None, alice_token, raw=json.dumps(nested).encode()).status_code == 400
    assert _state() == before


def test_json_depth_scan_ignores_brackets_in_strings() -> None:
    from accord.web.middleware import nests_deeper_than

    assert not nests_deeper_than(json.dumps({"text": "[" * 1000}).encode(), 32)
    assert not nests_deeper_than(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', 32)
    assert nests_deeper_than(b"[" * 33 + b"]" * 33, 32)
    assert not nests_deeper_than(b"[" * 32 + b"]" * 32, 32)


def test_offsets_beyond_the_stated_bound_are_refused(world: World, alice_token: str) -> None:
    path = "/api/v1/records"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}
    for offset in ("9223372036854775808", "1000000001", "-1"):
        body = _error_shape(Client().get(path, {"offset": offset}, **auth), 422)  # type: ignore[arg-type]
        assert body["field"] == "offset"
    assert Client().get(path, {"offset": "1000000000"}, **auth).status_code == 200  # type: ignore[arg-type]


def test_the_alert_list_refuses_an_offset_and_names_the_cursor(world: World, alice_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_token}"}
    for offset in ("0", "50", "1000000001"):
        body = _error_shape(Client().get("/api/v1/alerts", {"offset": offset}, **auth), 400)  # type: ignore[arg-type]
        assert body["field"] == "offset" and "cursor" in body["detail"]


def test_an_upload_audience_that_is_not_member_codes_is_refused(world: World, alice_token: str) -> None:
    for audience in ("x!", "C", "CN,"):
        response = Client().post(
            f"/api/v1/surveillance/uploads?audience={audience}",
            data=b"disease,region,period,count\n",
            content_type="text/csv",
            HTTP_AUTHORIZATION=f"Bearer {alice_token}",
        )
        assert _error_shape(response, 422)["field"] == "audience"


def test_every_operation_documents_its_errors_with_the_error_schema() -> None:
    from accord.web.management.commands.export_openapi import openapi_text

    document = json.loads(openapi_text())
    assert set(document["components"]["schemas"]["Error"]["required"]) == {"detail"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            errors = {code for code in responses if code >= "400"}
            assert {"401", "413", "500"} <= errors, (method, path)
            if method == "post":
                assert {"400", "403", "409", "422"} <= errors, (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            for code in errors:
                schema = responses[code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_the_openapi_document_has_no_dangling_reference() -> None:
    from accord.web.management.commands.export_openapi import openapi_text

    text = openapi_text()
    document = json.loads(text)
    references = set(re.findall(r'"\$ref": "([^"]+)"', text))
    assert references
    for reference in references:
        assert reference.startswith("#/components/schemas/"), reference
        assert reference.removeprefix("#/components/schemas/") in document["components"]["schemas"], reference
    alert_body = document["paths"]["/api/v1/alerts"]["post"]["requestBody"]["content"]["application/json"]
    assert "cap" in alert_body["schema"]["properties"]


def test_a_cap_import_audience_that_is_not_member_codes_is_refused(world: World, alice_token: str) -> None:
    for audience in ("x!", "cn", "CN,,KZ"):
        response = Client().post(
            f"/api/v1/alerts?audience={audience}&tlp=AMBER",
            data=b"<alert/>",
            content_type="application/cap+xml",
            HTTP_AUTHORIZATION=f"Bearer {alice_token}",
        )
        assert _error_shape(response, 422)["field"] == "audience"


def test_no_two_api_schemas_share_a_name() -> None:
    """The OpenAPI document names each schema by its class name: two classes of one name would be one component,
    and one operation would be documented with the other's body (a body the server then refuses)."""
    from ninja import Schema

    import accord.api  # noqa: F401  (every router and its schemas)

    seen: dict[str, set[str]] = {}
    stack: list[type] = [Schema]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("accord.") and "[" not in cls.__name__:
            seen.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: sorted(where) for name, where in seen.items() if len(where) > 1}
    assert len(seen) > 50
    assert not shared, shared
