"""The account pages: my profile (language, time zone, password), my API tokens, the node's accounts for its
administrators, and the forgotten-password pages.

Every change is made by an action in `accord.members.actions`, which checks the rules and writes the audit entry.
A token of another account gets the same 404 as no token at all; the administrators' pages answer 403 to others.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.db.models import Prefetch
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accord.members import actions, lockout, site, twofactor
from accord.members.forms import (
    AccountCreateForm,
    PreferencesForm,
    ResetRequestForm,
    ResetSetPasswordForm,
    RolesForm,
    TokenForm,
)
from accord.members.models import Account, AccountRole, ApiToken, Member, Organisation, Role
from accord.members.preferences import set_language_cookie
from accord.records.errors import ActionError

logger = logging.getLogger(__name__)


def _account(request: HttpRequest) -> Account:
    user = request.user
    assert isinstance(user, Account)  # login_required
    return user


def base_url(request: HttpRequest) -> str:
    """Where links in mail point: the node's public URL (accord/members/site.py), else the address this request
    came to."""
    return site.base_url(request)


def _put_error(form: BaseForm, error: ActionError, fields: dict[str, str]) -> None:
    """An action's refusal, shown at the field it names (or above the form)."""
    name = fields.get(error.field or "")
    form.add_error(name if name in form.fields else None, error.message)


# ---- my profile ----------------------------------------------------------------------------------------------


def _profile_page(
    request: HttpRequest,
    *,
    preferences_form: PreferencesForm | None = None,
    password_form: PasswordChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = _account(request)
    context = {
        "account": account,
        "roles": [Role(r).label for r in sorted(account.role_names())],
        "preferences_form": preferences_form
        or PreferencesForm(initial={"language": account.language, "time_zone": account.time_zone}),
        "password_form": password_form or PasswordChangeForm(account),
        "time_zones": sorted(actions.available_time_zones()),
        "now": timezone.now(),
        "current_time_zone": timezone.get_current_timezone_name(),
        "two_factor": twofactor.is_enabled(account),
        "two_factor_required": twofactor.is_required(account),
    }
    return render(request, "members/profile.html", context, status=status)


@login_required
@require_safe
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@login_required
@require_POST
def save_preferences(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, preferences_form=form, status=400)
    try:
        actions.set_preferences(
            account,
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
            acting_user=account,
        )
    except ActionError as error:
        _put_error(form, error, {"language": "language", "time_zone": "time_zone"})
        return _profile_page(request, preferences_form=form, status=400)
    language = account.language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        messages.success(request, _("Your language and time zone are saved."))
    response = HttpResponseRedirect(reverse("profile"))
    if account.language:
        set_language_cookie(response, account.language)
    return response


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = PasswordChangeForm(account, request.POST)
    if not form.is_valid():
        return _profile_page(request, password_form=form, status=400)
    try:
        actions.set_password(account, form.cleaned_data["new_password1"], acting_user=account, how="change")
    except ActionError as error:
        _put_error(form, error, {"password": "new_password2"})
        return _profile_page(request, password_form=form, status=400)
    update_session_auth_hash(request, account)  # this session stays logged in; the others end
    messages.success(request, _("Your password is changed."))
    return HttpResponseRedirect(reverse("profile") + "#password")


# ---- my API tokens -------------------------------------------------------------------------------------------


def _token_rows(account: Account) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = []
    for token in ApiToken.objects.filter(account=account).order_by("-created_at", "-id"):
        if token.revoked_at is not None:
            state, label = "revoked", _("Revoked")
        elif token.expires_at is not None and token.expires_at <= now:
            state, label = "expired", _("Expired")
        else:
            state, label = "active", _("Active")
        rows.append({"token": token, "state": state, "state_label": label})
    return rows


def _tokens_page(request: HttpRequest, *, form: TokenForm | None = None, status: int = 200) -> HttpResponse:
    account = _account(request)
    context = {"rows": _token_rows(account), "form": form or TokenForm(), "max_days": 3650}
    return render(request, "members/tokens.html", context, status=status)


@login_required
@require_safe
def tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request)


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        token, secret = actions.create_token(
            account, name=data["name"], scope=data["scope"], days=data["days"], acting_user=account
        )
    except ActionError as error:
        _put_error(form, error, {"name": "name", "scope": "scope", "days": "days"})
        return _tokens_page(request, form=form, status=400)
    # The secret is in this one response only: never in a message, a redirect, the session or a log line.
    response = render(request, "members/token_created.html", {"token": token, "secret": secret})
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, prefix: str) -> HttpResponse:
    account = _account(request)
    token = ApiToken.objects.select_related("account").filter(prefix=prefix, account=account).first()
    if token is None:
        raise Http404("no such token")
    actions.revoke_token(token, acting_user=account)
    messages.success(request, _("The token %(prefix)s is revoked.") % {"prefix": token.prefix})
    return HttpResponseRedirect(reverse("tokens"))


