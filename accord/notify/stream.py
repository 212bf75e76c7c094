"""The live channel: `GET /api/v1/stream`, Server-Sent Events of the versions that arrive and that the caller may see.

Who: the web session (the banner in every page) or an API token of any scope (read, write or feed).
What: every visible actual alert, and versions of any kind that match one of the caller's active subscriptions
(`?only=subscribed`: only those). Exercise and test traffic comes only through a subscription that asks for
it; drafts never. Every row goes through the one audience filter, on the version and on its record's
current version, so the stream shows exactly what the versions list of the record page would.

Events:

    id: 4711                    the version's arrival number (Version.id), for Last-Event-ID
    event: alert | record
    data: {"id": 4711, "record": ..., "seq": 2, "kind": "alert", ...}

Resuming: `Last-Event-ID` (sent by EventSource itself when it reconnects) or `?last_event_id=` continues after
that arrival number. A new connection first sends an event `ready` whose id is an opaque `c.<token>` (its
starting point, encrypted so that it tells nothing about how many versions this node holds), so a reconnect
loses nothing either.

Cost: one task per server process asks the database for the newest arrival number every POLL_SECONDS while
at least one stream is open, and wakes the streams when it moves; a stream queries only then, plus a
re-check of its caller every RECHECK_SECONDS. Comments (`: keepalive`) every HEARTBEAT_SECONDS keep proxies
from closing an idle connection. A stream ends after LIFETIME_SECONDS (EventSource reconnects and resumes),
and at once when its account is disabled or its token revoked.

Under ASGI (`accord serve`, uvicorn) the response streams from an async generator. Under a WSGI server,
where a long response would hold a thread, the stream answers what has arrived since the given id and ends;
EventSource then reconnects after the `retry` it was sent (WSGI_RETRY_MS).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import weakref
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from asgiref.sync import sync_to_async
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, close_old_connections, connection, connections
from django.db.models import F
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils import translation
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from accord.alerts import mapping
from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import Account, ApiToken
from accord.records import kinds as record_kinds
from accord.records.models import Version
from accord.records.principal import Principal
from accord.records.querysets import audience_q

logger = logging.getLogger("accord.notify.stream")

POLL_SECONDS = 1.0  # how often one process asks the database for the newest arrival number
HEARTBEAT_SECONDS = 15.0  # a comment after this long without an event
RECHECK_SECONDS = 30.0  # re-read the caller (account active, token usable, subscriptions)
LIFETIME_SECONDS = 30 * 60.0  # then the stream ends and the client reconnects with Last-Event-ID
IDLE_BEACON_SECONDS = 30.0  # the poller stops after this long without an open stream
BATCH = 100  # versions read per query
DB_FAILURES_TO_END = 30  # database errors in a row (one per poll) before a stream gives up
RETRY_MS = 3000  # EventSource's reconnection delay under ASGI
WSGI_RETRY_MS = 10_000  # and under WSGI, where every answer ends at once
CURSOR_PREFIX = "c."
CURSOR_MAX_AGE_SECONDS = 7 * 24 * 3600

router: Router = Router(tags=["notify"])


# ---- authentication ----------------------------------------------------------------------------------


class StreamTokenAuth(HttpBearer):
    """`Authorization: Bearer accord_...` of any scope: the stream only reads, like a feed."""

    def authenticate(self, request: HttpRequest, token: str) -> Account:
        try:
            account, api_token = authenticate_token(token)
        except TokenRejected as error:
            raise HttpError(401, error.message) from None
        request.user = account
        request.accord_token = api_token  # type: ignore[attr-defined]
        return account


def _session_auth() -> Any:
    from accord.api import SessionAuth

    return SessionAuth()


# ---- cursors -----------------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(b"accord.notify.stream.cursor\x00" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_cursor(position: int) -> str:
    """An opaque starting point: the arrival number, encrypted (it must not reveal how many versions exist)."""
    return CURSOR_PREFIX + _fernet().encrypt(str(position).encode("ascii")).decode("ascii")


def parse_last_event_id(text: str) -> int:
    """A visible version's arrival number as sent in `id:`, or a sealed cursor. Raises ValueError."""
    text = text.strip()
    if text.startswith(CURSOR_PREFIX):
        try:
            plain = _fernet().decrypt(text[len(CURSOR_PREFIX) :].encode("ascii"), ttl=CURSOR_MAX_AGE_SECONDS)
        except (InvalidToken, UnicodeEncodeError):
            raise ValueError(
                "the Last-Event-ID cursor is not one this node issued, or it is more than 7 days old"
            ) from None
        return int(plain.decode("ascii"))
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValueError("Last-Event-ID must be the id of an event of this stream")
    return int(text)


