"""Alerts through their actions: compose, import, update, cancel, acknowledge, escalate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from lxml import etree

from accord.alerts import actions
from accord.alerts.models import AlertView, Escalation
from accord.alerts.tasks import check_acknowledgements
from accord.lib import cap as caplib
from accord.lib.cap.leaves import difference, leaves
from accord.records import attachments as attachment_store
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, Forbidden
from accord.records.models import Record, Version
from accord.records.principal import Principal
from tests.alerts.support import CHOLERA, cap, cap_xml, info
from tests.conftest import World

KZ_RU = Audience(members=["KZ", "RU", "CN"])


def _publish(world: World, **kwargs: Any) -> actions.Published:
    fields: dict[str, Any] = {"audience": KZ_RU, "tlp": "AMBER", "acting_user": world.carol}
    fields.update(kwargs)
    body = fields.pop("cap", cap(info(), info("ru", event="Вспышка холеры", headline="Холера")))
    return actions.publish_alert(body, **fields)


def test_a_composed_alert_is_valid_cap_with_accords_envelope_fields(world: World) -> None:
    result = _publish(world, epidemic=CHOLERA)
    message = result.version.body["cap"]
    assert message["msgType"] == "Alert" and message["status"] == "Actual"
    assert message["scope"] == "Private" and message["addresses"] == ["CN", "KZ", "RU"]
    assert message["sender"].startswith("kz-health@accord.")
    report = caplib.validate(caplib.to_xml(caplib.from_json(message)))
    assert report.valid and report.valid_xsd, report.errors
    view = AlertView.objects.get(record=result.version.record)
    assert (view.severity, view.disease_code, view.cases, view.languages) == ("Severe", "A00", 34, "en-US,ru")
    assert view.bbox_west is not None and 67.9 < view.bbox_west < 68.1


@pytest.mark.parametrize(
    ("audience", "tlp", "scope"),
    [(Audience(everyone=True), "CLEAR", "Public"), (Audience(everyone=True), "GREEN", "Restricted")],
)
def test_audience_and_tlp_become_the_cap_scope(world: World, audience: Audience, tlp: str, scope: str) -> None:
    message = _publish(world, audience=audience, tlp=tlp).version.body["cap"]
    assert message["scope"] == scope
    if scope == "Restricted":
        assert message["restriction"].startswith("TLP:GREEN")


def test_exercise_alerts_carry_the_exercise_status_everywhere(world: World) -> None:
    version = _publish(world, status="exercise").version
    assert version.status == "exercise" and version.body["cap"]["status"] == "Exercise"
    assert not Record.objects.visible_to(Principal.of(world.alice)).actual().filter(pk=version.record_id).exists()


def test_invalid_cap_is_refused_naming_the_rule_and_nothing_is_stored(world: World) -> None:
    before = Version.objects.count()
    bad = cap(info(area=[{"areaDesc": "open ring", "polygon": ["43.0,68.0 43.5,68.0 43.5,69.0 43.0,69.0"]}]))
    with pytest.raises(actions.CapRejected) as caught:
        _publish(world, cap=bad)
    assert any(f["rule"] == "CAP-POLYGON-CLOSED" for f in caught.value.findings)
    assert "CAP-POLYGON-CLOSED" in caught.value.message
    missing = cap({k: v for k, v in info().items() if k != "event"})
    with pytest.raises(ActionError):
        _publish(world, cap=missing)
    assert Version.objects.count() == before


def test_warnings_do_not_block_publishing(world: World) -> None:
    circle = info(area=[{"areaDesc": "point", "circle": ["43.3,68.5 0"]}])
    result = _publish(world, cap=cap(circle))
    assert any(w["rule"] == "CAP-CIRCLE-ZERO" for w in result.warnings)


def test_update_and_cancel_reference_every_earlier_message(world: World) -> None:
    first = _publish(world).version
    record = first.record
    update = actions.update_alert(record, cap(info(description="41 confirmed cases")), acting_user=world.carol)
    second = update.version
    cancel = actions.cancel_alert(record, acting_user=world.carol, reason="outbreak over").version
    messages = [v.body["cap"] for v in (first, second, cancel)]
    assert [m["msgType"] for m in messages] == ["Alert", "Update", "Cancel"]

    def ref(m: dict[str, Any]) -> str:
        return f"{m['sender']},{m['identifier']},{m['sent']}"

    assert messages[1]["references"] == [ref(messages[0])]
    assert messages[2]["references"] == [ref(messages[0]), ref(messages[1])]
    assert "outbreak over" in messages[2]["note"]
    assert cancel.state == "withdrawn" and cancel.seq == 3
    assert {len({m["identifier"] for m in messages})} == {3}
    with pytest.raises(Conflict):
        actions.cancel_alert(record, acting_user=world.carol, reason="again")


def test_only_the_origin_organisation_updates(world: World) -> None:
    record = _publish(world).version.record
    with pytest.raises(Forbidden):
        actions.update_alert(record, cap(), acting_user=world.alice)


def test_import_keeps_the_original_bytes_and_maps_the_scope(world: World) -> None:
    data = cap_xml()
    result = actions.import_alert(data, acting_user=world.carol)
    version = result.version
    assert (version.tlp, version.envelope()["audience"]["everyone"]) == ("CLEAR", True)
    original = version.envelope()["attachments"][0]
    assert original["media_type"] == "application/cap+xml"
    assert attachment_store.read_bytes(original["sha256"]) == data
    assert version.body["cap"]["identifier"] == "KZ-MOH-2026-001"


def test_an_imported_alert_is_stored_with_every_element_as_it_came(world: World) -> None:
    """No <language> gained, empty <addresses>/<incidents> and a list's spacing kept: the stored JSON form writes
    back every leaf of the original (issue 15)."""
    spaced = "x,y,2026-11-27T09:00:00+05:00  z,w,2026-11-27T08:00:00+05:00"
    data = cap_xml(extra=f"\n  <addresses></addresses><code>a</code><references>{spaced}</references><incidents/>")
    version = actions.import_alert(data, acting_user=world.carol).version
    stored = version.body["cap"]
    assert stored["addresses"] == [] and stored["incidents"] == [] and "language" not in stored["info"][0]
    written = caplib.to_xml(caplib.from_json(stored))
    assert stored["referencesText"] == spaced
    assert difference(leaves(etree.fromstring(data)), leaves(etree.fromstring(written))) == []


def test_an_imported_private_alert_stays_with_the_members_it_addresses(world: World) -> None:
    data = cap_xml(scope="Private", extra="\n  <addresses>RU somebody@else</addresses>")
    version = actions.import_alert(data, acting_user=world.carol).version
    assert version.tlp == "AMBER" and version.envelope()["audience"]["members"] == ["KZ", "RU"]
    assert not Record.objects.visible_to(Principal.of(world.alice)).filter(pk=version.record_id).exists()


def test_an_imported_update_joins_the_thread_of_the_alert_it_references(world: World) -> None:
    first = actions.import_alert(cap_xml(), acting_user=world.carol).version
    update = cap_xml(
        identifier="KZ-MOH-2026-002",
        sent="2026-11-27T12:00:00+05:00",
        msg_type="Update",
        references="moh@gov.kz.example,KZ-MOH-2026-001,2026-11-27T10:00:00+05:00",
    )
    second = actions.import_alert(update, acting_user=world.carol).version
    assert second.record_id == first.record_id and second.seq == 2


def test_cap_11_is_upgraded_with_a_note_and_its_original_kept(world: World) -> None:
    data = cap_xml(namespace="urn:oasis:names:tc:emergency:cap:1.1")
    result = actions.import_alert(data, acting_user=world.carol)
    assert any(w["rule"] == "CAP-UPGRADE" for w in result.warnings)
    sha = result.version.envelope()["attachments"][0]["sha256"]
    assert attachment_store.read_bytes(sha) == data


def test_an_invalid_import_stores_nothing(world: World) -> None:
    before = Version.objects.count()
    with pytest.raises(actions.CapRejected) as caught:
        actions.import_alert(cap_xml(sent="2026-11-27T10:00:00Z"), acting_user=world.carol)
    assert caught.value.findings and Version.objects.count() == before
    with pytest.raises(ActionError, match="FEED-ID"):
        actions.import_alert(b"<feed xmlns='http://www.w3.org/2005/Atom'/>", acting_user=world.carol)
    with pytest.raises(ActionError, match="CAP-XML"):
        actions.import_alert(b"not xml at all", acting_user=world.carol)
    assert Version.objects.count() == before


def test_members_acknowledge_once_and_only_when_addressed(world: World) -> None:
    version = _publish(world).version
    record = version.record
    board = {row["member"]: row for row in actions.ack_board(version)}
    assert sorted(board) == ["CN", "RU"]  # the origin member does not acknowledge its own alert
    ack = actions.acknowledge(record, acting_user=world.alice, note="received, assessing")
    assert ack.kind == "acknowledgement" and ack.body["cap"]["msgType"] == "Ack"
    assert ack.body["cap"]["references"][0].endswith(version.body["cap"]["sent"])
    assert ack.envelope()["audience"] == version.envelope()["audience"]
    with pytest.raises(Conflict, match="already acknowledged"):
        actions.acknowledge(record, acting_user=world.bob)
    with pytest.raises(Forbidden, match="does not address KZ"):
        actions.acknowledge(record, acting_user=world.carol)
    board = {row["member"]: row for row in actions.ack_board(version)}
    assert board["CN"]["acknowledged_at"] is not None and board["RU"]["acknowledged_at"] is None


def test_overdue_acknowledgements_are_escalated_once_by_the_worker_task(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from accord.members import actions as member_actions

    member_actions.create_account(
        username="ivan",
        organisation=world.ru_health,
        roles=["focal_point"],
        email="ivan@ru.example",
        password=None,
        acting_user=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = _publish(world).version
    queued = DBTaskResult.objects.get(task_path="accord.alerts.tasks.check_acknowledgements")
    view = AlertView.objects.get(record=version.record)
    assert queued.run_after == view.ack_deadline == view.first_sent_at + timedelta(hours=4)  # Severe
    actions.acknowledge(version.record, acting_user=world.alice)
    assert check_acknowledgements.call(version.record_id) == 0  # not yet due
    AlertView.objects.filter(pk=view.pk).update(ack_deadline=timezone.now() - timedelta(minutes=1))
    assert check_acknowledgements.call(version.record_id) == 1
    escalation = Escalation.objects.get()
    assert escalation.member == "RU"
    # Sent through notify (one message per recipient, with delivery rows): RU's contacts. sam, the Secretariat's
    # coordinator, is outside this AMBER audience (KZ, RU) and hears nothing of it.
    told = {address for message in mail.outbox for address in message.to}
    assert "ivan@ru.example" in told and "sam@example.org" not in told
    assert check_acknowledgements.call(version.record_id) == 0  # once only
    board = {row["member"]: row for row in actions.ack_board(version)}
    assert board["RU"]["escalated"] and board["RU"]["overdue"]


def test_exercise_alerts_are_never_escalated(world: World) -> None:
    version = _publish(world, status="exercise").version
    AlertView.objects.filter(record=version.record).update(ack_deadline=timezone.now() - timedelta(hours=1))
    assert check_acknowledgements.call(version.record_id) == 0


def _answers(*yes: str) -> dict[str, dict[str, Any]]:
    keys = ("serious_impact", "unusual", "international_spread", "travel_trade")
    return {k: {"answer": k in yes, "evidence": f"evidence for {k}"} for k in keys}


def test_an_assessment_computes_the_outcome_and_the_24_hour_clock(world: World) -> None:
    assessed = actions.assess(
        event="Unexplained pneumonia cluster",
        answers=_answers("serious_impact", "unusual"),
        acting_user=world.carol,
    )
    assert assessed.body["outcome"] == "notify"
    state, deadline, notified = actions.notification_clock(assessed)
    assert state == "pending" and notified is None and deadline is not None
    state, _, _ = actions.notification_clock(assessed, now=timezone.now() + timedelta(hours=25))
    assert state == "overdue"
    epidemic = dict(CHOLERA, assessment=str(assessed.record_uuid))
    _publish(world, epidemic=epidemic)
    state, _, notified = actions.notification_clock(assessed)
    assert state == "notified_in_time" and notified is not None


def test_smallpox_is_always_notifiable_whatever_the_answers(world: World) -> None:
    assessed = actions.assess(
        event="Smallpox case",
        answers=_answers(),
        acting_user=world.carol,
        disease={"system": "ICD-10", "code": "B03", "name": "Smallpox"},
    )
    assert assessed.body["outcome"] == "notify" and assessed.body["always_notifiable"]


def test_one_yes_is_not_notifiable_and_unanswered_questions_are_refused(world: World) -> None:
    assessed = actions.assess(event="x", answers=_answers("unusual"), acting_user=world.carol)
    assert assessed.body["outcome"] == "do_not_notify"
    assert actions.notification_clock(assessed)[0] == "not_required"
    with pytest.raises(ActionError, match="unanswered Annex 2 questions: travel_trade"):
        partial = _answers()
        del partial["travel_trade"]
        actions.assess(event="x", answers=partial, acting_user=world.carol)


def test_an_unnotified_notifiable_assessment_is_chased_after_24_hours(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from accord.alerts.tasks import check_notification_clock
    from accord.records.models import AuditEntry

    with django_capture_on_commit_callbacks(execute=True):
        assessed = actions.assess(
            event="Pneumonia cluster",
            answers=_answers("unusual", "serious_impact"),
            acting_user=world.carol,
            audience=Audience(members=["KZ", "SCO"]),  # shared with the Secretariat
        )
    queued = DBTaskResult.objects.get(task_path="accord.alerts.tasks.check_notification_clock")
    assert queued.run_after is not None and queued.run_after > timezone.now() + timedelta(hours=23)
    assert check_notification_clock.call(assessed.record_id) is False  # not yet due
    # The signed assessment time cannot move, so the clock moves instead.
    from unittest import mock

    later = timezone.now() + timedelta(hours=25)
    with mock.patch("accord.alerts.actions.timezone.now", return_value=later):
        assert check_notification_clock.call(assessed.record_id) is True
    assert AuditEntry.objects.filter(action="ihr.notification.overdue").count() == 1
    # Through notify: one delivery per recipient, recorded with its attempt, in the recipient's language
    # (carol is in Kazakhstan: Russian; sam at the Secretariat: English).
    from accord.notify.models import Delivery

    told = {d.address: d for d in Delivery.objects.filter(record__uuid=assessed.record_uuid)}
    assert set(told) == {"carol@example.org", "sam@example.org"}
    assert {(d.purpose, d.status, d.language) for d in told.values()} == {
        ("escalation", "sent", "ru"),
        ("escalation", "sent", "en"),
    }
    assert all(d.attempt_log.filter(outcome="ok").count() == 1 for d in told.values())
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["sam@example.org"] == "[Accord] IHR notification overdue: Pneumonia cluster"
    assert subjects["carol@example.org"] == "[Accord] Уведомление по ММСП просрочено: Pneumonia cluster"
    # A second run (a retried task) tells nobody twice.
    sent = len(mail.outbox)
    with mock.patch("accord.alerts.actions.timezone.now", return_value=later):
        assert check_notification_clock.call(assessed.record_id) is True
    assert len(mail.outbox) == sent and Delivery.objects.count() == 2


def test_the_overdue_notification_reaches_only_those_who_may_see_the_assessment(world: World) -> None:
    from unittest import mock

    from accord.alerts.tasks import check_notification_clock
    from accord.notify.models import Delivery

    # Assessed on its own, an assessment is for the assessor's organisation only (AMBER+STRICT): the
    # Secretariat's coordinators do not hear of it, not even its name.
    assessed = actions.assess(
        event="Quiet cluster", answers=_answers("unusual", "serious_impact"), acting_user=world.carol
    )
    later = timezone.now() + timedelta(hours=25)
    with mock.patch("accord.alerts.actions.timezone.now", return_value=later):
        assert check_notification_clock.call(assessed.record_id) is True
    assert [d.address for d in Delivery.objects.all()] == ["carol@example.org"]
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]


def test_a_cancelled_alert_is_not_acknowledged(world: World) -> None:
    record = _publish(world).version.record
    actions.cancel_alert(record, acting_user=world.carol, reason="over")
    with pytest.raises(Conflict, match="cancelled"):
        actions.acknowledge(record, acting_user=world.alice)


def test_only_the_sending_member_assesses_its_alert(world: World) -> None:
    record = _publish(world).version.record
    with pytest.raises(Forbidden, match="member that sent the alert"):
        actions.assess(event="x", answers=_answers(), acting_user=world.alice, alert=record)


def test_a_cap_json_shape_error_is_a_finding_with_its_path(world: World) -> None:
    with pytest.raises(actions.CapRejected) as caught:
        _publish(world, cap=cap(info(category=[])))
    finding = caught.value.findings[0]
    assert finding["rule"] == "CAP-JSON" and finding["path"].startswith("$.info[0].category")


def test_an_update_keeps_or_removes_the_epidemic_section(world: World) -> None:
    record = _publish(world, epidemic=CHOLERA).version.record
    kept = actions.update_alert(record, cap(info(description="more")), acting_user=world.carol).version
    assert kept.body["epidemic"]["disease"]["code"] == "A00"
    removed = actions.update_alert(record, cap(info(description="not cholera")), acting_user=world.carol, epidemic={})
    assert "epidemic" not in removed.version.body
    assert AlertView.objects.get(record=record).disease_code == ""
