"""Signals: an injected outbreak alarms, audience rules hold, review is audited, cross-border signals form."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import AuditEntry
from accord.records.principal import Principal
from accord.surveillance import actions, detection, queries
from accord.surveillance.models import Signal, Threshold, Upload
from accord.surveillance.tasks import notify_signal_task
from tests.surveillance.conftest import People, Uploader
from tests.surveillance.support import csv_bytes, ingest_peer_counts, last_week, rows_for, series

OUTBREAK = 60


def _outbreak(upload: Uploader, region: str = "KZ-19", disease: str = "A00", **kwargs: object) -> Upload:
    data = csv_bytes(rows_for(disease, region, series(outbreak=OUTBREAK, seed=kwargs.pop("seed", 7))))  # type: ignore[arg-type]
    done = upload(data, **kwargs)
    assert done.status == Upload.Status.DONE, done.errors
    return done


def test_an_injected_outbreak_raises_a_signal_with_farrington_flexible(people: People, upload: Uploader) -> None:
    done = _outbreak(upload)
    assert done.summary["signals"] >= 1
    signal = Signal.objects.get(period=last_week().label)
    assert (signal.kind, signal.member, signal.disease, signal.region) == ("single", "KZ", "A00", "KZ-19")
    assert signal.algorithm == "farringtonFlexible" and signal.control == {}
    assert signal.threshold is not None and signal.observed > signal.threshold
    assert signal.series is not None and signal.series.series_view.year == last_week().year
    assert signal.status == Signal.Status.OPEN
    assert AuditEntry.objects.filter(action="surveillance.signal.raise", object_id=str(signal.uuid)).exists()
    thresholds = Threshold.objects.filter(region="KZ-19").order_by("week_start")
    assert thresholds.count() == detection.CHART_WEEKS
    assert all(t.upperbound is not None for t in thresholds)  # six years: enough history for every chart week
    # The same series without the outbreak: no signal in the newest weeks.
    assert not Signal.objects.filter(period=last_week().label, region="KZ-61").exists()


def test_a_series_too_short_for_the_algorithm_gives_no_threshold_and_no_alarm(people: People, upload: Uploader) -> None:
    done = upload(csv_bytes(rows_for("A00", "KZ-19", series(weeks=60, outbreak=OUTBREAK))))
    assert done.status == Upload.Status.DONE and done.summary["signals"] == 0
    assert not Signal.objects.exists()
    assert set(Threshold.objects.values_list("upperbound", flat=True)) == {None}
    weeks = queries.weeks_for(Principal.of(people.world.carol), "KZ", "A00", "KZ-19")
    assert weeks[-1].computed and weeks[-1].upperbound is None and not weeks[-1].alarm


def test_an_admin_chooses_ears_for_a_disease_and_short_series_then_alarm(people: People, upload: Uploader) -> None:
    with pytest.raises(Forbidden):
        actions.set_detector("A00", algorithm="earsC", control={"method": "C1"}, acting_user=people.kira)
    with pytest.raises(ActionError, match="unknown algorithm"):
        actions.set_detector("A00", algorithm="magic", control={}, acting_user=people.admin)
    with pytest.raises(ActionError, match="earsC"):
        actions.set_detector("A00", algorithm="earsC", control={"method": "C9"}, acting_user=people.admin)
    actions.set_detector("A00", algorithm="earsC", control={"method": "C1"}, acting_user=people.admin)
    assert AuditEntry.objects.filter(action="surveillance.detector.set", object_id="A00").exists()
    upload(csv_bytes(rows_for("A00", "KZ-19", series(weeks=20, outbreak=OUTBREAK))))
    signal = Signal.objects.get(period=last_week().label)
    assert signal.algorithm == "earsC" and signal.control == {"method": "C1"}
    actions.reset_detector("A00", acting_user=people.admin)
    assert detection.setting_for("A00").algorithm == "farringtonFlexible"


def test_signals_follow_the_audience_of_every_count_behind_them(people: People, upload: Uploader) -> None:
    w = people.world
    _outbreak(upload, audience=Audience(members=["KZ"]))
    signal = Signal.objects.get(period=last_week().label)
    for insider in (w.carol, people.kira, w.dave):
        assert queries.signals_for(Principal.of(insider)).filter(pk=signal.pk).exists()
    for outsider in (w.alice, w.sam, people.kyle, people.sid):
        assert not queries.signals_for(Principal.of(outsider)).exists()
    assert not queries.signals_for(Principal.anonymous()).exists()
    with pytest.raises(Forbidden, match="may not see"):
        actions.verify_signal(signal, acting_user=w.sam)


def test_a_signal_is_hidden_from_whoever_misses_part_of_its_series(people: People, upload: Uploader) -> None:
    """The threshold comes from earlier years: seeing only this year's record is not enough."""
    points = series(outbreak=OUTBREAK)
    this_year = last_week().year
    old = [p for p in points if int(p[0][:4]) < this_year or (int(p[0][:4]) == this_year and p[0][5:] == "W01")]
    new = [p for p in points if p not in old]
    upload(csv_bytes(rows_for("A00", "KZ-19", old)), audience=Audience(members=["KZ"]))
    upload(csv_bytes(rows_for("A00", "KZ-19", new)), audience=Audience(members=["KZ", "SCO"]))
    signal = Signal.objects.get(period=last_week().label)
    assert queries.signals_for(Principal.of(people.world.carol)).filter(pk=signal.pk).exists()
    sam = Principal.of(people.world.sam)
    assert queries.weeks_for(sam, "KZ", "A00", "KZ-19")  # some counts are visible to the Secretariat...
    assert not queries.signals_for(sam).exists()  # ...but not all: no signal
    assert all(week.upperbound is None for week in queries.weeks_for(sam, "KZ", "A00", "KZ-19"))