# ---- the poller ----------------------------------------------------------------------------------------


def newest_arrival() -> int:
    """The highest arrival number whose writing is done (its record points at it, or beyond).

    Writers take the audit lock before inserting, so numbers are committed in order and a reader of committed
    data never sees a gap fill later. A reader that may see uncommitted rows (the in-memory SQLite database of
    the tests, read without locks) could see a version before its record is updated, and pass it by for good;
    this keeps such a version out of reach until its writing is done."""
    written = Version.objects.filter(record__current_seq__gte=F("seq"))
    return written.order_by("-id").values_list("id", flat=True).first() or 0


class Beacon:
    """One per event loop: polls the newest arrival number while streams wait, and wakes them when it moves.

    Its queries run in one thread of its own, with one database connection, whatever the number of streams."""

    def __init__(self) -> None:
        self.latest = 0
        self.polls = 0
        self.waiters = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-stream-poll")

    def _poll(self) -> int | None:
        try:
            close_old_connections()
            return newest_arrival()
        except DatabaseError as error:
            logger.warning("stream poll failed (retrying): %s", error)
            connection.close()
            return None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        idle_since: float | None = None
        try:
            while True:
                if self.waiters == 0:
                    idle_since = idle_since if idle_since is not None else loop.time()
                    if loop.time() - idle_since > IDLE_BEACON_SECONDS:
                        return
                else:
                    idle_since = None
                    latest = await loop.run_in_executor(self._executor, self._poll)
                    self.polls += 1
                    if latest is not None and latest != self.latest:
                        self.latest = latest
                        self.wake()
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self._task = None
            await loop.run_in_executor(self._executor, connections.close_all)

    def wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_beyond(self, position: int, timeout: float) -> int:
        """Wait until something newer than `position` has arrived, or `timeout` seconds; return the newest known."""
        loop = asyncio.get_running_loop()
        self.waiters += 1
        try:
            if self._task is None:
                # A context of its own: not the request's, whose thread ends with the request.
                import contextvars

                self._task = loop.create_task(self._run(), context=contextvars.Context())
            deadline = loop.time() + timeout
            while self.latest <= position and not self.closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    break
            return self.latest
        finally:
            self.waiters -= 1


_beacons: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Beacon] = weakref.WeakKeyDictionary()


def close_streams() -> None:
    """End every open stream of this process now: the server is shutting down (`accord serve` calls this on
    SIGTERM/SIGINT, so shutting down does not wait for streams that would never finish). Safe from a signal
    handler or another thread."""
    for loop, found in list(_beacons.items()):
        if not loop.is_closed():
            found.closing = True
            loop.call_soon_threadsafe(found.wake)


def beacon() -> Beacon:
    loop = asyncio.get_running_loop()
    found = _beacons.get(loop)
    if found is None:
        found = _beacons[loop] = Beacon()
    return found


# ---- what a stream sends ---------------------------------------------------------------------------------


@dataclass
class Listener:
    """The caller of one stream, re-read every RECHECK_SECONDS."""

    account_id: int
    token_id: int | None
    language: str
    only_subscribed: bool
    principal: Principal = field(default_factory=Principal.anonymous)
    subscriptions: list[Any] = field(default_factory=list)

    def refresh(self) -> bool:
        """Re-read the account, token and subscriptions; False when the stream must end."""
        account = Account.objects.select_related("organisation__member").filter(pk=self.account_id).first()
        if account is None or not account.is_active:
            return False
        if self.token_id is not None:
            token = ApiToken.objects.filter(pk=self.token_id).first()
            if token is None or not token.is_usable():
                return False
        self.principal = Principal.of(account)
        self.subscriptions = subscriptions_of(account)
        return True


def subscriptions_of(account: Account) -> list[Any]:
    """The account's own active subscriptions (organisation subscriptions go to their channels, not here)."""
    from accord.notify.models import Subscription

    return list(Subscription.objects.filter(account=account, active=True).order_by("id"))


def matched_subscriptions(subscriptions: list[Any], version: Version) -> list[str]:
    """The uuids of the subscriptions whose filters the version passes (the audience is checked by the caller)."""
    if not subscriptions:
        return []
    from accord.notify import matching

    facts = matching.facts_of(version)
    return [str(s.uuid) for s in subscriptions if matching.matches(s, facts)]


