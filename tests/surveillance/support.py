"""Count files for the surveillance tests: weekly series ending last week, with an outbreak where asked."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import numpy as np

from accord.federation.actions import add_peer
from accord.surveillance import reference


def last_week(today: date | None = None) -> reference.Period:
    """The last complete ISO week (monitored: it is one of the newest weeks)."""
    return reference.week_of((today or date.today()) - timedelta(days=7))


def week_labels(count: int, end: reference.Period | None = None) -> list[str]:
    """`count` consecutive ISO weeks ending with `end` (default: last week), oldest first."""
    last = end or last_week()
    return [reference.week_of(last.start - timedelta(weeks=count - 1 - i)).label for i in range(count)]


def series(
    weeks: int = 6 * 52 + 12,
    *,
    mean: float = 10.0,
    outbreak: int = 0,
    seed: int = 7,
    end: reference.Period | None = None,
) -> list[tuple[str, int]]:
    """(week, count) pairs: a seasonal Poisson baseline, and `outbreak` extra cases in the last week."""
    rng = np.random.default_rng(seed)
    labels = week_labels(weeks, end)
    counts = []
    for i, label in enumerate(labels):
        _year, week = int(label[:4]), int(label[6:])
        seasonal = mean * (1 + 0.3 * np.sin(2 * np.pi * week / 52))
        counts.append(int(rng.poisson(seasonal)) + (0 if i < len(labels) - 1 else outbreak))
        del _year
    return list(zip(labels, counts, strict=True))


def csv_bytes(rows: list[tuple[Any, ...]], header: str = "disease,region,period,count") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return (header + "\n" + out.getvalue()).encode()


def rows_for(disease: str, region: str, points: list[tuple[str, int]]) -> list[tuple[str, str, str, int]]:
    return [(disease, region, week, count) for week, count in points]


def dhis2(values: list[dict[str, Any]], **top: Any) -> bytes:
    return json.dumps({"dataSet": "weekly-idsr", **top, "dataValues": values}).encode()


def ingest_peer_counts(member: str, region: str, disease: str, points: list[tuple[str, int]]) -> list[int]:
    """Store `points` as case_counts records of another node (one per year), as federation would; the versions' ids."""
    import uuid as uuid_module

    from accord.lib import canonical
    from accord.records import actions as record_actions
    from accord.records.envelope import Audience, build_envelope, encode

    key = canonical.generate_private_key()
    public = canonical.public_key_b64(key)
    node_id = uuid_module.uuid4()
    add_peer(name=f"peer-{str(node_id)[:8]}", node_id=str(node_id), public_key=public, member=member, acting_user=None)
    by_year: dict[int, list[tuple[str, int]]] = {}
    for label, count in points:
        by_year.setdefault(reference.parse_period(label).year, []).append((label, count))
    stored = []
    for year, rows in sorted(by_year.items()):
        envelope = build_envelope(
            kind="case_counts",
            origin={"node": str(node_id), "member": member, "organisation": None, "account": None},
            record=uuid_module.uuid4(),
            seq=1,
            prev_hash=None,
            status="actual",
            state="active",
            audience=Audience(everyone=True),
            tlp="GREEN",
            body={
                "member": member,
                "region": region,
                "disease": {"system": "ICD-10", "code": disease, "name": disease},
                "resolution": "week",
                "year": year,
                "counts": [{"period": label, "count": count} for label, count in rows],
            },
            attachments=[],
        )
        data, _digest = encode(envelope)
        result = record_actions.ingest(data, canonical.sign(key, data), canonical.key_id(public), source="test")
        assert result.outcome == "stored" and result.version is not None
        stored.append(result.version.pk)
    return stored
