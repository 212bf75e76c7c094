"""Demo records of the alliances' joint work: one activity per alliance (a training course in medicine, a
comparative-law conference in law, a joint One Health research project in agriculture), each issued by an account of
a council university, dated around the day the demo is loaded. Idempotent: an alliance that already has an activity
hosted by that university gets none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

# alliance, host account, days from today to the first and the last day, state, TLP, the activity's fields
ACTIVITIES: list[tuple[str, str, int, int, str, str, dict[str, Any]]] = [
    (
        "medicine", "cn.medical", 30, 41, "planned", "GREEN",
        {
            "type": "training",
            "fields": ["epidemiology", "laboratory_diagnostics"],
            "title": {
                "en": "Field epidemiology and laboratory diagnostics course (demo)",
                "ru": "Курс полевой эпидемиологии и лабораторной диагностики (демо)",
                "zh": "现场流行病学与实验室诊断培训班（演示）",
            },
            "description": {
                "en": "Two weeks of outbreak investigation and PCR diagnostics for young staff of the member "
                "universities.",
                "ru": "Две недели практики расследования вспышек и ПЦР-диагностики для молодых сотрудников "
                "университетов.",
                "zh": "为成员大学青年人员举办的为期两周的疫情调查与PCR诊断实践。",
            },
            "place": "Demo Medical University (China)",
            "participants": {
                "organisations": [
                    {"slug": "ru-demo-medical", "member": "RU"},
                    {"slug": "kz-demo-medical", "member": "KZ"},
                    {"slug": "in-demo-virology", "member": "IN"},
                ],
                "persons": [
                    {"name": "Demo Trainer Li Wei", "organisation": {"slug": "cn-demo-medical", "member": "CN"}},
                    {"name": "Demo Trainee Aigerim", "organisation": {"slug": "kz-demo-medical", "member": "KZ"}},
                ],
            },
            "outputs": [{"title": "Course handbook (demo)", "url": "https://example.org/demo/handbook"}],
        },
    ),
    (
        "law", "ru.law", 60, 61, "planned", "CLEAR",
        {
            "type": "conference",
            "fields": ["international_health_law", "emergency_quarantine_law"],
            "title": {
                "en": "Comparative law of health emergencies: IHR implementation in the SCO members (demo)",
                "ru": "Сравнительное право чрезвычайных ситуаций в здравоохранении: применение ММСП в государствах "
                "ШОС (демо)",
                "zh": "突发卫生事件比较法：上合组织成员国《国际卫生条例》的实施（演示）",
            },
            "description": {
                "en": "Law faculties compare quarantine, sanitary-epidemiological and data-sharing law.",
                "ru": "Юридические факультеты сравнивают законы о карантине, санитарно-эпидемиологическом "
                "благополучии и обмене данными.",
            },
            "place": "Moscow",
            "participants": {
                "organisations": [{"slug": "cn-demo-law", "member": "CN"}, {"slug": "uz-demo-law", "member": "UZ"}],
                "persons": [],
            },
            "outputs": [],
        },
    ),
    (
        "agriculture", "kz.agri", -90, 275, "ongoing", "GREEN",
        {
            "type": "research",
            "fields": ["one_health", "veterinary_epidemiology"],
            "title": {
                "en": "One Health research on brucellosis at the human-animal interface (demo)",
                "ru": "Исследование бруцеллёза на стыке здоровья людей и животных в подходе «Единое здоровье» (демо)",
                "zh": "人畜交界面布鲁氏菌病“同一健康”联合研究（演示）",
            },
            "description": {
                "en": "A joint project of veterinary and medical researchers: serosurveys in herds and herders.",
                "ru": "Совместный проект ветеринаров и медиков: серологические обследования стад и скотоводов.",
            },
            "place": "Astana",
            "participants": {
                "organisations": [{"slug": "by-demo-agri", "member": "BY"}, {"slug": "pk-demo-vet", "member": "PK"}],
                "persons": [],
            },
            "outputs": [{"title": "Sampling protocol (demo)"}],
        },
    ),
]  # fmt: skip


def load(world: Any) -> int:
    """Issue what is missing for the demo; returns how many records were issued."""
    from accord.alliances.work_actions import ActivityInput, create_activity
    from accord.alliances.work_models import ActivityView
    from accord.records.envelope import Audience

    today = timezone.localdate()
    issued = 0
    for slug, username, start, end, state, tlp, fields in ACTIVITIES:
        account = world.account(username)
        organisation = account.organisation
        if ActivityView.objects.filter(alliance=slug, host_slug=organisation.slug).exists():
            continue
        given = ActivityInput(
            starts=(today + timedelta(days=start)).isoformat(),
            ends=(today + timedelta(days=end)).isoformat(),
            state=state,
            **fields,
        )
        create_activity(slug, given, acting_user=account, audience=Audience(everyone=True), tlp=tlp)
        issued += 1
    return issued
