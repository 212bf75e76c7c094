"""Federation for people: where a version came from and whether its signature holds, and the admin's page.

Everything here only reads. The record and alert pages show a version's origin and signature status
(`provenance`); the page at /admin/federation/ shows this node, its peers, the federation log and the
quarantine to the accounts with the admin role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.federation.models import FederationEvent, Peer
from accord.federation.protocol import BadRequest, decode_cursor, entitled_versions
from accord.lib.canonical import verify
from accord.members import site
from accord.members.models import Account, Member, NodeKey
from accord.records.actions import this_node
from accord.records.models import QuarantinedVersion, Version

VERIFIED = "verified"
UNKNOWN_KEY = "unknown-key"
REVOKED_KEY = "revoked-key"
BAD_SIGNATURE = "bad-signature"

REASONS: dict[str, Promise] = {
    UNKNOWN_KEY: gettext_lazy("the key that signed it is not a known key of its origin node"),
    REVOKED_KEY: gettext_lazy("the key that signed it was revoked before the version was issued"),
    BAD_SIGNATURE: gettext_lazy("the signature does not match the stored version"),
}
PEER_STATES: dict[str, Promise] = {
    Peer.State.ACTIVE: gettext_lazy("Active"),
    Peer.State.REMOVED: gettext_lazy("Removed"),
    Peer.State.REVOKED: gettext_lazy("Revoked"),
}
EVENT_LEVELS: dict[str, Promise] = {
    FederationEvent.Level.INFO: gettext_lazy("Info"),
    FederationEvent.Level.WARNING: gettext_lazy("Warning"),
    FederationEvent.Level.ERROR: gettext_lazy("Error"),
}
EVENTS_SHOWN = 50
QUARANTINE_SHOWN = 50


def _rfc3339(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def signature_status(version: Version) -> str:
    """'verified', 'unknown-key', 'revoked-key' or 'bad-signature': the stored bytes checked against the key.

    The key must be a key of the version's origin node, not revoked at the time the version says it was
    issued (a key revoked from that moment on signs nothing valid), and the signature must verify over the
    exact canonical bytes this node keeps.
    """
    key = NodeKey.objects.filter(kid=version.sig_kid, node_id=version.origin_node).first()
    if key is None:
        return UNKNOWN_KEY
    if key.revoked_at is not None:
        signed_at = _rfc3339(version.created_at)
        # A time we cannot read cannot show that the version was signed before the revocation.
        if signed_at is None or key.revoked_at <= signed_at:
            return REVOKED_KEY
    if not verify(key.public_key, bytes(version.canonical), version.signature):
        return BAD_SIGNATURE
    return VERIFIED


@dataclass(frozen=True)
class Provenance:
    """What the record and alert pages show about a version's origin and signature."""

    member_code: str
    member_name: str
    node_id: uuid.UUID
    this_node: bool
    peer_name: str | None
    status: str

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def reason(self) -> str:
        return str(REASONS.get(self.status, self.status))


def provenance(version: Version) -> Provenance:
    member = Member.objects.filter(code=version.origin_member).first()
    ours = this_node().node_id == version.origin_node
    peer = None if ours else Peer.objects.filter(node_id=version.origin_node).first()
    return Provenance(
        member_code=version.origin_member,
        member_name=member.name if member is not None else version.origin_member,
        node_id=version.origin_node,
        this_node=ours,
        peer_name=peer.name if peer is not None else None,
        status=signature_status(version),
    )


# ---- the admin's page ------------------------------------------------------------------------------------


def _pending(peer: Peer) -> int | None:
    """How many versions the peer may have and has not yet confirmed, by the last cursor it presented."""
    if not peer.is_active:
        return None
    try:
        after = decode_cursor(peer.served_cursor)
    except BadRequest:
        return None
    return int(entitled_versions(peer).filter(id__gt=after).count())


def _peer_rows(peers: list[Peer]) -> list[dict[str, Any]]:
    return [
        {
            "peer": peer,
            "state_label": PEER_STATES.get(peer.state, peer.state),
            "pending": _pending(peer),
        }
        for peer in peers
    ]


def _event_rows(events: list[FederationEvent]) -> list[dict[str, Any]]:
    return [{"event": event, "level_label": EVENT_LEVELS.get(event.level, event.level)} for event in events]


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "federation/forbidden.html", {"message": message}, status=403)


def _may_read(user: object) -> bool:
    return isinstance(user, Account) and bool(user.role_names() & {"admin", "coordinator"})


@login_required
@require_http_methods(["GET", "HEAD"])
def federation_admin(request: HttpRequest) -> HttpResponse:
    return admin_page(request)


def admin_page(
    request: HttpRequest,
    *,
    errors: dict[str, str] | None = None,
    invitation: str = "",
    invitation_hours: int = 0,
    peer_form: dict[str, str] | None = None,
    status: int | None = None,
) -> HttpResponse:
    """The page: this node, its peers, the log and the quarantine; with the forms for an administrator, the
    problems of the last one sent (`errors`, by field), and a new invitation to copy (shown once, never stored)."""
    user = request.user
    if not _may_read(user):
        return forbidden(request, _("Only the administrators and coordinators of this node see its federation state."))
    assert isinstance(user, Account)
    node = this_node()
    current_key = (
        NodeKey.objects.filter(node_id=node.node_id, active=True, revoked_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    peers = list(Peer.objects.all())
    names = {peer.node_id: peer.name for peer in peers}
    quarantined = list(QuarantinedVersion.objects.order_by("-received_at", "-id")[:QUARANTINE_SHOWN])
    return render(
        request,
        "federation/admin.html",
        {
            "node": node,
            "public_url": site.public_url(),
            "public_url_from_setting": site.source() == "ACCORD_PUBLIC_URL",
            "current_key": current_key,
            "peers": _peer_rows(peers),
            "events": _event_rows(list(FederationEvent.objects.select_related("peer")[:EVENTS_SHOWN])),
            "quarantined": [{"item": item, "peer_name": names.get(item.origin_node)} for item in quarantined],
            "quarantined_total": QuarantinedVersion.objects.count(),
            "events_shown": EVENTS_SHOWN,
            "is_admin": user.has_role("admin"),
            "errors": errors or {},
            "invitation": invitation,
            "invitation_hours": invitation_hours,
            "peer_form": peer_form or {},
            "members": list(Member.objects.filter(active=True).order_by("code")),
        },
        status=status if status is not None else (400 if errors else 200),
    )
