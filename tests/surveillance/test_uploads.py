"""Uploads as records: one record per series-year, corrections as versions, nothing stored on error, projection."""

from __future__ import annotations

import uuid

import pytest

from accord.federation.actions import add_peer
from accord.lib import canonical
from accord.members import actions as member_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.errors import ActionError, Forbidden
from accord.records.models import AuditEntry, Record, Version
from accord.records.principal import Principal
from accord.surveillance import actions, queries
from accord.surveillance.models import CountPoint, SeriesView, Upload
from tests.conftest import PASSWORD
from tests.surveillance.conftest import People, Uploader
from tests.surveillance.support import csv_bytes, rows_for, week_labels


def _counts(record: Record) -> dict[str, int]:
    return dict(CountPoint.objects.filter(record=record).values_list("period", "count"))


def test_an_upload_publishes_one_record_per_series_year_and_projects_every_count(
    people: People, upload: Uploader
) -> None:
    weeks = week_labels(3)
    data = csv_bytes(
        [
            *rows_for("A00", "KZ-19", [(w, i + 1) for i, w in enumerate(weeks)]),
            ("B05", "KZ-61", weeks[-1], 9),
            ("B05", "KZ", weeks[-1], 30),
        ]
    )
    done = upload(data)
    assert done.status == Upload.Status.DONE, done.errors
    assert done.summary["published"] == len(SeriesView.objects.all()) >= 3
    assert done.processed == done.total == 5
    records = Record.objects.filter(kind="case_counts")
    cholera = [r for r in records if r.series_view.disease == "A00"]
    assert sum(len(_counts(r)) for r in cholera) == 3
    version = cholera[0].current_version
    assert version is not None and version.tlp == "AMBER" and version.author == people.world.carol.uuid
    body = version.body
    assert body["member"] == "KZ" and body["region"] == "KZ-19" and body["disease"]["code"] == "A00"
    assert body["resolution"] == "week" and body["counts"] == sorted(body["counts"], key=lambda c: c["period"])
    assert AuditEntry.objects.filter(action="surveillance.upload.store", object_id=str(done.uuid)).exists()
    assert AuditEntry.objects.filter(action="record.publish", object_type="case_counts").count() == records.count()


def test_a_re_upload_is_a_new_version_of_that_year_never_an_overwrite(people: People, upload: Uploader) -> None:
    weeks = week_labels(3)
    upload(csv_bytes(rows_for("A00", "KZ-19", [(w, 5) for w in weeks])))
    view = SeriesView.objects.get(year=int(weeks[-1][:4]), disease="A00")
    record = view.record
    assert record.current_seq == 1
    first = record.current_version
    assert first is not None

    again = upload(csv_bytes(rows_for("A00", "KZ-19", [(weeks[-1], 5)])))
    assert again.summary == {**again.summary, "unchanged": 1, "revised": 0, "published": 0}
    record.refresh_from_db()
    assert record.current_seq == 1  # the same counts again: no new version

    corrected = upload(csv_bytes(rows_for("A00", "KZ-19", [(weeks[-1], 7)])))
    assert corrected.summary["revised"] == 1
    record.refresh_from_db()
    assert record.current_seq == 2
    assert _counts(record)[weeks[-1]] == 7
    versions = list(Version.objects.filter(record=record).order_by("seq"))
    assert [v.seq for v in versions] == [1, 2]
    assert versions[1].prev_hash == versions[0].content_hash
    old = {c["period"]: c["count"] for c in versions[0].body["counts"]}
    assert old[weeks[-1]] == 5  # the earlier report is kept, signed, as it was
    assert len(versions[1].body["counts"]) == len(versions[0].body["counts"])  # other weeks carried over


@pytest.mark.parametrize(
    "bad",
    [
        ("A00", "KZ-19", "W", "1"),
        ("A00", "KG-C", "2026-W01", "1"),
        ("A00", "KZ-19", "2026-W01", "-1"),
        ("Z99", "KZ-19", "2026-W01", "1"),
    ],
)
def test_on_any_error_nothing_of_the_upload_is_stored(people: People, upload: Uploader, bad: tuple[str, ...]) -> None:
    good = rows_for("A00", "KZ-19", [(w, 3) for w in week_labels(4)])
    versions = Version.objects.count()
    done = upload(csv_bytes([*good, bad]))
    assert done.status == Upload.Status.FAILED
    assert done.errors[0]["row"] == 6 and done.errors[0]["column"]
    assert Version.objects.count() == versions
    assert not CountPoint.objects.exists() and not SeriesView.objects.exists()
    assert bytes(done.data) == b""  # not even the file is kept
    assert AuditEntry.objects.filter(action="surveillance.upload.refuse", object_id=str(done.uuid)).exists()


