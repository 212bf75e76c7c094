"""The controlled vocabularies of the alliances: fields of expertise and languages with their levels, each named in
English, Chinese and Russian. Codes are what records and the API carry; names are what pages show."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language

from accord.records.errors import ActionError


@dataclass(frozen=True)
class Term:
    code: str
    en: str
    zh: str
    ru: str
    alliance: str  # the alliance whose experts usually hold it ("" for all)

    @property
    def name(self) -> str:
        language = (get_language() or "en").lower()
        if language.startswith("zh"):
            return self.zh
        if language.startswith("ru"):
            return self.ru
        return self.en


FIELDS: tuple[Term, ...] = (
    Term("epidemiology", "Epidemiology", "流行病学", "Эпидемиология", "medicine"),
    Term("virology", "Virology", "病毒学", "Вирусология", "medicine"),
    Term("bacteriology", "Bacteriology", "细菌学", "Бактериология", "medicine"),
    Term("laboratory_diagnostics", "Laboratory diagnostics", "实验室诊断", "Лабораторная диагностика", "medicine"),
    Term(
        "clinical_management",
        "Clinical management of infectious diseases",
        "传染病临床管理",
        "Клиническое ведение инфекционных болезней",
        "medicine",
    ),
    Term(
        "infection_prevention",
        "Infection prevention and control",
        "感染预防与控制",
        "Профилактика инфекций и инфекционный контроль",
        "medicine",
    ),
    Term("risk_communication", "Risk communication", "风险沟通", "Информирование о рисках", ""),
    Term("vaccines_medicines", "Vaccine and medicine R&D", "疫苗和药物研发", "Разработка вакцин и лекарств",
         "medicine"),
    Term(
        "international_health_law",
        "International health law",
        "国际卫生法",
        "Международное право в области здравоохранения",
        "law",
    ),
    Term(
        "emergency_quarantine_law",
        "Emergency and quarantine law",
        "应急与检疫法",
        "Право чрезвычайных ситуаций и карантина",
        "law",
    ),
    Term("data_protection_law", "Data protection law", "数据保护法", "Право защиты данных", "law"),
    Term("veterinary_epidemiology", "Veterinary epidemiology", "兽医流行病学", "Ветеринарная эпидемиология",
         "agriculture"),
    Term("plant_health", "Plant health", "植物卫生", "Карантин и защита растений", "agriculture"),
    Term("food_safety", "Food safety", "食品安全", "Безопасность пищевых продуктов", "agriculture"),
    Term("one_health", "One Health", "同一健康", "Единое здоровье", ""),
    Term("logistics", "Logistics", "后勤", "Логистика", ""),
    Term("public_health_management", "Public health emergency management", "突发公共卫生事件管理",
         "Управление чрезвычайными ситуациями в здравоохранении", ""),
    Term("entomology", "Medical entomology and vector control", "医学昆虫学与病媒控制",
         "Медицинская энтомология и борьба с переносчиками", "medicine"),
)  # fmt: skip

# Languages (ISO 639-1), the working languages first.
LANGUAGES: tuple[Term, ...] = (
    Term("zh", "Chinese", "中文", "китайский", ""),
    Term("ru", "Russian", "俄语", "русский", ""),
    Term("en", "English", "英语", "английский", ""),
    Term("hi", "Hindi", "印地语", "хинди", ""),
    Term("ur", "Urdu", "乌尔都语", "урду", ""),
    Term("fa", "Persian", "波斯语", "персидский", ""),
    Term("kk", "Kazakh", "哈萨克语", "казахский", ""),
    Term("ky", "Kyrgyz", "吉尔吉斯语", "киргизский", ""),
    Term("tg", "Tajik", "塔吉克语", "таджикский", ""),
    Term("uz", "Uzbek", "乌兹别克语", "узбекский", ""),
    Term("be", "Belarusian", "白俄罗斯语", "белорусский", ""),
    Term("ar", "Arabic", "阿拉伯语", "арабский", ""),
    Term("fr", "French", "法语", "французский", ""),
    Term("de", "German", "德语", "немецкий", ""),
    Term("es", "Spanish", "西班牙语", "испанский", ""),
    Term("tr", "Turkish", "土耳其语", "турецкий", ""),
    Term("mn", "Mongolian", "蒙古语", "монгольский", ""),
    Term("bn", "Bengali", "孟加拉语", "бенгальский", ""),
    Term("ps", "Pashto", "普什图语", "пушту", ""),
)

# CEFR levels, and "native".
LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2", "native")

FIELD_CODES = frozenset(t.code for t in FIELDS)
LANGUAGE_CODES = frozenset(t.code for t in LANGUAGES)
_BY_CODE = {t.code: t for t in (*FIELDS, *LANGUAGES)}


def field_term(code: str) -> Term | None:
    found = _BY_CODE.get(code)
    return found if found is not None and found in FIELDS else None


def language_term(code: str) -> Term | None:
    found = _BY_CODE.get(code)
    return found if found is not None and found in LANGUAGES else None


def check_field(code: str, where: str = "field") -> str:
    """A field of expertise's code, or a 400 naming `where` and listing the codes."""
    if code not in FIELD_CODES:
        known = ", ".join(sorted(FIELD_CODES))
        raise ActionError(f"{where}: {code!r} is not a field of expertise ({known})", field=where)
    return code


def check_language(code: str, where: str = "language") -> str:
    if code not in LANGUAGE_CODES:
        known = ", ".join(sorted(LANGUAGE_CODES))
        raise ActionError(f"{where}: {code!r} is not a language code of the roster ({known})", field=where)
    return code
