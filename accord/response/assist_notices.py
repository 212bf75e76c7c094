"""Mutual assistance told through notify: a new request to the members in its audience, a new offer and every
acceptance to the two parties.

The same way as the other notices of the response room (`task_escalation`, `sitrep_deadlines`): a listener of the
record core's committed versions (`accord.records.tasks.on_version_committed`, registered in `apps.py`; run by the
worker after the commit, for versions written here and received from peers alike) makes e-mail deliveries through
notify (delivery rows and attempts, retried by the notify worker, in the recipient's language) to the accounts this
node hosts that may see the version (notify's own audience check): the focal points of the members concerned (for
the Secretariat, its coordinators and focal points). The renderer is registered with notify
(`messages.register_escalation`), so notify imports nothing of this app. One message per address and version
(the delivery key); exercise and test traffic is told as well, marked in the subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils.html import escape
from django.utils.translation import gettext as _

from accord.notify import messages
from accord.notify.keys import key_for, language_of_member
from accord.response import assist_catalogue
from accord.response.assist_kinds import ACCEPTANCE_KIND, OFFER_KIND, REQUEST_KIND

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.notify.models import Delivery
    from accord.records.models import Version

NOTICE = "assistance"  # data["escalation"] of these deliveries
KINDS = frozenset({REQUEST_KIND, OFFER_KIND, ACCEPTANCE_KIND})


def _accounts(members: list[str]) -> list[Account]:
    from accord.members.models import Account, Member

    secretariat = Q(organisation__member__kind=Member.Kind.SECRETARIAT, roles__role__in=["coordinator", "focal_point"])
    states = Q(organisation__member__code__in=members, roles__role="focal_point")
    wanted = states | secretariat if "SCO" in members else states
    return list(
        Account.objects.filter(is_active=True)
        .filter(wanted)
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )


def _audience_members(version: Version) -> list[str] | None:
    """The members of the version's audience; None when it is everyone's."""
    audience = version.envelope()["audience"]
    if audience.get("everyone"):
        return None
    return [str(m) for m in audience.get("members", [])]


def recipients_of(version: Version) -> tuple[str, list[str]]:
    """What happened and to which members it is told."""
    body = version.body
    if version.kind == REQUEST_KIND:
        members = _audience_members(version)
        if members is None:
            from accord.members.models import Member

            members = list(Member.objects.filter(active=True).values_list("code", flat=True))
        return "request", [m for m in members if m != body.get("member")]
    if version.kind == OFFER_KIND:
        return "offer", [str(body.get("to_member", "")), str(body.get("member", ""))]
    return "acceptance", [str(body.get("member", "")), str(body.get("offer_member", ""))]


def _link(version: Version) -> str:
    from django.urls import reverse

    from accord.members.site import absolute_url

    body = version.body
    if version.kind == REQUEST_KIND:
        return absolute_url(reverse("assist-request", args=[version.record_uuid]))
    target = (body.get("request") or {}).get("record")
    if target:
        return absolute_url(reverse("assist-request", args=[target]))
    return absolute_url(reverse("assist-board", args=[(body.get("incident") or {}).get("record")]))


def queue(version: Version) -> list[Delivery]:
    """The deliveries of a new request, offer or acceptance (its first version, active), in the caller's
    transaction; nothing for later versions."""
    from accord.notify import matching
    from accord.notify.models import Channel, Delivery
    from accord.records.principal import Principal

    if version.kind not in KINDS or version.seq != 1 or version.state != "active":
        return []
    what, members = recipients_of(version)
    body = version.body
    found = assist_catalogue.get(str(body.get("resource_type", "")))
    data: dict[str, Any] = {
        "escalation": NOTICE,
        "what": what,
        "resource_type": str(body.get("resource_type", "")),
        "resource_names": found.names() if found is not None else {},
        "unit": str(body.get("unit", "")),
        "quantity": body.get("quantity"),
        "member": str(body.get("member", "")),
        "offer_member": str(body.get("offer_member", "")),
        "traffic": version.status,
        "link": _link(version),
    }
    made: list[Delivery] = []
    for account in _accounts(members):
        if not matching.may_see(Principal.of(account), version.pk):
            continue
        address = account.email.lower()
        key = key_for(NOTICE, version.origin_node, version.record_uuid, version.seq, address)
        member = account.organisation.member.code if account.organisation is not None else None
        delivery, fresh = Delivery.objects.get_or_create(
            key=key,
            defaults={
                "purpose": Delivery.Purpose.ESCALATION,
                "kind": Channel.Kind.EMAIL,
                "account": account,
                "address": address,
                "language": account.language or language_of_member(member),
                "record": version.record,
                "version": version,
                "message_id": messages.message_id(key),
                "data": data,
            },
        )
        if fresh:
            made.append(delivery)
    return made


def committed(version_id: int) -> None:
    """Listener of committed requests, offers and acceptances: queue the notices and send them at once (the notify
    worker retries what fails)."""
    from accord.notify import dispatch
    from accord.records.models import Version

    version = Version.objects.filter(pk=version_id).select_related("record").first()
    if version is None:
        return
    with transaction.atomic():
        made = queue(version)
    if made:
        dispatch.deliver([d.pk for d in made], worker="assistance")


def render(delivery: Delivery) -> messages.Content:
    """The e-mail and webhook payload of an assistance notice, in the delivery's language."""
    data = delivery.data
    language = (delivery.language or "en")[:2]
    names = data.get("resource_names") or {}
    resource = str(names.get(language) or names.get("en") or data.get("resource_type", ""))
    unit = assist_catalogue.unit(str(data.get("unit", "")))
    values = {
        "resource": resource,
        "quantity": data.get("quantity"),
        "unit": unit.names().get(language, unit.name_en) if unit is not None else data.get("unit", ""),
        "member": data.get("member", ""),
        "offer_member": data.get("offer_member", ""),
    }
    what = str(data.get("what", ""))
    if what == "request":
        subject = _("Assistance requested by %(member)s: %(quantity)s %(unit)s of %(resource)s") % values
        body = _("%(member)s requests %(quantity)s %(unit)s of %(resource)s. Offer what your member can.") % values
    elif what == "offer":
        subject = _("Assistance offered by %(member)s: %(quantity)s %(unit)s of %(resource)s") % values
        body = _("%(member)s offers %(quantity)s %(unit)s of %(resource)s. The requesting member decides.") % values
    else:
        subject = _("Offer accepted by %(member)s: %(quantity)s %(unit)s of %(resource)s") % values
        body = _("%(member)s accepted %(quantity)s %(unit)s of %(resource)s offered by %(offer_member)s.") % values
    traffic = str(data.get("traffic", "actual"))
    subject = "[Accord] " + (f"[{traffic.upper()}] " if traffic != "actual" else "") + subject
    link = str(data.get("link", ""))
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {"type": f"assistance.{what}", "data": {**values, "links": {"record": link}}}
    return messages.Content(subject, text, html, payload)


messages.register_escalation(NOTICE, render)
