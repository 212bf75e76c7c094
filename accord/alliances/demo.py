"""Demo data of the alliances (loaded by `accord demo`, idempotently): universities and institutes of several
members (fictional, every name marked "demo"), their accounts, the three councils, and then each part's records:
memberships, expert profiles with varied visibility, an activity, library documents and a legal register entry per
member. Each part loads its own (`<part>_demo.load`), in this order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# slug, member, type, English, Chinese, Russian, alliance it joins, on its council
ORGANISATIONS: list[tuple[str, str, str, str, str, str, str, bool]] = [
    ("cn-demo-medical", "CN", "university", "Demo Medical University (China)", "演示医科大学（中国）",
     "Демо-медицинский университет (Китай)", "medicine", True),
    ("ru-demo-medical", "RU", "university", "Demo Medical University (Russia)", "演示医科大学（俄罗斯）",
     "Демо-медицинский университет (Россия)", "medicine", True),
    ("kz-demo-medical", "KZ", "university", "Demo Medical University (Kazakhstan)", "演示医科大学（哈萨克斯坦）",
     "Демо-медицинский университет (Казахстан)", "medicine", False),
    ("in-demo-virology", "IN", "institute", "Demo Institute of Virology (India)", "演示病毒研究所（印度）",
     "Демо-институт вирусологии (Индия)", "medicine", False),
    ("ru-demo-law", "RU", "university", "Demo Law University (Russia)", "演示法学大学（俄罗斯）",
     "Демо-юридический университет (Россия)", "law", True),
    ("cn-demo-law", "CN", "university", "Demo University of Political Science and Law (China)",
     "演示政法大学（中国）", "Демо-университет политологии и права (Китай)", "law", False),
    ("uz-demo-law", "UZ", "university", "Demo Law University (Uzbekistan)", "演示法学大学（乌兹别克斯坦）",
     "Демо-юридический университет (Узбекистан)", "law", False),
    ("kz-demo-agri", "KZ", "university", "Demo Agrarian University (Kazakhstan)", "演示农业大学（哈萨克斯坦）",
     "Демо-аграрный университет (Казахстан)", "agriculture", True),
    ("by-demo-agri", "BY", "university", "Demo Agricultural Academy (Belarus)", "演示农业学院（白俄罗斯）",
     "Демо-сельскохозяйственная академия (Беларусь)", "agriculture", False),
    ("pk-demo-vet", "PK", "institute", "Demo Veterinary Research Institute (Pakistan)", "演示兽医研究所（巴基斯坦）",
     "Демо-научно-исследовательский ветеринарный институт (Пакистан)", "agriculture", False),
]  # fmt: skip

# username, organisation slug, roles. The first account of each organisation acts for it (applies, leaves).
ACCOUNTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("cn.medical", "cn-demo-medical", ("expert",)),
    ("cn.virologist", "cn-demo-medical", ("expert",)),
    ("ru.medical", "ru-demo-medical", ("expert",)),
    ("ru.epidemiologist", "ru-demo-medical", ("expert",)),
    ("kz.medical", "kz-demo-medical", ("expert",)),
    ("in.virology", "in-demo-virology", ("expert",)),
    ("ru.law", "ru-demo-law", ("expert",)),
    ("cn.law", "cn-demo-law", ("expert",)),
    ("uz.law", "uz-demo-law", ("expert",)),
    ("kz.agri", "kz-demo-agri", ("expert",)),
    ("by.agri", "by-demo-agri", ("expert",)),
    ("pk.vet", "pk-demo-vet", ("expert",)),
]


@dataclass
class DemoWorld:
    """What the parts' demo loaders build on: the demo organisations and accounts by slug and username."""

    organisations: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, Any] = field(default_factory=dict)

    def account(self, username: str) -> Any:
        from accord.members.models import Account

        return Account.objects.select_related("organisation__member").get(username=username)


def _world(password: str) -> DemoWorld:
    from accord.alliances.models import Alliance
    from accord.members import actions
    from accord.members.models import Account, Organisation

    world = DemoWorld()
    for slug, member, kind, en, zh, ru, alliance, council in ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            organisation = actions.create_organisation(
                member_code=member, slug=slug, kind=kind, name_en=en, name_zh=zh, name_ru=ru, acting_user=None
            )
        world.organisations[slug] = organisation
        if council:
            Alliance.objects.get(slug=alliance).council.add(organisation)
    for username, slug, roles in ACCOUNTS:
        account = Account.objects.filter(username=username).first()
        if account is None:
            account = actions.create_account(
                username=username,
                organisation=world.organisations[slug],
                roles=list(roles),
                email=f"{username}@demo.accord.invalid",
                password=password,
                acting_user=None,
                check_password=False,
            )
        world.accounts[username] = account
    return world


def load_alliances(password: str) -> int:
    """Create what is missing; returns how many records were issued."""
    from accord.alliances import library_demo, membership_demo, mobilise_demo, roster_demo, work_demo

    world = _world(password)
    issued = 0
    for part in (membership_demo, roster_demo, work_demo, library_demo, mobilise_demo):
        issued += part.load(world)
    return issued
