"""The alliances' pages: the three alliances (`/alliances/`) and an alliance's page (`/alliances/<slug>/`) with its
charter, council, members, membership history, the apply form (an acting account of an organisation that is not a
member and has nothing pending), the leave form with its confirmation (an acting account of a member organisation),
the pending applications with their accept / decline forms (the council and the Secretariat's coordinators), and then
the sections the other parts register (`accord.alliances.sections`).

Every read goes through `membership_queries` (the audience filter), every change through `membership_actions`. A
refusal re-renders the page with the message on the form that caused it and the action's 4xx; nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accord.alliances import membership_actions as actions
from accord.alliances import membership_forms as forms
from accord.alliances import membership_queries as queries
from accord.alliances import sections
from accord.alliances.membership_models import Membership
from accord.alliances.models import Alliance
from accord.members.models import Account, Member
from accord.records import actions as record_actions
from accord.records.errors import ActionError, NotFound
from accord.records.principal import Principal


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def _members() -> dict[str, str]:
    return {m.code: m.name for m in Member.objects.all()}


def _alliance(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise Http404("no such alliance")
    return found


def _acting(account: Account) -> bool:
    return account.organisation is not None and bool(account.role_names() & {"expert", "focal_point", "coordinator"})


@login_required
@require_GET
def alliance_list(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    organisation = account.organisation
    members = _members()
    found = []
    for alliance in Alliance.objects.prefetch_related("council__member").order_by("slug"):
        rows = queries.memberships_for(principal, alliance).filter(state="member")
        mine = queries.membership_of(organisation, alliance.slug) if organisation is not None else None
        found.append(
            {
                "alliance": alliance,
                "members": rows.count(),
                "states": [members.get(code, code) for code in sorted({r.member for r in rows})],
                "council": [o.name for o in alliance.council.all()],
                "mine": forms.STATES.get(mine.state, mine.state) if mine is not None else "",
            }
        )
    return render(request, "alliances/alliance_list.html", {"alliances": found})


def _page(
    request: HttpRequest,
    alliance: Alliance,
    *,
    errors: dict[str, str] | None = None,
    posted: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    account = _account(request)
    principal = Principal.of(account)
    organisation = account.organisation
    members, names = _members(), forms.organisation_names()
    rows = list(queries.memberships_for(principal, alliance).select_related("application"))
    deciding = queries.may_decide(account, alliance.slug)
    mine: Membership | None = None
    if organisation is not None:
        mine = next(
            (r for r in rows if (r.organisation, r.member) == (organisation.slug, organisation.member.code)), None
        )
    acting = _acting(account)
    here = record_actions.here().node_id
    context: dict[str, Any] = {
        "alliance": alliance,
        "council": [
            {"name": o.name, "slug": o.slug, "member": o.member.code, "member_name": members.get(o.member.code, "")}
            for o in alliance.council.select_related("member").order_by("member__code", "slug")
        ],
        "members": [forms.dress_membership(r, names, members) for r in rows if r.state == "member"],
        "pending": [forms.dress_membership(r, names, members) for r in rows if r.state == "pending"],
        "history": forms.history_of(rows, names, members),
        "mine": forms.dress_membership(mine, names, members) if mine is not None else None,
        "may_apply": acting and (mine is None or mine.state in ("declined", "left")),
        "may_leave": acting and mine is not None and mine.state == "member" and mine.application.origin_node == here,
        "may_decide": deciding,
        "organisation": organisation,
        "errors": errors or {},
        "posted": posted or {},
        "sections": [render_to_string(t, c, request=request) for t, c in sections.for_alliance(request, alliance)],
    }
    shown = {"apply", "leave"}
    for application in context["pending"]:
        application["own"] = mine is not None and application["application"] == str(mine.application.uuid)
        key = f"decide-{application['application']}"
        application["error"] = "" if application["own"] or not deciding else (errors or {}).get(key, "")
        if application["error"]:
            shown.add(key)
    # A refusal of a form the page does not show (a decision by someone who may not decide): at the top.
    context["page_error"] = next((m for k, m in (errors or {}).items() if k not in shown), "")
    return render(request, "alliances/alliance_page.html", context, status=status)


@login_required
@require_GET
def alliance_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _alliance(slug))


def _back(alliance: Alliance, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("alliance", args=[alliance.slug]) + f"#{anchor}")


@login_required
@require_POST
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    alliance = _alliance(slug)
    motivation = request.POST.get("motivation", "").strip()
    try:
        if len(motivation) > forms.MOTIVATION_MAX:
            raise ActionError(
                _("Keep the motivation under %(max)s characters.") % {"max": forms.MOTIVATION_MAX}, field="motivation"
            )
        actions.apply(alliance.slug, acting_user=_account(request), motivation=motivation)
    except ActionError as error:
        errors = {"apply": forms.refusal("apply", error)}
        return _page(request, alliance, errors=errors, posted={"motivation": motivation}, status=error.status)
    messages.success(request, _("Your organisation's application is sent to the alliance's council."))
    return _back(alliance, "your-membership")


@login_required
@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    alliance = _alliance(slug)
    reason = request.POST.get("reason", "").strip()
    try:
        if len(reason) > forms.REASON_MAX:
            raise ActionError(
                _("Keep the reason under %(max)s characters.") % {"max": forms.REASON_MAX}, field="reason"
            )
        if request.POST.get("confirm") != "yes":
            raise ActionError("confirm: confirm that the organisation leaves", field="confirm")
        actions.leave(alliance.slug, acting_user=_account(request), reason=reason)
    except ActionError as error:
        errors = {"leave": forms.refusal("leave", error)}
        return _page(request, alliance, errors=errors, posted={"reason": reason}, status=error.status)
    messages.success(request, _("Your organisation has left the alliance. It may apply again at any time."))
    return _back(alliance, "your-membership")


@login_required
@require_POST
def decide(request: HttpRequest, record_uuid: str) -> HttpResponse:
    account = _account(request)
    try:
        record = actions.application_for(Principal.of(account), record_uuid)
    except NotFound:
        raise Http404("no such application") from None
    entry = getattr(record, "membership_entry", None)
    if entry is None:
        raise Http404("no such application")
    alliance = _alliance(entry.alliance)
    decision, reason = request.POST.get("decision", ""), request.POST.get("reason", "").strip()
    try:
        if len(reason) > forms.REASON_MAX:
            raise ActionError(
                _("Keep the reason under %(max)s characters.") % {"max": forms.REASON_MAX}, field="reason"
            )
        actions.decide(record.uuid, acting_user=account, decision=decision, reason=reason)
    except ActionError as error:
        errors = {f"decide-{record.uuid}": forms.refusal("decide", error)}
        return _page(request, alliance, errors=errors, posted={"reason": reason}, status=error.status)
    if decision == "accept":
        messages.success(request, _("The application is accepted: the organisation is a member of the alliance."))
    else:
        messages.success(request, _("The application is declined; the organisation is told the reason."))
    return _back(alliance, "members")