# ---- the node's accounts, for its administrators -------------------------------------------------------------


def _admin(request: HttpRequest) -> Account | None:
    account = _account(request)
    return account if account.has_role(Role.ADMIN) else None


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/forbidden.html",
        {"message": _("Only the administrators of this node manage its accounts.")},
        status=403,
    )


def _managed(username: str) -> Account:
    found = Account.objects.select_related("organisation__member").filter(username=username).first()
    if found is None:
        raise Http404("no such account")
    return found


@login_required
@require_safe
def accounts(request: HttpRequest) -> HttpResponse:
    if _admin(request) is None:
        return _forbidden(request)
    listed = (
        Account.objects.select_related("organisation__member")
        .prefetch_related(Prefetch("roles", queryset=AccountRole.objects.order_by("role")))
        .order_by("username")
    )
    rows = [
        {"account": a, "roles": [Role(r.role).label for r in a.roles.all() if r.role in Role.values]} for a in listed
    ]
    return render(request, "members/accounts.html", {"rows": rows})


def _organisation_for(member: Member, slug: str, *, acting_user: Account) -> Organisation:
    if slug:
        return Organisation.objects.select_related("member").get(slug=slug, member=member)
    found = list(Organisation.objects.select_related("member").filter(member=member))
    if len(found) == 1:
        return found[0]
    if found:
        raise ActionError(_("The member has several organisations: choose one."), field="organisation")
    return actions.create_organisation(
        member_code=member.code,
        slug=f"{member.code.lower()}-national",
        kind="secretariat" if member.kind == Member.Kind.SECRETARIAT else "other",
        name_en=f"{member.name_en}: national focal point office",
        acting_user=acting_user,
    )


ACCOUNT_FIELDS = {"username": "username", "role": "roles", "password": "password", "email": "email"}


