"""Schemathesis over the whole API, in the suite: every check, against the real app, with a real token.

The run uses schemathesis's own engine (what `schemathesis run` does): the examples, coverage, fuzzing and
stateful phases, every check, a fixed seed and a bounded number of examples, against the app served by uvicorn
on 127.0.0.1 in this process (as `accord serve` serves it). The caller is the demo focal point `cn.health` with
a write token, the demo data loaded and an alert from Kazakhstan addressed to China waiting for an
acknowledgement. The request examples and the OpenAPI links of the document (create -> read, revise,
withdraw, acknowledge ...) let the run reach the write paths, not only their refusals; the test checks that
it did.

The server answers from its own threads, so the data is committed (`transactional_db`). (A server rather than
schemathesis's in-process WSGI transport: that one passes options werkzeug refuses, in schemathesis 4.32.)

`make fuzz-api` runs the same with many more examples (ACCORD_FUZZ_API_EXAMPLES).

The suite runs it on the PostgreSQL pass only (the production database): it is the suite's longest test, and the
database code it reaches runs on SQLite in the other API tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from accord.alerts import actions as alert_actions
from accord.members import actions as member_actions
from accord.members.demo import load_demo
from accord.members.models import Account
from accord.notify import stream
from accord.records.envelope import Audience
from tests.notify.asgi_server import asgi_server

pytestmark = pytest.mark.postgresql_pass

EXAMPLES = int(os.environ.get("ACCORD_FUZZ_API_EXAMPLES", "20"))
# With seed 14 the run stopped reaching a 2xx revision once incidents came: they are the newest records in
# GET /api/v1/records, whose links lead to the generic revision, which refuses kinds with endpoints of their own.
# With seed 16 (and 18) it stopped reaching it again once the situation report endpoints came.
SEED = int(os.environ.get("ACCORD_FUZZ_API_SEED", "17"))


CHOLERA = {
    "category": ["Health"],
    "event": "Cholera outbreak",
    "urgency": "Immediate",
    "severity": "Severe",
    "certainty": "Observed",
    "headline": "Cholera in Turkistan region",
    "area": [{"areaDesc": "Turkistan region"}],
}


@pytest.fixture
def demo_token(transactional_db: None, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # The live stream stays open; schemathesis stops reading it at the first write after its time-out, so a
    # heartbeat every half second (not 15 s) ends each read soon.
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0.5)
    # as for every test of the ASGI server (scripts/run-tests.sh sets it for the suite)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.ALLOWED_HOSTS = ["*"]
    settings.CONN_MAX_AGE = 0
    load_demo()
    alert_actions.publish_alert(
        {
            "info": [
                {
                    "category": ["Health"],
                    "event": "Cholera outbreak",
                    "urgency": "Immediate",
                    "severity": "Severe",
                    "certainty": "Observed",
                    "headline": "Cholera in Turkistan region",
                    "area": [{"areaDesc": "Turkistan"}],
                }
            ]
        },
        audience=Audience(members=["CN", "KZ"]),
        tlp="AMBER",
        acting_user=Account.objects.get(username="kz.health"),
    )
    account = Account.objects.get(username="cn.health")
    _, text = member_actions.create_token(account, name="fuzz", scope="write", acting_user=None)
    yield text


# Where the server checks a rule that JSON Schema cannot state, a schema-valid request may still be refused
# with 400: positive_data_acceptance accepts 400 there, and only there. Each with the rule the schema cannot say.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default
RULES_BEYOND_THE_SCHEMA = {
    ("POST", "/api/v1/records"): "the body's rules depend on the kind (each kind's body_schema is in GET /kinds)",
    ("POST", "/api/v1/records/{record_uuid}/versions"): "the body's rules depend on the record's kind",
    ("POST", "/api/v1/alerts"): "the CAP alert is checked by the CAP rules (docs/cap.md), TLP against audience",
    ("POST", "/api/v1/alerts/{record_uuid}/update"): "the CAP alert is checked by the CAP rules",
    ("POST", "/api/v1/surveillance/uploads"): "the file's rows are checked; an audience of everyone needs TLP CLEAR",
    ("GET", "/api/v1/alerts"): "bbox: south <= north",
    ("GET", "/api/v1/stream"): "a cursor is sealed by this node and expires after 7 days",
    ("POST", "/api/v1/assessments"): "the disease is checked against the IHR lists",
    ("POST", "/api/v1/incidents"): "hazard, members and regions are checked against the reference lists",
    ("POST", "/api/v1/alliances/{slug}/documents"): "the metadata part is JSON text; files are checked by content",
    ("POST", "/api/v1/legal-register"): "member, language, link, and the date of an adopted instrument are checked",
    ("PUT", "/api/v1/legal-register/{record_uuid}"): "the same rules, and an entry keeps its member",
    ("GET", "/api/v1/search"): "kind names kinds that are searched, separated by commas",
    ("GET", "/api/v1/map.geojson"): "kind names layers of the map, separated by commas",
}


def _config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "max-stream-events": 1,
            "request-timeout": 10,
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": EXAMPLES, "deterministic": False, "database": "none"},
            "checks": {"enabled": True},
            "phases": {"enabled": True},
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                }
                for method, path in RULES_BEYOND_THE_SCHEMA
            ],
        }
    )


def _failures(stream: Any) -> tuple[list[str], dict[str, int]]:
    """The failures of the run, and how often each operation answered each status ("POST /api/v1/records 201")."""
    found: list[str] = []
    counts: dict[str, int] = {}
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            for case_id, interaction in event.recorder.interactions.items():
                case = event.recorder.cases[case_id].value
                if interaction.response is not None:
                    key = f"{case.method} {case.path} {interaction.response.status_code}"
                    counts[key] = counts.get(key, 0) + 1
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        case = event.recorder.cases[case_id].value
                        answer = event.recorder.interactions.get(case_id)
                        response = answer.response if answer is not None else None
                        got = f"{response.status_code} {response.content[:300]!r}" if response is not None else "-"
                        found.append(
                            f"{check.name}: {failure.title} [{event.recorder.label}]: {failure.message}\n"
                            f"  {case.method} {case.formatted_path} {case.query} {case.media_type}"
                            f" {str(case.body)[:300]}\n  answered: {got}"
                        )
        elif isinstance(event, events.NonFatalError):
            found.append(f"error in {event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            found.append(f"fatal: {event.exception!r}")
    return found, counts


def test_schemathesis_finds_nothing(demo_token: str, settings: Any) -> None:
    # The node's upload limits are settings, not schema (a generated value may be longer than the 1,000
    # characters a cell may hold): at their widest here, so uploads are judged by the schema alone. The limits
    # themselves are tested in tests/surveillance/test_upload_limits.py.
    settings.ACCORD_UPLOAD_MAX_CELL_CHARS = 1_048_576
    settings.ACCORD_UPLOAD_MAX_JSON_DEPTH = 500
    with asgi_server() as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json", config=_config(demo_token))
        found, counts = _failures(from_schema(schema).execute())
    report = os.environ.get("ACCORD_FUZZ_API_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as out:
            out.write("\n".join(found))
    assert not found, "\n".join(found)
    reached = {key.rsplit(" ", 1)[0] for key, n in counts.items() if key.rsplit(" ", 1)[1].startswith("2")}
    assert reached >= WRITES_REACHED, sorted(WRITES_REACHED - reached)


# Write operations that the run must have seen succeed (a 2xx), so that it tests more than refusals: the
# creations (their request examples) and what the links from a created record lead to. Updating and cancelling
# an alert are reached through the links too, with most seeds but not all, so they are not required here; so is
# revising a record: the walk reaches it from GET /api/v1/records, whose newest items are now mostly incidents
# (revised only through their own endpoints), and with the incident, task, decision and sitrep routes no seed of
# 14..24 reached it. tests/records covers revising.
# Not reached: acknowledging (the alerts the links lead to are mostly the run's own, which its member does not
# acknowledge; tests/alerts covers it) and verifying or dismissing signals (the demo data has none).
WRITES_REACHED = {
    "POST /api/v1/records",
    "POST /api/v1/records/{record_uuid}/withdraw",
    "POST /api/v1/alerts",
    "POST /api/v1/assessments",
    "POST /api/v1/surveillance/uploads",
    "POST /api/v1/incidents",
}
