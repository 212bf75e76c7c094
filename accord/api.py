"""The JSON API under /api/v1/ (django-ninja, OpenAPI 3.1 at /api/v1/openapi.json)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import BeforeValidator, ConfigDict

from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import Account, ApiToken
from accord.records.envelope import TLPS
from accord.records.errors import ActionError
from accord.records.principal import Principal

logger = logging.getLogger("accord.api")

# The largest `offset` a list endpoint takes: far beyond any real list, and `offset + limit` still fits the
# 64-bit integers that databases slice with (an unbounded offset was a 500).
MAX_OFFSET = 1_000_000_000


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")


def _rfc3339(value: Any) -> Any:
    """A query's date-time is RFC 3339, as the schema says (`format: date-time`), and nothing pydantic would
    also take (a number of seconds, a date alone)."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time such as 2026-05-01T12:00:00Z")
    return value


DateTimeParam = Annotated[datetime, BeforeValidator(_rfc3339)]


def _iso_day(value: Any) -> Any:
    """A query's date is written YYYY-MM-DD, as the schema says (`format: date`): never a number of seconds, which
    pydantic would otherwise take as a date."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("not a date written YYYY-MM-DD")
    if not isinstance(value, (str, date)):
        raise ValueError("not a date written YYYY-MM-DD")
    return value


DateParam = Annotated[date, BeforeValidator(_iso_day)]


def json_integer(value: Any) -> Any:
    """For a body's integer (`BeforeValidator`, after its bounds): a JSON number, as JSON Schema's `integer`
    (2.0 is one), never text or a boolean, which pydantic would otherwise convert."""
    if isinstance(value, str | bool):
        raise ValueError("not an integer")
    return value


MEMBER_CODE = r"[A-Z0-9]{2,8}"  # as `Audience` checks it: ISO 3166 alpha-2 in capitals, or SCO
Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
assert set(get_args(Tlp)) == set(TLPS), "Tlp must list the TLP levels of accord.records.envelope"


class AudienceIn(Schema):
    """Who may see a version (before TLP narrows it): everyone, or named members, organisations and persons."""

    model_config = ConfigDict(extra="forbid")

    everyone: bool = Field(default=False, strict=True)
    members: list[Annotated[str, Field(pattern=f"^{MEMBER_CODE}$")]] = Field(default_factory=list, max_length=300)
    organisations: list[UUID] = Field(default_factory=list, max_length=1000)
    persons: list[UUID] = Field(default_factory=list, max_length=1000)

    def plain(self) -> dict[str, Any]:
        """For `parse_audience`, which checks it again (for every path, not only the API's)."""
        return self.model_dump(mode="json")


class Error(Schema):
    """Every error of the API, whatever its status: what went wrong, the field at fault if one, and details."""

    detail: str = Field(description="what went wrong, for a person to read")
    field: str | None = Field(default=None, description="the field at fault, when one is (absent otherwise)")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="the individual problems: validation errors, or the findings of a CAP check"
    )


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


class AccordAPI(NinjaAPI):
    """NinjaAPI, with every operation's error responses documented (`document_errors`) when ninja binds the
    routers: after every route is declared, whatever order the modules were imported in."""

    def _get_bound_routers(self) -> Any:
        if self._bound_routers_cache is None:
            document_errors(self)
        return super()._get_bound_routers()


