"""Demo records of the alliances' library: a few documents in each alliance's library (each with a small generated
PDF), and one entry of the law alliance's legal register per SCO member state. Every title says "demo", every
citation is fictional and every link leads to example.org. Loaded once: a document or an entry already there (by its
title) is not issued again."""

from __future__ import annotations

from typing import Any

from accord.alliances.library_pdf import minimal_pdf

# alliance, the account that adds it, type, title, abstract, tags, languages, date, file name
DOCUMENTS: list[tuple[str, str, str, dict[str, str], dict[str, str], list[str], list[str], str, str]] = [
    ("medicine", "cn.medical", "guideline",
     {"en": "Laboratory diagnosis of Crimean-Congo haemorrhagic fever (demo)",
      "ru": "Лабораторная диагностика Крымской геморрагической лихорадки (демо)",
      "zh": "克里米亚-刚果出血热的实验室诊断（演示）"},
     {"en": "How to take, pack and test samples of suspected cases: RT-PCR first, serology later.",
      "ru": "Как отбирать, упаковывать и исследовать пробы от подозрительных случаев: сначала ОТ-ПЦР, затем "
            "серологические исследования.",
      "zh": "疑似病例样本的采集、包装和检测：先做RT-PCR，再做血清学检测。"},
     ["CCHF", "laboratory"], ["zh", "ru", "en"], "2025-04", "cchf-laboratory-demo.pdf"),
    ("medicine", "ru.medical", "curriculum",
     {"en": "Field epidemiology training for the SCO members (demo)",
      "ru": "Программа подготовки полевых эпидемиологов для государств ШОС (демо)"},
     {"ru": "Двенадцатинедельный курс: расследование вспышек, эпиднадзор, информирование о рисках.",
      "en": "A twelve-week course: outbreak investigation, surveillance, risk communication."},
     ["training", "field epidemiology"], ["ru", "en"], "2024", "field-epidemiology-demo.pdf"),
    ("law", "ru.law", "report",
     {"en": "Quarantine law of the SCO members compared (demo)",
      "ru": "Сравнительный обзор карантинного законодательства государств ШОС (демо)",
      "zh": "上海合作组织成员国检疫法律比较（演示）"},
     {"ru": "Обзор оснований и порядка введения карантина, прав граждан и обмена данными через границы.",
      "en": "When and how quarantine is imposed, the rights of the people concerned and cross-border data sharing."},
     ["quarantine", "IHR"], ["ru", "en"], "2025-02", "quarantine-law-compared-demo.pdf"),
    ("agriculture", "kz.agri", "protocol",
     {"en": "Brucellosis in small ruminants: a One Health protocol (demo)",
      "ru": "Бруцеллёз мелкого рогатого скота: протокол «Единое здоровье» (демо)"},
     {"ru": "Совместные действия ветеринарной и санитарно-эпидемиологической служб при выявлении бруцеллёза у овец "
            "и коз.",
      "en": "Joint steps of the veterinary and sanitary-epidemiological services when brucellosis is found in "
            "sheep and goats."},
     ["brucellosis", "One Health"], ["ru", "kk", "en"], "2024-09", "brucellosis-protocol-demo.pdf"),
]  # fmt: skip

