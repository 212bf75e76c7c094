"""Mobilisation told through notify: a roster call to each expert it calls, a reply to the one who called.

The same way as mutual assistance's notices (`accord.response.assist_notices`): a listener of the record core's
committed versions (registered in `apps.py`; run by the worker after the commit, for versions written here and
received from peers alike) makes e-mail deliveries through notify (retried by the notify worker, in the recipient's
language) to the accounts this node hosts that may see the version (notify's own audience check):

* a new call (its first version): each called expert's own account, and for a profile a focal point manages, the
  focal points of the organisation that manages it; the message links to the call's page, where they answer;
* a reply (each version: a changed reply is told too): the account that made the call.

The renderer is registered with notify (`messages.register_escalation`), so notify imports nothing of this app.
Webhooks: every version also goes through notify's outbox like any record, so an expert whose subscription names the
kind `roster_call` (with a webhook channel) gets the call there as well, if they may see it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.html import escape
from django.utils.translation import gettext as _

from accord.alliances import vocab
from accord.alliances.mobilise_kinds import CALL_KIND, REPLY_KIND
from accord.notify import messages
from accord.notify.keys import key_for, language_of_member

if TYPE_CHECKING:
    from accord.members.models import Account
    from accord.notify.models import Delivery
    from accord.records.models import Version

NOTICE = "roster"  # data["escalation"] of these deliveries
KINDS = frozenset({CALL_KIND, REPLY_KIND})


def _called_accounts(version: Version) -> list[Account]:
    from django.db.models import Q

    from accord.members.models import Account

    wanted = Q(pk__in=[])
    for entry in version.body.get("called", []):
        if entry.get("account"):
            wanted |= Q(uuid=entry["account"])
        elif entry.get("organisation"):
            wanted |= Q(organisation__uuid=entry["organisation"], roles__role="focal_point")
    return list(
        Account.objects.filter(is_active=True)
        .filter(wanted)
        .exclude(email="")
        .select_related("organisation__member")
        .distinct()
        .order_by("id")
    )


def _caller(version: Version) -> list[Account]:
    """The account that made the call a reply answers, when this node hosts it."""
    from accord.members.models import Account
    from accord.records.models import Record

    ref = version.body.get("call") or {}
    call = Record.objects.filter(kind=CALL_KIND, uuid=str(ref.get("record"))).select_related("current_version").first()
    if call is None or call.current_version is None or call.current_version.author is None:
        return []
    found = Account.objects.filter(uuid=call.current_version.author, is_active=True).exclude(email="")
    return list(found.select_related("organisation__member"))


def _link(version: Version) -> str:
    from django.urls import reverse

    from accord.members.site import absolute_url

    if version.kind == CALL_KIND:
        return absolute_url(reverse("roster-call", args=[version.record_uuid])) + "#answer"
    return absolute_url(reverse("roster-call", args=[(version.body.get("call") or {}).get("record")])) + "#replies"


def _call_facts(version: Version) -> dict[str, Any]:
    """The field and window of the call (of a reply: of the call it answers, when held here)."""
    body = version.body
    if version.kind == REPLY_KIND:
        from accord.records.models import Record

        ref = body.get("call") or {}
        call = (
            Record.objects.filter(kind=CALL_KIND, uuid=str(ref.get("record"))).select_related("current_version").first()
        )
        body = call.current_version.body if call is not None and call.current_version is not None else {}
    term = vocab.field_term(str(body.get("field", "")))
    names = {"en": term.en, "ru": term.ru, "zh": term.zh} if term is not None else {}
    return {"field": str(body.get("field", "")), "field_names": names, "call_from": body.get("from", ""),
            "call_until": body.get("until", ""), "caller": str(body.get("member", ""))}  # fmt: skip


def queue(version: Version) -> list[Delivery]:
    """The deliveries of a new call or of a reply's version, in the caller's transaction."""
    from accord.notify import matching
    from accord.notify.models import Channel, Delivery
    from accord.records.principal import Principal

    if version.kind not in KINDS or version.state != "active" or (version.kind == CALL_KIND and version.seq != 1):
        return []
    accounts = _called_accounts(version) if version.kind == CALL_KIND else _caller(version)
    body = version.body
    data: dict[str, Any] = {
        "escalation": NOTICE,
        "what": "call" if version.kind == CALL_KIND else "reply",
        **_call_facts(version),
        "member": str(body.get("member", "")),
        "available": bool(body.get("available")),
        "from": body.get("from", ""),
        "until": body.get("until", ""),
        "traffic": version.status,
        "link": _link(version),
    }
    made: list[Delivery] = []
    for account in accounts:
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
    """Listener of committed calls and replies: queue the notices and send them at once (notify retries)."""
    from accord.notify import dispatch
    from accord.records.models import Version

    version = Version.objects.filter(pk=version_id).select_related("record").first()
    if version is None:
        return
    with transaction.atomic():
        made = queue(version)
    if made:
        dispatch.deliver([d.pk for d in made], worker="roster")


def render(delivery: Delivery) -> messages.Content:
    """The e-mail and webhook payload of a roster notice, in the delivery's language."""
    data = delivery.data
    language = (delivery.language or "en")[:2]
    names = data.get("field_names") or {}
    values = {
        "field": str(names.get(language) or names.get("en") or data.get("field", "")),
        "start": data.get("call_from", ""),
        "until": data.get("call_until", ""),
        "caller": data.get("caller", ""),
        "member": data.get("member", ""),
        "reply_from": data.get("from", ""),
        "reply_until": data.get("until", ""),
    }
    if data.get("what") == "call":
        subject = _("Roster call from %(caller)s: %(field)s, %(start)s to %(until)s") % values
        body = (
            _(
                "%(caller)s calls experts in %(field)s, from %(start)s to %(until)s, and you are among them. "
                "Say whether you are available: the link opens the call, where you answer."
            )
            % values
        )
    elif data.get("available"):
        subject = _("Roster call: an expert of %(member)s is available, %(reply_from)s to %(reply_until)s") % values
        body = (
            _(
                "An expert of %(member)s replied to your roster call in %(field)s: available from %(reply_from)s to "
                "%(reply_until)s. You may select them on the call's page."
            )
            % values
        )
    else:
        subject = _("Roster call: an expert of %(member)s is not available") % values
        body = _("An expert of %(member)s replied to your roster call in %(field)s: not available.") % values
    traffic = str(data.get("traffic", "actual"))
    subject = "[Accord] " + (f"[{traffic.upper()}] " if traffic != "actual" else "") + subject
    link = str(data.get("link", ""))
    text = f"{body}\n\n{_('Open in Accord')}: {link}\n"
    html = f'<p>{escape(body)}</p><p><a href="{escape(link)}">{escape(_("Open in Accord"))}</a></p>'
    payload = {"type": f"roster.{data.get('what')}", "data": {**values, "links": {"record": link}}}
    return messages.Content(subject, text, html, payload)


messages.register_escalation(NOTICE, render)
