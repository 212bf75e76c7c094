"""Which subscriptions want a version: the filters of a subscription, always behind the audience filter.

A subscription never delivers what its owner may not see: `may_see` asks the one audience filter
(`Version.objects.visible_to` and `Record.objects.visible_to`, as the API and pages do) as the owner.
An organisation's subscription sees as the organisation: what its member, or it by name, may see,
never what is addressed to one of its persons.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.records.principal import Principal

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from accord.notify.models import Subscription
    from accord.records.models import Version

# CAP scales, best first (index 0 is the most severe / urgent / certain). "Unknown" never passes a threshold.
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
URGENCIES = ("Immediate", "Expected", "Future", "Past")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely")
# Kinds a subscription without a kind filter does not get: bulk and housekeeping traffic. Name them to get them.
QUIET_KINDS = frozenset({"acknowledgement", "case_counts"})
# An organisation's subscription sees as its organisation: this account id names nobody.
ORGANISATION_ACCOUNT = uuid.UUID(int=0)


def _rank(scale: tuple[str, ...], value: str) -> int | None:
    value = "Likely" if value == "Very Likely" else value  # CAP 1.0's term
    return scale.index(value) if value in scale else None


def passes(scale: tuple[str, ...], value: str, threshold: str) -> bool:
    """Whether `value` is `threshold` or worse (more severe, urgent or certain). No threshold: always."""
    if not threshold:
        return True
    rank, limit = _rank(scale, value), _rank(scale, threshold)
    return rank is not None and limit is not None and rank <= limit


@dataclass(frozen=True)
class Info:
    """What a subscription can ask of one CAP info block."""

    categories: frozenset[str]
    event: str
    severity: str
    urgency: str
    certainty: str


@dataclass
class Facts:
    """What a version says, in the terms subscriptions use."""

    kind: str
    origin_member: str
    status: str
    state: str
    title: str = ""
    infos: list[Info] = field(default_factory=list)
    diseases: frozenset[str] = frozenset()
    areas: list[dict[str, Any]] = field(default_factory=list)  # GeoJSON features (lon, lat)
    _shapes: list[BaseGeometry] | None = None

    @property
    def severity(self) -> str:
        """The worst severity of the info blocks ("Unknown" if none says)."""
        found = {info.severity for info in self.infos}
        return next((s for s in SEVERITIES if s in found), "Unknown")

    def shapes(self) -> list[BaseGeometry]:
        if self._shapes is None:
            from shapely.geometry import shape

            self._shapes = []
            for feature in self.areas:
                try:
                    self._shapes.append(shape(feature["geometry"]))
                except (KeyError, ValueError, TypeError, AttributeError):
                    continue
        return self._shapes


def _diseases(body: dict[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for holder in (body, body.get("epidemic") or {}):
        disease = holder.get("disease") if isinstance(holder, dict) else None
        if isinstance(disease, dict):
            found |= {str(disease[k]).strip().lower() for k in ("code", "name") if disease.get(k)}
    return frozenset(found)


def facts_of(version: Version) -> Facts:
    from accord.records import kinds

    body = version.body
    kind = kinds.get(version.kind)
    try:
        title = kind.title(body) if kind is not None else ""
    except (KeyError, TypeError, ValueError, AttributeError):
        title = ""
    facts = Facts(
        kind=version.kind,
        origin_member=version.origin_member,
        status=version.status,
        state=version.state,
        title=title,
        diseases=_diseases(body),
    )
    cap = body.get("cap") if version.kind == "alert" else None
    if isinstance(cap, dict):
        from accord.alerts import mapping

        for info in cap.get("info", []) or []:
            facts.infos.append(
                Info(
                    categories=frozenset(str(c) for c in info.get("category", []) or []),
                    event=str(info.get("event", "")).strip().lower(),
                    severity=str(info.get("severity", "Unknown")),
                    urgency=str(info.get("urgency", "Unknown")),
                    certainty=str(info.get("certainty", "Unknown")),
                )
            )
        facts.areas, _ = mapping.areas_of(cap)
        headline = str(mapping.first_info(cap).get("headline", "") or mapping.first_info(cap).get("event", ""))
        facts.title = headline or facts.title
    return facts


def _info_passes(subscription: Subscription, info: Info) -> bool:
    if subscription.categories and not (info.categories & set(subscription.categories)):
        return False
    if subscription.events and info.event not in {e.strip().lower() for e in subscription.events}:
        return False
    return (
        passes(SEVERITIES, info.severity, subscription.min_severity)
        and passes(URGENCIES, info.urgency, subscription.min_urgency)
        and passes(CERTAINTIES, info.certainty, subscription.min_certainty)
    )


def _uses_cap_filters(subscription: Subscription) -> bool:
    return bool(
        subscription.categories
        or subscription.events
        or subscription.min_severity
        or subscription.min_urgency
        or subscription.min_certainty
    )


def area_of(subscription: Subscription) -> BaseGeometry | None:
    """The subscription's area: its polygon and its members' territories together (None: no area filter)."""
    from shapely.geometry import shape
    from shapely.ops import unary_union

    from accord.notify.territories import territory

    parts = []
    if subscription.area:
        with contextlib.suppress(KeyError, ValueError, TypeError, AttributeError):
            parts.append(shape(subscription.area))
    parts += [t for t in (territory(code) for code in subscription.area_members) if t is not None]
    if not parts:
        return None
    return unary_union(parts)


def _area_passes(subscription: Subscription, facts: Facts) -> bool:
    if not subscription.area and not subscription.area_members:
        return True
    shapes = facts.shapes()
    if not shapes:
        # No geometry to compare (no polygon, circle or outlined ISO 3166-2 region): an alert matches a member
        # territory only when that member issued it; a drawn polygon never matches it.
        return facts.origin_member in subscription.area_members
    area = area_of(subscription)
    return area is not None and any(area.intersects(s) for s in shapes)


def matches(subscription: Subscription, facts: Facts) -> bool:
    """The subscription's own filters (not the audience: see `may_see`)."""
    if subscription.kinds:
        if facts.kind not in subscription.kinds:
            return False
    elif facts.kind in QUIET_KINDS:
        return False
    if facts.status not in (subscription.statuses or ["actual"]):
        return False
    if subscription.origin_members and facts.origin_member not in subscription.origin_members:
        return False
    if subscription.diseases and not ({d.strip().lower() for d in subscription.diseases} & facts.diseases):
        return False
    if _uses_cap_filters(subscription) and not any(_info_passes(subscription, info) for info in facts.infos):
        return False
    return _area_passes(subscription, facts)


