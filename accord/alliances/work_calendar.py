"""The iCalendar feed of an alliance's activities (RFC 5545, written with the `icalendar` package).

One VEVENT per activity the reader may see (not withdrawn): UID from the record's uuid (stable across versions and
nodes), DTSTART and DTEND as dates (DTEND is the day after the last day, as RFC 5545 counts all-day events),
SUMMARY in the reader's language (else English, Russian, Chinese), DESCRIPTION, LOCATION, URL of the activity's page,
SEQUENCE the record's version, STATUS CANCELLED for a cancelled activity (CONFIRMED otherwise).

Who reads, as the alert feeds decide it (`accord.alerts.feeds`):

* `/alliances/<slug>/calendar.ics`: the logged-in session's account, or the account of an
  `Authorization: Bearer` token (scope feed, read or write); without either, only the public activities (TLP:CLEAR,
  shared with everyone);
* `/feeds/t/<token>/alliances/<slug>/calendar.ics`: for calendar applications, which send no headers: the account
  of a token with the scope `feed` (revocable, it opens feeds and nothing else); any other token is a 404;
* `GET /api/v1/alliances/{slug}/calendar.ics` (`work_api`): the API's own authentication.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar, Event

from accord.alliances import work_queries
from accord.alliances.models import Alliance
from accord.members.actions import TokenRejected, authenticate_token
from accord.members.models import Account, ApiToken
from accord.members.site import absolute_url
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response.refs import pick

FEED_SIZE = 2000
CONTENT_TYPE = "text/calendar; charset=utf-8"
LANGUAGES = ("zh", "ru", "en")
TYPE_NAMES = {
    "training": {"en": "Training course", "ru": "Учебный курс", "zh": "培训课程"},
    "exchange": {"en": "Exchange programme", "ru": "Программа обмена", "zh": "交流项目"},
    "research": {"en": "Joint research project", "ru": "Совместный исследовательский проект", "zh": "联合研究项目"},
    "conference": {"en": "Conference", "ru": "Конференция", "zh": "会议"},
}
RD_NAMES = {"en": "vaccine and medicine R&D", "ru": "разработка вакцин и лекарств", "zh": "疫苗和药物研发"}
HOST_NAMES = {"en": "Host", "ru": "Принимающая организация", "zh": "主办机构"}


class Unauthorised(Exception):
    """A bearer token that does not open the feed: 401 with the reason."""


def reader_language(request: HttpRequest, account: Account | None) -> str:
    """The language of the feed's texts: `?lang=`, else the account's own, else the request's (zh, ru or en)."""
    for candidate in (request.GET.get("lang", ""), account.language if account is not None else "",
                      translation.get_language() or ""):  # fmt: skip
        code = candidate[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


def _event(record: Record, language: str, page_url: str) -> Event:
    version = record.current_version
    assert version is not None
    body = version.body
    view = record.activity_view
    event = Event()
    event.add("uid", f"{record.uuid}@accord")
    event.add("dtstamp", view.updated_at)
    event.add("last-modified", view.updated_at)
    event.add("sequence", version.seq)
    event.add("dtstart", view.starts)
    event.add("dtend", view.ends + timedelta(days=1))  # all day: the end is exclusive
    event.add("summary", pick(body.get("title"), language) or str(record.uuid))
    kind = TYPE_NAMES.get(view.type, {})
    lines = [pick(body.get("description"), language)]
    host = body.get("host") or {}
    lines.append(f"{pick(HOST_NAMES, language)}: {host.get('name', '')} ({host.get('member', '')})")
    if view.rd:
        lines.append(f"{pick(kind, language)}: {pick(RD_NAMES, language)}")
    event.add("description", "\n\n".join(line for line in lines if line))
    if body.get("place"):
        event.add("location", str(body["place"]))
    event.add("url", page_url)
    if kind:
        event.add("categories", [pick(kind, language)])
    event.add("status", "CANCELLED" if view.state == "cancelled" else "CONFIRMED")
    return event


def build(alliance: Alliance, principal: Principal, language: str, request: HttpRequest | None = None) -> bytes:
    """The calendar of `alliance` as `principal` may see it."""
    calendar = Calendar()
    calendar.add("prodid", "-//Accord//SCO university alliances//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    names = {"en": alliance.name_en, "ru": alliance.name_ru, "zh": alliance.name_zh}
    calendar.add("x-wr-calname", pick({k: v for k, v in names.items() if v}, language) or alliance.slug)
    placeholder = "00000000-0000-0000-0000-000000000000"
    head, tail = absolute_url(reverse("alliance-activity", args=[placeholder]), request).split(placeholder)
    rows = work_queries.activities_of(principal, alliance.slug).filter(current_version__status="actual")
    for record in rows[:FEED_SIZE]:
        calendar.add_component(_event(record, language, f"{head}{record.uuid}{tail}"))
    data: bytes = calendar.to_ical()
    return data


def respond(
    request: HttpRequest, alliance: Alliance, principal: Principal, language: str, *, public: bool
) -> HttpResponse:
    response = HttpResponse(build(alliance, principal, language, request), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{alliance.slug}-activities.ics"'
    response["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    response["Vary"] = "Cookie, Authorization, Accept-Language"
    return response


def _alliance(slug: str) -> Alliance:
    found = Alliance.objects.filter(slug=slug).first()
    if found is None:
        raise Http404("no such alliance")
    return found


def _bearer(request: HttpRequest) -> Account | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("send 'Authorization: Bearer <token>'")
    try:
        account, _token = authenticate_token(token.strip())
    except TokenRejected as error:
        raise Unauthorised(error.message) from None
    return account


def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    """The calendar of the session's account, of a bearer token's, or the public one."""
    alliance = _alliance(slug)
    try:
        account = _bearer(request)
    except Unauthorised as error:
        response = HttpResponse(f"{error}\n", status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="accord"'
        return response
    if account is None and isinstance(request.user, Account) and request.user.is_active:
        account = request.user
    principal = Principal.of(account)
    return respond(request, alliance, principal, reader_language(request, account), public=principal.is_anonymous)


def token_calendar(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    """The calendar of a feed token's account (the token is in the address, for calendar applications)."""
    alliance = _alliance(slug)
    try:
        account, api_token = authenticate_token(token)
    except TokenRejected:
        raise Http404("no such feed") from None
    if api_token.scope != ApiToken.Scope.FEED:
        raise Http404("no such feed")
    return respond(request, alliance, Principal.of(account), reader_language(request, account), public=False)


def feed_paths(slug: str) -> dict[str, Any]:
    """The calendar's addresses for a page: the session's (and the public) one."""
    return {"calendar_url": reverse("alliance-calendar", args=[slug])}
