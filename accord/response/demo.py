"""Demo data for `accord demo`: an open cross-border incident, Crimean-Congo haemorrhagic fever in the south of
Kazakhstan, Kyrgyzstan and Uzbekistan, opened by Kazakhstan's ministry of health. Written through the response
actions like any other incident; loaded once (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from accord.records.envelope import Audience

TITLE = {
    "en": "Crimean-Congo haemorrhagic fever in the south of Kazakhstan, Kyrgyzstan and Uzbekistan",
    "ru": "Крымская геморрагическая лихорадка на юге Казахстана, Кыргызстана и Узбекистана",
    "zh": "哈萨克斯坦、吉尔吉斯斯坦和乌兹别克斯坦南部的克里米亚-刚果出血热",
}
SUMMARY = {
    "en": "Tick-borne cases among livestock workers since the start of the season, in districts on both sides of "
    "the borders. Joint vector control and case finding are being coordinated.",
    "ru": "Случаи заболевания среди работников животноводства с начала сезона клещевой активности в районах по "
    "обе стороны границ. Координируются совместная борьба с переносчиками и активное выявление случаев.",
}
AFFECTED = ["KZ", "KG", "UZ"]
TASKS = [
    {
        "en": "Active case finding among livestock workers in Osh and Jalal-Abad",
        "ru": "Активное выявление случаев среди работников животноводства в Ошской и Джалал-Абадской областях",
    },
    {
        "en": "Share the tick surveillance results of Surkhandarya and Kashkadarya",
        "ru": "Передать результаты надзора за клещами в Сурхандарьинской и Кашкадарьинской областях",
    },
    {
        "en": "Acaricide treatment of livestock in the border districts of Turkistan Region",
        "ru": "Акарицидная обработка скота в приграничных районах Туркестанской области",
    },
]
MEETING = {"en": "Weekly CCHF coordination call", "ru": "Еженедельное совещание по ККГЛ"}
AGENDA = {"en": "1. Situation by member\n2. Vector control\n3. Laboratory confirmation and sample sharing"}
DECISION = {
    "en": "A joint vector control campaign in the border districts for four weeks, with weekly situation reports "
    "from each affected member.",
    "ru": "Совместная кампания по борьбе с переносчиками в приграничных районах в течение четырёх недель с "
    "еженедельными ситуационными отчётами каждого затронутого государства-члена.",
    "zh": "在边境地区开展为期四周的联合病媒控制行动，各受影响成员国每周提交情况报告。",
}
REGIONS = ["KZ-61", "KZ-79", "KZ-43", "KG-O", "KG-J", "UZ-SU", "UZ-QA"]


def load_incident() -> int:
    """Open the demo incident and the work on it (each part once); returns how many records were created."""
    from accord.members.models import Account
    from accord.records.models import Record

    created = 0
    incident = Record.objects.filter(kind="incident", incident_view__title=TITLE["en"]).first()
    if incident is None:
        if Record.objects.filter(kind="incident").exists():
            return 0  # a node with incidents of its own: no demo incident among them
        incident = _open(Account.objects.get(username="kz.health"))
        created += 1
    created += _work(incident)
    created += _assistance(incident)
    return created


def _open(opener: Any) -> Any:
    from accord.records.models import Record
    from accord.response import actions

    version = actions.open_incident(
        title=TITLE,
        summary=SUMMARY,
        hazard="A98.0",
        domains=["human", "animal"],
        affected_members=AFFECTED,
        regions=REGIONS,
        lead_member="KZ",
        audience=Audience(members=[*AFFECTED, "SCO"]),
        tlp="AMBER",
        acting_user=opener,
    )
    return Record.objects.get(pk=version.record_id)


def _work(incident: Any) -> int:
    """Tasks (one in progress, one done), a weekly coordination meeting and a decision adopted by consensus."""
    from accord.members.models import Account, Organisation
    from accord.records.models import Record
    from accord.response import decision_actions, meetings, task_actions
    from accord.response.models import IncidentItem

    hanging = IncidentItem.objects.filter(incident_record=incident.uuid)
    if hanging.filter(kind__in=("task", "decision", "meeting")).exists():
        return 0
    kz, kg, uz = (Account.objects.get(username=f"{code}.health") for code in ("kz", "kg", "uz"))
    from accord.response import actions

    for account, condition in ((kz, ""), (kg, "Teams work under the national command"), (uz, "")):
        actions.record_consent(incident, consent="given", condition=condition, acting_user=account)
    actions.change_level(
        Record.objects.get(pk=incident.pk),
        level=2,
        reason="Cases on both sides of two borders; joint vector control needed",
        acting_user=kz,
    )
    created = 3
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    emergency = Organisation.objects.get(slug="kz-emergency")
    tasks = [
        (TASKS[0], "member", "KG", "high", now + timedelta(days=2), kg, ["in_progress"]),
        (TASKS[1], "member", "UZ", "normal", now + timedelta(days=4), uz, ["in_progress", "done"]),
        (TASKS[2], "organisation", str(emergency.uuid), "urgent", now + timedelta(days=1), None, []),
    ]
    for title, kind, assignee, priority, due, worker, steps in tasks:
        task = task_actions.create_task(
            incident=incident.uuid,
            title=title,
            assignee_type=kind,
            assignee=assignee,
            priority=priority,
            due=due,
            acting_user=kz,
        )
        created += 1
        for step in steps:
            assert worker is not None
            task_actions.update_task(task.record_uuid, status=step, acting_user=worker)
            created += 1
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=5)  # 10:00 in Tashkent
    meetings.schedule(
        incident=incident.uuid,
        title=MEETING,
        starts_at=monday,
        time_zone="Asia/Tashkent",
        duration_minutes=60,
        participants=[*AFFECTED, "SCO"],
        agenda=AGENDA,
        acting_user=kz,
    )
    decision = decision_actions.propose(incident=incident.uuid, text=DECISION, participants=AFFECTED, acting_user=kz)
    created += 2
    for account in (kz, kg, uz):
        decision_actions.take_position(decision.record_uuid, position="support", acting_user=account)
        created += 1
    assert Record.objects.filter(kind="decision", decision_view__state="adopted").exists()
    return created + _sitreps(incident, {"KZ": kz, "KG": kg, "UZ": uz})


# Daily new cases of the last two weeks per member, and the region of each member's cases.
CURVES = {
    "KZ": ("KZ-61", [1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 3, 4, 2, 3]),
    "KG": ("KG-O", [0, 1, 0, 1, 2, 1, 2, 3, 2, 2, 3, 1, 2, 1]),
    "UZ": ("UZ-SU", [0, 0, 1, 0, 1, 1, 0, 2, 1, 2, 1, 1, 0, 1]),
}


def _sitreps(incident: Any, accounts: dict[str, Any]) -> int:
    """Two weeks of daily situation reports of each affected member, up to yesterday."""
    from accord.records.models import Record
    from accord.response import sitreps
    from accord.response.sitrep_periods import today_anywhere

    last = today_anywhere() - timedelta(days=1)
    created = 0
    for member, (region, curve) in CURVES.items():
        cases = deaths = 0
        for index, new in enumerate(curve):
            day = last - timedelta(days=len(curve) - 1 - index)
            died = 1 if member == "KZ" and index in (6, 11) else 0
            cases, deaths = cases + new, deaths + died
            sitreps.file_sitrep(
                Record.objects.get(pk=incident.pk),
                acting_user=accounts[member],
                period_start=day.isoformat(),
                period_end=day.isoformat(),
                figures={
                    "new_cases": new,
                    "new_deaths": died,
                    "cumulative_cases": cases,
                    "cumulative_deaths": deaths,
                    "by_region": [{"region": region, "new_cases": new, "new_deaths": died}],
                },
                measures=["isolation", "risk_communication"] if index > 6 else ["risk_communication"],
            )
            created += 1
    return created


def _assistance(incident: Any) -> int:
    """Mutual assistance on the incident: Kazakhstan requests PCR tests, Uzbekistan and Kyrgyzstan offer, Kazakhstan
    accepts part of each, and Uzbekistan's tests are deployed and arrive; Kyrgyzstan requests a rapid response team
    nobody has offered yet, and Uzbekistan offers acaricide sprayers unsolicited."""
    from accord.members.models import Account
    from accord.response import assist_actions, assist_deploy
    from accord.response.models import IncidentItem

    if IncidentItem.objects.filter(incident_record=incident.uuid, kind="assistance_request").exists():
        return 0
    kz, kg, uz = (Account.objects.get(username=f"{code}.health") for code in ("kz", "kg", "uz"))
    soon = (timezone.now() + timedelta(days=10)).date().isoformat()
    today = timezone.now().date().isoformat()
    tests = assist_actions.create_request(
        incident.uuid,
        acting_user=kz,
        resource_type="pcr_tests",
        detail="CCHF virus (RT-PCR)",
        quantity=5000,
        needed_by=soon,
        region="KZ-61",
        point={"lat": 42.32, "lon": 69.6},  # the laboratory in Shymkent
        priority="high",
        conditions="Kits with their reagents; cold chain to Shymkent",
    )
    from_uz = assist_actions.make_offer(
        tests.record_uuid, acting_user=uz, quantity=2000, available_from=today, lead_time_days=2, costs_borne_by="UZ"
    )
    from_kg = assist_actions.make_offer(tests.record_uuid, acting_user=kg, quantity=1500, available_from=today)
    assist_actions.accept(from_uz.record_uuid, acting_user=kz, quantity=2000)
    assist_actions.accept(from_kg.record_uuid, acting_user=kz, quantity=1000)
    assist_deploy.commit(from_uz.record_uuid, acting_user=uz, quantity=2000)
    deployment = assist_deploy.deploy(
        from_uz.record_uuid,
        acting_user=uz,
        quantity=2000,
        contact={"name": "Laboratory logistics, Ministry of Health of Uzbekistan", "phone": "+998 71 000 00 00"},
        location={"region": "KZ-61", "place": "Regional reference laboratory", "point": {"lat": 42.32, "lon": 69.6}},
        status="in_transit",
    )
    assist_deploy.report_status(deployment.record_uuid, acting_user=uz, status="arrived", delivered=2000)
    assist_actions.create_request(
        incident.uuid,
        acting_user=kg,
        resource_type="rapid_response_team",
        quantity=1,
        needed_by=soon,
        region="KG-O",
        priority="medium",
        conditions="Russian-speaking; entomologist included",
    )
    assist_actions.offer_unsolicited(
        incident.uuid,
        acting_user=uz,
        resource_type="other",
        detail="Backpack acaricide sprayers",
        quantity=40,
        to_member="KG",
        available_from=today,
        note="From the reserve of the Surkhandarya region",
    )
    return 10
