"""Demo records of the alliances' roster: an expert profile for each demo expert account (`demo.ACCOUNTS`), with
varied visibility: some for all members (TLP:GREEN), some for the members of their alliance and the Secretariat
(TLP:AMBER), one for the Secretariat only. Loaded once: an account that has (or had, and withdrew) a profile gets
none again.

The alliance's members are those of its member organisations when the membership demo has made them; before that,
the members of the demo organisations that join it (`demo.ORGANISATIONS`), which is what they become.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

# username, fields, languages, available windows (days from the day the demo is loaded: the roster is current whenever
# it is loaded), deployable (days), alliances, visibility, note
PROFILES: list[tuple[str, list[str], list[tuple[str, str]], list[tuple[int, int]], int | None, list[str], str, str]] = [
    ("cn.medical", ["epidemiology", "risk_communication"], [("zh", "native"), ("en", "C1"), ("ru", "B1")],
     [(0, 90)], 7, ["medicine"], "everyone",
     "Field epidemiologist (demo): outbreak investigations in Xinjiang and Yunnan."),
    ("cn.virologist", ["virology", "laboratory_diagnostics"], [("zh", "native"), ("en", "B2")],
     [(14, 120)], 14, ["medicine"], "alliance",
     "Arbovirus laboratory (demo): RT-PCR and sequencing of CCHF and dengue."),
    ("ru.medical", ["clinical_management", "infection_prevention"], [("ru", "native"), ("en", "B2")],
     [(0, 75)], 10, ["medicine"], "everyone",
     "Infectious diseases clinician (demo)."),
    ("ru.epidemiologist", ["epidemiology", "public_health_management"], [("ru", "native"), ("kk", "A2")],
     [(30, 210)], None, ["medicine"], "secretariat",
     "Sanitary-epidemiological service, retired (demo): visible to the Secretariat only."),
    ("kz.medical", ["epidemiology", "entomology"], [("kk", "native"), ("ru", "native"), ("en", "B1")],
     [(0, 180)], 3, ["medicine", "agriculture"], "alliance",
     "Plague and tick-borne infections (demo)."),
    ("in.virology", ["virology", "vaccines_medicines"], [("hi", "native"), ("en", "C2")],
     [(60, 180)], 21, ["medicine"], "alliance", "Vaccine research (demo)."),
    ("ru.law", ["international_health_law", "emergency_quarantine_law"], [("ru", "native"), ("en", "C1")],
     [(0, 240)], None, ["law"], "everyone", "IHR implementing legislation (demo)."),
    ("cn.law", ["international_health_law", "data_protection_law"], [("zh", "native"), ("en", "C1")],
     [(30, 150)], None, ["law"], "alliance", "Cross-border health data (demo)."),
    ("uz.law", ["emergency_quarantine_law"], [("uz", "native"), ("ru", "C2")], [], None, ["law"], "alliance",
     "Quarantine regulations (demo)."),
    ("kz.agri", ["veterinary_epidemiology", "one_health"], [("kk", "native"), ("ru", "native"), ("zh", "B1")],
     [(0, 120)], 5, ["agriculture"], "everyone", "Brucellosis and anthrax in livestock (demo)."),
    ("by.agri", ["plant_health", "food_safety"], [("be", "native"), ("ru", "native"), ("en", "B1")],
     [(14, 120)], 14, ["agriculture"], "alliance", "Phytosanitary control (demo)."),
    ("pk.vet", ["veterinary_epidemiology", "laboratory_diagnostics"], [("ur", "native"), ("en", "C1")],
     [(30, 150)], 10, ["agriculture"], "everyone", "Avian influenza surveillance (demo)."),
]  # fmt: skip


def _alliance_audience(alliances: list[str]) -> dict[str, Any]:
    from accord.alliances import membership_queries
    from accord.alliances.demo import ORGANISATIONS

    codes: set[str] = {"SCO"}
    for slug in alliances:
        found = membership_queries.member_codes(slug)
        codes.update(found or [row[1] for row in ORGANISATIONS if row[6] == slug])
    return {"members": sorted(codes)}


def _visibility(choice: str, alliances: list[str]) -> tuple[dict[str, Any], str]:
    if choice == "everyone":
        return {"everyone": True}, "GREEN"
    if choice == "alliance":
        return _alliance_audience(alliances), "AMBER"
    return {"members": ["SCO"]}, "AMBER"


def load(world: Any) -> int:
    """Issue what is missing for the demo; returns how many records were issued."""
    from accord.alliances import roster_actions
    from accord.alliances.demo import DemoWorld
    from accord.alliances.roster_kinds import KIND
    from accord.records.models import Version

    world = world if world is not None else DemoWorld()
    today = timezone.now().date()
    issued = 0
    for username, fields, languages, windows, days, alliances, choice, note in PROFILES:
        account = world.account(username)
        if Version.objects.filter(kind=KIND, author=account.uuid).exists():
            continue  # it has one, or had one and withdrew it
        audience, tlp = _visibility(choice, alliances)
        profile = {
            "fields": fields,
            "languages": [{"code": code, "level": level} for code, level in languages],
            "available": [
                {
                    "from": (today + timedelta(days=start)).isoformat(),
                    "until": (today + timedelta(days=end)).isoformat(),
                }
                for start, end in windows
            ],
            "deployable": days is not None,
            "deploy_within_days": days,
            "alliances": alliances,
            "note": note,
            "contact_email": f"{username}@demo.accord.invalid",
        }
        roster_actions.put_own(account, profile=profile, audience=audience, tlp=tlp)
        issued += 1
    return issued
