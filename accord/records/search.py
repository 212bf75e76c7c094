"""Full-text search over the current version of every record, in Chinese, Russian, English and the rest.

A record's searchable text (its kind's `search_text`) is turned into a **document of tokens** when a version
becomes the record's current one (`index`, called by both writers, one version at a time or a page of received
versions at once), and kept in `SearchEntry`, one row per record. The same function turns a query into tokens, so
a document and a query always agree:

* text is NFKC-normalised and lower-cased, and split into runs of letters and digits (with the combining marks
  written inside words: Hindi's vowel signs, Urdu's and Persian's harakat);
* a run of Han characters (Chinese has no spaces between words) becomes its overlapping **character bigrams**
  ("霍乱疫情" -> 霍乱 乱疫 疫情); a single Han character stays as it is;
* any other word is kept, followed by its Snowball stem when it differs: Russian stems for Cyrillic words, English
  stems for Latin ones ("холеры" -> холеры холер, "floods" -> floods flood). A query word is matched by its stem.

A query matches a record whose document holds every query token (AND). The index is the database's own:

* PostgreSQL: the entry's `vector` column (`strip(to_tsvector('simple', document))`, the document itself not
  kept) with a GIN index, queried with `plainto_tsquery('simple', ...)`; the 'simple' configuration only
  lower-cases, so the tokens made here are what is indexed;
* SQLite: an FTS5 table (`records_search_fts`, tokenizer unicode61) with the entries as its external content, kept
  in step by triggers.

Search is never a read of its own: it narrows a queryset that went through the audience filter
(`Record.objects.visible_to`), so a record outside the reader's audience is never found. docs/search.md says why
bigrams rather than pg_trgm.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import F, Lookup, Q

from accord.records.models import SearchDocumentField

if TYPE_CHECKING:
    from datetime import datetime

    from accord.records.models import Version

MAX_QUERY_TOKENS = 32
# The combining marks that belong inside words but that `\w` does not match: Devanagari vowel signs, virama and
# nukta (Hindi), Arabic-script harakat (Urdu, Persian), Cyrillic and Latin combining marks. Without them "डेंगू"
# would fall apart into "ड" and "ग", and every Hindi text holding those letters would match it.
MARKS = "\u0300-\u036f\u0483-\u0487\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963"
_MARK = re.compile(f"[{MARKS}]")
_WORD = re.compile(f"(?:[^\\W_]|[{MARKS}])+")
# CJK unified ideographs (and extension A), compatibility ideographs: the scripts written without spaces.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@cache
def _stemmer(language: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=200_000)  # words repeat: a stem is worked out once per word, not once per occurrence
def _stem(word: str) -> str:
    if word.isdigit():
        return word
    if _CYRILLIC.search(word):
        return str(_stemmer("russian").stemWord(word))
    if word.isascii():
        return str(_stemmer("english").stemWord(word))
    return word


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _pieces(text: str) -> Iterable[tuple[bool, str]]:
    """(is_han, piece) for each run of letters and digits, Han runs split from the rest."""
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower()):
        position = 0
        for han in _HAN.finditer(word):
            if han.start() > position:
                yield False, word[position : han.start()]
            yield True, han.group()
            position = han.end()
        if position < len(word):
            yield False, word[position:]


def has_mark(text: str) -> bool:
    """Whether the text holds a combining mark that a word keeps (see MARKS)."""
    return _MARK.search(text) is not None


def document(text: str) -> str:
    """The tokens a record is found by: words and their stems, Han bigrams."""
    return " ".join(map(_word_tokens, _WORD.findall(unicodedata.normalize("NFKC", text).lower())))


@lru_cache(maxsize=200_000)  # words repeat: a word's tokens are worked out once, not once per occurrence
def _word_tokens(word: str) -> str:
    """The tokens of one word of a document (as _pieces splits it), joined by spaces."""
    tokens: list[str] = []
    position = 0
    for han in _HAN.finditer(word):
        if han.start() > position:
            _word_and_stem(word[position : han.start()], tokens)
        tokens.extend(_bigrams(han.group()))
        position = han.end()
    if position < len(word):
        _word_and_stem(word[position:], tokens)
    return " ".join(tokens)


def _word_and_stem(piece: str, tokens: list[str]) -> None:
    tokens.append(piece)
    stem = _stem(piece)
    if stem != piece and stem:
        tokens.append(stem)


def query_tokens(query: str) -> list[str]:
    """The tokens every one of which a matching document holds (deduplicated, at most MAX_QUERY_TOKENS)."""
    tokens: list[str] = []
    for is_han, piece in _pieces(query):
        for token in _bigrams(piece) if is_han else [_stem(piece) or piece]:
            if token not in tokens:
                tokens.append(token)
    return tokens[:MAX_QUERY_TOKENS]


def spans(text: str, tokens: Iterable[str]) -> list[tuple[int, int]]:
    """Where in `text` the query's tokens (query_tokens) were found, as (start, end) offsets into `text` itself, for
    highlighting: a word whose own token or stem is one of them, and each Han character pair that is one."""
    wanted = set(tokens)
    found: list[tuple[int, int]] = []
    for match in _WORD.finditer(text):
        word, start = match.group(), match.start()
        position = 0
        for han in _HAN.finditer(word):
            _mark_piece(word[position : han.start()], start + position, wanted, found)
            run = han.group()
            for i in range(len(run)):
                pair = unicodedata.normalize("NFKC", run[i : i + 2])
                if pair in wanted or (len(run) == 1 and run in wanted):
                    found.append((start + han.start() + i, start + han.start() + min(i + 2, len(run))))
            position = han.end()
        _mark_piece(word[position:], start + position, wanted, found)
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(found):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _mark_piece(piece: str, start: int, wanted: set[str], found: list[tuple[int, int]]) -> None:
    if not piece:
        return
    folded = unicodedata.normalize("NFKC", piece).lower()
    if folded in wanted or _stem(folded) in wanted:
        found.append((start, start + len(piece)))


def matching(query: str) -> Q:
    """A filter over Records for those whose document holds every token of
    `query`; a query with no tokens (only punctuation) matches nothing.

    It joins each record to its search entry, so that a list can be ordered by the entry's `listed_at` (LISTED_AT)
    and the database can walk the entries newest first, checking each one against the index's query."""
    tokens = query_tokens(query)
    if not tokens:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        text = " ".join(tokens)
    else:
        text = " ".join('"' + t.replace('"', "") + '"' for t in tokens)
    return Q(search_entry__document__matches=text)


