"""Draft alerts: saved, seen only by their author, then published or discarded.

A draft is an alert record of status `draft` (CAP status Draft) whose audience is its author alone (TLP:RED, the
person named): the one audience filter shows it to nobody else, notify never sends it and federation never offers it.
Its body keeps, in `draft`, what the publication needs: the audience, TLP and status the alert is meant for, and
where it came from (a verified surveillance signal: the reviewer's note, the signal and its regions).

Publishing a draft publishes a new alert record (its own identifier, `sent` now, the intended audience) and
withdraws the draft in the same transaction, with a reason that names the alert; discarding withdraws it. Nothing
is deleted: the draft's versions stay, for its author, in the audit trail.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from accord.alerts import actions
from accord.lib import cap as caplib
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, NotFound
from accord.records.models import Record, Version

if TYPE_CHECKING:
    from accord.members.models import Account

DRAFT_TLP = "RED"
INTENDED_STATUSES = ("actual", "exercise", "test")


# The reason a draft's withdrawal gives when it was published (the signed record of which alert it became).
PUBLISHED_AS = "published as alert {}"
_PUBLISHED_AS = re.compile(r"^published as alert ([0-9a-f-]{36})$")  # PUBLISHED_AS, read back


def published_alert(reason: str) -> uuid.UUID | None:
    """The alert a withdrawn draft was published as, read from its withdrawal's reason; None for another reason."""
    match = _PUBLISHED_AS.match(reason)
    return uuid.UUID(match.group(1)) if match else None


def author_only(user: Account) -> Audience:
    return Audience(persons=[user.uuid])


def _info(
    audience: Audience, tlp: str, status: str, *, note: str, signal: uuid.UUID | str | None, regions: Iterable[str]
) -> dict[str, Any]:
    if status not in INTENDED_STATUSES:
        raise ActionError(f"status {status!r} is not one of {', '.join(INTENDED_STATUSES)}", field="status")
    audience.check_against(tlp)
    return {
        "audience": audience.canonical(),
        "tlp": tlp,
        "status": status,
        "note": note.strip()[:2000],
        "signal": str(signal) if signal else None,
        "regions": list(regions),
    }


def own_draft(record: Record, user: Account) -> Version:
    """The current version of `record` if it is a live draft alert of `user`; NotFound for anyone else."""
    record = Record.objects.select_related("current_version").get(pk=record.pk)  # never act on a stale copy
    current = record.current_version
    if current is None or record.kind != "alert" or current.status != "draft" or current.author != user.uuid:
        raise NotFound("no such draft")
    if current.state == "withdrawn":
        raise Conflict("this draft was published or discarded already")
    return current


def save_draft(
    cap: dict[str, Any],
    *,
    audience: Audience,
    tlp: str,
    acting_user: Account,
    status: str = "actual",
    epidemic: dict[str, Any] | None = None,
    note: str = "",
    signal: uuid.UUID | str | None = None,
    regions: Iterable[str] = (),
    record: Record | None = None,
) -> actions.Published:
    """Save an alert as a draft of `acting_user` (a new draft, or the next version of `record`, a draft of theirs).

    The CAP message is checked as on publishing (errors refuse, warnings are returned), so a saved draft is one
    that can be published."""
    previous = own_draft(record, acting_user) if record is not None else None
    info = _info(audience, tlp, status, note=note, signal=signal, regions=regions)
    if previous is not None:
        old = previous.body.get("draft") or {}
        info["signal"] = info["signal"] or old.get("signal")
        info["regions"] = info["regions"] or old.get("regions", [])
        info["note"] = info["note"] or old.get("note", "")
    mine = author_only(acting_user)
    message = actions._compose(
        cap, user=acting_user, status="draft", audience=mine, tlp=DRAFT_TLP, msg_type="Alert", references=[]
    )
    warnings = actions._check(caplib.to_xml(actions._from_json(message)))
    body: dict[str, Any] = {"cap": message, "draft": info}
    if epidemic:
        body["epidemic"] = actions._epidemic(epidemic)
    if record is None:
        version = record_actions.publish(
            "alert", body, audience=mine, tlp=DRAFT_TLP, status="draft", acting_user=acting_user
        )
    else:
        version = record_actions.revise(record, acting_user=acting_user, body=body, files=[])
    return actions.Published(version, warnings)


def _without_draft_note(cap: dict[str, Any]) -> dict[str, Any]:
    """The draft's CAP content without what saving it as a draft added (the TLP:RED note of its author-only scope)."""
    clean = dict(cap)
    note = str(clean.pop("note", "") or "")
    kept = [part for part in note.split(" | ") if part and part != f"TLP:{DRAFT_TLP}"]
    if kept:
        clean["note"] = " | ".join(kept)
    return clean


def publish_draft(
    record: Record,
    *,
    acting_user: Account,
    cap: dict[str, Any] | None = None,
    audience: Audience | None = None,
    tlp: str | None = None,
    status: str | None = None,
    epidemic: dict[str, Any] | None = None,
) -> actions.Published:
    """Publish the draft as a new alert (what is given replaces what the draft holds) and withdraw the draft."""
    current = own_draft(record, acting_user)
    body = current.body
    info = body.get("draft") or {}
    with transaction.atomic():
        published = actions.publish_alert(
            _without_draft_note(cap if cap is not None else body["cap"]),
            # A draft saved here says who it is meant for; one written as a draft through the API (POST
            # /api/v1/alerts with status draft) is meant for the audience it was written with.
            audience=audience or Audience.model_validate(info.get("audience") or current.envelope()["audience"]),
            tlp=tlp or info.get("tlp") or current.tlp,
            status=status or info.get("status", "actual"),
            acting_user=acting_user,
            epidemic=epidemic if epidemic is not None else body.get("epidemic"),
        )
        record_actions.withdraw(
            record,
            acting_user=acting_user,
            reason=PUBLISHED_AS.format(published.version.record_uuid),
        )
    return published


def discard_draft(record: Record, *, acting_user: Account) -> Version:
    """Discard a draft: its withdrawal (nothing is deleted; it leaves its author's list of drafts)."""
    own_draft(record, acting_user)
    return record_actions.withdraw(record, acting_user=acting_user, reason="draft discarded by its author")


def set_assessment(record: Record, assessment: uuid.UUID | str, *, acting_user: Account) -> Version:
    """Link an IHR assessment into a draft's epidemic section (a draft without one is left as it is)."""
    current = own_draft(record, acting_user)
    body = current.body
    epidemic = dict(body.get("epidemic") or {})
    if not epidemic.get("disease") or epidemic.get("assessment") == str(assessment):
        return current
    epidemic["assessment"] = str(assessment)
    info = body.get("draft") or {}
    return save_draft(
        _without_draft_note(body["cap"]),
        audience=Audience.model_validate(info.get("audience") or current.envelope()["audience"]),
        tlp=info.get("tlp") or current.tlp,
        status=info.get("status", "actual"),
        acting_user=acting_user,
        epidemic=epidemic,
        record=record,
    ).version