@login_required
def account_new(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    if request.method != "POST":
        return render(request, "members/account_new.html", {"form": AccountCreateForm()})
    form = AccountCreateForm(request.POST)
    if not form.is_valid():
        return render(request, "members/account_new.html", {"form": form}, status=400)
    data = form.cleaned_data
    invite = data["how"] == AccountCreateForm.INVITE
    member = Member.objects.get(code=data["member"])
    try:
        with transaction.atomic():
            organisation = _organisation_for(member, data["organisation"], acting_user=admin)
            account = actions.create_account(
                username=data["username"],
                organisation=organisation,
                roles=list(data["roles"]),
                email=data["email"],
                password=None if invite else data["password"],
                acting_user=admin,
            )
    except ActionError as error:
        _put_error(form, error, {**ACCOUNT_FIELDS, "organisation": "organisation"})
        return render(request, "members/account_new.html", {"form": form}, status=error.status)
    if invite:
        _send_link(request, account, admin=admin, invitation=True)
    else:
        messages.success(request, _("The account %(username)s is created.") % {"username": account.username})
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


def _send_link(request: HttpRequest, account: Account, *, admin: Account, invitation: bool) -> None:
    try:
        actions.send_password_link(account, base_url=base_url(request), acting_user=admin, invitation=invitation)
    except ActionError as error:
        messages.error(request, error.message)
    else:
        text = (
            _("The account %(username)s is created; an invitation is on its way to %(email)s.")
            if invitation
            else _("A link to set a password is on its way to %(email)s.")
        )
        messages.success(request, text % {"username": account.username, "email": account.email})


def _account_page(
    request: HttpRequest, account: Account, *, roles_form: RolesForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "managed": account,
        "roles": [Role(r).label for r in sorted(account.role_names())],
        "roles_form": roles_form or RolesForm(initial={"roles": sorted(account.role_names())}),
        "is_self": account.pk == _account(request).pk,
        "tokens": ApiToken.objects.filter(account=account, revoked_at__isnull=True).count(),
        "lock": lockout.lock_state(account.username, None),
        "two_factor": twofactor.is_enabled(account),
    }
    return render(request, "members/account.html", context, status=status)


@login_required
@require_safe
def account_detail(request: HttpRequest, username: str) -> HttpResponse:
    if _admin(request) is None:
        return _forbidden(request)
    return _account_page(request, _managed(username))


@login_required
@require_POST
def account_roles(request: HttpRequest, username: str) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    account = _managed(username)
    form = RolesForm(request.POST)
    if not form.is_valid():
        return _account_page(request, account, roles_form=form, status=400)
    try:
        actions.set_roles(account, list(form.cleaned_data["roles"]), acting_user=admin)
    except ActionError as error:
        _put_error(form, error, {"role": "roles"})
        return _account_page(request, account, roles_form=form, status=error.status)
    messages.success(request, _("The roles of %(username)s are saved.") % {"username": account.username})
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


@login_required
@require_POST
def account_active(request: HttpRequest, username: str) -> HttpResponseBase:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    account = _managed(username)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        messages.error(request, _("Say whether the account is to be enabled or disabled."))
        return HttpResponseRedirect(reverse("admin-account", args=[account.username]))
    try:
        actions.set_active(account, wanted == "1", acting_user=admin)
    except ActionError as error:
        messages.error(request, error.message)
        response = _account_page(request, account, status=error.status)
        return response
    text = (
        _("The account %(username)s is enabled.")
        if wanted == "1"
        else _("The account %(username)s is disabled and its API tokens are revoked.")
    )
    messages.success(request, text % {"username": account.username})
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


@login_required
@require_POST
def account_send_link(request: HttpRequest, username: str) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    account = _managed(username)
    _send_link(request, account, admin=admin, invitation=not account.has_usable_password())
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


@login_required
@require_POST
def account_unlock(request: HttpRequest, username: str) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    account = _managed(username)
    lockout.unlock(username=account.username, acting_user=admin)
    messages.success(request, _("The log-in of %(username)s is unlocked.") % {"username": account.username})
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


@login_required
@require_POST
def account_reset_two_factor(request: HttpRequest, username: str) -> HttpResponse:
    admin = _admin(request)
    if admin is None:
        return _forbidden(request)
    account = _managed(username)
    twofactor.reset(account, acting_user=admin)
    messages.success(
        request,
        _("Two-factor authentication of %(username)s is reset: it is set up again at the next log-in.")
        % {"username": account.username},
    )
    return HttpResponseRedirect(reverse("admin-account", args=[account.username]))


# ---- forgotten password --------------------------------------------------------------------------------------


class ResetRequestView(auth_views.PasswordResetView):
    """Asks for an address and always answers with the same page, whether an account has it or not."""

    form_class = ResetRequestForm
    template_name = "members/password_reset_form.html"
    success_url = reverse_lazy("password-reset-done")

    def form_valid(self, form: Any) -> HttpResponse:
        assert isinstance(form, ResetRequestForm)
        try:
            form.send_links(base_url(self.request))
        except ActionError as error:
            # Said in the log for the node's operator, never on the page (it would tell the address exists).
            logger.warning("a password reset mail was not queued: %s", error.message)
        return HttpResponseRedirect(str(self.success_url))


class ResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "members/password_reset_done.html"


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetSetPasswordForm
    template_name = "members/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            return super().form_valid(form)
        except ActionError as error:
            form.add_error("new_password2", error.message)
            return self.form_invalid(form)


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "members/password_reset_complete.html"
