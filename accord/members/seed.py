"""Reference data: the SCO members and the Secretariat, named in English, Chinese and Russian."""

from __future__ import annotations

MEMBERS: list[tuple[str, str, str, str, str]] = [
    # code, kind, English, Chinese, Russian
    ("CN", "state", "China", "中国", "Китай"),
    ("RU", "state", "Russia", "俄罗斯", "Россия"),
    ("IN", "state", "India", "印度", "Индия"),
    ("PK", "state", "Pakistan", "巴基斯坦", "Пакистан"),
    ("IR", "state", "Iran", "伊朗", "Иран"),
    ("KZ", "state", "Kazakhstan", "哈萨克斯坦", "Казахстан"),
    ("KG", "state", "Kyrgyzstan", "吉尔吉斯斯坦", "Кыргызстан"),
    ("TJ", "state", "Tajikistan", "塔吉克斯坦", "Таджикистан"),
    ("UZ", "state", "Uzbekistan", "乌兹别克斯坦", "Узбекистан"),
    ("BY", "state", "Belarus", "白俄罗斯", "Беларусь"),
    ("SCO", "secretariat", "SCO Secretariat", "上海合作组织秘书处", "Секретариат ШОС"),
]

SECRETARIAT_ORG = ("sco-secretariat", "secretariat", "SCO Secretariat", "上海合作组织秘书处", "Секретариат ШОС")
