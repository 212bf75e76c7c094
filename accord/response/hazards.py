"""What an incident is about: a listed disease (ICD-11 and ICD-10, from the surveillance reference list) or a
hazard type of a small controlled list, for emergencies that are not epidemics.

An incident's body holds the hazard as `{"type": "disease", "icd10": "B05", "icd11": "1F03"}` or
`{"type": "flood"}`; `resolve` turns what a person typed (an ICD-11 or ICD-10 code, or a hazard type) into that.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accord.surveillance import reference

DISEASE = "disease"

# Non-epidemic hazard types (and a disease not yet identified), after the hazard groups of the Sendai framework's
# hazard classification, kept short: an incident names one; "other" covers the rest.
HAZARD_TYPES: dict[str, str | Promise] = {
    "unknown_disease": _("Disease of unknown cause"),
    "food_safety": _("Food safety event"),
    "earthquake": _("Earthquake"),
    "flood": _("Flood"),
    "landslide": _("Landslide or mudflow"),
    "drought": _("Drought"),
    "wildfire": _("Wildfire"),
    "storm": _("Storm"),
    "extreme_temperature": _("Extreme heat or cold"),
    "chemical": _("Chemical event"),
    "radiological": _("Radiological or nuclear event"),
    "industrial": _("Industrial accident"),
    "transport": _("Transport accident"),
    "other": _("Other hazard"),
}

DOMAINS: dict[str, str | Promise] = {
    "human": _("Human health"),
    "animal": _("Animal health"),
    "plant": _("Plant health"),
    "environment": _("Environment"),
}


class UnknownHazard(ValueError):
    pass


def resolve(text: str) -> dict[str, Any]:
    """The hazard an input names: a listed disease by its ICD-11 or ICD-10 code (a subcode finds its entry), or
    a hazard type. Raises UnknownHazard naming what is accepted."""
    value = text.strip()
    if value.lower() in HAZARD_TYPES:
        return {"type": value.lower()}
    disease = reference.find_disease(value) if value else None
    if disease is None:
        raise UnknownHazard(
            f"{text!r} is neither a listed disease (an ICD-11 or ICD-10 code of the surveillance reference list) "
            f"nor a hazard type ({', '.join(HAZARD_TYPES)})"
        )
    found: dict[str, Any] = {"type": DISEASE, "icd10": disease.code}
    if disease.icd11:
        found["icd11"] = disease.icd11
    return found


def check(hazard: dict[str, Any]) -> None:
    """A hazard as a body holds it: a known type; a disease by the ICD-10 code of the list, with the list's
    ICD-11 code (or none where the list has none)."""
    kind = hazard.get("type")
    if kind != DISEASE:
        if kind not in HAZARD_TYPES:
            raise UnknownHazard(f"hazard.type {kind!r} is not 'disease' nor one of {', '.join(HAZARD_TYPES)}")
        if hazard.get("icd10") or hazard.get("icd11"):
            raise UnknownHazard("hazard.icd10 and hazard.icd11 are for a disease only")
        return
    code = str(hazard.get("icd10") or "")
    disease = reference.diseases().get(code)
    if disease is None:
        raise UnknownHazard(f"hazard.icd10 {code!r} is not an ICD-10 code of the surveillance reference list")
    if hazard.get("icd11") != disease.icd11:
        listed, given = disease.icd11, hazard.get("icd11")
        raise UnknownHazard(f"hazard.icd11 of {code} is {listed!r} in the reference list, not {given!r}")


def key(hazard: dict[str, Any]) -> str:
    """The one code a list filters on: the ICD-10 code of a disease, else the hazard type."""
    if hazard.get("type") == DISEASE:
        return str(hazard.get("icd10") or "")
    return str(hazard.get("type") or "")


def label(hazard: dict[str, Any]) -> str:
    """The hazard's name in the active language."""
    if hazard.get("type") == DISEASE:
        disease = reference.diseases().get(str(hazard.get("icd10") or ""))
        return disease.name if disease is not None else str(hazard.get("icd10") or "")
    return str(HAZARD_TYPES.get(str(hazard.get("type")), hazard.get("type") or ""))


def filter_key(query: str) -> str:
    """The hazard key a list filter stands for: a hazard type, or a disease by ICD-10 or ICD-11 code."""
    try:
        return key(resolve(query))
    except UnknownHazard:
        return query.strip()