def principal_of(subscription: Subscription) -> Principal | None:
    """Who the subscription sees as; None when its owner may see nothing (a disabled account)."""
    if subscription.account_id is not None:
        account = subscription.account
        if account is None or not account.is_active:
            return None
        return Principal.of(account)
    organisation = subscription.organisation
    if organisation is None:
        return None
    return Principal(
        account=ORGANISATION_ACCOUNT,
        member=organisation.member.code,
        organisation=organisation.uuid,
        name=f"org:{organisation.slug}",
    )


def may_see(principal: Principal | None, version_id: int) -> bool:
    """Whether the principal may see this version and its record (whose current version decides)."""
    from accord.records.models import Record, Version

    if principal is None:
        return False
    return (
        Version.objects.visible_to(principal)
        .filter(pk=version_id, record__in=Record.objects.visible_to(principal).values("pk"))
        .exists()
    )


def visible_versions(principal: Principal | None, version_ids: Iterable[int]) -> set[int]:
    """The subset of `version_ids` the principal may see (each with its record), in one query."""
    from accord.records.models import Record, Version

    ids = list(version_ids)
    if principal is None or not ids:
        return set()
    return set(
        Version.objects.visible_to(principal)
        .filter(pk__in=ids, record__in=Record.objects.visible_to(principal).values("pk"))
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class _Shape:
    """What the audience filter can tell apart about one version: who wrote it, for whom, from where."""

    author: uuid.UUID | None
    origin_organisation: uuid.UUID | None
    targets: frozenset[str]
    current: int | None  # the current version of its record


def _class_of(principal: Principal, shape: _Shape) -> tuple[bool, ...]:
    """Every fact about `principal` that `audience_q` looks at for this version: principals alike in all of
    them get the same answer from the filter."""
    if principal.is_anonymous:
        return (True,)
    return (
        False,
        principal.member is None,
        principal.account == shape.author,
        principal.organisation is not None and principal.organisation == shape.origin_organisation,
        f"member:{principal.member}" in shape.targets,
        f"org:{principal.organisation}" in shape.targets,
        f"person:{principal.account}" in shape.targets,
    )


class Visibility:
    """`may_see` for many (principal, version) pairs, asking the audience filter once per kind of principal.

    The answer for one principal is the filter's own (`may_see`); it is reused only for principals that
    the filter cannot tell apart for that version and its record's current version (same member, organisation
    and person targets named, same author and origin organisation relation). Short-lived: one batch."""

    def __init__(self) -> None:
        self._shapes: dict[int, _Shape] = {}
        self._answers: dict[tuple[object, ...], bool] = {}

    def _shape(self, version_id: int) -> _Shape | None:
        from accord.records.models import AudienceEntry, Version

        if version_id not in self._shapes:
            row = (
                Version.objects.filter(pk=version_id)
                .values_list("author", "origin_organisation", "record__current_version_id")
                .first()
            )
            if row is None:
                return None
            targets = frozenset(AudienceEntry.objects.filter(version_id=version_id).values_list("target", flat=True))
            self._shapes[version_id] = _Shape(row[0], row[1], targets, row[2])
        return self._shapes[version_id]

    def allowed(self, principal: Principal | None, version_id: int) -> bool:
        if principal is None:
            return False
        shape = self._shape(version_id)
        if shape is None:
            return False
        current = self._shape(shape.current) if shape.current is not None else None
        key = (
            version_id,
            shape.current,
            _class_of(principal, shape),
            _class_of(principal, current) if current is not None else None,
        )
        if key not in self._answers:
            self._answers[key] = may_see(principal, version_id)
        return self._answers[key]


def subscription_wants(subscription: Subscription, version: Version, facts: Facts | None = None) -> bool:
    """Filters and audience together, for one subscription and one version (feeds and the stream use this)."""
    if not subscription.active or not matches(subscription, facts or facts_of(version)):
        return False
    return may_see(principal_of(subscription), version.pk)
