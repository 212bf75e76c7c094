"""Panels that other apps add to the pages of mutual assistance: a request's page and an incident's matching board
(e.g. the alliances' "call the roster" form on a request for experts).

An app registers a function in its `ready()` (`on_request_page(panel)`, `on_board(panel)`); the page calls each with
the HTTP request and the record shown (the request, or the incident), which the reader may see, and places the HTML
it returns (rendered from a template of the app's own, so escaped there) after the page's own sections. The response
app imports nothing of the apps that register panels.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from accord.records.models import Record

Panel = Callable[[HttpRequest, Record], str]

_REQUEST: list[Panel] = []
_BOARD: list[Panel] = []


def on_request_page(panel: Panel) -> Panel:
    if panel not in _REQUEST:
        _REQUEST.append(panel)
    return panel


def on_board(panel: Panel) -> Panel:
    if panel not in _BOARD:
        _BOARD.append(panel)
    return panel


def _run(panels: list[Panel], request: HttpRequest, record: Record) -> list[SafeString]:
    found = (panel(request, record) for panel in panels)
    return [mark_safe(html) for html in found if html]  # noqa: S308  (rendered from the app's templates)


def request_panels(request: HttpRequest, record: Record) -> list[SafeString]:
    return _run(_REQUEST, request, record)


def board_panels(request: HttpRequest, incident: Record) -> list[SafeString]:
    return _run(_BOARD, request, incident)