def test_a_series_is_weekly_or_daily_and_is_corrected_only_by_its_organisation(
    people: People, upload: Uploader
) -> None:
    week = week_labels(1)[0]
    upload(csv_bytes(rows_for("A00", "KZ-19", [(week, 3)])))
    from accord.surveillance.reference import parse_period

    day = parse_period(week).start.isoformat()
    mixed = upload(csv_bytes(rows_for("A00", "KZ-19", [(day, 3)])))
    assert mixed.status == Upload.Status.FAILED
    assert mixed.errors[0]["column"] == "period" and "weekly counts" in mixed.errors[0]["message"]

    kz_sanitary = member_actions.create_organisation(
        member_code="KZ", slug="kz-sanitary", kind="sanitary_service", name_en="KZ SES", acting_user=None
    )
    other = member_actions.create_account(
        username="sana", organisation=kz_sanitary, roles=["analyst"], email="", password=PASSWORD, acting_user=None
    )
    refused = upload(csv_bytes(rows_for("A00", "KZ-19", [(week, 4)])), other)
    assert refused.status == Upload.Status.FAILED
    assert refused.errors[0]["column"] == "region" and "kept by kz-health" in refused.errors[0]["message"]


def test_only_analysts_and_focal_points_of_a_member_state_upload(people: People) -> None:
    data = csv_bytes([("A00", "KZ-19", week_labels(1)[0], 1)])
    for user in (people.world.dave, people.world.sam):  # a viewer, a Secretariat coordinator
        with pytest.raises(Forbidden):
            actions.submit_upload(data, acting_user=user, audience=Audience(members=["KZ"]), tlp="AMBER")
    with pytest.raises(ActionError, match="TLP:AMBER needs a named audience"):
        actions.submit_upload(data, acting_user=people.kira, audience=Audience(everyone=True), tlp="AMBER")
    with pytest.raises(ActionError, match="unknown members"):
        actions.submit_upload(data, acting_user=people.kira, audience=Audience(members=["XX"]), tlp="AMBER")
    assert not Upload.objects.exists()


def test_a_file_larger_than_the_node_accepts_is_refused_before_it_is_queued(people: People, settings: object) -> None:
    setattr(settings, "ACCORD_MAX_BODY_BYTES", 1024)  # noqa: B010
    data = csv_bytes([("A00", "KZ-19", week_labels(1)[0], 1)] * 100)
    with pytest.raises(ActionError, match="larger than 1024 bytes"):
        actions.submit_upload(data, acting_user=people.kira, audience=Audience(members=["KZ"]), tlp="AMBER")


def test_counts_are_seen_only_by_their_audience(people: People, upload: Uploader) -> None:
    w = people.world
    upload(csv_bytes(rows_for("A00", "KZ-19", [(wk, 2) for wk in week_labels(3)])), audience=Audience(members=["KZ"]))
    assert [s.region for s in queries.series_for(Principal.of(w.dave))] == ["KZ-19"]
    for outsider in (w.alice, w.sam, people.kyle):
        principal = Principal.of(outsider)
        assert queries.series_for(principal) == []
        assert queries.weeks_for(principal, "KZ", "A00", "KZ-19") == []
    assert queries.series_for(Principal.anonymous()) == []


def test_counts_received_from_a_peer_are_projected_the_same_way(people: People) -> None:
    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    node_id = uuid.uuid4()
    add_peer(name=f"peer-{str(node_id)[:8]}", node_id=str(node_id), public_key=public, member="KG", acting_user=None)
    weeks = week_labels(2)
    body = {
        "member": "KG",
        "region": "KG-C",
        "disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"},
        "resolution": "week",
        "year": int(weeks[-1][:4]),
        "counts": [{"period": w, "count": 4} for w in weeks if w[:4] == weeks[-1][:4]],
    }
    envelope = build_envelope(
        kind="case_counts",
        origin={"node": str(node_id), "member": "KG", "organisation": None, "account": None},
        record=uuid.uuid4(),
        seq=1,
        prev_hash=None,
        status="actual",
        state="active",
        audience=Audience(everyone=True),
        tlp="GREEN",
        body=body,
        attachments=[],
    )
    data, _digest = encode(envelope)
    result = record_actions.ingest(data, canonical.sign(key, data), canonical.key_id(public), source="test")
    assert result.outcome == "stored" and result.version is not None
    view = SeriesView.objects.get(record=result.version.record)
    assert (view.member, view.region, view.disease) == ("KG", "KG-C", "A00")
    assert set(_counts(result.version.record).values()) == {4}
    assert [s.region for s in queries.series_for(Principal.of(people.world.alice))] == ["KG-C"]