def test_verify_keeps_an_ihr_draft_and_is_audited(people: People, upload: Uploader) -> None:
    _outbreak(upload, audience=Audience(everyone=True), tlp="GREEN")
    signal = Signal.objects.get(period=last_week().label)
    assert queries.signals_for(Principal.of(people.kyle)).filter(pk=signal.pk).exists()
    with pytest.raises(Forbidden, match="reviewed by its analysts"):
        actions.verify_signal(signal, acting_user=people.kyle)  # KG sees KZ's signal but does not review it
    verified = actions.verify_signal(signal, acting_user=people.kira, note="confirmed by the regional lab")
    assert verified.status == Signal.Status.VERIFIED and verified.reviewed_by == people.kira
    draft = verified.ihr_draft
    assert set(draft["answers"]) == {"serious_impact", "unusual", "international_spread", "travel_trade"}
    assert draft["answers"]["unusual"]["answer"] is True
    assert draft["answers"]["international_spread"]["answer"] is True  # KZ-19 borders KG and CN
    assert draft["outcome"] == "notify" and draft["disease"]["code"] == "A00"
    entry = AuditEntry.objects.get(action="surveillance.signal.verify", object_id=str(signal.uuid))
    assert entry.actor == people.kira.uuid and entry.data["note"] == "confirmed by the regional lab"
    with pytest.raises(Conflict):
        actions.dismiss_signal(signal, acting_user=people.world.carol, reason="too late")
    assert actions.severity_for(verified) in ("Minor", "Moderate", "Severe")


def test_dismiss_needs_a_reason_and_is_audited(people: People, upload: Uploader) -> None:
    _outbreak(upload)
    signal = Signal.objects.get(period=last_week().label)
    for blank in ("", "   "):
        with pytest.raises(ActionError, match="say why") as caught:
            actions.dismiss_signal(signal, acting_user=people.world.carol, reason=blank)
        assert caught.value.field == "reason"
    signal.refresh_from_db()
    assert signal.status == Signal.Status.OPEN
    dismissed = actions.dismiss_signal(signal, acting_user=people.world.carol, reason="a reporting backlog")
    assert dismissed.status == Signal.Status.DISMISSED and dismissed.reason == "a reporting backlog"
    assert AuditEntry.objects.get(action="surveillance.signal.dismiss", object_id=str(signal.uuid)).data == {
        "period": signal.period,
        "reason": "a reporting backlog",
    }


