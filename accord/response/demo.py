"""Demo data for `accord demo`: an open cross-border incident, Crimean-Congo haemorrhagic fever in the south of
Kazakhstan, Kyrgyzstan and Uzbekistan, opened by Kazakhstan's ministry of health. Written through the response
actions like any other incident; loaded once (idempotent)."""

from __future__ import annotations

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
REGIONS = ["KZ-61", "KZ-79", "KZ-43", "KG-O", "KG-J", "UZ-SU", "UZ-QA"]


def load_incident() -> int:
    """Open the demo incident (once); returns how many records were created."""
    from accord.members.models import Account
    from accord.records.models import Record
    from accord.response import actions

    if Record.objects.filter(kind="incident").exists():
        return 0
    opener = Account.objects.get(username="kz.health")
    actions.open_incident(
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
    return 1
