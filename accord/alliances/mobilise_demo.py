"""Demo records of mobilisation (loaded by `accord demo` after the roster's, idempotently): on the demo incident
(`accord.response.demo`, Crimean-Congo haemorrhagic fever, affected KZ, KG and UZ), Kyrgyzstan requests one expert
for Osh, the Secretariat's coordinator calls the roster for it, and the first expert called who has an account here
replies available. Selecting them is left to the demo's user (kg.health), on the call's page.

The field is the first of `FIELDS` (tick-borne, One Health) for which the roster's demo profiles hold an expert the
coordinator may see, deployable and available over the window, of a member the request reaches; with none, nothing
is issued. Loaded once: nothing when the incident already has a roster call.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

FIELDS = ("veterinary_epidemiology", "epidemiology", "entomology", "one_health", "laboratory_diagnostics",
          "virology", "infection_prevention", "risk_communication")  # fmt: skip
REGION = "KG-O"  # Osh region
LEAD_DAYS = 7  # the expert is needed in a week
WINDOW_DAYS = 14


def _expert_request(incident: Any, requester: Any, field: str, start: str) -> tuple[Any, int]:
    """Kyrgyzstan's open request for experts on the incident, made now if it has none."""
    from accord.alliances import vocab
    from accord.records.models import Record
    from accord.response import assist_actions

    found = Record.objects.filter(
        kind="assistance_request",
        request_view__incident_record=incident.uuid,
        request_view__resource_type="expert",
        request_view__member="KG",
        request_view__state="open",
    ).first()
    if found is not None:
        return found, 0
    term = vocab.field_term(field)
    version = assist_actions.create_request(
        incident.uuid,
        acting_user=requester,
        resource_type="expert",
        detail=term.en if term is not None else field,
        quantity=1,
        needed_by=start,
        region=REGION,
        priority="high",
        conditions="Russian-speaking; two weeks in the border districts of Osh",
    )
    return Record.objects.get(pk=version.record_id), 1


def load(world: Any) -> int:
    """Issue what is missing for the demo; returns how many records were issued."""
    from django.utils import timezone

    from accord.alliances import mobilise_actions, roster_queries
    from accord.alliances.mobilise_models import RosterCalled, RosterCallView
    from accord.members.models import Account
    from accord.records.errors import ActionError
    from accord.records.models import Record
    from accord.records.principal import Principal
    from accord.response.demo import TITLE

    incident = Record.objects.filter(kind="incident", incident_view__title=TITLE["en"]).first()
    caller = Account.objects.filter(username="sco.coordinator", is_active=True).first()
    requester = Account.objects.filter(username="kg.health", is_active=True).first()
    if incident is None or caller is None or requester is None:
        return 0
    if RosterCallView.objects.filter(incident_record=incident.uuid).exists():
        return 0
    start = timezone.now().date() + timedelta(days=LEAD_DAYS)
    window = (start.isoformat(), (start + timedelta(days=WINDOW_DAYS)).isoformat())
    version = incident.current_version
    if version is None:
        return 0
    field = next(
        (
            f
            for f in FIELDS
            if any(
                r.member != "KG" and mobilise_actions.reaches(version, r.member)
                for r in roster_queries.matching(
                    Principal.of(caller), field=f, available_from=window[0], available_until=window[1], deployable=True
                )
            )
        ),
        None,
    )
    if field is None:
        return 0
    request, issued = _expert_request(incident, requester, field, window[0])
    try:
        call = mobilise_actions.call_roster(
            acting_user=caller,
            request=request.uuid,
            field=field,
            start=window[0],
            until=window[1],
            message="Kyrgyzstan needs an expert for two weeks in Osh: tick surveillance and case investigation.",
        )
    except ActionError:
        return issued
    issued += 1
    called = RosterCalled.objects.filter(call__record_id=call.record_id, account__isnull=False).order_by("id")
    for entry in called:
        person = Account.objects.filter(uuid=str(entry.account), is_active=True).first()
        if person is not None:
            mobilise_actions.reply(
                call.record_uuid,
                acting_user=person,
                available=True,
                start=window[0],
                until=window[1],
                note="Available for the whole window; I can travel from the day the call starts.",
                expert=entry.profile_record,
            )
            return issued + 1
    return issued
