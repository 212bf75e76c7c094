"""The resource catalogue of mutual assistance: what members request and offer, each type with its unit and its
names in Chinese, Russian and English. Reference data shipped with Accord; `docs/response.md` ("Mutual assistance")
says where each type's definition comes from.

Call `types()` for the whole catalogue in order, `get(code)` for one type (None when unknown) and `units()` for the
units. A request, an offer, an acceptance, a commitment and a deployment all state their type by `code`; their
quantity is counted in the type's unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Detail = Literal["", "antigen", "pathogen", "field", "description"]


@dataclass(frozen=True)
class Unit:
    code: str
    name_en: str
    name_ru: str
    name_zh: str

    def names(self) -> dict[str, str]:
        return {"en": self.name_en, "ru": self.name_ru, "zh": self.name_zh}


@dataclass(frozen=True)
class ResourceType:
    code: str
    unit: str
    name_en: str
    name_ru: str
    name_zh: str
    group: str  # teams / experts / laboratory / medicines / supplies / equipment / other
    # What the free `detail` of a request names for this type (a vaccine's antigen, a test's pathogen, an expert's
    # field, the description of "other"); `detail_required`: a request of this type must give it.
    detail: Detail = ""
    detail_required: bool = False
    source: str = ""

    def names(self) -> dict[str, str]:
        return {"en": self.name_en, "ru": self.name_ru, "zh": self.name_zh}


_UNITS = (
    Unit("team", "team", "команда", "队"),
    Unit("persons", "persons", "человек", "人"),
    Unit("tests_per_day", "tests per day", "тестов в сутки", "每日检测量"),
    Unit("tests", "tests", "тестов", "检测"),
    Unit("doses", "doses", "доз", "剂"),
    Unit("courses", "treatment courses", "курсов лечения", "疗程"),
    Unit("kits", "kits", "наборов", "套"),
    Unit("pieces", "pieces", "штук", "件"),
    Unit("units", "units", "единиц", "台"),
)

EMT = "WHO Classification and minimum standards for emergency medical teams (2021)"
EMT_CELL = "WHO Classification and minimum standards for emergency medical teams (2021), specialised care teams"
GOARN = "WHO Global Outbreak Alert and Response Network (GOARN) deployment roles"
RRT = "WHO Rapid response teams: IHR (2005) capacity, JEE indicator D.4 / R.2"
LAB = "WHO Laboratory biosafety manual, 4th edition; Rapid response mobile laboratories (RRML) classification, 2021"
EML = "WHO Model List of Essential Medicines (23rd list, 2023)"
VACCINE = "WHO Prequalified vaccines list, by antigen"
DCP = "WHO Disease commodity packages and technical specifications of PPE (COVID-19 essential supplies)"
DEVICES = "WHO Technical specifications for oxygen concentrators (2015) and priority medical devices (2020)"

_TYPES = (
    ResourceType(
        "emt_type1_mobile",
        "team",
        "EMT Type 1 mobile",
        "БМП тип 1 мобильная",
        "一类流动应急医疗队",
        "teams",
        source=EMT,
    ),
    ResourceType(
        "emt_type1_fixed",
        "team",
        "EMT Type 1 fixed",
        "БМП тип 1 стационарная",
        "一类固定应急医疗队",
        "teams",
        source=EMT,
    ),
    ResourceType("emt_type2", "team", "EMT Type 2", "БМП тип 2", "二类应急医疗队", "teams", source=EMT),
    ResourceType("emt_type3", "team", "EMT Type 3", "БМП тип 3", "三类应急医疗队", "teams", source=EMT),
    ResourceType(
        "emt_specialised_cell",
        "team",
        "EMT specialised care cell",
        "специализированная группа БМП",
        "应急医疗队专科小组",
        "teams",
        detail="field",
        source=EMT_CELL,
    ),
    ResourceType(
        "rapid_response_team",
        "team",
        "Rapid response team",
        "группа быстрого реагирования",
        "快速反应队",
        "teams",
        source=RRT,
    ),
    ResourceType("expert", "persons", "Experts", "эксперты", "专家", "experts", detail="field", source=GOARN),
    ResourceType(
        "lab_testing_capacity",
        "tests_per_day",
        "Laboratory testing capacity",
        "лабораторная мощность тестирования",
        "实验室检测能力",
        "laboratory",
        detail="pathogen",
        source=LAB,
    ),
    ResourceType(
        "pcr_tests", "tests", "PCR tests", "ПЦР-тесты", "核酸检测", "laboratory", detail="pathogen", source=LAB
    ),
    ResourceType(
        "mobile_laboratory",
        "units",
        "Mobile laboratory",
        "мобильная лаборатория",
        "移动实验室",
        "laboratory",
        source=LAB,
    ),
    ResourceType(
        "vaccine_doses", "doses", "Vaccines", "вакцины", "疫苗", "medicines", detail="antigen", source=VACCINE
    ),
    ResourceType(
        "antivirals", "courses", "Antivirals", "противовирусные препараты", "抗病毒药物", "medicines", source=EML
    ),
    ResourceType("antibiotics", "courses", "Antibiotics", "антибиотики", "抗生素", "medicines", source=EML),
    ResourceType(
        "diagnostic_kits",
        "kits",
        "Diagnostic kits",
        "диагностические наборы",
        "诊断试剂盒",
        "supplies",
        detail="pathogen",
        source=DCP,
    ),
    ResourceType(
        "ppe_respirators", "pieces", "Respirators (PPE)", "респираторы (СИЗ)", "呼吸防护口罩", "supplies", source=DCP
    ),
    ResourceType("ppe_gloves", "pieces", "Gloves (PPE)", "перчатки (СИЗ)", "防护手套", "supplies", source=DCP),
    ResourceType("ppe_gowns", "pieces", "Gowns (PPE)", "халаты (СИЗ)", "防护服", "supplies", source=DCP),
    ResourceType("ppe_goggles", "pieces", "Goggles (PPE)", "защитные очки (СИЗ)", "护目镜", "supplies", source=DCP),
    ResourceType(
        "oxygen_concentrators",
        "units",
        "Oxygen concentrators",
        "кислородные концентраторы",
        "制氧机",
        "equipment",
        source=DEVICES,
    ),
    ResourceType("ventilators", "units", "Ventilators", "аппараты ИВЛ", "呼吸机", "equipment", source=DEVICES),
    ResourceType(
        "other",
        "units",
        "Other",
        "прочее",
        "其他",
        "other",
        detail="description",
        detail_required=True,
        source="Accord: anything the list does not name, described in the request",
    ),
)

_BY_CODE = {t.code: t for t in _TYPES}
_UNITS_BY_CODE = {u.code: u for u in _UNITS}
CODES = tuple(_BY_CODE)
UNIT_CODES = tuple(_UNITS_BY_CODE)


def types() -> tuple[ResourceType, ...]:
    """Every resource type, in the catalogue's order."""
    return _TYPES


def get(code: str) -> ResourceType | None:
    return _BY_CODE.get(code)


def units() -> tuple[Unit, ...]:
    return _UNITS


def unit(code: str) -> Unit | None:
    return _UNITS_BY_CODE.get(code)
