"""Every change to members, organisations, accounts, tokens and the node identity."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.members.identity import default_node_name, signing_key
from accord.members.models import (
    Account,
    AccountRole,
    ApiToken,
    Member,
    NodeIdentity,
    NodeKey,
    Organisation,
    Role,
)
from accord.members.seed import MEMBERS
from accord.records import audit
from accord.records.errors import ActionError, Conflict, Forbidden, NotFound
from accord.records.kinds import check_text

TOKEN_PREFIX = "accord_"  # noqa: S105  (a label, not a secret)


def seed_members() -> int:
    """Create the SCO members that are missing. Returns how many were created."""
    created = 0
    with transaction.atomic():
        for code, kind, en, zh, ru in MEMBERS:
            if Member.objects.filter(code=code).exists():
                continue
            Member.objects.create(code=code, kind=kind, name_en=en, name_zh=zh, name_ru=ru)
            audit.append("member.create", actor=None, object_type="member", object_id=code, data={"name": en})
            created += 1
    return created


def ensure_node_identity(name: str | None = None, member_code: str | None = None) -> NodeIdentity:
    """Give this node its identity on first start, and register its current public key."""
    key = signing_key()
    with transaction.atomic():
        node = NodeIdentity.objects.select_related("member").filter(id=1).first()
        if node is None:
            code = member_code or settings.ACCORD_NODE_MEMBER
            member = Member.objects.filter(code=code).first()
            if member is None:
                raise ActionError(f"ACCORD_NODE_MEMBER={code!r} is not a known member code")
            node = NodeIdentity.objects.create(
                name=name or default_node_name(), member=member, url=settings.ACCORD_PUBLIC_URL.rstrip("/")
            )
            audit.append(
                "node.create",
                actor=None,
                object_type="node",
                object_id=str(node.node_id),
                data={"name": node.name, "member": member.code},
            )
        if not NodeKey.objects.filter(kid=key.kid).exists():
            NodeKey.objects.filter(node_id=node.node_id, active=True).update(active=False)
            NodeKey.objects.create(node_id=node.node_id, kid=key.kid, public_key=key.public_key)
            audit.append(
                "node.key.add", actor=None, object_type="node", object_id=str(node.node_id), data={"kid": key.kid}
            )
    return node


def create_organisation(
    *,
    member_code: str,
    slug: str,
    kind: str,
    name_en: str,
    name_zh: str = "",
    name_ru: str = "",
    acting_user: Account | None,
) -> Organisation:
    member = Member.objects.filter(code=member_code).first()
    if member is None:
        raise NotFound(f"no member with code {member_code!r}")
    if kind not in Organisation.Kind.values:
        raise ActionError(f"organisation kind {kind!r} is not one of {', '.join(Organisation.Kind.values)}")
    for field, value in (("slug", slug), ("name_en", name_en), ("name_zh", name_zh), ("name_ru", name_ru)):
        check_text(value, field)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,79}", slug):
        raise ActionError(
            f"slug: {slug!r} is not a slug (2 to 80 small latin letters, digits and hyphens, e.g. ru-msu)", field="slug"
        )
    if not name_en.strip():
        raise ActionError("name_en: give the organisation's name in English", field="name_en")
    with transaction.atomic():
        if Organisation.objects.filter(slug=slug).exists():
            raise Conflict(f"an organisation {slug!r} exists already")
        organisation = Organisation.objects.create(
            member=member, slug=slug, kind=kind, name_en=name_en, name_zh=name_zh, name_ru=name_ru
        )
        audit.append(
            "organisation.create",
            actor=acting_user,
            object_type="organisation",
            object_id=str(organisation.uuid),
            data={"slug": slug, "member": member_code, "kind": kind},
        )
    return organisation


def _check_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ActionError(f"unknown roles: {', '.join(unknown)}; roles are {', '.join(Role.values)}", field="role")
    if not roles:
        raise ActionError("an account needs at least one role", field="role")
    return sorted(set(roles))


def create_account(
    *,
    username: str,
    organisation: Organisation,
    roles: list[str],
    email: str = "",
    password: str | None = None,
    acting_user: Account | None,
    check_password: bool = True,
) -> Account:
    roles = _check_roles(roles)
    if not username or len(username) > 150 or not all(c.isalnum() or c in "._-@" for c in username):
        raise ActionError("a username is 1-150 letters, digits and . _ - @", field="username")
    if Role.COORDINATOR in roles and organisation.member.kind != Member.Kind.SECRETARIAT:
        raise ActionError("the coordinator role is for Secretariat accounts", field="role")
    account = Account(username=username, organisation=organisation, email=email)
    if password is not None:
        if check_password:
            try:
                validate_password(password, account)
            except ValidationError as error:
                raise ActionError(" ".join(error.messages), field="password") from None
        account.set_password(password)
    else:
        account.set_unusable_password()
    with transaction.atomic():
        if Account.objects.filter(username=username).exists():
            raise Conflict(f"an account {username!r} exists already")
        account.save()
        AccountRole.objects.bulk_create([AccountRole(account=account, role=role) for role in roles])
        audit.append(
            "account.create",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": username, "organisation": organisation.slug, "roles": roles},
        )
    return account


def _other_active_admins(account: Account) -> bool:
    """Whether the node has an active administrator other than `account`."""
    return Account.objects.filter(is_active=True, roles__role=Role.ADMIN).exclude(pk=account.pk).exists()


def set_active(account: Account, active: bool, *, acting_user: Account | None) -> Account:
    if not active and acting_user is not None and acting_user.pk == account.pk:
        raise Forbidden(_("you cannot disable your own account"), field="active")
    if not active and account.is_active and account.has_role(Role.ADMIN) and not _other_active_admins(account):
        raise Forbidden(_("this is the node's last active administrator; it cannot be disabled"), field="active")
    with transaction.atomic():
        account.is_active = active
        account.save(update_fields=["is_active"])
        if not active:
            revoked = ApiToken.objects.filter(account=account, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        else:
            revoked = 0
        audit.append(
            "account.enable" if active else "account.disable",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": account.username, "tokens_revoked": revoked},
        )
    return account


def set_roles(account: Account, roles: list[str], *, acting_user: Account | None) -> Account:
    """Replace the roles of an account. An administrator cannot take away their own admin role, and the node
    keeps at least one active administrator."""
    roles = _check_roles(roles)
    organisation = account.organisation
    if Role.COORDINATOR in roles and (organisation is None or organisation.member.kind != Member.Kind.SECRETARIAT):
        raise ActionError(_("the coordinator role is for Secretariat accounts"), field="role")
    with transaction.atomic():
        before = sorted(account.role_names())
        if Role.ADMIN in before and Role.ADMIN not in roles:
            if acting_user is not None and acting_user.pk == account.pk:
                raise Forbidden(_("you cannot remove your own admin role"), field="role")
            if account.is_active and not _other_active_admins(account):
                raise Forbidden(
                    _("this is the node's last active administrator; it keeps the admin role"), field="role"
                )
        if before == roles:
            return account
        AccountRole.objects.filter(account=account).exclude(role__in=roles).delete()
        AccountRole.objects.bulk_create(
            [AccountRole(account=account, role=role) for role in roles if role not in before]
        )
        audit.append(
            "account.roles",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": account.username, "before": before, "after": roles},
        )
    return account


def set_preferences(account: Account, *, language: str, time_zone: str, acting_user: Account | None) -> Account:
    """The language of the interface ("" = as the browser says) and the time zone times are shown in ("" = UTC)."""
    if language not in ("", *Account.Language.values):
        raise ActionError(f"language {language!r} is not one of {', '.join(Account.Language.values)}", field="language")
    time_zone = time_zone.strip()
    if time_zone and time_zone not in available_time_zones():
        message = _("“%(zone)s” is not a time zone name such as Asia/Almaty.") % {"zone": time_zone}
        raise ActionError(message, field="time_zone")
    with transaction.atomic():
        changed = {
            name: value
            for name, value in (("language", language), ("time_zone", time_zone))
            if getattr(account, name) != value
        }
        if not changed:
            return account
        for name, value in changed.items():
            setattr(account, name, value)
        account.save(update_fields=list(changed))
        audit.append(
            "account.preferences",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": account.username, **changed},
        )
    return account


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def set_password(account: Account, password: str, *, acting_user: Account | None, how: str) -> Account:
    """Give an account a new password, checked with the password validators. `how` says why, for the audit log:
    `change` (its owner, who gave the current one), `reset` (a link sent by e-mail) or `cli`."""
    try:
        validate_password(password, account)
    except ValidationError as error:
        raise ActionError(" ".join(error.messages), field="password") from None
    with transaction.atomic():
        account.set_password(password)
        account.save(update_fields=["password"])
        audit.append(
            "account.password",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": account.username, "how": how},
        )
    return account


PASSWORD_LINK_INTERVAL = timedelta(minutes=2)  # at most one self-service reset mail per account in this time


def _recent_password_link(account: Account) -> bool:
    from accord.records.models import AuditEntry

    last = (
        AuditEntry.objects.filter(action="account.password_link", object_type="account", object_id=str(account.uuid))
        .order_by("-seq")
        .values_list("at", flat=True)
        .first()
    )
    if last is None:
        return False
    try:
        when = datetime.fromisoformat(last.replace("Z", "+00:00"))
    except ValueError:
        return False
    return timezone.now() - when < PASSWORD_LINK_INTERVAL


def send_password_link(
    account: Account, *, base_url: str, acting_user: Account | None, invitation: bool = False
) -> bool:
    """Queue a mail with a one-time link to set the account's password (Django's token generator: the link expires
    after PASSWORD_RESET_TIMEOUT and stops working once the password is set). `invitation` words it for a new
    account. The mail is written and sent by a background task after the commit, so a request that asks for it
    takes as long as one that does not (the forgotten-password page must not tell which addresses exist).

    A request by nobody in particular (the forgotten-password page) queues at most one mail per account every
    PASSWORD_LINK_INTERVAL; returns whether a mail was queued."""
    from django.utils import translation

    from accord.members.tasks import send_password_link_task

    if not account.email:
        raise ActionError(_("the account has no e-mail address"), field="email")
    if not account.is_active:
        raise Forbidden(_("the account is disabled"), field="active")
    language = account.language or translation.get_language() or settings.LANGUAGE_CODE
    with transaction.atomic():
        if acting_user is None and _recent_password_link(account):
            return False
        audit.append(
            "account.password_link",
            actor=acting_user,
            object_type="account",
            object_id=str(account.uuid),
            data={"username": account.username, "invitation": invitation},
        )
        account_id = account.pk
        transaction.on_commit(lambda: send_password_link_task.enqueue(account_id, base_url, invitation, language))
    return True


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    account: Account, *, name: str, scope: str = "write", days: int | None = None, acting_user: Account | None
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret text, which is never stored and never shown again."""
    if not account.is_active:
        raise Forbidden("a disabled account cannot have tokens")
    if scope not in ApiToken.Scope.values:
        raise ActionError(f"token scope {scope!r} is not one of {', '.join(ApiToken.Scope.values)}", field="scope")
    if not name.strip() or len(name) > 100:
        raise ActionError("a token needs a name of 1-100 characters", field="name")
    check_text(name, "name")
    lifetime = days if days is not None else settings.ACCORD_TOKEN_DAYS
    if not 1 <= lifetime <= 3650:
        raise ActionError("a token lives from 1 to 3650 days", field="days")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    text = f"{TOKEN_PREFIX}{prefix}.{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            account=account,
            name=name.strip(),
            prefix=prefix,
            digest=_digest(text),
            scope=scope,
            expires_at=timezone.now() + timedelta(days=lifetime),
        )
        audit.append(
            "token.create",
            actor=acting_user,
            object_type="token",
            object_id=prefix,
            data={"account": account.username, "scope": scope, "days": lifetime},
        )
    return token, text


