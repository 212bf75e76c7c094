"""The three alliances, seeded on every node by `accord migrate` (names and charters in English, Chinese and
Russian). Seeding never overwrites what an administrator changed later, and never touches the council."""

from __future__ import annotations

ALLIANCES: list[dict[str, str]] = [
    {
        "slug": "medicine",
        "name_en": "SCO University Alliance in Medicine",
        "name_zh": "上海合作组织医学大学联盟",
        "name_ru": "Альянс университетов ШОС в области медицины",
        "charter_en": (
            "Universities, research institutes and hospitals of the SCO members join voluntarily to train together, "
            "exchange staff and students, do joint research (vaccines and medicines included) and put their experts "
            "at the disposal of the joint response to epidemics."
        ),
        "charter_zh": (
            "上海合作组织成员国的大学、研究机构和医院自愿加入，开展联合培训、人员和学生交流、联合研究（包括疫苗和药物研发），"
            "并为共同应对疫情提供专家。"
        ),
        "charter_ru": (
            "Университеты, научные институты и больницы государств — членов ШОС добровольно объединяются, чтобы "
            "вместе обучать, обмениваться преподавателями и студентами, вести совместные исследования (в том числе "
            "разработку вакцин и лекарств) и предоставлять своих экспертов для совместного реагирования на эпидемии."
        ),
    },
    {
        "slug": "law",
        "name_en": "SCO University Alliance in Law",
        "name_zh": "上海合作组织法学大学联盟",
        "name_ru": "Альянс университетов ШОС в области права",
        "charter_en": (
            "Law faculties and institutes of the SCO members join voluntarily to compare the members' law for "
            "emergencies (IHR implementing law, sanitary-epidemiological law, quarantine, cross-border data sharing), "
            "keep a shared register of it, train together and advise the joint response."
        ),
        "charter_zh": (
            "上海合作组织成员国的法学院和研究机构自愿加入，比较成员国的应急法律（《国际卫生条例》实施法、卫生防疫法、检疫、"
            "跨境数据共享），共同维护法律登记册，开展联合培训并为共同应对提供咨询。"
        ),
        "charter_ru": (
            "Юридические факультеты и институты государств — членов ШОС добровольно объединяются, чтобы сравнивать "
            "право членов в области чрезвычайных ситуаций (законы о применении ММСП, санитарно-эпидемиологическое "
            "право, карантин, трансграничный обмен данными), вести общий реестр, вместе обучать и консультировать "
            "совместное реагирование."
        ),
    },
    {
        "slug": "agriculture",
        "name_en": "SCO University Alliance in Agriculture",
        "name_zh": "上海合作组织农业大学联盟",
        "name_ru": "Альянс университетов ШОС в области сельского хозяйства",
        "charter_en": (
            "Agricultural and veterinary universities and institutes of the SCO members join voluntarily to work "
            "on animal and plant health and food safety in the One Health approach, train together and lend their "
            "experts to the joint response."
        ),
        "charter_zh": (
            "上海合作组织成员国的农业和兽医大学及研究机构自愿加入，按照“同一健康”方针开展动植物卫生和食品安全工作，"
            "联合培训，并为共同应对提供专家。"
        ),
        "charter_ru": (
            "Аграрные и ветеринарные университеты и институты государств — членов ШОС добровольно объединяются, "
            "чтобы работать над здоровьем животных и растений и безопасностью пищевых продуктов в подходе «Единое "
            "здоровье», вместе обучать и предоставлять своих экспертов для совместного реагирования."
        ),
    },
]
SLUGS = tuple(a["slug"] for a in ALLIANCES)


def seed_alliances() -> None:
    from accord.alliances.models import Alliance

    for entry in ALLIANCES:
        values = {k: v for k, v in entry.items() if k != "slug"}
        Alliance.objects.get_or_create(slug=entry["slug"], defaults=values)
