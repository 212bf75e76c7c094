"""Background work of the record core, run by the worker after the writing transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.mail import send_mail
from django_tasks import task

logger = logging.getLogger("accord.records")

# Later subsystems (federation push, notifications) subscribe here to hear of every
# committed version. Listeners run in the worker, never inside the writing transaction.
VersionListener = Callable[[int], None]
_listeners: list[VersionListener] = []


def on_version_committed(listener: VersionListener) -> VersionListener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


@task()
def version_committed(version_id: int) -> int:
    """Tell every listener of a committed version; returns how many listeners ran."""
    for listener in list(_listeners):
        listener(version_id)
    return len(_listeners)


@task()
def notify_admins_of_quarantine(quarantine_id: int) -> int:
    """E-mail this node's active administrators that a peer equivocated. Returns messages sent."""
    from accord.members.models import Account
    from accord.records.models import QuarantinedVersion

    item = QuarantinedVersion.objects.filter(pk=quarantine_id).first()
    if item is None:
        return 0
    recipients = list(
        Account.objects.filter(is_active=True, roles__role="admin")
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    logger.warning(
        "quarantined version %s#%s of node %s: %s", item.record_uuid, item.seq, item.origin_node, item.reason
    )
    if not recipients:
        return 0
    send_mail(
        subject=f"[Accord] equivocating version quarantined: {item.record_uuid}#{item.seq}",
        message=(
            f"Node {item.origin_node} sent version {item.seq} of record {item.record_uuid} with hash\n"
            f"{item.content_hash}, but {item.existing_hash} is already stored for that version.\n"
            "The new version was quarantined and not shown to anyone. Contact the node's operator.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
