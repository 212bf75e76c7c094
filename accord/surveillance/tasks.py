"""Background work of surveillance, run by the worker: uploads, detection of received counts, e-mail of signals."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django_tasks import task

logger = logging.getLogger("accord.surveillance")


@task()
def process_upload_task(upload_id: int) -> str:
    """Check, store and watch one upload. Returns its final status."""
    from accord.surveillance.actions import process_upload, upload_crashed

    try:
        upload = process_upload(upload_id)
    except Exception:
        logger.exception("upload %s failed unexpectedly", upload_id)
        upload_crashed(upload_id)
        raise
    return upload.status if upload is not None else "missing"


@task()
def detect_received_task(version_id: int) -> int:
    """Watch the series of a `case_counts` version received from a peer. Returns the signals raised."""
    from accord.surveillance.actions import detect_received

    return detect_received(version_id)


def counts_received(version_id: int) -> None:
    """Listener of every committed version: a peer's counts go to detection in a task of their own."""
    from accord.members.identity import here
    from accord.records.models import Version
    from accord.surveillance.kinds import KIND

    node = here()
    # This node's own counts were watched by their upload's task already.
    received = Version.objects.filter(pk=version_id, kind=KIND, status="actual")
    if node is not None:
        received = received.exclude(origin_node=node.node_id)
    if received.exists():
        detect_received_task.enqueue(version_id)


@task()
def notify_signal_task(signal_id: int) -> int:
    """E-mail a new signal to those who review it and may see it. Returns how many were told."""
    from django.urls import reverse

    from accord.members.site import absolute_url
    from accord.surveillance.actions import event_name, recipients_for
    from accord.surveillance.models import Signal

    signal = Signal.objects.filter(pk=signal_id).first()
    if signal is None:
        return 0
    recipients = recipients_for(signal)
    if not recipients:
        return 0
    joint = signal.kind == Signal.Kind.JOINT
    threshold = f"{signal.threshold:.1f}" if signal.threshold is not None else "-"
    send_mail(
        subject=f"[Accord] {'cross-border signal' if joint else 'signal'}: {event_name(signal)}",
        message=(
            f"{event_name(signal)}\n"
            f"Observed {signal.observed}, threshold {threshold} ({signal.algorithm}).\n"
            f"Verify or dismiss it in Accord: {absolute_url(reverse('surveillance-signal', args=[signal.uuid]))}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
