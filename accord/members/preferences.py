"""The profile's language and time zone, applied to every request of a logged-in account.

The time zone holds for every page the account sees. The language is applied once per login, by setting
Django's language cookie: after that the language menu in the header still works for the rest of the session,
and saving the profile sets the cookie again (see `views.profile`).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone, translation

from accord.members.models import Account

APPLIED_KEY = "accord_language_applied"  # in the session: the account whose profile language was applied


def set_language_cookie(response: HttpResponseBase, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class AccountPreferencesMiddleware:
    """Runs after the authentication and locale middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if not isinstance(user, Account) or not user.is_authenticated:
            return self.get_response(request)
        language = ""
        session = getattr(request, "session", None)
        if user.language and session is not None and session.get(APPLIED_KEY) != str(user.uuid):
            language = user.language
            session[APPLIED_KEY] = str(user.uuid)
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        zone = None
        if user.time_zone:
            try:
                zone = zoneinfo.ZoneInfo(user.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None  # a zone the system no longer knows: times stay in UTC
        if zone is not None:
            timezone.activate(zone)
        try:
            response = self.get_response(request)
        finally:
            if zone is not None:
                timezone.deactivate()
        if language:
            set_language_cookie(response, language)
        return response