# What a searched list of a kind with `listed_at` is ordered by (newest first), instead of its own time column.
LISTED_AT = "search_entry__listed_at"


@SearchDocumentField.register_lookup
class Matches(Lookup):  # type: ignore[type-arg]
    """`search_entry__document__matches=TEXT`: the entry holds every token of TEXT (tokens made by `matching`).
    PostgreSQL asks the entry's vector; SQLite its FTS5 table. The table's alias is the join's own, never assumed."""

    lookup_name = "matches"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        entry = compiler.quote_name_unless_alias(self.lhs.alias)
        rhs, params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{entry}.\"vector\" @@ plainto_tsquery('simple', {rhs})", list(params)
        fts = "SELECT rowid FROM records_search_fts WHERE records_search_fts MATCH"
        return f'{entry}."record_id" IN ({fts} {rhs})', list(params)


def index(versions: list[Version]) -> None:
    """Index the versions that just became their records' current ones (the last one per record wins)."""
    latest: dict[int, Version] = {}
    for version in versions:
        seen = latest.get(version.record_id)
        if seen is None or version.seq > seen.seq:
            latest[version.record_id] = version
    if not latest:
        return
    rows = [(record_id, document(version.search_text), listed_at(version)) for record_id, version in latest.items()]
    upsert(rows)


def listed_at(version: Version) -> datetime | None:
    """The time the version's kind orders its lists by (RecordKind.listed_at), if the kind has one."""
    from accord.records import kinds

    kind = kinds.get(version.kind)
    return kind.listed_at(version) if kind is not None and kind.listed_at is not None else None


def upsert(rows: list[tuple[int, str, datetime | None]], *, vector: bool = True, listed: bool = True) -> None:
    """Write (record id, document, listed at) rows, replacing what a record had.

    On PostgreSQL the entry keeps only the document's vector, without positions (`strip`: a search matches tokens,
    it never ranks by distance), and an empty document: the narrow rows keep the table small enough to stay in
    memory, which is what a search reads row by row. SQLite's FTS5 table reads the document itself. `vector=False`
    writes the document only, as the table was before migration records/0005, and `listed=False` no `listed_at`, as
    before records/0006 (both used by the earlier migrations)."""
    postgres_vector = connection.vendor == "postgresql" and vector
    # Each column with the SQL of its value and which of (record id, document, listed at) it takes, if any.
    columns = [("record_id", "%s", 0), ("document", "''" if postgres_vector else "%s", None if postgres_vector else 1)]
    if listed:
        columns.append(("listed_at", "%s", 2))
    if postgres_vector:
        columns.append(("vector", "strip(to_tsvector('simple', %s))", 1))
    names = ", ".join(name for name, _, _ in columns)
    one = "(" + ", ".join(value for _, value, _ in columns) + ")"
    tail = " ON CONFLICT (record_id) DO UPDATE SET " + ", ".join(f"{n} = excluded.{n}" for n, _, _ in columns[1:])
    taken = [place for _, _, place in columns if place is not None]
    batch = 300  # at most 900 parameters: under SQLite's limit of 999
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [row[place] for row in chunk for place in taken]
            sql = f"INSERT INTO records_searchentry ({names}) VALUES " + ", ".join([one] * len(chunk)) + tail  # noqa: S608  (the names are constants)
            cursor.execute(sql, params)


def rebuild(
    chunk: int = 2000,
    version_model: Any = None,
    *,
    vector: bool = True,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Index every record's current version again (after a change of the tokens); the number indexed.
    A migration passes its own (historical) Version model, and then `listed_at` is not written (the column may not
    exist yet, and a historical version has no body to read it from)."""
    from accord.records.models import Version as CurrentVersion

    model: Any = version_model or CurrentVersion
    listed = version_model is None
    done = 0
    last = 0
    while True:
        found = list(
            model.objects.filter(record__current_version_id=F("id"), record_id__gt=last).order_by("record_id")[:chunk]
        )
        if not found:
            return done
        rows = [(v.record_id, document(v.search_text), listed_at(v) if listed else None) for v in found]
        upsert(rows, vector=vector, listed=listed)
        done += len(found)
        last = found[-1].record_id
        if progress is not None:
            progress(done)


def reorder() -> bool:
    """Store the search entries in the order a searched list walks them (newest first by `listed_at`), so that a walk
    reads a few pages rather than one page per entry; True if done. A node that receives its alerts as they are sent
    writes them in that order anyway; an archive imported at once is written in any order. PostgreSQL only
    (`CLUSTER`, which locks the table while it runs: about 30 s for a million alerts); SQLite's FTS5 index is
    read in its own order."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        # CLUSTER refuses a table with deferred checks pending in the transaction: have them checked now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("CLUSTER records_searchentry USING searchentry_listed")
        cursor.execute("ANALYZE records_searchentry")
    return True
