"""`POST /api/v1/alerts/batch`: many CAP documents in one request, through the bulk import path.

The body is `{"alerts": ["<CAP XML>", ...]}`, at most ACCORD_ALERT_BATCH_MAX_ITEMS documents and
ACCORD_ALERT_BATCH_MAX_BYTES bytes (413 beyond either). Each document is validated on its own and a valid new one
becomes its own signed record; the answer reports every document by its index: 200 when each was stored or was
stored already, 207 when some were and others were invalid, 400 when nothing could be stored (an `Error` whose
`errors` are the documents' reports). The documents are
stored in one transaction with one audit entry: all that are valid, or (on a failure of the store) none.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Schema, Status

from accord.alerts.api import CapImportParams, router
from accord.alerts.bulk import ingest_many
from accord.api import account_of, errors, require_write
from accord.records.envelope import parse_audience
from accord.records.errors import ActionError

BATCH_PATH = "/api/v1/alerts/batch"


class BatchIn(Schema):
    alerts: list[str] = Field(
        min_length=1, description="CAP documents (XML text, CAP 1.2, 1.1 or 1.0), at most ACCORD_ALERT_BATCH_MAX_ITEMS"
    )


class BatchItemOut(Schema):
    index: int = Field(description="the document's position in `alerts`, from 0")
    outcome: Literal["stored", "duplicate", "invalid"]
    record: UUID | None = Field(default=None, description="stored, or already stored: the alert's record")
    seq: int | None = None
    rules: list[str] = Field(default_factory=list, description="invalid: the rules it breaks (docs/cap.md)")
    message: str = ""
    warnings: list[str] = Field(default_factory=list)


class BatchOut(Schema):
    stored: int
    duplicate: int
    invalid: int
    items: list[BatchItemOut]


class TooMany(ActionError):
    status = 413


@router.post(
    "/batch",
    response={200: BatchOut, 207: BatchOut, **errors(413)},
    summary="Import many CAP alerts at once (each validated on its own; one transaction)",
)
def import_batch(request: HttpRequest, params: Query[CapImportParams], payload: BatchIn) -> Status[dict[str, Any]]:
    require_write(request)
    limit = settings.ACCORD_ALERT_BATCH_MAX_ITEMS
    if len(payload.alerts) > limit:
        raise TooMany(f"the batch has {len(payload.alerts)} alerts; this node takes at most {limit} a request")
    chosen = parse_audience({"members": params.audience.split(",")}) if params.audience else None
    if (chosen is None) != (params.tlp is None):
        raise ActionError("give audience and tlp together, or neither (then the CAP scope decides)", field="tlp")
    sources = [(f"{n}", text.encode("utf-8", "surrogatepass")) for n, text in enumerate(payload.alerts)]
    report = ingest_many(
        sources, acting_user=account_of(request), audience=chosen, tlp=params.tlp, chunk=max(1, len(sources))
    )
    items = []
    for item in report.items:
        found = item.as_dict()
        found["index"] = int(found.pop("source"))
        items.append(found)
    body = {"stored": report.stored, "duplicate": report.duplicates, "invalid": report.invalid, "items": items}
    if not report.invalid:
        return Status(200, body)
    if report.stored or report.duplicates:
        return Status(207, body)
    # Nothing could be stored: an error in the API's one shape, every document's report in `errors`.
    detail = (
        f"nothing was stored: {'the document is' if len(items) == 1 else f'all {len(items)} documents are'} invalid"
    )
    return Status(400, {"detail": detail, "field": "alerts", "errors": items})
