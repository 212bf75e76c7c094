"""Two-factor authentication (TOTP, RFC 6238, with django-otp) and its recovery codes: every change is here.

An account has at most one confirmed TOTP device and one static device holding its unused recovery codes.
Accounts with one of the roles in ACCORD_2FA_REQUIRED_ROLES (in production: focal_point, coordinator, admin)
must have it; the others may. Wrong codes are throttled by django-otp (each wrong code doubles the wait).
"""

from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.members.models import Account
from accord.records import audit
from accord.records.errors import ActionError, Conflict, Forbidden

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def issuer() -> str:
    """The issuer in the otpauth URI: Accord and this node's name."""
    from accord.members.models import NodeIdentity

    name = NodeIdentity.objects.filter(id=1).values_list("name", flat=True).first()
    return f"Accord ({name})" if name else "Accord"


def required_roles() -> set[str]:
    return set(settings.ACCORD_2FA_REQUIRED_ROLES)


def is_required(account: Account) -> bool:
    """Whether the account must use two-factor authentication (by its roles and ACCORD_2FA_REQUIRED_ROLES)."""
    needed = required_roles()
    return bool(needed) and account.roles.filter(role__in=needed).exists()


def is_enabled(account: Account) -> bool:
    return bool(TOTPDevice.objects.filter(user=account, confirmed=True).exists())


def pending_device(account: Account) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=account, confirmed=False).order_by("id").first()


def secret_of(device: TOTPDevice) -> str:
    """The shared secret as base32, the form people type into an authenticator app."""
    return b32encode(bytes(device.bin_key)).decode("ascii")


def recovery_codes_left(account: Account) -> int:
    return int(StaticToken.objects.filter(device__user=account, device__confirmed=True).count())


def _audit(action: str, account: Account, acting_user: Account | None, **data: object) -> None:
    audit.append(
        action,
        actor=acting_user,
        object_type="account",
        object_id=str(account.uuid),
        data={"username": account.username, **data},
    )


def _clean(code: str) -> str:
    return "".join(str(code).split()).lower()


def begin_setup(account: Account, *, acting_user: Account | None) -> TOTPDevice:
    """The unconfirmed authenticator to set up: the one already begun, or a new one with a fresh secret."""
    with transaction.atomic():
        if is_enabled(account):
            raise Conflict("two-factor authentication is already on for this account")
        device = pending_device(account)
        if device is None:
            device = TOTPDevice.objects.create(user=account, name=DEVICE_NAME, confirmed=False)
            _audit("account.2fa.begin", account, acting_user)
    return device


def _new_recovery_codes(account: Account) -> list[str]:
    StaticDevice.objects.filter(user=account).delete()
    device = StaticDevice.objects.create(user=account, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def confirm_setup(account: Account, code: str, *, acting_user: Account | None) -> tuple[TOTPDevice, list[str]]:
    """Turn two-factor authentication on with a first code from the authenticator. Returns the device and the
    recovery codes, which are shown once."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=account, confirmed=False).order_by("id").first()
        if device is None:
            raise ActionError("set-up was not begun, or is already complete; open the page again", field="code")
        if not device.verify_token(_clean(code)):
            raise ActionError("the code is not correct; enter the 6 digits your app shows now", field="code")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=account).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(account)
        _audit("account.2fa.enable", account, acting_user, recovery_codes=len(codes))
    return device, codes


def new_recovery_codes(account: Account, *, acting_user: Account | None) -> list[str]:
    """Replace the recovery codes: the old ones stop working. Returns the new ones, shown once."""
    with transaction.atomic():
        if not is_enabled(account):
            raise Conflict("two-factor authentication is not on for this account")
        codes = _new_recovery_codes(account)
        _audit("account.2fa.recovery_codes", account, acting_user, recovery_codes=len(codes))
    return codes


def verify(account: Account, code: str) -> Device | None:
    """The device that accepts the code (authenticator or recovery code), or None. A recovery code is used up;
    that is written to the audit log."""
    text = _clean(code)
    if not text or len(text) > 16:
        return None
    # Six digits go to the authenticator, anything else to the recovery codes (eight letters and digits): a
    # code tried on the wrong kind of device would count as a wrong code there and throttle it, so a person who
    # mistyped an authenticator code could not use a recovery code right after.
    with transaction.atomic():
        for device in _devices_for(account, text, for_verify=True):
            if device.verify_token(text):
                if isinstance(device, StaticDevice):
                    _audit("account.2fa.recovery_used", account, account, left=device.token_set.count())
                return device
    return None


def _devices_for(account: Account, text: str, *, for_verify: bool = False) -> list[Device]:
    """The confirmed devices a code is tried on: six digits go to the authenticator, anything else to the
    recovery codes (eight letters and digits). A code tried on the wrong kind of device would count as a wrong
    code there and throttle it, so a person who mistyped an authenticator code could not use a recovery code
    right after."""
    authenticator_code = len(text) == 6 and text.isdigit()
    return [
        device
        for device in devices_for_user(account, confirmed=True, for_verify=for_verify)
        if isinstance(device, StaticDevice) != authenticator_code
    ]


def is_throttled(account: Account, code: str) -> bool:
    """Whether the devices `code` is tried on refuse codes for now, after wrong ones."""
    devices = _devices_for(account, _clean(code))
    return bool(devices) and all(not device.verify_is_allowed()[0] for device in devices)


def disable(account: Account, code: str, *, acting_user: Account | None) -> None:
    """Turn two-factor authentication off, confirmed with a current code or a recovery code."""
    if is_required(account):
        raise Forbidden("two-factor authentication is required for this account's roles")
    if not is_enabled(account):
        raise Conflict("two-factor authentication is not on for this account")
    if verify(account, code) is None:
        raise ActionError("the code is not correct", field="code")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=account).delete()
        StaticDevice.objects.filter(user=account).delete()
        _audit("account.2fa.disable", account, acting_user)


def reset(account: Account, *, acting_user: Account | None) -> int:
    """Remove every two-factor device of an account (an administrator's reset, when the phone is lost).
    The account sets it up anew at its next log-in if its roles require it. Returns how many were removed."""
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            devices = model.objects.filter(user=account)
            removed += devices.count()
            devices.delete()
        _audit("account.2fa.reset", account, acting_user, devices_removed=removed)
    return removed
