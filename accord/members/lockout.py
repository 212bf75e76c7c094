"""Password log-ins are throttled: django-axes counts the wrong ones, and this module fits it to Accord.

An *account* (a username, whether it exists or not) is locked after ACCORD_LOGIN_FAILURE_LIMIT wrong passwords
within the cool-off, from any address; a client *address* after ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT wrong
passwords for any usernames. A lock ends ACCORD_LOGIN_COOLOFF_MINUTES after the last counted failure, or when an
administrator runs `accord account unlock`. Attempts while locked are refused without checking the password and
without being counted. A new lockout is written to the audit log, and the owner of a locked account is told by
e-mail through the notification outbox (retried like every notification). API tokens are not passwords and are
not counted here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accord.members.models import Account
from accord.records import audit
from accord.records.errors import ActionError

USERNAME_MAX = 150


def cool_off(request: HttpRequest | None = None) -> timedelta:
    return timedelta(minutes=settings.ACCORD_LOGIN_COOLOFF_MINUTES)


def failure_limit(request: HttpRequest | None = None, credentials: dict[str, Any] | None = None) -> int:
    """The one limit django-axes compares with: the product of the two limits (see LockoutHandler)."""
    return int(settings.ACCORD_LOGIN_FAILURE_LIMIT) * int(settings.ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT)


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind ACCORD_LOGIN_PROXY_COUNT trusted reverse proxies the address
    the outermost of them saw, taken from the right of X-Forwarded-For (the part a client cannot forge)."""
    remote = str(request.META.get("REMOTE_ADDR") or "") or None
    proxies = int(settings.ACCORD_LOGIN_PROXY_COUNT)
    if proxies <= 0:
        return remote
    hops = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


@dataclass(frozen=True)
class LockState:
    account_failures: int
    address_failures: int
    account_locked: bool
    address_locked: bool
    until: datetime | None  # when the later of the locks in force ends


def _window_start() -> datetime:
    return timezone.now() - cool_off()


def lock_state(username: str | None, address: str | None) -> LockState:
    """How many counted failures an account name and an address have, whether each is locked, and until when."""
    since = _window_start()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    by_name = recent.filter(username=username) if username else recent.none()
    by_address = recent.filter(ip_address=address) if address else recent.none()
    name_sum = by_name.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
    address_sum = by_address.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
    account_failures = int(name_sum["n"] or 0)
    address_failures = int(address_sum["n"] or 0)
    account_locked = account_failures >= settings.ACCORD_LOGIN_FAILURE_LIMIT
    address_locked = address_failures >= settings.ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT
    ends = [
        last + cool_off()
        for locked, last in ((account_locked, name_sum["last"]), (address_locked, address_sum["last"]))
        if locked and last is not None
    ]
    return LockState(account_failures, address_failures, account_locked, address_locked, max(ends) if ends else None)


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with one limit per account and another per address.

    django-axes compares one number, the largest failure count over the lockout parameters, with one limit. With
    the limit A*B (see failure_limit) and the counts scaled crosswise, `max(account * B, address * A) >= A*B`
    holds exactly when `account >= A` or `address >= B`."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        state = lock_state(get_client_username(request, credentials), getattr(request, "axes_ip_address", None))
        return max(
            state.account_failures * int(settings.ACCORD_LOGIN_ADDRESS_FAILURE_LIMIT),
            state.address_failures * int(settings.ACCORD_LOGIN_FAILURE_LIMIT),
        )


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a password log-in of a locked account or address (then the next backend never checks the password).

    A call without a request (the test client's `login`, a script) is not a log-in from a client and is not
    counted: it passes on to the next backend."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """The log-in page again, saying that log-in is blocked and until when (HTTP 429). It reads the same whether
    or not the username exists: names that do not exist are counted and locked just the same."""
    # django-axes' middleware passes (request, response, credentials) when it runs synchronously, but under ASGI
    # (`accord serve`) it passes (request, credentials); the handler also leaves the credentials on the request.
    if not isinstance(credentials, dict):
        credentials = original_response if isinstance(original_response, dict) else None
    credentials = credentials or getattr(request, "axes_credentials", None)
    username = get_client_username(request, credentials) if credentials else None
    state = lock_state(username, getattr(request, "axes_ip_address", None))
    form = AuthenticationForm(request, initial={"username": (username or "")[:USERNAME_MAX]})
    until = state.until or timezone.now() + cool_off()
    minutes = max(1, int((until - timezone.now()).total_seconds() + 59) // 60)
    context = {
        "form": form,
        "locked_until": until,
        "locked_minutes": minutes,
        "next": request.POST.get("next", "") if request.method == "POST" else request.GET.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


@receiver(user_locked_out)
def _on_lockout(sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any) -> None:
    # django-axes also sends this signal for every attempt refused during a lockout; only a failure that was
    # counted (axes_failures_since_start set) starts a new lockout.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    state = lock_state(username, ip_address)
    record_lockout(username=username or "", address=ip_address or "", state=state)


def record_lockout(*, username: str, address: str, state: LockState) -> None:
    """Write a lockout to the audit log and, when an existing account is locked, queue an e-mail to its owner."""
    from accord.notify.keys import key_for, language_of_member
    from accord.notify.models import Channel, Delivery
    from accord.notify.outbox import wake

    name = username[:USERNAME_MAX]
    account = Account.objects.select_related("organisation__member").filter(username=name).first() if name else None
    locked = [what for what, on in (("account", state.account_locked), ("address", state.address_locked)) if on]
    until = state.until.isoformat() if state.until is not None else None
    with transaction.atomic():
        audit.append(
            "account.lockout",
            actor=None,
            actor_name="login",
            object_type="account" if account is not None else "login",
            object_id=str(account.uuid) if account is not None else name[:100],
            data={"username": name, "address": address, "locked": locked, "until": until},
        )
        if account is not None and state.account_locked and account.is_active and account.email:
            Delivery.objects.get_or_create(
                key=key_for("lockout", account.uuid, until),
                defaults={
                    "purpose": Delivery.Purpose.NOTICE,
                    "kind": Channel.Kind.EMAIL,
                    "account": account,
                    "address": account.email,
                    "language": language_of_member(account.member_code),
                    "data": {
                        "notice": "account_locked",
                        "username": account.username,
                        "address": address,
                        "until": until,
                        "failures": state.account_failures,
                    },
                },
            )
            wake()


def unlock(*, username: str | None = None, address: str | None = None, acting_user: Account | None) -> int:
    """Forget the counted failures of an account name and/or an address, which ends their lockout.
    Returns how many attempt rows were removed."""
    username = (username or "").strip() or None
    address = (address or "").strip() or None
    if username is None and address is None:
        raise ActionError("give a username or an address to unlock", field="username")
    if address is not None:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise ActionError(f"{address!r} is not an IP address", field="address") from None
    match = Q()
    if username is not None:
        match |= Q(username=username)
    if address is not None:
        match |= Q(ip_address=address)
    with transaction.atomic():
        removed, _ = AccessAttempt.objects.filter(match).delete()
        account = Account.objects.filter(username=username).first() if username else None
        audit.append(
            "account.unlock",
            actor=acting_user,
            object_type="account" if account is not None else "login",
            object_id=str(account.uuid) if account is not None else (username or address or "")[:100],
            data={"username": username, "address": address, "attempts_removed": removed},
        )
    return int(removed)
