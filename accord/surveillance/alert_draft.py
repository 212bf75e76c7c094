"""The draft alert of a verified surveillance signal: composed from the signal and saved as a draft record of the
person who writes it (accord.alerts.drafts), so nothing is lost if the page is left."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accord.alerts import drafts
from accord.alerts import forms as alert_forms
from accord.alerts import queries as alert_queries
from accord.members.models import Account
from accord.records.envelope import TLPS
from accord.records.models import Record
from accord.records.principal import Principal
from accord.surveillance import actions
from accord.surveillance.models import Signal


def draft_params(signal: Signal) -> list[tuple[str, str]]:
    """The alert composer's fields, pre-filled: disease, area, counts, a severity suggested by the exceedance."""
    from accord.surveillance.views import _names, disease_name, region_name

    names = _names()
    language = alert_forms.info_language(get_language())
    disease = disease_name(signal.disease)
    threshold = f"{signal.threshold:.1f}" if signal.threshold is not None else "-"
    if signal.kind == Signal.Kind.JOINT:
        where = ", ".join(names.get(m, m) for m in signal.members)
        headline = _("%(disease)s above the expected level in %(where)s") % {"disease": disease, "where": where}
        parts = [
            _("%(observed)s cases in %(region)s (week %(period)s), threshold %(threshold)s")
            % {
                "observed": s.observed,
                "region": region_name(s.region, names),
                "period": s.period,
                "threshold": f"{s.threshold:.1f}" if s.threshold is not None else "-",
            }
            for s in signal.components.order_by("member", "region")
        ]
        description = _("Cross-border signal of %(disease)s:") % {"disease": disease} + "\n" + "\n".join(parts)
        regions = list(signal.regions)
        audience: dict[str, Any] = {"members": sorted({*signal.members, actions.SECRETARIAT})}
        tlp = "AMBER"
    else:
        where = f"{region_name(signal.region, names)} ({names.get(signal.member, signal.member)})"
        headline = _("%(disease)s above the expected level in %(where)s") % {"disease": disease, "where": where}
        description = _(
            "%(observed)s cases of %(disease)s in %(where)s in week %(period)s, above the threshold of "
            "%(threshold)s computed by %(algorithm)s from the shared weekly counts."
        ) % {
            "observed": signal.observed,
            "disease": disease,
            "where": where,
            "period": signal.period,
            "threshold": threshold,
            "algorithm": signal.algorithm,
        }
        regions = [signal.region]
        version = signal.series.current_version if signal.series is not None else None
        audience = version.envelope()["audience"] if version is not None else {"members": [signal.member]}
        tlp = version.tlp if version is not None else "AMBER"
    params: list[tuple[str, str]] = [
        ("prefill", "1"),
        ("status", "actual"),
        ("info-0-language", language),
        ("info-0-category", "Health"),
        ("info-0-event", disease),
        ("info-0-urgency", "Expected"),
        ("info-0-severity", actions.severity_for(signal)),
        ("info-0-certainty", "Likely"),
        ("info-0-headline", headline[:160]),
        ("info-0-description", description),
        ("disease-system", "ICD-10"),
        ("disease-code", signal.disease),
        ("disease-name", disease),
        ("disease-cases", str(signal.observed)),
        ("tlp", tlp if tlp in TLPS else "AMBER"),
    ]
    for index, code in enumerate(regions):
        if code in names:  # the member as a whole: its outline
            params += [
                (f"area-{index}-kind", "member"),
                (f"area-{index}-desc", names[code]),
                (f"area-{index}-member", code),
            ]
        else:
            params += [
                (f"area-{index}-kind", "geocode"),
                (f"area-{index}-desc", region_name(code, names)),
                (f"area-{index}-geocode-name", "ISO3166-2"),
                (f"area-{index}-geocode-value", code),
            ]
    if audience.get("everyone"):
        params.append(("audience", "everyone"))
    else:
        params.append(("audience", "named"))
        params += [("members", m) for m in audience.get("members", [])]
        params += [("organisations", str(o)) for o in audience.get("organisations", [])]
        params += [("persons", str(p)) for p in audience.get("persons", [])]
    if signal.assessment is not None:
        params.append(("disease-assessment", str(signal.assessment)))
    return params


def draft_alert_url(signal: Signal, account: Account) -> str:
    """The composer pre-filled in its URL: only where the draft cannot be saved (the composer says why)."""
    return reverse("alert-new") + "?" + urlencode(draft_params(signal))


def existing(signal: Signal, account: Account) -> Record | None:
    return alert_queries.draft_for_signal(Principal.of(account), str(signal.uuid))


def write_draft(signal: Signal, account: Account) -> Record:
    """The account's live draft alert for `signal`: found again, or composed from the signal and saved now, with
    the reviewer's note and the signal's regions. A recorded IHR assessment of the signal is linked into it."""
    found = existing(signal, account)
    if found is not None:
        if signal.assessment is not None:
            drafts.set_assessment(found, signal.assessment, acting_user=account)
        return found
    from accord.alerts.views import prefilled

    member = account.organisation.member.code if account.organisation is not None else None
    composition = prefilled(QueryDict(urlencode(draft_params(signal))), member, get_language())
    saved = drafts.save_draft(
        composition.cap(),
        audience=composition.audience(),
        tlp=composition.tlp,
        status=composition.status,
        acting_user=account,
        epidemic=composition.epidemic(),
        note=signal.reason,
        signal=signal.uuid,
        regions=list(signal.regions) or ([signal.region] if signal.region else []),
    )
    record: Record = saved.version.record
    return record
