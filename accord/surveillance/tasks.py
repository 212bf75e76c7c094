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
    """E-mail a new signal to those who review it and may see it, each in their language (one message per
    language), with an absolute link to the signal. Returns how many were told."""
    from django.urls import reverse
    from django.utils import translation
    from django.utils.translation import gettext as _

    from accord.members.site import absolute_url
    from accord.notify.keys import language_of_member
    from accord.surveillance.actions import event_name, recipient_accounts
    from accord.surveillance.models import Signal

    signal = Signal.objects.filter(pk=signal_id).first()
    if signal is None:
        return 0
    by_language: dict[str, list[str]] = {}
    for person in recipient_accounts(signal):
        member = person.organisation.member.code if person.organisation is not None else None
        by_language.setdefault(person.language or language_of_member(member), []).append(person.email)
    joint = signal.kind == Signal.Kind.JOINT
    threshold = f"{signal.threshold:.1f}" if signal.threshold is not None else "-"
    link = absolute_url(reverse("surveillance-signal", args=[signal.uuid]))
    told = 0
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            what = _("cross-border signal") if joint else _("signal")
            numbers = _("Observed %(observed)s, threshold %(threshold)s (%(algorithm)s).") % {
                "observed": signal.observed,
                "threshold": threshold,
                "algorithm": signal.algorithm,
            }
            send_mail(
                subject=f"[Accord] {what}: {event_name(signal)}",
                message=f"{event_name(signal)}\n{numbers}\n"
                + _("Verify or dismiss it in Accord: %(link)s") % {"link": link}
                + "\n",
                from_email=None,
                recipient_list=sorted(set(recipients)),
            )
        told += len(set(recipients))
    return told