def _kinds_wanted(listener: Listener) -> set[str] | None:
    """The kinds worth reading, or None for any kind (a subscription without a kind filter)."""
    wanted: set[str] = set() if listener.only_subscribed else {"alert"}
    for subscription in listener.subscriptions:
        if not subscription.kinds:
            return None
        wanted.update(str(k) for k in subscription.kinds)
    return wanted


def describe(version: Version, language: str, matched: list[str]) -> dict[str, Any]:
    """The event's data: enough for a banner or an integration to decide, with links to the rest."""
    record_uuid = str(version.record_uuid)
    body = version.body
    data: dict[str, Any] = {
        "id": version.pk,
        "record": record_uuid,
        "seq": version.seq,
        "kind": version.kind,
        "status": version.status,
        "state": version.state,
        "tlp": version.tlp,
        "origin_member": version.origin_member,
        "created_at": version.created_at,
        "subscriptions": matched,
    }
    if version.kind == "alert":
        cap = body.get("cap") if isinstance(body.get("cap"), dict) else {}
        assert isinstance(cap, dict)
        info = mapping.info_in(cap, language)
        headline = str(info.get("headline") or info.get("event") or cap.get("identifier") or "")
        data.update(
            {
                "title": headline,
                "url": reverse("alert", kwargs={"record_uuid": record_uuid}),
                "cap": reverse("api:alert_cap", kwargs={"record_uuid": record_uuid}),
                "alert": {
                    "identifier": cap.get("identifier"),
                    "msg_type": cap.get("msgType"),
                    "event": info.get("event"),
                    "headline": info.get("headline"),
                    "language": info.get("language", "en-US") if info else None,  # the CAP default applies
                    "severity": info.get("severity"),
                    "urgency": info.get("urgency"),
                    "certainty": info.get("certainty"),
                    "areas": [str(a.get("areaDesc", "")) for a in info.get("area") or [] if isinstance(a, dict)],
                },
            }
        )
    else:
        kind = record_kinds.get(version.kind)
        try:
            title = kind.title(body) if kind is not None else version.kind
        except (KeyError, TypeError, ValueError, AttributeError):  # a received body of an unexpected shape
            title = version.kind
        data.update({"title": title, "url": record_kinds.page_path(version.kind, record_uuid)})
    return data


def fetch(listener: Listener, after: int, upto: int) -> tuple[list[tuple[int, str, dict[str, Any]]], int]:
    """The events for arrivals in (after, upto], at most BATCH versions read, and how far this read went."""
    principal = listener.principal
    rows = (
        Version.objects.visible_to(principal)
        .filter(audience_q(principal, "record__current_version__"))
        .filter(id__gt=after, id__lte=upto)
        .exclude(status="draft")
    )
    wanted = _kinds_wanted(listener)
    if wanted is not None:
        rows = rows.filter(kind__in=sorted(wanted))
    found = list(rows.order_by("id")[:BATCH])
    reached = found[-1].pk if len(found) == BATCH else upto
    events: list[tuple[int, str, dict[str, Any]]] = []
    with translation.override(listener.language):
        for version in found:
            matched = matched_subscriptions(listener.subscriptions, version)
            plain_alert = version.kind == "alert" and version.status == "actual" and not listener.only_subscribed
            if matched or plain_alert:
                name = "alert" if version.kind == "alert" else "record"
                events.append((version.pk, name, describe(version, listener.language, matched)))
    return events, reached


def _close_connection() -> None:
    connection.close()


