"""The log-in steps (password, then a code) and the two-factor settings page /account/two-factor/."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accord.members import twofactor
from accord.members.middleware import CODE, SETUP, forget_step, pending_step
from accord.members.models import Account
from accord.records.errors import ActionError

SHOW_CODES = "accord_2fa_show_codes"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


class AccordLoginView(LoginView):
    """Django's log-in, then the second step when the account owes one."""

    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        forget_step(self.request)
        step = pending_step(self.request)
        if step == CODE:
            return HttpResponseRedirect(_with_next("login_code", self.get_success_url()))
        if step == SETUP:
            return HttpResponseRedirect(_with_next("two_factor", self.get_success_url()))
        return response


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of log-in: a code from the authenticator app, or a recovery code."""
    if not request.user.is_authenticated:
        return redirect(_with_next("login", _next(request)))
    step = pending_step(request)
    if step != CODE:
        return redirect(_with_next("two_factor", _next(request)) if step == SETUP else _next(request))
    account = request.user
    assert isinstance(account, Account)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(account, form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            django_otp.login(request, device)
            forget_step(request)
            return redirect(_next(request))
        status = 400
        if twofactor.is_throttled(account, form.cleaned_data["code"]):
            form.add_error("code", _("Too many wrong codes. Wait a little, then enter the code your app shows now."))
        else:
            form.add_error("code", _("The code is not correct. Enter the code your app shows now, or a recovery code."))
    return render(request, "registration/login_code.html", {"form": form, "next": _next(request)}, status=status)


def _qr_svg(uri: str) -> str:
    # segno writes plain SVG (no script, no style attribute); the URI holds only our own base32 and names.
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title=_("QR code to scan"))
    return mark_safe(svg)  # noqa: S308


def _setup_context(request: HttpRequest, account: Account, form: CodeForm) -> dict[str, Any]:
    device = twofactor.begin_setup(account, acting_user=account)
    uri = device.config_url
    secret = twofactor.secret_of(device)
    return {
        "form": form,
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": uri,
        "qr": _qr_svg(uri),
        "required": twofactor.is_required(account),
        "next": _next(request),
    }


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up, see the state of, renew recovery codes of, or turn off two-factor authentication."""
    account = request.user
    assert isinstance(account, Account)
    if pending_step(request) == CODE:
        return redirect(_with_next("login_code", request.get_full_path()))
    enabled = twofactor.is_enabled(account)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if not enabled:
        form = CodeForm(request.POST if action == "confirm" else None)
        if action == "confirm" and form.is_valid():
            try:
                device, codes = twofactor.confirm_setup(account, form.cleaned_data["code"], acting_user=account)
            except ActionError:
                form.add_error("code", _("The code is not correct. Enter the 6 digits your app shows now."))
            else:
                request.session.cycle_key()
                django_otp.login(request, device)
                request.session[SHOW_CODES] = codes
                return redirect(_with_next("two_factor", _next(request)))
        status = 400 if action == "confirm" else 200
        return render(
            request, "registration/two_factor_setup.html", _setup_context(request, account, form), status=status
        )
    disable_form = CodeForm(request.POST if action == "disable" else None)
    status = 200
    if action == "codes":
        request.session[SHOW_CODES] = twofactor.new_recovery_codes(account, acting_user=account)
        return redirect(_with_next("two_factor", _next(request)))
    if action == "disable" and disable_form.is_valid():
        try:
            twofactor.disable(account, disable_form.cleaned_data["code"], acting_user=account)
        except ActionError as error:
            status = error.status
            if error.field == "code":
                disable_form.add_error("code", _("The code is not correct."))
            else:
                disable_form.add_error(None, _("Two-factor authentication is required for your roles."))
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("two_factor")
    codes = request.session.pop(SHOW_CODES, None)
    context = {
        "codes": codes,
        "codes_left": twofactor.recovery_codes_left(account),
        "required": twofactor.is_required(account),
        "disable_form": disable_form,
        "next": _next(request),
    }
    return render(request, "registration/two_factor.html", context, status=status)
