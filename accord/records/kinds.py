"""Record kinds are pluggable: each names its body schema, who may author it, and how to show and search it.

Later apps (alerts, response, surveillance, alliances) register their own kinds in their
AppConfig.ready(). A version of a kind this node does not know is still stored and
forwarded as received (opaque), but cannot be created here.

A kind's rules live in one place, its `RecordKind`, and `RecordKind.check` applies all of them on every write
path: publishing, revising and withdrawing here (whatever the API endpoint, web page, CLI command or importer
that called the action), versions issued in the node's own name, and versions received from peers or bundles.
The rules are:

* the body schema (`body_model`, a pydantic model);
* text safety: no NUL, no other control characters (tab, line feed and carriage return excepted) and no
  unpaired surrogates in any string of the body;
* `rules`: what the schema cannot say (a CAP message must be valid CAP, a region must belong to the member);
* `computed`: fields whose value follows from the rest of the body (an IHR outcome); a body that states another
  value is refused;
* `follows`: what a version may not change of the one before it (a status that only moves forward), checked
  against the version before it whenever this node holds it: the current version when a version is issued here,
  the stored version `seq - 1` when one is received;
* who may author it: `issuer` ("account": people with one of `publish_roles`, or of `member_roles(member)` where
  that depends on the author's member; "node": only the node itself, in its own name), and `speaks_for`, the
  member a body speaks for, which must be the member the version is issued for (an acknowledgement for India is
  issued only by an Indian account).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.records.errors import ActionError, Forbidden


@dataclass(frozen=True)
class Author:
    """Who issues a version, as its signed envelope says: the member it is issued for, and whether the node
    issued it in its own name (no organisation, no account)."""

    member: str
    by_node: bool = False
    status: str = "actual"
    received: bool = False

    @classmethod
    def of_envelope(cls, origin: dict[str, Any], status: str, *, received: bool) -> Author:
        by_node = origin.get("account") is None and origin.get("organisation") is None
        return cls(member=str(origin.get("member") or ""), by_node=by_node, status=status, received=received)


# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_CONTROLS = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {chr(0x7F)} | {chr(c) for c in range(0x80, 0xA0)}
_MAX_DEPTH = 64


# In the standard library's JSON text of a value (ensure_ascii off), what check_text refuses: DEL, C1 controls and
# unpaired surrogates as themselves, and C0 controls as escapes (\b, \f, or \u00XX: tab, line feed and carriage
# return have escapes of their own, which are allowed) after an even run of backslashes.
_RAW_REFUSED = re.compile("[\x7f-\x9f\ud800-\udfff]")
_ESCAPED_CONTROL = re.compile(r"(?<!\\)(?:\\\\)*\\(?:u00|b|f)")
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, check_circular=False, allow_nan=True).encode
# The JSON text without its escapes, then without its strings: what is left is the structure (brackets, commas,
# colons, numbers and literals).
_ESCAPE = re.compile(r"\\.")
_STRING = re.compile(r'"[^"]*+"')
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nesting(text: str) -> int:
    """How deep the arrays and objects of a JSON text (as the standard library writes it) nest, found by the regex
    engine and itertools (a deep CAP body has thousands of strings, and a Python loop over them is slow)."""
    if "\\" in text:
        text = _ESCAPE.sub("", text)
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _surely_clean(value: Any) -> bool:
    """Whether `value` certainly passes check_text, told from its JSON text with two regular expressions (the
    C encoder and the regex engine, no Python loop over the value); False when unsure (then walk it)."""
    try:
        text = _JSON_TEXT(value)
    except (TypeError, ValueError, RecursionError):
        return False
    if ("\x7f" in text) if text.isascii() else (_RAW_REFUSED.search(text) is not None):
        return False  # (isascii is a flag of the string, and `in` a fast byte search)
    if ("\\u00" in text or "\\b" in text or "\\f" in text) and _ESCAPED_CONTROL.search(text) is not None:
        return False
    if text.count("[") + text.count("{") <= _MAX_DEPTH:
        return True  # it cannot nest deeper than it has brackets
    return _nesting(text) <= _MAX_DEPTH


def check_text(value: Any, where: str = "body") -> None:
    """Refuse NUL, control characters and unpaired surrogates in every string (and object key) of `value`."""
    if _surely_clean(value):
        return
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ActionError(f"{path}: nested more than {_MAX_DEPTH} levels deep", field=where)
        if isinstance(item, str):
            _check_string(item, path, where)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    _check_string(key, f"{path} (a key)", where)
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))


def _check_string(text: str, path: str, where: str) -> None:
    if text.isprintable() or not (_CONTROLS.intersection(text) or _has_surrogate(text)):
        return
    for char in text:
        if char in _CONTROLS:
            name = "NUL" if char == "\0" else f"U+{ord(char):04X}"
            raise ActionError(f"{path}: control character {name} is not allowed in text", field=where)
    raise ActionError(f"{path}: the text is not valid Unicode (an unpaired surrogate)", field=where)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _error_text(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"body.{where}: {message}" if where else f"body: {message}"


@dataclass(frozen=True)
class RecordKind:
    name: str
    label: str | Promise
    body_model: type[BaseModel]
    title: Callable[[dict[str, Any]], str]
    search_text: Callable[[dict[str, Any]], str]
    publish_roles: frozenset[str] = field(default_factory=frozenset)
    # Who may author it for a given member, when that depends on the member (an acknowledgement is given by a
    # state's focal points, and by the Secretariat's coordinators): called with the author's Member; replaces
    # publish_roles for accounts of that member.
    member_roles: Callable[[Any], frozenset[str]] | None = None
    # Called in the writing transaction when a version becomes its record's current one,
    # so a kind can keep its own query tables (projections) in step with the signed versions.
    project: Callable[[Any], None] | None = None
    # The same for many versions stored together (a batch), in bulk; they come in the order `project` would see them
    # (a record's versions by seq). Without it, `project` runs once per version.
    project_many: Callable[[list[Any]], None] | None = None
    # "account": issued by people (with one of publish_roles); "node": only by the node itself, in its own name.
    issuer: Literal["account", "node"] = "account"
    # The member a body speaks for (an acknowledgement's member, counts' member), if any: it must be the
    # member the version is issued for.
    speaks_for: Callable[[dict[str, Any]], str | None] | None = None
    # Rules the schema cannot state; raise ValueError or ActionError with a message that names the field.
    rules: Callable[[dict[str, Any], Author], None] | None = None
    # Rules between a version's body and the previous version's body of the same record (the status only moves
    # forward); raise ValueError or ActionError naming the field. Called by `check` when the previous body is given.
    follows: Callable[[dict[str, Any], dict[str, Any]], None] | None = None
    # Fields computed from the rest of the body: {field: value}. A body stating another value is refused.
    computed: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Where this kind is written when it has its own API (the generic /api/v1/records refuses it there).
    endpoint: str | None = None
    # The endpoint that withdraws it, when a plain withdrawal is not enough (an alert's is a CAP Cancel).
    withdraw_endpoint: str | None = None
    # Where a record of this kind is read, when only its own endpoint may show it (an expert profile, whose person
    # chose who sees it and may withdraw it at any time): the generic record reads (the records list, a record and
    # its versions, the record pages) leave such records out and answer 404 with this pointer.
    reader: str | None = None
    # The name of the web page that shows a record of this kind (a URL name taking `record_uuid`), when it has one
    # of its own; links in e-mails, feeds and the live stream lead there. Without it: the generic record page.
    page: str | None = None
    # The time its lists are ordered by, newest first (an alert's CAP `sent`), when it is not the order of writing:
    # kept in the record's search entry, so that a searched list walks the entries in that order.
    listed_at: Callable[[Any], datetime] | None = None

    def roles_for(self, member: Any) -> frozenset[str]:
        """The roles that may author this kind for `member` (a Member): the one rule web, API and actions use."""
        if self.member_roles is not None and member is not None:
            return self.member_roles(member)
        return self.publish_roles

    def validate_body(self, raw: Any) -> dict[str, Any]:
        """The body schema alone, normalised (defaults filled, nulls dropped)."""
        if not isinstance(raw, dict):
            raise ActionError("body must be a JSON object", field="body")
        check_text(raw)
        try:
            model = self.body_model.model_validate(raw)
        except ValidationError as error:
            raise ActionError(_error_text(error), field="body") from None
        dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
        return dumped

    def check(self, raw: Any, author: Author, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every rule of the kind, for a body issued by `author`; returns the normalised body. With `previous`, the
        body of the version before it (when the caller holds it), the `follows` rules too.

        Raises ActionError (400) for a body that breaks the schema or a rule, Forbidden (403) when the author
        may not issue it."""
        if self.issuer == "node" and not author.by_node:
            raise Forbidden(f"a {self.name} is issued only by a node in its own name, never by an account")
        if self.issuer == "account" and author.by_node and not author.received:
            raise Forbidden(f"a {self.name} is issued by an account, not by a node in its own name")
        body = self.validate_body(raw)
        try:
            if self.rules is not None:
                self.rules(body, author)
            if self.follows is not None and previous is not None:
                self.follows(body, previous)
            computed = self.computed(body) if self.computed is not None else {}
        except ValueError as error:
            raise ActionError(f"body: {error}", field="body") from None
        for name, value in computed.items():
            if body.get(name) != value:
                raise ActionError(
                    f"body.{name} is computed from the rest of the body: it is {value!r}, not {body.get(name)!r}",
                    field="body",
                )
        if self.speaks_for is not None:
            member = self.speaks_for(body)
            if member is not None and member != author.member:
                raise Forbidden(
                    f"body.member is {member}, but this {self.name} is issued for {author.member or 'no member'}; "
                    f"a {self.name} speaks only for the member of the account that issues it",
                    field="body",
                )
        return body


_KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> RecordKind:
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise RuntimeError(f"record kind {kind.name!r} is registered twice")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> RecordKind | None:
    return _KINDS.get(name)


def page_path(kind_name: str, record_uuid: Any) -> str:
    """The path of the web page of a record of this kind (its own page, or the generic record page)."""
    from django.urls import reverse

    kind = _KINDS.get(kind_name)
    name = kind.page if kind is not None and kind.page is not None else "record"
    return reverse(name, kwargs={"record_uuid": str(record_uuid)})


def require(name: str) -> RecordKind:
    kind = _KINDS.get(name)
    if kind is None:
        known = ", ".join(sorted(_KINDS))
        raise ActionError(f"unknown record kind {name!r}; this node knows: {known}", field="kind")
    return kind


def require_generic(name: str, *, withdrawing: bool = False) -> RecordKind:
    """The kind, if the generic records endpoint may write it: kinds with an endpoint of their own are written
    only there, where the whole of their workflow runs (a CAP message composed, a clock started)."""
    kind = require(name)
    endpoint = kind.withdraw_endpoint if withdrawing else kind.endpoint
    if endpoint is not None:
        raise ActionError(f"a {kind.name} is written with {endpoint}, not with /api/v1/records", field="kind")
    return kind


def own_readers() -> list[str]:
    """The kinds read only through their own endpoint (`RecordKind.reader`), which the generic reads leave out."""
    return sorted(name for name, kind in _KINDS.items() if kind.reader is not None)


def all_kinds() -> list[RecordKind]:
    return [_KINDS[name] for name in sorted(_KINDS)]


class NoteBody(BaseModel):
    """An information note: the simplest shared record, free text in one language."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(default="", max_length=50_000)
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


NOTE = register(
    RecordKind(
        name="note",
        label=_("Information note"),
        body_model=NoteBody,
        title=lambda body: str(body.get("title", "")),
        search_text=lambda body: f"{body.get('title', '')}\n{body.get('text', '')}",
        publish_roles=frozenset({"focal_point", "coordinator", "analyst", "expert", "admin"}),
    )
)
