"""Holds a session that has passed the password but not yet the second factor to the two-factor pages.

After the password, an account with an authenticator must give a code (/login/code/), and an account whose roles
require two-factor authentication but has none must set it up (/account/two-factor/) before anything else. Other
pages redirect there; the API and the feeds treat such a session as not logged in (API tokens work as always).
Must come after django_otp's OTPMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accord.members import twofactor
from accord.members.models import Account

CODE, SETUP = "code", "setup"


def pending_step(request: HttpRequest) -> str | None:
    """The step the session still owes ("code" or "setup"), else None."""
    cached: str | bool | None = getattr(request, "_accord_2fa_step", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    step: str | None = None
    user = request.user
    if isinstance(user, Account) and user.is_authenticated:
        verified = getattr(user, "is_verified", None)
        if not (callable(verified) and verified()):
            if twofactor.is_enabled(user):
                step = CODE
            elif twofactor.is_required(user):
                step = SETUP
    request._accord_2fa_step = step  # type: ignore[attr-defined]
    return step


def forget_step(request: HttpRequest) -> None:
    if hasattr(request, "_accord_2fa_step"):
        del request._accord_2fa_step


def _open_paths(step: str) -> tuple[str, ...]:
    page = reverse("login_code") if step == CODE else reverse("two_factor")
    return (page, reverse("login"), reverse("logout"), reverse("set_language"), settings.STATIC_URL)


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            step = pending_step(request)
            if step is not None and not request.path_info.startswith(_open_paths(step)):
                if request.path_info.startswith(("/api/", "/feeds/")):
                    request.user = AnonymousUser()
                    forget_step(request)
                else:
                    page = reverse("login_code") if step == CODE else reverse("two_factor")
                    return HttpResponseRedirect(f"{page}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