def test_the_api_accepts_csv_and_reports_progress_and_errors(people: People, token_for: object) -> None:
    from django.test import Client

    from accord.surveillance.tasks import process_upload_task

    make = token_for
    assert callable(make)
    token = make(people.kira)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = csv_bytes([*rows_for("B05", "KZ-19", [(w, 1) for w in week_labels(2)]), ("B05", "KZ-19", "x", "1")])
    response = client.post("/api/v1/surveillance/uploads?tlp=AMBER&filename=a.csv", data, content_type="text/csv")
    assert response.status_code == 202, response.content
    created = response.json()
    assert created["status"] == "queued" and created["format"] == "csv"
    process_upload_task.call(Upload.objects.get(uuid=created["uuid"]).pk)
    state = client.get(f"/api/v1/surveillance/uploads/{created['uuid']}").json()
    assert state["status"] == "failed"
    assert state["errors"] == [
        {"row": 4, "column": "period", "message": "'x' is neither an ISO week (2026-W07) nor a day (2026-02-14)"}
    ]
    # Somebody else's upload is not found.
    other = Client(HTTP_AUTHORIZATION=f"Bearer {make(people.world.carol)}")
    assert other.get(f"/api/v1/surveillance/uploads/{created['uuid']}").status_code == 404

    good = (
        b'{"counts": [{"disease": "B05", "region": "KZ-19", "period": "%s", "count": 2}]}' % week_labels(1)[0].encode()
    )
    response = client.post("/api/v1/surveillance/uploads?audience=KZ,SCO", good, content_type="application/json")
    assert response.status_code == 202
    process_upload_task.call(Upload.objects.get(uuid=response.json()["uuid"]).pk)
    assert client.get(f"/api/v1/surveillance/uploads/{response.json()['uuid']}").json()["status"] == "done"
    series = client.get("/api/v1/surveillance/series").json()
    assert [(s["member"], s["disease"], s["region"]) for s in series] == [("KZ", "B05", "KZ-19")]
    assert client.post("/api/v1/surveillance/uploads", b"x", content_type="text/plain").status_code == 400
    read_only = Client(HTTP_AUTHORIZATION=f"Bearer {make(people.kira, 'read')}")
    assert read_only.post("/api/v1/surveillance/uploads", good, content_type="application/json").status_code == 403


def test_xlsx_and_dhis2_uploads_store_counts_like_csv(people: People, upload: Uploader) -> None:
    import io

    from openpyxl import Workbook

    from tests.surveillance.support import dhis2

    week = week_labels(1)[0]
    book = Workbook()
    sheet = book.active
    sheet.title = "counts"
    sheet.append(["disease", "region", "period", "count"])
    sheet.append(["B05", "KZ-19", week, 12])
    out = io.BytesIO()
    book.save(out)
    done = upload(out.getvalue(), filename="week.xlsx")
    assert done.format == "xlsx" and done.status == Upload.Status.DONE, done.errors

    actions.set_dhis2_mapping("dataElement deMeasles = B05\norgUnit ouTurk = KZ-61", acting_user=people.admin)
    dhis2_week = week.replace("-W0", "W").replace("-W", "W")
    values = [
        {"dataElement": "deMeasles", "orgUnit": "ouTurk", "period": dhis2_week, "categoryOptionCombo": c, "value": v}
        for c, v in (("under5", "2"), ("over5", "3"))
    ]
    done = upload(dhis2(values), filename="dhis2.json")
    assert done.format == "dhis2" and done.status == Upload.Status.DONE, done.errors
    point = CountPoint.objects.get(region="KZ-61")
    assert (point.disease, point.period, point.count) == ("B05", week, 5)


def test_daily_counts_make_complete_weeks_and_an_incomplete_week_is_missing() -> None:
    from datetime import date, timedelta

    from accord.surveillance.detection import weekly

    monday = date(2026, 2, 2)
    days = [("day", monday + timedelta(days=i), 1, 1, 1) for i in range(7)]  # a whole week
    days += [("day", monday + timedelta(days=7 + i), 2, 1, 1) for i in range(5)]  # five days of the next
    days += [("day", monday, 9, 2, 5)]  # a newer version of the first Monday wins
    table = weekly(days)
    assert table == {monday: (15, 2)}
    both = weekly([*days, ("week", monday, 40, 3, 6)])
    assert both[monday] == (40, 3)  # a weekly count wins over days


def test_an_unexpected_error_leaves_no_upload_waiting(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    from accord.surveillance import parsers
    from accord.surveillance.tasks import process_upload_task

    submitted = actions.submit_upload(
        csv_bytes([("A00", "KZ-19", week_labels(1)[0], 1)]),
        acting_user=people.kira,
        audience=Audience(members=["KZ"]),
        tlp="AMBER",
    )

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(parsers, "check_rows", broken)
    with pytest.raises(RuntimeError):
        process_upload_task.call(submitted.pk)
    submitted.refresh_from_db()
    assert submitted.status == Upload.Status.FAILED and "nothing was stored" in submitted.errors[0]["message"]
    assert not Version.objects.filter(kind="case_counts").exists()