# member, original language, title, translations, adopted, status, topics
INSTRUMENTS: list[tuple[str, str, str, dict[str, str], str | None, str, list[str]]] = [
    ("CN", "zh", "突发公共卫生事件应对条例（演示）",
     {"en": "Regulation on the response to public health emergencies (demo)",
      "ru": "Положение о реагировании на чрезвычайные ситуации в области общественного здравоохранения (демо)"},
     "2003-05-09", "amended", ["ihr_implementing_law", "sanitary_epidemiological_law"]),
    ("RU", "ru", "Федеральный закон о санитарно-эпидемиологическом благополучии населения (демо)",
     {"en": "Federal law on the sanitary-epidemiological welfare of the population (demo)"},
     "1999-03-30", "amended", ["sanitary_epidemiological_law", "quarantine"]),
    ("IN", "en", "Epidemic diseases act (demo entry)", {"ru": "Закон об эпидемических заболеваниях (демо)"},
     "1897-02-04", "amended", ["quarantine"]),
    ("PK", "en", "Public health emergencies act (demo entry)",
     {"ru": "Закон о чрезвычайных ситуациях в здравоохранении (демо)"}, "2021-06-01", "in_force",
     ["ihr_implementing_law"]),
    ("IR", "fa", "قانون قرنطینه (نمونه)", {"en": "Quarantine law (demo)", "ru": "Закон о карантине (демо)"},
     "2010-01-20", "in_force", ["quarantine"]),
    ("KZ", "kk", "Халық денсаулығы туралы кодекс (демо)",
     {"en": "Code on public health (demo)", "ru": "Кодекс о здоровье народа (демо)"},
     "2020-07-07", "in_force", ["sanitary_epidemiological_law", "ihr_implementing_law"]),
    ("KG", "ky", "Коомдук саламаттык сактоо жөнүндө мыйзам (демо)",
     {"en": "Law on public health (demo)", "ru": "Закон об общественном здравоохранении (демо)"},
     "2009-07-24", "amended", ["sanitary_epidemiological_law"]),
    ("TJ", "tg", "Қонун дар бораи карантин (демо)",
     {"en": "Law on quarantine (demo)", "ru": "Закон о карантине (демо)"}, "2016-02-23", "in_force",
     ["quarantine"]),
    ("UZ", "uz", "Aholining sanitariya-epidemiologik osoyishtaligi to'g'risidagi qonun (demo)",
     {"en": "Law on the sanitary-epidemiological welfare of the population (demo)",
      "ru": "Закон о санитарно-эпидемиологическом благополучии населения (демо)"},
     "2015-08-26", "in_force", ["sanitary_epidemiological_law"]),
    ("BY", "ru", "Закон об обмене медицинскими данными с иностранными государствами (демо)",
     {"en": "Law on sharing health data with foreign states (demo)"}, None, "draft",
     ["cross_border_data_sharing"]),
]  # fmt: skip


def _account(world: Any, username: str) -> Any:
    from accord.members.models import Account

    found = getattr(world, "accounts", {}).get(username)
    if found is not None:
        return found
    return Account.objects.filter(username=username, is_active=True).select_related("organisation__member").first()


def _documents(world: Any) -> int:
    from accord.alliances import library_actions, library_files
    from accord.alliances.library_models import LibraryDocumentView

    issued = 0
    for alliance, username, kind, title, abstract, tags, languages, date, name in DOCUMENTS:
        if LibraryDocumentView.objects.filter(title=title["en"]).exists():
            continue
        account = _account(world, username)
        if account is None:
            continue
        data = minimal_pdf(["DEMO DOCUMENT (fictional)", title["en"], "", *abstract.get("en", "").split(": ")])
        library_actions.add_document(
            alliance,
            acting_user=account,
            doc_type=kind,
            title=title,
            abstract=abstract,
            tags=tags,
            languages=languages,
            date=date,
            authors="Demo authors (fictional)",
            files=[library_files.Upload(name, data)],
        )
        issued += 1
    return issued


def _instruments(world: Any) -> int:
    from accord.alliances import library_actions
    from accord.alliances.library_models import LegalInstrumentView

    issued = 0
    for member, language, title, translations, adopted, status, topics in INSTRUMENTS:
        if LegalInstrumentView.objects.filter(member=member, title=title).exists():
            continue
        account = _account(world, f"{member.lower()}.health") or _account(world, "sco.coordinator")
        if account is None:
            continue
        body: dict[str, Any] = {
            "member": member,
            "title": title,
            "title_translations": translations,
            "original_language": language,
            "status": status,
            "citation": f"DEMO-{member}-{(adopted or 'draft')[:4]}-01 (fictional citation)",
            "link": f"https://example.org/demo/legal-register/{member.lower()}",
            "summary": {"en": "A demo entry of the legal register: the title, dates and citation are illustrations."},
            "topics": topics,
        }
        if adopted is not None:
            body["adopted"] = adopted
        library_actions.add_instrument(body, acting_user=account)
        issued += 1
    return issued


def load(world: Any) -> int:
    """Issue what is missing for the demo; returns how many records were issued."""
    return _documents(world) + _instruments(world)