api = AccordAPI(
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
    extra.update(getattr(exc, "extra", None) or {})  # e.g. an over-acceptance's open_quantity
    return _error(request, exc.status, exc.message, **extra)


def _location(loc: Iterable[Any]) -> str:
    """`body.payload.tlp` -> `tlp`, `query.limit` -> `limit`: the field as the caller named it."""
    parts = [str(part) for part in loc]
    if parts[:1] in (["body"], ["query"], ["path"], ["header"], ["cookie"]):
        parts = parts[1:]
        if parts[:1] in (["payload"], ["filters"], ["params"]) and len(parts) > 1:
            parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for error in exc.errors:
        location = _location(error.get("loc", ()))
        problems.append(f"{location}: {error.get('msg', 'invalid')}" if location else str(error.get("msg", "invalid")))
    extra: dict[str, Any] = {"errors": json.loads(json.dumps(exc.errors, default=str))}
    if exc.errors:
        first = _location(exc.errors[0].get("loc", ()))
        if first:
            extra["field"] = first
    return _error(request, 422, "; ".join(problems) or "the request is not valid", **extra)


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


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not found")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug: logged with its traceback here, answered with a JSON 500 that tells the caller nothing of it."""
    logger.error("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, SERVER_ERROR)


SERVER_ERROR = "internal error: the node could not answer this request; it has been logged"

# The error statuses of the API, documented (with the schema `Error`) on the operations they apply to by
# `document_errors` below; an operation that returns another one says so in its own `response=`.
_EVERY = (401, 413, 500)  # authentication; a body above ACCORD_MAX_BODY_BYTES (any method); a bug
_WITH_INPUT = (400, 422)  # bad JSON, a body nested too deep, a value refused by an action; schema mismatch
_WRITE = (403, 409)  # a read-only token or a role that may not; a concurrent or conflicting change
_WITH_PATH = (404,)  # nothing there that you may see


def error_statuses(methods: Iterable[str], has_input: bool, has_path: bool) -> list[int]:
    codes = set(_EVERY)
    if has_input:
        codes.update(_WITH_INPUT)
    if set(methods) - {"GET", "HEAD", "OPTIONS"}:
        codes.update(_WITH_INPUT + _WRITE)
    if has_path:
        codes.update(_WITH_PATH)
    return sorted(codes)


def errors(*codes: int) -> dict[int, type[Error]]:
    """For a route's `response=`: error statuses it returns beyond those `document_errors` adds."""
    return dict.fromkeys(codes, Error)


def links_to(status: int, parameter: str, *operations: str, pointer: str = "/uuid") -> dict[str, Any]:
    """For a route's `openapi_extra`: OpenAPI links from its `status` response to the operations (by operationId)
    whose path `parameter` is the response's value at `pointer` (create a record -> read it, revise it ...)."""
    found = {
        operation: {"operationId": operation, "parameters": {parameter: f"$response.body#{pointer}"}}
        for operation in operations
    }
    return {"responses": {status: {"links": found}}}


def document_errors(ninja_api: NinjaAPI) -> None:
    """Give every operation its error responses, each with the schema `Error`: one place for all routes."""
    for registration in ninja_api._router_registrations:
        router = registration[1]
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                has_path = "{" in path
                extra = operation.openapi_extra or {}
                has_input = bool(operation.models or extra.get("requestBody") or extra.get("parameters"))
                for code in error_statuses(operation.methods, has_input, has_path):
                    if code not in operation.response_models:
                        operation.response_models[code] = operation._create_response_model(Error)


from accord.alerts.api import assessments as assessments_router  # noqa: E402
from accord.alerts.api import router as alerts_router  # noqa: E402
from accord.alliances import api as alliances_api  # noqa: E402
from accord.desk.api import router as desk_router  # noqa: E402
from accord.members.api import router as members_router  # noqa: E402
from accord.notify.stream import router as stream_router  # noqa: E402
from accord.records.api import router as records_router  # noqa: E402
from accord.response import assist_api, assist_exports, work  # noqa: E402
from accord.response.api import router as incidents_router  # noqa: E402
from accord.response.sitrep_api import router as sitreps_router  # noqa: E402
from accord.surveillance.api import router as surveillance_router  # noqa: E402

api.add_router("/", members_router)
api.add_router("/records", records_router)
api.add_router("/alerts", alerts_router)
api.add_router("/assessments", assessments_router)
api.add_router("/surveillance", surveillance_router)
api.add_router("/incidents", incidents_router)
work.add_routers(api)
assist_api.add_routers(api)
assist_exports.add_routers(api)
alliances_api.add_routers(api)
api.add_router("/incidents", sitreps_router)
api.add_router("/stream", stream_router)
api.add_router("/", desk_router)