def revoke_token(token: ApiToken, *, acting_user: Account | None) -> ApiToken:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.append(
                "token.revoke",
                actor=acting_user,
                object_type="token",
                object_id=token.prefix,
                data={"account": token.account.username},
            )
    return token


class TokenRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def authenticate_token(text: str) -> tuple[Account, ApiToken]:
    """Find the account of a bearer token. The message says why a token is refused."""
    if not text.startswith(TOKEN_PREFIX) or "." not in text:
        raise TokenRejected("the token is malformed")
    prefix = text[len(TOKEN_PREFIX) :].split(".", 1)[0]
    token = ApiToken.objects.select_related("account", "account__organisation__member").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(text)):
        raise TokenRejected("the token is not valid")
    if token.revoked_at is not None:
        raise TokenRejected("the token was revoked")
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise TokenRejected("the token has expired")
    if not token.account.is_active:
        raise TokenRejected("the token's account is disabled")
    # Recording use is not a change of state worth an audit entry; it is throttled to once a minute.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.account, token


def describe_account(account: Account) -> dict[str, Any]:
    organisation = account.organisation
    return {
        "username": account.username,
        "uuid": str(account.uuid),
        "member": organisation.member.code if organisation else None,
        "organisation": organisation.slug if organisation else None,
        "roles": sorted(account.role_names()),
        "email": account.email,
        "active": account.is_active,
    }


def register_node_key(node_id: str, public_key: str, *, acting_user: Account | None) -> NodeKey:
    """Trust a public key of another node (its admin gave it to ours). Returns the key row."""
    import uuid as uuid_module

    from accord.lib.canonical import key_id

    try:
        node = uuid_module.UUID(str(node_id))
        kid = key_id(public_key)
    except ValueError:
        raise ActionError("the node id must be a UUID and the key base64 of 32 bytes", field="public_key") from None
    with transaction.atomic():
        existing = NodeKey.objects.filter(kid=kid).first()
        if existing is not None:
            if existing.node_id != node:
                raise Conflict(f"key {kid} already belongs to node {existing.node_id}")
            return existing
        key = NodeKey.objects.create(node_id=node, kid=kid, public_key=public_key)
        audit.append("node.key.trust", actor=acting_user, object_type="node", object_id=str(node), data={"kid": kid})
    return key