def test_a_correction_that_removes_the_alarm_clears_an_open_signal(people: People, upload: Uploader) -> None:
    _outbreak(upload)
    signal = Signal.objects.get(period=last_week().label)
    upload(csv_bytes(rows_for("A00", "KZ-19", [(last_week().label, 9)])))
    signal.refresh_from_db()
    assert signal.status == Signal.Status.CLEARED
    assert AuditEntry.objects.filter(action="surveillance.signal.clear", object_id=str(signal.uuid)).exists()
    upload(csv_bytes(rows_for("A00", "KZ-19", [(last_week().label, OUTBREAK + 9)])))
    signal.refresh_from_db()
    assert signal.status == Signal.Status.OPEN


def test_alarms_in_adjacent_regions_across_a_border_raise_a_joint_signal_for_the_secretariat(
    people: People, upload: Uploader
) -> None:
    _outbreak(upload, "KZ-19")
    assert not Signal.objects.filter(kind=Signal.Kind.JOINT).exists()
    _outbreak(upload, "KG-C", user=people.kyle, audience=Audience(members=["KG", "SCO"]), seed=11)
    joint = Signal.objects.get(kind=Signal.Kind.JOINT)
    assert joint.member == "SCO" and joint.members == ["KG", "KZ"] and joint.regions == ["KG-C", "KZ-19"]
    assert joint.basis == {"rule": "adjacent", "pairs": [["KG-C", "KZ-19"]]}
    assert joint.components.count() == 2 and joint.period == last_week().label
    assert AuditEntry.objects.filter(action="surveillance.signal.joint.raise", object_id=str(joint.uuid)).exists()
    # Addressed to the Secretariat, who may see both series; KZ sees only its own signal.
    assert queries.signals_for(Principal.of(people.world.sam)).filter(pk=joint.pk).exists()
    assert not queries.signals_for(Principal.of(people.world.carol)).filter(pk=joint.pk).exists()
    assert notify_signal_task.call(joint.pk) == 1
    assert mail.outbox[-1].to == ["sam@example.org"] and "cross-border" in mail.outbox[-1].subject
    with pytest.raises(Forbidden):
        actions.verify_signal(joint, acting_user=people.kyle)  # KG sees neither KZ's counts nor the joint signal
    actions.verify_signal(joint, acting_user=people.world.sam)
    # Uploading the same again raises nothing new.
    _outbreak(upload, "KG-C", user=people.kyle, audience=Audience(members=["KG", "SCO"]), seed=11)
    assert Signal.objects.filter(kind=Signal.Kind.JOINT).count() == 1


def test_alarms_in_two_members_far_apart_raise_a_joint_signal_on_the_members_rule(
    people: People, upload: Uploader
) -> None:
    _outbreak(upload, "KZ-79")  # Shymkent
    _outbreak(upload, "KG-N", user=people.kyle, audience=Audience(members=["KG", "SCO"]), seed=11)  # Naryn
    joint = Signal.objects.get(kind=Signal.Kind.JOINT)
    assert joint.basis == {"rule": "members", "pairs": []}


def test_a_new_signal_is_mailed_to_the_members_reviewers_who_may_see_it(people: People, upload: Uploader) -> None:
    _outbreak(upload, audience=Audience(members=["KZ"]))
    signal = Signal.objects.get(period=last_week().label)
    assert notify_signal_task.call(signal.pk) == 2
    assert sorted(mail.outbox[-1].to) == ["carol@example.org", "kira@example.org"]  # not dave, a viewer