def _event(event_id: int, name: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {name}\ndata: {payload}\n\n"


def _preamble(cursor: int, retry_ms: int) -> str:
    """`retry`, and a `ready` event whose id is the sealed starting point (pages keep it to resume from)."""
    return f"retry: {retry_ms}\nid: {seal_cursor(cursor)}\nevent: ready\ndata: {{}}\n\n"


async def _stream(listener: Listener, cursor: int) -> AsyncIterator[str]:
    """The ASGI stream: backlog first, then arrivals as the beacon reports them.

    A database error (a restart, a lock) is retried at the next poll; after DB_FAILURES_TO_END in a row the stream
    ends, and the client reconnects after `retry` and resumes from its last id."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    checked = started
    last_write = started
    failures = 0
    yield _preamble(cursor, RETRY_MS)
    if beacon().closing:
        return
    upto, ask = cursor, True  # ask the database for the newest arrival at the start and after an error
    while loop.time() - started < LIFETIME_SECONDS:
        try:
            if ask:
                upto, ask = await sync_to_async(newest_arrival)(), False
            while cursor < upto:
                events, cursor = await sync_to_async(fetch)(listener, cursor, upto)
                for event_id, name, data in events:
                    yield _event(event_id, name, data)
                    last_write = loop.time()
            if loop.time() - checked >= RECHECK_SECONDS:
                checked = loop.time()
                if not await sync_to_async(listener.refresh)():
                    return
            failures = 0
        except DatabaseError as error:
            failures += 1
            logger.warning("stream: database error %d in a row: %s", failures, error)
            if failures >= DB_FAILURES_TO_END:
                return
        # Do not hold a database connection per open stream while it waits.
        await sync_to_async(_close_connection)()
        if failures:
            await asyncio.sleep(POLL_SECONDS)
            ask = True
            continue
        timeout = min(HEARTBEAT_SECONDS - (loop.time() - last_write), RECHECK_SECONDS - (loop.time() - checked))
        upto = await beacon().wait_beyond(cursor, max(timeout, 0.0))
        if beacon().closing:
            return
        if loop.time() - last_write >= HEARTBEAT_SECONDS:
            yield ": keepalive\n\n"
            last_write = loop.time()


def _once(listener: Listener, cursor: int) -> Iterator[str]:
    """The WSGI answer: what has arrived since `cursor` (a few batches at most), then the end."""
    yield _preamble(cursor, WSGI_RETRY_MS)
    upto = newest_arrival()
    for _ in range(10):
        if cursor >= upto:
            break
        events, cursor = fetch(listener, cursor, upto)
        for event_id, name, data in events:
            yield _event(event_id, name, data)
    if cursor < upto:
        yield f"id: {seal_cursor(cursor)}\n\n"


class StreamQuery(Schema):
    last_event_id: str | None = Field(
        default=None,
        max_length=300,
        pattern=r"^(?:c\.[A-Za-z0-9_=-]+|[0-9]{1,18})$",
        description="resume after this event id (for clients that cannot send Last-Event-ID)",
    )
    only: Literal["subscribed"] | None = Field(
        default=None, description="'subscribed': only versions that match one of your active subscriptions"
    )


@router.get(
    "",
    auth=[StreamTokenAuth(), _session_auth()],
    summary="Live: Server-Sent Events of the alerts and subscribed records that arrive",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "Last-Event-ID",
                "required": False,
                # an empty value is as none
                "schema": {
                    "type": "string",
                    "maxLength": 300,
                    "pattern": r"^(?:c\.[A-Za-z0-9_=-]+|[0-9]{1,18})?$",
                },
                "description": "resume after this event id (EventSource sends it when it reconnects)",
            }
        ],
        "responses": {
            200: {
                "description": "an event stream (text/event-stream): events `alert` and `record`, "
                "each with `id` (the arrival number) and JSON `data`; comments as heartbeats",
                "content": {
                    "text/event-stream": {
                        "schema": {
                            "type": "object",
                            "description": "one event: `ready` first, then `alert` and `record`",
                            "properties": {
                                "event": {"type": "string"},
                                "data": {"type": "string", "description": "JSON"},
                                "id": {"type": "string"},
                                "retry": {"type": "integer"},
                            },
                        }
                    }
                },
            }
        },
    },
)
def stream(request: HttpRequest, filters: Query[StreamQuery]) -> StreamingHttpResponse:
    account = request.auth  # type: ignore[attr-defined]
    assert isinstance(account, Account)
    token: ApiToken | None = getattr(request, "accord_token", None)
    listener = Listener(
        account_id=account.pk,
        token_id=token.pk if token is not None else None,
        language=translation.get_language() or "en",
        only_subscribed=filters.only == "subscribed",
    )
    if not listener.refresh():
        raise HttpError(401, "authentication required: send 'Authorization: Bearer <token>' or log in")
    newest = newest_arrival()
    given = request.headers.get("Last-Event-ID") or filters.last_event_id
    if given:
        try:
            cursor = min(parse_last_event_id(given), newest)
        except ValueError as error:
            raise HttpError(400, str(error)) from None
    else:
        cursor = newest
    content: AsyncIterator[str] | Iterator[str]
    content = _stream(listener, cursor) if isinstance(request, ASGIRequest) else _once(listener, cursor)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events on at once
    return response
