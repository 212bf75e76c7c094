"""Demo data for the SCO members: loaded by `accord demo`, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accord.members import actions
from accord.members.models import Account, Member, Organisation
from accord.members.seed import MEMBERS, SECRETARIAT_ORG

DEMO_PASSWORD = "accord-demo-2026"  # noqa: S105  (documented in the README; demo only)

_ORG_KINDS = [
    # slug suffix, kind, English, Chinese, Russian (with {en}/{zh}/{ru} the member's name)
    ("health", "health_ministry", "Ministry of Health of {en}", "{zh}卫生部", "Министерство здравоохранения ({ru})"),
    (
        "emergency",
        "emergency_ministry",
        "Ministry of Emergency Situations of {en}",
        "{zh}应急管理部",
        "Министерство по чрезвычайным ситуациям ({ru})",
    ),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    member: str
    organisation: str
    roles: tuple[str, ...]


def demo_accounts() -> list[DemoAccount]:
    accounts = []
    for code, kind, _en, _zh, _ru in MEMBERS:
        if kind != "state":
            continue
        for suffix, _kind, *_names in _ORG_KINDS:
            accounts.append(DemoAccount(f"{code.lower()}.{suffix}", code, f"{code.lower()}-{suffix}", ("focal_point",)))
    accounts += [
        DemoAccount("sco.coordinator", "SCO", SECRETARIAT_ORG[0], ("coordinator",)),
        DemoAccount("sco.analyst", "SCO", SECRETARIAT_ORG[0], ("analyst",)),
        DemoAccount("sco.admin", "SCO", SECRETARIAT_ORG[0], ("admin",)),
    ]
    return accounts


def _ensure_organisations() -> None:
    for code, kind, en, zh, ru in MEMBERS:
        if kind != "state":
            continue
        for suffix, org_kind, name_en, name_zh, name_ru in _ORG_KINDS:
            slug = f"{code.lower()}-{suffix}"
            if not Organisation.objects.filter(slug=slug).exists():
                actions.create_organisation(
                    member_code=code,
                    slug=slug,
                    kind=org_kind,
                    name_en=name_en.format(en=en),
                    name_zh=name_zh.format(zh=zh),
                    name_ru=name_ru.format(ru=ru),
                    acting_user=None,
                )
    slug, org_kind, en, zh, ru = SECRETARIAT_ORG
    if not Organisation.objects.filter(slug=slug).exists():
        actions.create_organisation(
            member_code="SCO", slug=slug, kind=org_kind, name_en=en, name_zh=zh, name_ru=ru, acting_user=None
        )


def _demo_records() -> int:
    """A few shared notes, so the records page shows how audience and TLP work, and one in each of eight members'
    languages (demo_notes.py)."""
    from accord.records import actions as record_actions
    from accord.records.envelope import Audience
    from accord.records.models import Record

    if Record.objects.filter(kind="note").exists():
        return 0
    cn = Account.objects.get(username="cn.health")
    kz = Account.objects.get(username="kz.emergency")
    coordinator = Account.objects.get(username="sco.coordinator")
    notes = [
        (
            cn,
            {
                "title": "Seasonal influenza activity rising in the north",
                "text": "ILI rates above the seasonal threshold in three provinces.",
                "language": "en",
            },
            Audience(everyone=True),
            "GREEN",
            "actual",
        ),
        (
            kz,
            {
                "title": "Паводок на реке Ишим: эвакуация двух сёл",
                "text": "Эвакуировано 1200 человек; помощь не запрашивается.",
                "language": "ru",
            },
            Audience(members=["KZ", "RU", "KG", "UZ"]),
            "AMBER",
            "actual",
        ),
        (
            coordinator,
            {
                "title": "Joint exercise 'Steppe Shield': cholera scenario",
                "text": "Exercise traffic only.",
                "language": "en",
            },
            Audience(everyone=True),
            "CLEAR",
            "exercise",
        ),
    ]
    from accord.members.demo_notes import NOTES

    for member, language, title, text in NOTES:
        author = Account.objects.get(username=f"{member.lower()}.health")
        body = {"title": title, "text": text, "language": language}
        notes.append((author, body, Audience(everyone=True), "GREEN", "actual"))
    for author, body, audience, tlp, status in notes:
        record_actions.publish("note", body, audience=audience, tlp=tlp, status=status, acting_user=author)
    return len(notes)


def load_demo() -> tuple[list[DemoAccount], int, int]:
    """Create what is missing. Returns the demo accounts, how many accounts and records were created."""
    before = Account.objects.count()
    with transaction.atomic():
        actions.seed_members()
        actions.ensure_node_identity()
        _ensure_organisations()
        for demo in demo_accounts():
            if Account.objects.filter(username=demo.username).exists():
                continue
            organisation = Organisation.objects.get(slug=demo.organisation)
            actions.create_account(
                username=demo.username,
                organisation=organisation,
                roles=list(demo.roles),
                email=f"{demo.username}@demo.accord.invalid",
                password=DEMO_PASSWORD,
                acting_user=None,
                check_password=False,
            )
        records = _demo_records()
        from accord.surveillance.demo import load_counts

        records += load_counts()  # weekly case counts of a few members, one series with an outbreak
        from accord.alerts.demo import load_alerts

        records += load_alerts()  # two actual alerts whose acknowledgements wait on the members' desks
        from accord.response.demo import load_incident

        records += load_incident()  # an open cross-border incident
        from accord.alliances.demo import load_alliances

        records += load_alliances(DEMO_PASSWORD)  # universities, experts and the work of the three alliances
    assert Member.objects.filter(code="SCO").exists()
    from accord.alliances.demo import ACCOUNTS, ORGANISATIONS

    member_of = {slug: member for slug, member, *_rest in ORGANISATIONS}
    experts = [DemoAccount(name, member_of[slug], slug, roles) for name, slug, roles in ACCOUNTS]
    # the accounts of the members' organisations and of the alliances' universities (created by load_alliances)
    return demo_accounts() + experts, Account.objects.count() - before, records
