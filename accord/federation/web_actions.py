"""The federation page's actions, for this node's administrators: invite a node, accept an invitation, add a peer
by its keys, and revoke a peer. Each goes through the action function the command line uses (audited); a problem is
shown on the page beside its form, naming the field, and nothing is changed. Coordinators read the page; only the
administrators act."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.federation import actions, web
from accord.federation.models import Peer
from accord.members.models import Account
from accord.records.errors import ActionError


def _admin(request: HttpRequest) -> Account | None:
    user = request.user
    return user if isinstance(user, Account) and user.has_role("admin") else None


def _refused(request: HttpRequest) -> HttpResponse:
    return web.forbidden(request, _("Only the administrators of this node change its peers."))


def _back(anchor: str = "peers") -> HttpResponse:
    return HttpResponseRedirect(reverse("federation-admin") + f"#{anchor}")


@login_required
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    if _admin(request) is None:
        return _refused(request)
    try:
        hours = int(request.POST.get("hours") or 72)
    except ValueError:
        hours = 0
    if not 1 <= hours <= 720:
        return web.admin_page(request, errors={"hours": _("Give the hours the invitation is valid: 1 to 720.")})
    token = actions.create_invitation(hours=hours)
    return web.admin_page(request, invitation=token, invitation_hours=hours)


@login_required
@require_POST
def accept(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _refused(request)
    token = request.POST.get("token", "").strip()
    name = request.POST.get("name", "").strip() or None
    if not token:
        return web.admin_page(request, errors={"token": _("Paste the invitation the other node's administrator sent.")})
    try:
        peer = actions.accept_invitation(token, name=name, acting_user=admin)
    except ActionError as error:
        return web.admin_page(request, errors={error.field or "token": error.message}, status=error.status)
    messages.success(request, _("%(name)s is now a peer of this node.") % {"name": peer.name})
    return _back()


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _refused(request)
    fields = {key: request.POST.get(key, "").strip() for key in ("name", "node_id", "public_key", "member", "url")}
    missing = [key for key in ("name", "node_id", "public_key", "member") if not fields[key]]
    if missing:
        return web.admin_page(
            request, errors={key: _("This field is required.") for key in missing}, peer_form=fields, status=400
        )
    try:
        peer = actions.add_peer(
            name=fields["name"],
            node_id=fields["node_id"],
            public_key=fields["public_key"],
            member=fields["member"].upper(),
            url=fields["url"],
            acting_user=admin,
        )
    except ActionError as error:
        return web.admin_page(
            request, errors={error.field or "name": error.message}, peer_form=fields, status=error.status
        )
    messages.success(request, _("%(name)s is now a peer of this node.") % {"name": peer.name})
    return _back()


@login_required
@require_POST
def revoke(request: HttpRequest, name: str) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _refused(request)
    peer = Peer.objects.filter(name=name).first()
    if peer is None:
        return web.admin_page(request, errors={"revoke": _("No peer has that name.")}, status=404)
    reason = request.POST.get("reason", "").strip()[:500]
    if not reason:
        return web.admin_page(request, errors={f"revoke-{peer.name}": _("Say why the peer is revoked.")}, status=400)
    actions.revoke_peer(peer, acting_user=admin, reason=reason)
    messages.success(request, _("%(name)s is revoked: its requests are refused from now on.") % {"name": peer.name})
    return _back()
