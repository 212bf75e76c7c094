"""Every change of surveillance: uploads, the counts they publish, signals and their review, settings.

Counts are published and revised through the record core's actions (signed versions, audit entries, the
federation hook); the rest (uploads, signals, thresholds, settings) are this node's own rows, each change with
an audit entry in the same transaction.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.lib import ihr
from accord.records import actions as record_actions
from accord.records import audit
from accord.records.envelope import STATUSES, Audience
from accord.records.errors import ActionError, Conflict, Forbidden, TooLarge
from accord.records.kinds import check_text
from accord.records.principal import Principal
from accord.surveillance import detection, limits, parsers, reference
from accord.surveillance.kinds import KIND, UPLOAD_ROLES
from accord.surveillance.models import DetectorSetting, Dhis2Code, SeriesView, Signal, Threshold, Upload

if TYPE_CHECKING:
    from accord.members.models import Account

logger = logging.getLogger("accord.surveillance")

REVIEW_ROLES = frozenset({"analyst", "focal_point", "coordinator"})
SECRETARIAT = "SCO"


def member_names() -> dict[str, tuple[str, str, str]]:
    from accord.members.models import Member

    return {m.code: (m.name_en, m.name_ru, m.name_zh) for m in Member.objects.filter(kind=Member.Kind.STATE)}


def _member_of(user: Account) -> str:
    if not user.is_active:
        raise Forbidden("this account is disabled")
    if user.organisation is None:
        raise Forbidden("this account belongs to no organisation")
    return user.organisation.member.code


# ---- uploads ---------------------------------------------------------------------------------------


def submit_upload(
    data: bytes,
    *,
    acting_user: Account,
    audience: Audience,
    tlp: str,
    filename: str = "",
    fmt: str | None = None,
    status: str = "actual",
    sent_as_json: bool = False,
    queue: bool = True,
) -> Upload:
    """Accept a file of counts for the worker: checks who uploads, the audience and the size; queues the task.

    `sent_as_json`: the file came as `application/json`, so it must be a JSON object whatever it looks like.
    `queue=False`: the caller processes it itself (`upload_counts`), no task is queued.

    The rows are checked by the task (`process_upload`), which stores nothing unless every row is right."""
    member = _member_of(acting_user)
    if not (acting_user.role_names() & UPLOAD_ROLES):
        raise Forbidden("uploading counts needs the role analyst or focal_point")
    if member not in member_names():
        raise Forbidden(f"counts are shared by member states; {member} has no regions")
    if status not in STATUSES or status == "draft":
        raise ActionError(f"status {status!r} is not one of actual, exercise, test", field="status")
    if fmt is not None and fmt not in parsers.FORMATS:
        raise ActionError(f"format {fmt!r} is not one of {', '.join(parsers.FORMATS)}", field="format")
    if len(data) > settings.ACCORD_MAX_BODY_BYTES:
        raise TooLarge(f"the file is larger than {settings.ACCORD_MAX_BODY_BYTES} bytes; split it")
    audience.check_against(tlp)
    record_actions._check_audience_members(audience)
    chosen = parsers.detect_format(data, filename, fmt)
    if sent_as_json and chosen not in ("dhis2", "json"):
        chosen = "json"  # sent as JSON: checked as JSON, whatever its content looks like
    try:
        # Before anything is stored: the limits that keep a hostile file from exhausting the worker.
        parsers.check_limits(data, chosen)
    except limits.LimitError as error:
        if not error.setting:  # not a size but a construct refused outright (a DTD in a workbook)
            raise ActionError(error.error.message, field="file") from None
        raise TooLarge(error.error.message, field="file") from None
    if sent_as_json or chosen in ("dhis2", "json"):
        _json_object(data)  # within the depth limit now, so parsing it cannot recurse too deeply
    with transaction.atomic():
        upload = Upload.objects.create(
            uploader=acting_user,
            member=member,
            filename=filename[:200],
            format=chosen,
            data=data,
            size=len(data),
            audience=audience.canonical(),
            tlp=tlp,
            record_status=status,
        )
        audit.append(
            "surveillance.upload.submit",
            actor=acting_user,
            object_type="upload",
            object_id=str(upload.uuid),
            data={"format": chosen, "size": len(data), "filename": filename[:200], "tlp": tlp, "status": status},
        )
        if queue:
            from accord.surveillance.tasks import process_upload_task

            upload_id = upload.pk
            transaction.on_commit(lambda: process_upload_task.enqueue(upload_id))
    return upload


def upload_counts(
    data: bytes,
    *,
    acting_user: Account,
    audience: Audience,
    tlp: str,
    filename: str = "",
    fmt: str | None = None,
    status: str = "actual",
    disease: str | None = None,
    today: date | None = None,
) -> Upload:
    """Check and store a file of counts now, in this process (`accord counts upload`): the web and API uploads'
    own steps (`submit_upload`, then what the worker runs, `process_upload`), so the same checks, the same
    records and the same report of every bad row; all or nothing.

    `disease`: the file holds counts of this disease only: a row whose disease is empty takes it, a row that
    names another is an error."""
    only = None
    if disease is not None:
        only = reference.find_disease(disease)
        if only is None:
            raise ActionError(
                f"unknown disease {disease!r}: give an ICD-10 or ICD-11 code of the list of notifiable diseases",
                field="disease",
            )
    upload = submit_upload(
        data,
        acting_user=acting_user,
        audience=audience,
        tlp=tlp,
        filename=filename,
        fmt=fmt,
        status=status,
        queue=False,
    )
    try:
        done = process_upload(upload.pk, today=today, only=only)
    except Exception:
        upload_crashed(upload.pk)
        raise
    assert done is not None
    return done


def _json_object(data: bytes) -> None:
    """A JSON upload is an object (the API's schema says so); anything else is refused now, not by the worker."""
    try:
        parsed = json.loads(data)
    except ValueError as error:
        raise ActionError(f"the file is not valid JSON: {str(error).splitlines()[0]}", field="file") from None
    if not isinstance(parsed, dict):
        raise ActionError('a JSON upload is an object: a DHIS2 dataValueSet or {"counts": [...]}', field="file")


def _progress(upload: Upload, **fields: Any) -> None:
    """Save progress at once (outside any transaction), so the status page sees it while the task runs."""
    for name, value in fields.items():
        setattr(upload, name, value)
    upload.save(update_fields=list(fields))


def _refuse(upload: Upload, errors: list[dict[str, Any]], count: int | None = None) -> Upload:
    """Refuse the upload; its report keeps the first 100 problems, each cut, and how many there were in all."""
    total = len(errors) if count is None else count
    report = limits.bound_report(errors)
    with transaction.atomic():
        upload.status = Upload.Status.FAILED
        upload.errors = report
        upload.summary = {**upload.summary, "errors": total}
        upload.data = b""  # nothing of a refused upload is kept
        upload.finished_at = timezone.now()
        upload.save(update_fields=["status", "errors", "summary", "data", "finished_at"])
        audit.append(
            "surveillance.upload.refuse",
            actor=None,
            actor_name="worker",
            object_type="upload",
            object_id=str(upload.uuid),
            data={"errors": total, "first": report[0] if report else None},
        )
    return upload


@dataclass
class _Group:
    """The rows of one record: one series-year."""

    disease: reference.Disease
    region: reference.Region
    resolution: str
    year: int
    first_row: int
    counts: dict[str, int] = field(default_factory=dict)


def _groups(rows: Iterable[parsers.CleanRow]) -> dict[tuple[str, str, str, int], _Group]:
    groups: dict[tuple[str, str, str, int], _Group] = {}
    for row in rows:
        key = (row.disease.code, row.region.code, row.period.resolution, row.period.year)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(row.disease, row.region, row.period.resolution, row.period.year, row.row)
        # DHIS2 disaggregations (categoryOptionCombos) of one period add up.
        group.counts[row.period.label] = group.counts.get(row.period.label, 0) + row.count
    return groups


def _series_problems(upload: Upload, rows: list[parsers.CleanRow]) -> list[dict[str, Any]]:
    """What the rows cannot do to the series already stored: mix weeks and days, or revise another
    organisation's series."""
    node = record_actions.this_node()
    uploader_org = upload.uploader.organisation
    problems: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        key = (row.disease.code, row.region.code)
        if key in seen and seen[key][0] != row.period.resolution:
            problems.append(
                {
                    "row": row.row,
                    "column": "period",
                    "message": f"{row.disease.code} in {row.region.code} is given as {seen[key][0]}s on row "
                    f"{seen[key][1]}; one series is either weekly or daily",
                }
            )
        seen.setdefault(key, (row.period.resolution, row.row))
    for (disease, region), (resolution, first_row) in seen.items():
        stored = SeriesView.objects.filter(
            disease=disease, region=region, active=True, status=upload.record_status, record__origin_node=node.node_id
        ).select_related("version")
        other = stored.exclude(resolution=resolution).first()
        if other is not None:
            problems.append(
                {
                    "row": first_row,
                    "column": "period",
                    "message": f"{disease} in {region} is stored as {other.resolution}ly counts; "
                    f"this file gives {resolution}s",
                }
            )
        owned = stored.exclude(version__origin_organisation=uploader_org.uuid if uploader_org else None).first()
        if owned is not None:
            from accord.members.models import Organisation

            holder = (
                Organisation.objects.filter(uuid=owned.version.origin_organisation).first()
                if owned.version.origin_organisation is not None
                else None
            )
            problems.append(
                {
                    "row": first_row,
                    "column": "region",
                    "message": f"{disease} in {region} is kept by {holder.slug if holder else 'another organisation'}; "
                    "only that organisation may correct it",
                }
            )
    return problems


def _store(upload: Upload, groups: dict[tuple[str, str, str, int], _Group]) -> dict[str, int]:
    """Publish or revise one record per series-year, all in one transaction (all or nothing)."""
    node = record_actions.this_node()
    audience = Audience.model_validate(upload.audience)
    summary = {"published": 0, "revised": 0, "unchanged": 0}
    with transaction.atomic():
        for group in groups.values():
            existing = (
                SeriesView.objects.filter(
                    disease=group.disease.code,
                    region=group.region.code,
                    resolution=group.resolution,
                    year=group.year,
                    status=upload.record_status,
                    active=True,
                    record__origin_node=node.node_id,
                )
                .select_related("record", "version")
                .first()
            )
            merged: dict[str, int] = {}
            if existing is not None:
                merged = {str(c["period"]): int(c["count"]) for c in existing.version.body["counts"]}
            before = dict(merged)
            merged.update(group.counts)
            body = {
                "member": group.region.member,
                "region": group.region.code,
                "disease": {"system": "ICD-10", "code": group.disease.code, "name": group.disease.name_en},
                "resolution": group.resolution,
                "year": group.year,
                "counts": [{"period": p, "count": merged[p]} for p in sorted(merged)],
            }
            try:
                if existing is None:
                    record_actions.publish(
                        KIND,
                        body,
                        audience=audience,
                        tlp=upload.tlp,
                        status=upload.record_status,
                        acting_user=upload.uploader,
                    )
                    summary["published"] += 1
                elif (
                    merged == before
                    and existing.version.tlp == upload.tlp
                    and existing.version.envelope()["audience"] == audience.canonical()
                ):
                    summary["unchanged"] += 1
                else:
                    record_actions.revise(
                        existing.record, acting_user=upload.uploader, body=body, audience=audience, tlp=upload.tlp
                    )
                    summary["revised"] += 1
            except ActionError as error:
                raise _GroupFailed(group.first_row, error.message) from None
        audit.append(
            "surveillance.upload.store",
            actor=upload.uploader,
            object_type="upload",
            object_id=str(upload.uuid),
            data=dict(summary),
        )
    return summary


class _GroupFailed(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def process_upload(upload_id: int, today: date | None = None, only: reference.Disease | None = None) -> Upload | None:
    """Check, store and watch an upload (run by the worker). Nothing is stored unless every row is right.

    `only`: every row is of this disease (`upload_counts`)."""
    upload = Upload.objects.select_related("uploader__organisation__member").filter(pk=upload_id).first()
    if upload is None or upload.status != Upload.Status.QUEUED:
        return upload
    today = today or timezone.now().date()
    _progress(upload, status=Upload.Status.VALIDATING)
    mapping = {(m.kind, m.source): m.target for m in Dhis2Code.objects.all()}
    try:
        raw = parsers.read(
            bytes(upload.data), upload.format, max_rows=settings.ACCORD_SURVEILLANCE_MAX_ROWS, mapping=mapping
        )
    except parsers.ShapeError as error:
        return _refuse(upload, [error.error.as_dict()])
    _progress(upload, total=len(raw), processed=0)
    checked = parsers.check_rows(
        raw,
        member=upload.member,
        today=today,
        member_names=member_names(),
        progress=lambda done: _progress(upload, processed=done),
        disease=only,
    )
    _progress(upload, processed=checked.total)
    errors = [e.as_dict() for e in checked.errors]
    if errors:
        return _refuse(upload, errors, checked.error_count)
    errors = _series_problems(upload, checked.rows)
    if errors:
        return _refuse(upload, errors)
    groups = _groups(checked.rows)
    _progress(upload, status=Upload.Status.STORING)
    try:
        summary = _store(upload, groups)
    except _GroupFailed as failed:
        return _refuse(upload, [{"row": failed.row, "column": "", "message": failed.message}])
    except ActionError as error:
        return _refuse(upload, [{"row": 0, "column": "", "message": error.message}])
    series = sorted({(g.disease.code, g.region.member, g.region.code) for g in groups.values()})
    raised: list[Signal] = []
    if upload.record_status == "actual":
        _progress(upload, status=Upload.Status.DETECTING, processed=0, total=len(series))
        for done, (disease, member, region) in enumerate(series, start=1):
            raised += detect_series(disease, member, region, today=today)
            _progress(upload, processed=done)
        for disease in sorted({s[0] for s in series}):
            raised += joint_signals(disease, today=today)
    summary.update(rows=checked.total, series=len(series), signals=len(raised))
    _progress(
        upload,
        status=Upload.Status.DONE,
        summary=summary,
        finished_at=timezone.now(),
        processed=checked.total,
        total=checked.total,
    )
    return upload


def upload_crashed(upload_id: int) -> None:
    """Leave no upload polling forever after an unexpected error: before its counts were stored it is refused
    (the storing transaction rolled back, so nothing is stored); after, it is done, without its signals."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or upload.status in (Upload.Status.DONE, Upload.Status.FAILED):
        return
    if upload.status == Upload.Status.DETECTING:
        summary = {**upload.summary, "detection_failed": 1}
        _progress(upload, status=Upload.Status.DONE, summary=summary, finished_at=timezone.now())
        return
    _refuse(upload, [{"row": 0, "column": "", "message": "the upload could not be processed; nothing was stored"}])


# ---- signals ---------------------------------------------------------------------------------------


def _save_thresholds(result: detection.SeriesResult) -> None:
    Threshold.objects.filter(disease=result.disease, member=result.member, region=result.region).delete()
    Threshold.objects.bulk_create(
        [
            Threshold(
                disease=result.disease,
                member=result.member,
                region=result.region,
                week_start=w.start,
                observed=w.observed,
                upperbound=w.upperbound,
                expected=w.expected,
                alarm=w.alarm,
                algorithm=result.algorithm,
            )
            for w in result.results
        ]
    )


def detect_series(disease: str, member: str, region: str, *, today: date | None = None) -> list[Signal]:
    """Run the disease's detector over the series; raise a signal for each alarm in a monitored week, clear
    open signals a correction took away. Returns the signals raised (new ones)."""
    today = today or timezone.now().date()
    result = detection.analyse(disease, member, region)
    since = detection.monitored_since(today, settings.ACCORD_SURVEILLANCE_MONITOR_WEEKS)
    raised: list[Signal] = []
    with transaction.atomic():
        _save_thresholds(result)
        alarms = {w.start: w for w in result.results if w.alarm and w.start >= since and w.start <= today}
        open_here = Signal.objects.select_for_update().filter(
            kind=Signal.Kind.SINGLE, disease=disease, member=member, region=region, week_start__gte=since
        )
        for signal in open_here:
            week = alarms.pop(signal.week_start, None)
            if week is None:
                if signal.status == Signal.Status.OPEN:
                    signal.status = Signal.Status.CLEARED
                    signal.updated_at = timezone.now()
                    signal.save(update_fields=["status", "updated_at"])
                    audit.append(
                        "surveillance.signal.clear",
                        actor=None,
                        actor_name="worker",
                        object_type="signal",
                        object_id=str(signal.uuid),
                        data={"period": signal.period, "reason": "the week no longer alarms"},
                    )
                continue
            if signal.status in (Signal.Status.OPEN, Signal.Status.CLEARED):
                signal.status = Signal.Status.OPEN
                signal.observed = week.observed
                signal.threshold = week.upperbound
                signal.expected = week.expected
                signal.series_id = week.record_id
                signal.algorithm = result.algorithm
                signal.control = result.control
                signal.updated_at = timezone.now()
                signal.save()
        for week in alarms.values():
            signal = Signal.objects.create(
                kind=Signal.Kind.SINGLE,
                member=member,
                disease=disease,
                region=region,
                week_start=week.start,
                period=week.label,
                observed=week.observed,
                threshold=week.upperbound,
                expected=week.expected,
                algorithm=result.algorithm,
                control=result.control,
                series_id=week.record_id,
                members=[member],
                regions=[region],
            )
            audit.append(
                "surveillance.signal.raise",
                actor=None,
                actor_name="worker",
                object_type="signal",
                object_id=str(signal.uuid),
                data={
                    "disease": disease,
                    "region": region,
                    "period": signal.period,
                    "observed": signal.observed,
                    "threshold": _text(signal.threshold),
                    "algorithm": result.algorithm,
                },
            )
            raised.append(signal)
        if raised:
            ids = [s.pk for s in raised]
            transaction.on_commit(lambda: _notify_later(ids))
    return raised


def _text(value: float | None) -> str | None:
    """Numbers in audit data are strings: the audit chain refuses floats."""
    return None if value is None else f"{value:.4g}"


def _notify_later(signal_ids: list[int]) -> None:
    from accord.surveillance.tasks import notify_signal_task

    for signal_id in signal_ids:
        notify_signal_task.enqueue(signal_id)


def joint_signals(disease: str, *, today: date | None = None) -> list[Signal]:
    """A cross-border signal when the disease alarms in two or more members within the window: open or
    verified signals whose weeks lie at most ACCORD_SURVEILLANCE_JOINT_WEEKS - 1 weeks apart. The basis is
    'adjacent' when two of them are in regions that share a border, else 'members'."""
    today = today or timezone.now().date()
    window = settings.ACCORD_SURVEILLANCE_JOINT_WEEKS
    since = detection.monitored_since(today, settings.ACCORD_SURVEILLANCE_MONITOR_WEEKS + window)
    candidates = list(
        Signal.objects.filter(
            kind=Signal.Kind.SINGLE,
            disease=disease,
            status__in=(Signal.Status.OPEN, Signal.Status.VERIFIED),
            week_start__gte=since,
        ).order_by("-week_start", "member", "region")
    )
    if not candidates:
        return []
    newest = candidates[0].week_start
    group = [s for s in candidates if s.week_start > newest - timedelta(weeks=window)]
    members = sorted({s.member for s in group})
    if len(members) < 2:
        return []
    pairs = sorted(
        {
            tuple(sorted((a.region, b.region)))
            for a in group
            for b in group
            if a.member != b.member and reference.adjacent(a.region, b.region)
        }
    )
    component_ids = {s.pk for s in group}
    with transaction.atomic():
        recent = Signal.objects.select_for_update().filter(
            kind=Signal.Kind.JOINT, disease=disease, week_start__gt=newest - timedelta(weeks=window)
        )
        for joint in recent:
            have = set(joint.components.values_list("pk", flat=True))
            if component_ids <= have:
                return []  # nothing new
            if joint.status == Signal.Status.OPEN:
                joint.components.add(*group)
                _fill_joint(joint, group, newest, pairs)
                joint.save()
                audit.append(
                    "surveillance.signal.joint.extend",
                    actor=None,
                    actor_name="worker",
                    object_type="signal",
                    object_id=str(joint.uuid),
                    data={"members": joint.members, "regions": joint.regions},
                )
                return []
        joint = Signal(kind=Signal.Kind.JOINT, member=SECRETARIAT, disease=disease, algorithm=group[0].algorithm)
        _fill_joint(joint, group, newest, pairs)
        joint.save()
        joint.components.add(*group)
        audit.append(
            "surveillance.signal.joint.raise",
            actor=None,
            actor_name="worker",
            object_type="signal",
            object_id=str(joint.uuid),
            data={"disease": disease, "period": joint.period, "members": joint.members, "basis": joint.basis},
        )
        joint_id = joint.pk
        transaction.on_commit(lambda: _notify_later([joint_id]))
    return [joint]


def _fill_joint(joint: Signal, group: list[Signal], newest: date, pairs: list[tuple[str, ...]]) -> None:
    joint.week_start = newest
    joint.period = reference.week_of(newest).label
    joint.observed = sum(s.observed for s in group)
    thresholds = [s.threshold for s in group if s.threshold is not None]
    joint.threshold = sum(thresholds) if len(thresholds) == len(group) else None
    joint.expected = None
    joint.members = sorted({s.member for s in group})
    joint.regions = sorted({s.region for s in group})
    joint.basis = {"rule": "adjacent" if pairs else "members", "pairs": [list(p) for p in pairs]}
    joint.updated_at = timezone.now()


def may_review(user: Account, signal: Signal) -> bool:
    """Analysts, focal points and coordinators review: a signal of their own member, or (Secretariat) any;
    a cross-border signal is the Secretariat's."""
    if not user.is_active or user.organisation is None or not (user.role_names() & REVIEW_ROLES):
        return False
    member = user.organisation.member.code
    if signal.kind == Signal.Kind.JOINT:
        return member == SECRETARIAT
    return member in (signal.member, SECRETARIAT)


def _reviewable(signal: Signal, user: Account) -> Signal:
    from accord.surveillance.queries import signals_for

    locked = Signal.objects.select_for_update().get(pk=signal.pk)
    if not signals_for(Principal.of(user)).filter(pk=locked.pk).exists():
        raise Forbidden("you may not see the counts behind this signal")
    if not may_review(user, locked):
        raise Forbidden(
            "cross-border signals are reviewed by the Secretariat"
            if locked.kind == Signal.Kind.JOINT
            else f"signals of {locked.member} are reviewed by its analysts and focal points, or the Secretariat"
        )
    if locked.status != Signal.Status.OPEN:
        raise Conflict(f"this signal is already {locked.status}")
    return locked


def severity_for(signal: Signal) -> str:
    """A CAP severity to suggest: from how far the count exceeds its threshold, at least Severe for a disease
    that IHR Annex 2 makes always notifiable."""
    ratio = signal.exceedance
    if ratio is None:
        suggested = "Moderate"
    elif ratio >= 3:
        suggested = "Severe"
    elif ratio >= 1.5:
        suggested = "Moderate"
    else:
        suggested = "Minor"
    if ihr.is_always_notifiable("ICD-10", signal.disease) and suggested != "Severe":
        suggested = "Severe"
    return suggested


def ihr_draft(signal: Signal) -> dict[str, Any]:
    """Suggested answers to the four Annex 2 questions, with the evidence the numbers give. A person decides."""
    disease = reference.diseases().get(signal.disease)
    ratio = signal.exceedance
    threshold = f"{signal.threshold:.1f}" if signal.threshold is not None else "-"
    border = signal.kind == Signal.Kind.JOINT or any(reference.adjacency().get(r) for r in signal.regions)
    always_assessed = ihr.is_always_assessed("ICD-10", signal.disease)
    answers: dict[str, dict[str, Any]] = {
        "serious_impact": {
            "answer": bool((ratio is not None and ratio >= 2) or always_assessed),
            "evidence": f"{signal.observed} cases in {signal.period}, {ratio:.1f} times the threshold {threshold}"
            if ratio is not None
            else f"{signal.observed} cases in {signal.period}",
        },
        "unusual": {
            "answer": True,
            "evidence": f"above the {signal.algorithm} threshold of the series ({threshold})",
        },
        "international_spread": {
            "answer": border,
            "evidence": "alarms in neighbouring members"
            if signal.kind == Signal.Kind.JOINT
            else ("the region borders another member" if border else "no border region involved"),
        },
        "travel_trade": {"answer": False, "evidence": ""},
    }
    decision = ihr.assess({k: bool(v["answer"]) for k, v in answers.items()}, system="ICD-10", code=signal.disease)
    return {
        "event": event_name(signal),
        "disease": {"system": "ICD-10", "code": signal.disease, "name": disease.name_en if disease else signal.disease},
        "answers": answers,
        "outcome": decision.outcome,
        "reason": decision.reason,
        "always_notifiable": decision.always_notifiable,
    }


def event_name(signal: Signal) -> str:
    disease = reference.diseases().get(signal.disease)
    name = disease.name_en if disease else signal.disease
    if signal.kind == Signal.Kind.JOINT:
        return f"{name}: alarms in {', '.join(signal.members)} ({signal.period})"
    region = reference.regions().get(signal.region)
    where = region.name_en if region else signal.region
    return f"{name} above threshold in {where}, {signal.member} ({signal.period})"


def verify_signal(signal: Signal, *, acting_user: Account, note: str = "") -> Signal:
    """A person confirms the signal is worth an alert. Keeps an IHR Annex 2 draft with it."""
    check_text(note, "note")
    with transaction.atomic():
        locked = _reviewable(signal, acting_user)
        locked.status = Signal.Status.VERIFIED
        locked.reviewed_by = acting_user
        locked.reviewed_at = timezone.now()
        locked.reason = note.strip()[:2000]
        locked.ihr_draft = ihr_draft(locked)
        locked.updated_at = timezone.now()
        locked.save()
        audit.append(
            "surveillance.signal.verify",
            actor=acting_user,
            object_type="signal",
            object_id=str(locked.uuid),
            data={"period": locked.period, "note": locked.reason, "ihr_outcome": locked.ihr_draft["outcome"]},
        )
    return locked


def dismiss_signal(signal: Signal, *, acting_user: Account, reason: str) -> Signal:
    """A person judges the signal no event (a reporting artefact, a known cluster...). The reason is required."""
    text = reason.strip()
    if not text:
        raise ActionError("say why the signal is dismissed", field="reason")
    if len(text) > 2000:
        raise ActionError("the reason is longer than 2000 characters", field="reason")
    check_text(text, "reason")
    with transaction.atomic():
        locked = _reviewable(signal, acting_user)
        locked.status = Signal.Status.DISMISSED
        locked.reviewed_by = acting_user
        locked.reviewed_at = timezone.now()
        locked.reason = text
        locked.updated_at = timezone.now()
        locked.save()
        audit.append(
            "surveillance.signal.dismiss",
            actor=acting_user,
            object_type="signal",
            object_id=str(locked.uuid),
            data={"period": locked.period, "reason": text},
        )
    return locked


# ---- settings --------------------------------------------------------------------------------------


def _require_admin(user: Account) -> None:
    if not user.is_active or "admin" not in user.role_names():
        raise Forbidden("only this node's administrators change the surveillance settings")


def set_detector(
    disease: str, *, algorithm: str, control: Any, enabled: bool = True, acting_user: Account
) -> DetectorSetting:
    """Choose the algorithm and control that watch a disease; refused when they cannot run."""
    _require_admin(acting_user)
    known = reference.diseases().get(disease)
    if known is None:
        raise ActionError(f"unknown disease {disease!r}", field="disease")
    problem = detection.check_control(algorithm, control)
    if problem is not None:
        raise ActionError(f"{algorithm}: {problem}", field="control")
    with transaction.atomic():
        row, _created = DetectorSetting.objects.update_or_create(
            disease=disease,
            defaults={"algorithm": algorithm, "control": control, "enabled": enabled, "updated_at": timezone.now()},
        )
        audit.append(
            "surveillance.detector.set",
            actor=acting_user,
            object_type="detector",
            object_id=disease,
            data={"algorithm": algorithm, "control": _no_floats(control), "enabled": enabled},
        )
    return row


def reset_detector(disease: str, *, acting_user: Account) -> None:
    """Back to the default (farringtonFlexible with R's defaults)."""
    _require_admin(acting_user)
    with transaction.atomic():
        deleted, _ = DetectorSetting.objects.filter(disease=disease).delete()
        if deleted:
            audit.append("surveillance.detector.reset", actor=acting_user, object_type="detector", object_id=disease)


def _no_floats(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _no_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_floats(v) for v in value]
    return value


def set_dhis2_mapping(lines: str, *, acting_user: Account) -> int:
    """Replace the DHIS2 mapping with `lines`: `dataElement <id> = <disease code>` or `orgUnit <id> = <region>`."""
    _require_admin(acting_user)
    rows: dict[tuple[str, str], str] = {}
    for number, raw in enumerate(lines.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        left, sep, target = line.partition("=")
        kind, _space, source = left.strip().partition(" ")
        source, target = source.strip(), target.strip()
        if not sep or kind not in ("dataElement", "orgUnit") or not source or not target:
            raise ActionError(
                f"line {number}: write 'dataElement <id> = <disease code>' or 'orgUnit <id> = <region code>'",
                field="mapping",
            )
        if kind == "dataElement":
            disease = reference.find_disease(target)
            if disease is None:
                raise ActionError(f"line {number}: unknown disease {target!r}", field="mapping")
            target = disease.code
        elif reference.find_region(target, member_names()) is None:
            raise ActionError(f"line {number}: unknown region {target!r}", field="mapping")
        rows[(kind, source[:100])] = target.upper()
    with transaction.atomic():
        Dhis2Code.objects.all().delete()
        Dhis2Code.objects.bulk_create([Dhis2Code(kind=k, source=s, target=t) for (k, s), t in rows.items()])
        audit.append("surveillance.dhis2.mapping", actor=acting_user, object_type="dhis2", data={"rows": len(rows)})
    return len(rows)


def dhis2_mapping_text() -> str:
    return "\n".join(f"{m.kind} {m.source} = {m.target}" for m in Dhis2Code.objects.order_by("kind", "source"))


def detect_received(version_id: int) -> int:
    """A peer's counts arrived: watch the series they belong to, as after an upload. Returns signals raised."""
    from accord.records.models import Version

    version = Version.objects.filter(pk=version_id, kind=KIND).first()
    if version is None or version.status != "actual":
        return 0
    node = record_actions.this_node()
    if version.origin_node == node.node_id:
        return 0  # local uploads run their detection in the upload task
    view = SeriesView.objects.filter(record_id=version.record_id).first()
    if view is None:
        return 0
    raised = detect_series(view.disease, view.member, view.region)
    raised += joint_signals(view.disease)
    return len(raised)


def recipient_accounts(signal: Signal) -> list[Account]:
    """Who is told of a new signal by e-mail: the member's analysts and focal points for a signal, the
    Secretariat's coordinators for a cross-border one; only those who may see it, and who have an address."""
    from accord.members.models import Account
    from accord.surveillance.queries import signals_for

    if signal.kind == Signal.Kind.JOINT:
        people = Account.objects.filter(
            is_active=True, organisation__member__code=SECRETARIAT, roles__role="coordinator"
        )
    else:
        people = Account.objects.filter(
            is_active=True, organisation__member__code=signal.member, roles__role__in=("analyst", "focal_point")
        )
    found = []
    for person in people.exclude(email="").select_related("organisation__member").distinct().order_by("email"):
        if signals_for(Principal.of(person)).filter(pk=signal.pk).exists():
            found.append(person)
    return found


def recipients_for(signal: Signal) -> list[str]:
    """The addresses of recipient_accounts(signal)."""
    return sorted({person.email for person in recipient_accounts(signal)})


def link_assessment(signal: Signal, assessment: uuid.UUID, *, acting_user: Account) -> Signal:
    """Keep the IHR Annex 2 assessment recorded from a verified signal's draft with the signal."""
    with transaction.atomic():
        locked = Signal.objects.select_for_update().get(pk=signal.pk)
        if locked.status != Signal.Status.VERIFIED:
            raise Conflict("only a verified signal is assessed")
        locked.assessment = assessment
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assessment", "updated_at"])
        audit.append(
            "surveillance.signal.assess",
            actor=acting_user,
            object_type="signal",
            object_id=str(locked.uuid),
            data={"assessment": str(assessment)},
        )
    return locked