def test_the_signal_e_mail_links_to_the_signal_at_the_public_address(
    people: People, upload: Uploader, settings: Any
) -> None:
    from tests.notify.support import send_mail_to, smtp_server, text_of

    settings.ACCORD_PUBLIC_URL = "https://accord.example.kz/"
    _outbreak(upload, audience=Audience(members=["KZ"]))
    signal = Signal.objects.get(period=last_week().label)
    with smtp_server() as box:
        send_mail_to(settings, box)
        assert notify_signal_task.call(signal.pk) == 2
        (message,) = box.to("carol@example.org")
    # In the recipients' language (KZ: Russian), with the absolute link.
    link = f"https://accord.example.kz/surveillance/signals/{signal.uuid}/"
    assert f"Подтвердите или отклоните его в Accord: {link}" in text_of(message)
    assert str(message["Subject"]).strip().startswith("[Accord] сигнал: ")


def test_counts_received_from_a_peer_are_watched_like_uploads(people: People) -> None:
    from django_tasks_db.models import DBTaskResult

    from accord.records.tasks import version_committed, wanted

    versions = ingest_peer_counts("KG", "KG-C", "A00", series(outbreak=OUTBREAK, seed=3))
    assert actions.detect_received(versions[-1]) >= 1
    signal = Signal.objects.get(period=last_week().label)
    assert (signal.member, signal.region) == ("KG", "KG-C")
    assert queries.signals_for(Principal.of(people.world.alice)).filter(pk=signal.pk).exists()  # GREEN to all
    # The record core's listener hands received counts to detection, in a task of its own.
    assert wanted("case_counts")
    assert version_committed.call(versions[-1]) >= 1
    assert DBTaskResult.objects.filter(task_path="accord.surveillance.tasks.detect_received_task").exists()


def test_the_api_lists_verifies_and_dismisses_signals(people: People, upload: Uploader, token_for: object) -> None:
    from django.test import Client

    assert callable(token_for)
    _outbreak(upload)
    _outbreak(upload, "KZ-61", seed=5)
    carol = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.carol)}")
    listed = carol.get("/api/v1/surveillance/signals?status=open").json()
    week = last_week().label
    mine = [s for s in listed if s["period"] == week]
    assert {s["region"] for s in mine} == {"KZ-19", "KZ-61"}
    assert all(s["threshold"] < s["observed"] for s in mine)
    dave = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.dave)}")
    assert dave.get("/api/v1/surveillance/signals").status_code == 403  # a viewer
    alice = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(people.world.alice)}")
    assert alice.get(f"/api/v1/surveillance/signals/{mine[0]['uuid']}").status_code == 404
    verified = carol.post(f"/api/v1/surveillance/signals/{mine[0]['uuid']}/verify", {}, content_type="application/json")
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    assert verified.json()["ihr_draft"]["outcome"] in ("notify", "do_not_notify")
    empty = carol.post(
        f"/api/v1/surveillance/signals/{mine[1]['uuid']}/dismiss", {"reason": ""}, content_type="application/json"
    )
    assert empty.status_code == 422
    dismissed = carol.post(
        f"/api/v1/surveillance/signals/{mine[1]['uuid']}/dismiss",
        {"reason": "lab negative"},
        content_type="application/json",
    )
    assert dismissed.status_code == 200 and dismissed.json()["reason"] == "lab negative"
    again = carol.post(f"/api/v1/surveillance/signals/{mine[0]['uuid']}/verify", {}, content_type="application/json")
    assert again.status_code == 409
    weeks = carol.get("/api/v1/surveillance/series/weeks?member=KZ&disease=A00&region=KZ-19").json()
    assert weeks[-1]["week"] == week and weeks[-1]["alarm"] is True
    assert len(carol.get("/api/v1/surveillance/diseases").json()) >= 30
    assert "KG-C" in {r["code"] for r in carol.get("/api/v1/surveillance/regions?member=KG").json()}
