"""The JSON API under /api/v1/ (django-ninja, OpenAPI 3.1 at /api/v1/openapi.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import Account, ApiToken
from accord.records.errors import ActionError
from accord.records.principal import Principal


class TokenAuth(HttpBearer):
    """`Authorization: Bearer accord_...`; a refused token is answered with the reason."""

    def authenticate(self, request: HttpRequest, token: str) -> Account:
        try:
            account, api_token = authenticate_token(token)
        except TokenRejected as error:
            raise HttpError(401, error.message) from None
        if api_token.scope == ApiToken.Scope.FEED:
            raise HttpError(401, "this token opens alert feeds only; create a token with scope 'read' or 'write'")
        request.user = account
        request.accord_token = api_token  # type: ignore[attr-defined]
        return account


class SessionAuth(APIKeyCookie):
    """The web session (cookie), with Django's CSRF check on unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Account | None:
        user = request.user
        if isinstance(user, Account) and user.is_active:
            return user
        return None


class ScopeError(ActionError):
    status = 403

    def __init__(self) -> None:
        super().__init__("this token may only read; create a token with scope 'write'")


def principal_of(request: HttpRequest) -> Principal:
    """Who is calling: the audience filter's principal for the authenticated account."""
    return Principal.of(request.auth)  # type: ignore[attr-defined]


def account_of(request: HttpRequest) -> Account:
    account = request.auth  # type: ignore[attr-defined]
    assert isinstance(account, Account)
    return account


def page_of(rows: QuerySet[Any], limit: int, offset: int, out: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page of a list endpoint: the total count, the items, and where the next page starts."""
    count = rows.count()
    items = list(rows[offset : offset + limit])
    following = offset + len(items)
    return {"count": count, "items": [out(r) for r in items], "next_offset": following if following < count else None}


def require_write(request: HttpRequest) -> None:
    token: ApiToken | None = getattr(request, "accord_token", None)
    if token is not None and token.scope != ApiToken.Scope.WRITE:
        raise ScopeError()


api = NinjaAPI(
    title="Accord API",
    version="1",
    description="Emergency information sharing for the SCO member states.",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
)


def _error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(ActionError)
def _action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    extra: dict[str, Any] = {"field": exc.field} if exc.field else {}
    findings = getattr(exc, "findings", None)
    if findings is not None:
        extra["errors"] = findings
    return _error(request, exc.status, exc.message, **extra)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = ".".join(str(part) for part in error.get("loc", ()))
        problems.append(f"{location}: {error.get('msg', 'invalid')}")
    return _error(request, 422, "; ".join(problems) or "the request is not valid", errors=exc.errors)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "authentication required: send 'Authorization: Bearer <token>' or log in")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):
        return _error(request, 400, "the request body is not UTF-8 text")
    if isinstance(cause, json.JSONDecodeError):
        return _error(
            request, 400, f"the request body is not valid JSON: {cause.msg} at line {cause.lineno} column {cause.colno}"
        )
    if isinstance(cause, RequestDataTooBig):
        return _error(request, 413, "the request body is larger than this node accepts")
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "the request body is larger than this node accepts")


from accord.alerts.api import assessments as assessments_router  # noqa: E402
from accord.alerts.api import router as alerts_router  # noqa: E402
from accord.members.api import router as members_router  # noqa: E402
from accord.notify.stream import router as stream_router  # noqa: E402
from accord.records.api import router as records_router  # noqa: E402
from accord.surveillance.api import router as surveillance_router  # noqa: E402

api.add_router("/", members_router)
api.add_router("/records", records_router)
api.add_router("/alerts", alerts_router)
api.add_router("/assessments", assessments_router)
api.add_router("/surveillance", surveillance_router)
api.add_router("/stream", stream_router)
