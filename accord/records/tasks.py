"""Background work of the record core, run by the worker after the writing transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, overload

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

logger = logging.getLogger("accord.records")

# Later subsystems (federation push, notifications) subscribe here to hear of every
# committed version. Listeners run in the worker, never inside the writing transaction.
# A listener names the record kinds it wants (None: all); a version no listener wants enqueues no task, so a
# node absorbing thousands of versions from peers does not queue thousands of tasks that do nothing.
VersionListener = Callable[[int], None]
_listeners: list[tuple[VersionListener, frozenset[str] | None]] = []


@overload
def on_version_committed(
    listener: VersionListener, *, kinds: frozenset[str] | set[str] | None = None
) -> VersionListener: ...


@overload
def on_version_committed(
    listener: None = None, *, kinds: frozenset[str] | set[str] | None = None
) -> Callable[[VersionListener], VersionListener]: ...


def on_version_committed(
    listener: VersionListener | None = None, *, kinds: frozenset[str] | set[str] | None = None
) -> Callable[[VersionListener], VersionListener] | VersionListener:
    """Register a listener (usable as `@on_version_committed` or `@on_version_committed(kinds={...})`).
    Register at import time of the app (e.g. in AppConfig.ready), so that writers and workers agree."""

    def register(fn: VersionListener) -> VersionListener:
        wanted = frozenset(kinds) if kinds is not None else None
        if all(existing is not fn for existing, _ in _listeners):
            _listeners.append((fn, wanted))
        return fn

    return register(listener) if listener is not None else register


def wanted(kind: str) -> bool:
    """Whether any listener wants versions of this kind."""
    return any(kinds is None or kind in kinds for _, kinds in _listeners)


@task()
def version_committed(version_id: int) -> int:
    """Tell the listeners that want this version's kind; returns how many ran."""
    from accord.records.models import Version

    kind = Version.objects.filter(pk=version_id).values_list("kind", flat=True).first()
    if kind is None:
        return 0
    ran = 0
    for listener, kinds in list(_listeners):
        if kinds is None or kind in kinds:
            listener(version_id)
            ran += 1
    return ran


@task()
def versions_committed(version_ids: list[int]) -> int:
    """`version_committed` for a batch of versions stored together (one task, not one per version); returns how
    many listener calls ran."""
    from accord.records.models import Version

    ran = 0
    for version_id, kind in Version.objects.filter(pk__in=version_ids).order_by("pk").values_list("pk", "kind"):
        for listener, kinds in list(_listeners):
            if kinds is None or kind in kinds:
                listener(version_id)
                ran += 1
    return ran


@task()
def notify_admins_of_quarantine(quarantine_id: int) -> int:
    """E-mail this node's active administrators that a peer equivocated or sent a version it may not issue.
    Returns messages sent.

    Sent with Django's mail directly, not through notify's deliveries: the record core knows nothing of
    notify (notify hooks into it, never the reverse), and a quarantined version is shown to nobody, so
    there is no version or audience for a delivery row to stand on."""
    from accord.members.models import Account
    from accord.records.models import QuarantinedVersion

    item = QuarantinedVersion.objects.filter(pk=quarantine_id).first()
    if item is None:
        return 0
    admins = (
        Account.objects.filter(is_active=True, roles__role="admin")
        .exclude(email="")
        .values_list("email", "language")
        .distinct()
    )
    by_language: dict[str, set[str]] = {}
    for email, language in admins:
        by_language.setdefault(language or settings.LANGUAGE_CODE, set()).add(email)
    logger.warning(
        "quarantined version %s#%s of node %s: %s", item.record_uuid, item.seq, item.origin_node, item.reason
    )
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            subject, text = _quarantine_mail(item)
        send_mail(subject=subject, message=text, from_email=None, recipient_list=sorted(recipients))
    return sum(len(recipients) for recipients in by_language.values())


def _quarantine_mail(item: Any) -> tuple[str, str]:
    """The subject and text of the mail about one quarantined version, in the active language."""
    facts = {
        "record": item.record_uuid,
        "seq": item.seq,
        "node": item.origin_node,
        "hash": item.content_hash,
        "stored": item.existing_hash,
        "reason": item.reason,
    }
    if item.existing_hash:
        subject = _("[Accord] equivocating version quarantined: %(record)s#%(seq)s") % facts
        what = (
            _(
                "Node %(node)s sent version %(seq)s of record %(record)s with hash %(hash)s, but %(stored)s is already "
                "stored for that version."
            )
            % facts
        )
    else:
        subject = _("[Accord] version refused and quarantined: %(record)s#%(seq)s") % facts
        what = (
            _(
                "Node %(node)s sent version %(seq)s of record %(record)s (hash %(hash)s), which it may not issue: "
                "%(reason)s"
            )
            % facts
        )
    advice = _("The version was quarantined and not shown to anyone. Contact the node's operator.")
    return subject, f"{what}\n{advice}\n"
