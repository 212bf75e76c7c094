"""Escalation of overdue acknowledgements through notify: delivery rows and attempts, like everything else.

When an addressed member's focal points miss an alert's acknowledgement deadline
(`accord.alerts.actions.escalate_overdue` decides who is overdue, once per member), its other contacts
and the Secretariat's coordinators are told by e-mail: every active account of the member's
organisations (focal points included, as a reminder), the e-mail channels those organisations own,
and every active coordinator of the Secretariat. Only recipients who may see the alert are told;
each recipient gets one message per escalation, naming every member it is told about.

The IHR 24-hour clock escalates the same way (`queue_ihr_overdue`): an assessment that concluded "notify"
and was not followed by an alert within 24 hours is brought to its assessor and the Secretariat's
coordinators who may see it, each in their language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from accord.notify import matching, messages
from accord.notify.keys import key_for, language_of_member
from accord.notify.models import Channel, Delivery
from accord.records.principal import Principal

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.records.models import Record


def _accounts(member: str) -> list[Account]:
    from accord.members.models import Account, Member

    return list(
        Account.objects.filter(is_active=True)
        .filter(
            Q(organisation__member__code=member)
            | Q(organisation__member__kind=Member.Kind.SECRETARIAT, roles__role="coordinator")
        )
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )


def _language(account: Account) -> str:
    """An account's language: that of its own e-mail channel to its address, else its member's."""
    own = Channel.objects.filter(
        account=account, kind=Channel.Kind.EMAIL, disabled_at__isnull=True, target__iexact=account.email
    ).first()
    return own.language if own is not None else language_of_member(account.member_code)


def queue(record: Record, members: list[str]) -> list[Delivery]:
    """Make the escalation deliveries of `record` for the newly escalated `members` (in the caller's transaction)."""
    version = record.current_version
    if version is None or not members:
        return []
    from accord.alerts.models import AlertView

    view = AlertView.objects.filter(record=record).first()
    title = (view.headline or view.event) if view is not None else str(record.uuid)
    link = messages.record_link(record)
    # address -> (account, language, the escalated members it hears about): one message per recipient.
    recipients: dict[str, tuple[Account | None, str, list[str]]] = {}
    for member in sorted(members):
        for account in _accounts(member):
            if not matching.may_see(Principal.of(account), version.pk):
                continue
            recipients.setdefault(account.email.lower(), (account, _language(account), []))[2].append(member)
        for channel in Channel.objects.filter(
            organisation__member__code=member, kind=Channel.Kind.EMAIL, disabled_at__isnull=True
        ).select_related("organisation__member"):
            organisation = channel.organisation
            assert organisation is not None
            principal = Principal(
                account=matching.ORGANISATION_ACCOUNT,
                member=organisation.member.code,
                organisation=organisation.uuid,
            )
            if matching.may_see(principal, version.pk):
                recipients.setdefault(channel.target.lower(), (None, channel.language, []))[2].append(member)
    made: list[Delivery] = []
    for address, (recipient, language, named) in sorted(recipients.items()):
        told = sorted(set(named))
        key = key_for("escalation", record.origin_node, record.uuid, ",".join(told), address)
        delivery, created = Delivery.objects.get_or_create(
            key=key,
            defaults={
                "purpose": Delivery.Purpose.ESCALATION,
                "kind": Channel.Kind.EMAIL,
                "account": recipient,
                "address": address,
                "language": language,
                "record": record,
                "version": version,
                "message_id": messages.message_id(key),
                "data": {"members": told, "title": title, "link": link},
            },
        )
        if created:
            made.append(delivery)
    return made


def queue_ihr_overdue(record: Record, recipients: list[Account]) -> list[Delivery]:
    """Make the deliveries telling `recipients` (those of them who may see it) that the assessment `record`
    concluded "notify" and no alert followed within 24 hours (in the caller's transaction). One per address,
    once per assessment version, whatever reruns."""
    version = record.current_version
    if version is None:
        return []
    event = str(version.body.get("event") or "")
    link = messages.record_link(record)
    made: list[Delivery] = []
    for account in recipients:
        if not account.email or not matching.may_see(Principal.of(account), version.pk):
            continue
        address = account.email.lower()
        key = key_for("ihr_overdue", record.origin_node, record.uuid, version.seq, address)
        delivery, created = Delivery.objects.get_or_create(
            key=key,
            defaults={
                "purpose": Delivery.Purpose.ESCALATION,
                "kind": Channel.Kind.EMAIL,
                "account": account,
                "address": address,
                "language": _language(account),
                "record": record,
                "version": version,
                "message_id": messages.message_id(key),
                "data": {"escalation": messages.IHR_OVERDUE, "event": event, "link": link},
            },
        )
        if created:
            made.append(delivery)
    return made


def queue_incident_notice(record: Record, members: list[str], data: dict[str, Any]) -> list[Delivery]:
    """Tell the contacts of `members` (every active account of their organisations, and the Secretariat's
    coordinators) who may see it that the incident `record` dropped to level 1 because a consent was withdrawn
    (in the caller's transaction; the notify worker sends them). One message per address and incident version."""
    version = record.current_version
    if version is None:
        return []
    body = version.body
    title = version.body.get("title") or {}
    link = messages.record_link(record)
    made: list[Delivery] = []
    seen: set[str] = set()
    for member in members:
        for account in _accounts(member):
            address = account.email.lower()
            if address in seen or not matching.may_see(Principal.of(account), version.pk):
                continue
            seen.add(address)
            key = key_for("incident", record.origin_node, record.uuid, version.seq, address)
            delivery, created = Delivery.objects.get_or_create(
                key=key,
                defaults={
                    "purpose": Delivery.Purpose.ESCALATION,
                    "kind": Channel.Kind.EMAIL,
                    "account": account,
                    "address": address,
                    "language": _language(account),
                    "record": record,
                    "version": version,
                    "message_id": messages.message_id(key),
                    "data": {
                        "escalation": messages.INCIDENT_LEVEL_DROPPED,
                        "titles": dict(title),
                        "level": body.get("level"),
                        "from_level": (body.get("change") or {}).get("from_level"),
                        "link": link,
                        **data,
                    },
                },
            )
            if created:
                made.append(delivery)
    return made
