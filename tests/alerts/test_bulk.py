"""The bulk import path (accord.alerts.bulk.ingest_many over accord.records.batch.issue_many)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.alerts import actions
from accord.alerts.bulk import ingest_many
from accord.alerts.models import AlertMessage, AlertView
from accord.records import attachments as attachment_store
from accord.records import verify
from accord.records.envelope import Audience
from accord.records.models import AuditEntry, Record, Version
from tests.alerts.support import cap_xml
from tests.conftest import World

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(f'<!ENTITY lol{i} "{"&lol;" * 10 if i == 1 else f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>'
)

# Two <info> blocks in two languages, each with a polygon.
METNO = "metno-metalert-search__METfare-20210921T070421.cap.xml"


def _alert(n: int, **extra: str) -> bytes:
    return cap_xml(identifier=f"KZ-MOH-BULK-{n:04d}", **extra)


def _state() -> tuple[int, int, int, int]:
    return (Record.objects.count(), Version.objects.count(), AlertView.objects.count(), AuditEntry.objects.count())


def test_many_alerts_each_their_own_signed_record_with_one_audit_entry(world: World) -> None:
    audit_before = AuditEntry.objects.count()
    sources = [(f"a{n}.xml", _alert(n)) for n in range(30)]
    report = ingest_many(sources, acting_user=world.carol)
    assert (report.stored, report.duplicates, report.invalid) == (30, 0, 0)
    versions = list(Version.objects.filter(kind="alert").order_by("pk"))
    assert len(versions) == 30 and len({v.record_id for v in versions}) == 30
    assert all(v.seq == 1 and v.tlp == "CLEAR" for v in versions)
    # One audit entry for the batch, listing every version's hash.
    entries = list(AuditEntry.objects.filter(seq__gt=audit_before).order_by("seq"))
    assert [e.action for e in entries] == ["alert.import_many"]
    assert {v["content_hash"] for v in entries[0].data["versions"]} == {v.content_hash for v in versions}
    # Projections, messages and originals as the one-by-one import makes them.
    assert AlertView.objects.count() == 30 and AlertMessage.objects.count() == 30
    original = versions[0].envelope()["attachments"][0]
    assert attachment_store.read_bytes(original["sha256"]) == sources[0][1]
    assert verify.verify_all().ok


def test_the_same_envelope_as_import_alert_but_for_identity_and_time(world: World) -> None:
    one = actions.import_alert(_alert(1), acting_user=world.carol).version.envelope()
    ingest_many([("b.xml", _alert(2))], acting_user=world.carol)
    many = Version.objects.exclude(record__uuid=one["record"]).get().envelope()
    for field in ("record", "created_at"):
        one.pop(field), many.pop(field)
    one["body"]["cap"].pop("identifier"), many["body"]["cap"].pop("identifier")
    one["attachments"][0].pop("sha256"), many["attachments"][0].pop("sha256")
    assert one == many


def test_the_projection_of_a_batch_is_what_the_stored_bytes_give(world: World) -> None:
    # The batch writer hands the projection the body it signed (Version.keep_body), not the bytes decoded again.
    from accord.alerts.kinds import _alert_values

    sources = [(f"p{n}.xml", _alert(n)) for n in range(3)]
    data = Path(__file__).parents[1] / "data" / "cap"
    sources += [(name, (data / name).read_bytes()) for name in (METNO, "google-cap-library__thunderstorm.cap")]
    assert ingest_many(sources, acting_user=world.carol).stored == 5
    for view in AlertView.objects.all():
        stored = Version.objects.get(pk=view.version_id)
        assert "_signed_body" not in stored.__dict__
        for name, value in _alert_values(stored, view.first_sent_at, stored.body).items():
            if name != "version":
                assert getattr(view, name) == (value if name != "areas" else json.loads(json.dumps(value))), name


def test_reimport_stores_nothing_new_and_counts_duplicates(world: World) -> None:
    sources = [(f"a{n}.xml", _alert(n)) for n in range(5)]
    ingest_many(sources, acting_user=world.carol)
    before = _state()
    again = ingest_many([*sources, ("copy.xml", _alert(0))], acting_user=world.carol)
    assert (again.stored, again.duplicates, again.invalid) == (0, 6, 0)
    assert _state() == before
    assert again.items[0].message.startswith("already stored as ")


def test_hostile_invalid_duplicate_and_valid_mixed(world: World) -> None:
    huge = b"<alert>" + b"x" * (50 * 1024 * 1024) + b"</alert>"
    sources = [
        ("good1.xml", _alert(1)),
        ("xxe.xml", XXE),
        ("laughs.xml", LAUGHS),
        ("huge.xml", huge),
        ("broken.xml", b"<alert"),
        ("bad-rule.xml", _alert(9, status="Nonsense")),
        ("good1-again.xml", _alert(1)),
        ("good2.xml", _alert(2)),
        ("empty.xml", b""),
    ]
    report = ingest_many(sources, acting_user=world.carol)
    outcomes = {item.source: item.outcome for item in report.items}
    assert outcomes == {
        "good1.xml": "stored",
        "xxe.xml": "invalid",
        "laughs.xml": "invalid",
        "huge.xml": "invalid",
        "broken.xml": "invalid",
        "bad-rule.xml": "invalid",
        "good1-again.xml": "duplicate",
        "good2.xml": "stored",
        "empty.xml": "invalid",
    }
    rules = {item.source: item.rules for item in report.items}
    assert rules["xxe.xml"] == ("CAP-XML-DTD",) and rules["laughs.xml"] == ("CAP-XML-DTD",)
    assert rules["huge.xml"] == ("CAP-SIZE",) and rules["broken.xml"] == ("CAP-XML",)
    assert rules["bad-rule.xml"] and all(r.startswith("CAP-") for r in rules["bad-rule.xml"])
    assert Version.objects.filter(kind="alert").count() == 2


def test_updates_and_cancels_continue_their_threads_within_and_across_batches(world: World) -> None:
    first_ref = "moh@gov.kz.example,KZ-MOH-BULK-0001,2026-11-27T10:00:00+05:00"
    update = _alert(2, msg_type="Update", sent="2026-11-27T11:00:00+05:00", references=first_ref)
    second_ref = "moh@gov.kz.example,KZ-MOH-BULK-0002,2026-11-27T11:00:00+05:00"
    report = ingest_many([("a.xml", _alert(1)), ("u.xml", update)], acting_user=world.carol)
    assert [i.outcome for i in report.items] == ["stored", "stored"]
    assert report.items[0].record == report.items[1].record and report.items[1].seq == 2
    cancel = _alert(3, msg_type="Cancel", sent="2026-11-27T12:00:00+05:00", references=f"{first_ref} {second_ref}")
    update_too = _alert(4, msg_type="Update", sent="2026-11-27T11:30:00+05:00", references=first_ref)
    later = ingest_many([("u2.xml", update_too), ("c.xml", cancel)], acting_user=world.carol)
    assert [(i.outcome, i.seq) for i in later.items] == [("stored", 3), ("stored", 4)]
    record = Record.objects.get(uuid=str(report.items[0].record))
    assert record.current_version is not None and record.current_version.state == "withdrawn"
    assert verify.verify_all().ok


def test_an_update_of_a_cancelled_alert_is_refused_alone(world: World) -> None:
    ref = "moh@gov.kz.example,KZ-MOH-BULK-0001,2026-11-27T10:00:00+05:00"
    cancel = _alert(2, msg_type="Cancel", sent="2026-11-27T11:00:00+05:00", references=ref)
    update = _alert(3, msg_type="Update", sent="2026-11-27T12:00:00+05:00", references=ref)
    report = ingest_many(
        [("a.xml", _alert(1)), ("c.xml", cancel), ("u.xml", update), ("b.xml", _alert(5))], acting_user=world.carol
    )
    assert [i.outcome for i in report.items] == ["stored", "stored", "invalid", "stored"]
    assert "withdrawn" in report.items[2].message


def test_a_chosen_audience_and_the_publisher_rules_apply_to_each(world: World) -> None:
    report = ingest_many(
        [("a.xml", _alert(1))], acting_user=world.carol, audience=Audience(members=["KZ"]), tlp="AMBER"
    )
    version = Version.objects.get(record__uuid=str(report.items[0].record))
    assert version.tlp == "AMBER" and version.envelope()["audience"]["members"] == ["KZ"]
    viewer = ingest_many([("b.xml", _alert(2))], acting_user=world.dave)
    assert viewer.items[0].outcome == "invalid" and "focal_point" in viewer.items[0].message


def test_small_chunks_keep_in_batch_duplicates_and_threads(world: World) -> None:
    ref = "moh@gov.kz.example,KZ-MOH-BULK-0001,2026-11-27T10:00:00+05:00"
    update = _alert(2, msg_type="Update", sent="2026-11-27T11:00:00+05:00", references=ref)
    sources = [("a.xml", _alert(1)), ("b.xml", _alert(1)), ("c.xml", _alert(3)), ("u.xml", update)]
    report = ingest_many(sources, acting_user=world.carol, chunk=2)
    assert [(i.outcome, i.seq) for i in report.items] == [
        ("stored", 1),
        ("duplicate", None),
        ("stored", 1),
        ("stored", 2),
    ]
    assert AuditEntry.objects.filter(action="alert.import_many").count() == 2


@pytest.mark.parametrize("wrong", [{"audience": Audience(members=["KZ"])}, {"tlp": "AMBER"}])
def test_audience_and_tlp_go_together(world: World, wrong: dict[str, object]) -> None:
    from accord.records.errors import ActionError

    with pytest.raises(ActionError):
        ingest_many([("a.xml", _alert(1))], acting_user=world.carol, **wrong)  # type: ignore[arg-type]


def test_worker_processes_read_the_documents_with_the_same_outcome(world: World) -> None:
    sources = [(f"a{n}.xml", _alert(n)) for n in range(7)] + [("xxe.xml", XXE), ("again.xml", _alert(3))]
    report = ingest_many(sources, acting_user=world.carol, chunk=4, workers=1)
    assert [i.outcome for i in report.items] == ["stored"] * 7 + ["invalid", "duplicate"]
    assert report.items[7].rules == ("CAP-XML-DTD",)
    assert Version.objects.filter(kind="alert").count() == 7


def _corpus_caps() -> list[dict[str, object]]:
    from pathlib import Path

    from accord.lib import cap as caplib

    found = []
    for folder in (Path(__file__).parents[1] / "data" / "cap", Path(__file__).parents[3] / "shared" / "cap" / "corpus"):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            report = caplib.validate(path.read_bytes())
            found += [caplib.to_json(alert) for alert in report.alerts]
    return found


def test_areas_without_shapely_are_what_shapely_gives() -> None:
    from accord.alerts import mapping

    caps = _corpus_caps()
    assert caps
    for message in caps:
        assert mapping.areas_of(message) == mapping._areas_with_shapely(message)


@given(
    st.lists(
        st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)), min_size=0, max_size=7
    ),
    st.booleans(),
    # NaN is never equal to itself: not compared. Odd separators: an empty part, two commas, Unicode spaces.
    st.sampled_from(
        ["", " 1,2,3", " x,y", " inf,1", " -inf,2", " 1,,2", " ,1", " 1,", "\x1c1e1,2\u2002", " 1_0,2", "\t1,2 "]
    ),
)
def test_any_polygon_text_gives_what_shapely_gives(points: list[tuple[float, float]], close: bool, junk: str) -> None:
    from accord.alerts import mapping

    if close and points:
        points = [*points, points[0]]
    text = " ".join(f"{lat!r},{lon!r}" for lat, lon in points) + junk
    message = {"info": [{"area": [{"areaDesc": "a", "polygon": [text], "circle": ["1.5,2.5 0", "1,2 10"]}]}]}
    assert mapping.areas_of(message) == mapping._areas_with_shapely(message)
