"""The catalogues of the eleven languages (Chinese, Russian, English as the source, and Kazakh, Kyrgyz, Tajik,
Uzbek, Hindi, Urdu, Persian and Belarusian): complete, clean, in step with the source, and compiled.

The catalogues are read with a small parser of the subset of the PO format that
makemessages writes (comments, flags, msgctxt, msgid, msgid_plural, msgstr, msgstr[n],
multi-line strings), so the test needs nothing beyond the standard library.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "accord"
LOCALE_DIR = PACKAGE_DIR / "locale"

# Locale folder name -> (language code used by Django, number of plural forms).
LOCALES: dict[str, tuple[str, int]] = {
    "zh_Hans": ("zh-hans", 1),
    "ru": ("ru", 3),
    "kk": ("kk", 2),
    "ky": ("ky", 1),
    "tg": ("tg", 2),
    "uz": ("uz", 1),
    "hi": ("hi", 2),
    "ur": ("ur", 2),
    "fa": ("fa", 2),
    "be": ("be", 4),
}
MAKEMESSAGES = [
    "makemessages",
    *(arg for folder in LOCALES for arg in ("-l", folder)),
    "--settings=accord.settings",
    "-i",
    "migrations/*",
]
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{[\w.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
STRING = re.compile(r'^"(?:[^"\\]|\\.)*"$')


@dataclass
class Entry:
    msgid: str
    line: int
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def _unquote(text: str, path: Path, number: int) -> str:
    if not STRING.match(text):
        raise AssertionError(f"{path}:{number}: not a PO string: {text}")
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    """Every entry of the file, the header (msgid "") included; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    flags: set[str] = set()
    current: Entry | None = None
    field_name: str | None = None  # "msgctxt", "msgid", "msgid_plural" or "msgstr[n]"
    context: str | None = None

    def append(name: str, value: str) -> None:
        assert current is not None
        if name == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + value
        elif name == "msgid":
            current.msgid += value
        elif name == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + value
        else:
            index = int(name[len("msgstr[") : -1])
            current.msgstr[index] = current.msgstr.get(index, "") + value

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt":
            context = _unquote(rest, path, number)
            field_name = "msgctxt"
            continue
        if keyword == "msgid":
            current = Entry(msgid=_unquote(rest, path, number), line=number, msgctxt=context, flags=flags)
            entries.append(current)
            flags, context = set(), None
            field_name = "msgid"
            continue
        if current is None:
            raise AssertionError(f"{path}:{number}: {line!r} before the first msgid")
        if keyword == "msgid_plural":
            current.msgid_plural = _unquote(rest, path, number)
            field_name = "msgid_plural"
        elif keyword == "msgstr":
            field_name = "msgstr[0]"
            current.msgstr[0] = _unquote(rest, path, number)
        elif re.fullmatch(r"msgstr\[\d+\]", keyword):
            field_name = keyword
            current.msgstr[int(keyword[7:-1])] = _unquote(rest, path, number)
        elif line.startswith('"') and field_name is not None:
            if field_name == "msgctxt":
                context = (context or "") + _unquote(line, path, number)
            else:
                append(field_name, _unquote(line, path, number))
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    return entries


def _po(folder: str) -> Path:
    return LOCALE_DIR / folder / "LC_MESSAGES" / "django.po"


def _header(entries: list[Entry]) -> dict[str, str]:
    assert entries, "the catalogue is empty"
    assert entries[0].msgid == "", "the catalogue does not start with its header entry"
    fields: dict[str, str] = {}
    for row in entries[0].msgstr.get(0, "").splitlines():
        key, _, value = row.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _messages(path: Path) -> list[Entry]:
    return [entry for entry in parse_po(path) if entry.msgid != ""]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_parser_reads_multi_line_strings_plurals_and_flags(tmp_path: Path) -> None:
    sample = tmp_path / "sample.po"
    sample.write_text(
        'msgid ""\nmsgstr ""\n"Language: ru\\n"\n"Plural-Forms: nplurals=3; plural=0;\\n"\n\n'
        '#: a.html:1\n#, fuzzy, python-format\nmsgid ""\n"Two "\n"lines \\"quoted\\""\nmsgstr "Две строки"\n\n'
        'msgctxt "menu"\nmsgid "%(n)s file"\nmsgid_plural "%(n)s files"\nmsgstr[0] "%(n)s файл"\n'
        'msgstr[1] ""\n"%(n)s файла"\nmsgstr[2] "%(n)s файлов"\n\n'
        '#~ msgid "Old"\n#~ msgstr "Старое"\n',
        encoding="utf-8",
    )
    header, first, second = parse_po(sample)
    assert _header([header]) == {"Language": "ru", "Plural-Forms": "nplurals=3; plural=0;"}
    assert first.msgid == 'Two lines "quoted"'
    assert first.msgstr == {0: "Две строки"}
    assert first.flags == {"fuzzy", "python-format"}
    assert second.msgctxt == "menu"
    assert second.msgid_plural == "%(n)s files"
    assert second.msgstr == {0: "%(n)s файл", 1: "%(n)s файла", 2: "%(n)s файлов"}
    assert second.flags == set()
    assert _placeholders("{count} of %(total)d, {0}, %%") == {"{count}", "%(total)d", "{0}"}


@pytest.mark.parametrize("folder", sorted(LOCALES))
def test_the_header_names_the_language_and_its_plural_forms(folder: str) -> None:
    _, nplurals = LOCALES[folder]
    entries = parse_po(_po(folder))
    header = _header(entries)
    assert "fuzzy" not in entries[0].flags, f"{folder}: the header is marked fuzzy"
    assert header.get("Project-Id-Version") == "Accord"
    assert header.get("Language") == folder
    assert header.get("Language-Team"), f"{folder}: the header names no Language-Team"
    assert header.get("Content-Type") == "text/plain; charset=UTF-8"
    assert header.get("Plural-Forms", "").startswith(f"nplurals={nplurals}; plural="), header.get("Plural-Forms")


@pytest.mark.parametrize("folder", sorted(LOCALES))
def test_the_header_invites_native_speakers_to_review(folder: str) -> None:
    head = _po(folder).read_text(encoding="utf-8").split('msgid ""', 1)[0]
    assert "Native-speaker review is welcome" in head, f"{folder}: the header comment does not invite review"


@pytest.mark.parametrize("folder", sorted(LOCALES))
def test_every_message_is_translated_in_every_plural_form_and_none_is_fuzzy(folder: str) -> None:
    _, nplurals = LOCALES[folder]
    messages = _messages(_po(folder))
    assert len(messages) > 30, f"{folder}: suspiciously few messages ({len(messages)})"
    problems: list[str] = []
    for entry in messages:
        if "fuzzy" in entry.flags:
            problems.append(f"{entry}: marked fuzzy")
        expected = list(range(nplurals)) if entry.msgid_plural is not None else [0]
        if sorted(entry.msgstr) != expected:
            problems.append(f"{entry}: has forms {sorted(entry.msgstr)}, expected {expected}")
        problems.extend(f"{entry}: form {n} is empty" for n in expected if not entry.msgstr.get(n, "").strip())
    assert not problems, f"{_po(folder)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("folder", sorted(LOCALES))
def test_translations_keep_the_placeholders_of_the_source(folder: str) -> None:
    problems: list[str] = []
    for entry in _messages(_po(folder)):
        wanted = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
        for form, text in sorted(entry.msgstr.items()):
            found = _placeholders(text)
            if missing := wanted - found:
                problems.append(f"{entry}: form {form} lacks {sorted(missing)}")
            if extra := found - wanted:
                problems.append(f"{entry}: form {form} adds {sorted(extra)}, unknown to the source")
    assert not problems, f"{_po(folder)}:\n" + "\n".join(problems)


def _gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"GNU gettext's {name} is missing; install gettext (sudo apt-get install gettext)")
    return path


@pytest.mark.parametrize("folder", sorted(LOCALES))
def test_msgfmt_accepts_the_catalogue(folder: str, tmp_path: Path) -> None:
    msgfmt = _gettext_tool("msgfmt")
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(_po(folder))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_catalogues_hold_exactly_the_messages_of_the_source(tmp_path: Path) -> None:
    """Extract afresh from a copy of the package, as `makemessages` would, and compare.

    Fails when a template or module gained (or lost) a translatable string and the
    catalogues were not regenerated and translated.
    """
    _gettext_tool("xgettext")
    copy = tmp_path / "accord"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "locale"))
    for folder in LOCALES:
        (copy / "locale" / folder / "LC_MESSAGES").mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "ACCORD_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-P", "-m", "django", *MAKEMESSAGES],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for folder in LOCALES:
        extracted = {entry.key for entry in _messages(copy / "locale" / folder / "LC_MESSAGES" / "django.po")}
        committed = {entry.key for entry in _messages(_po(folder))}
        assert extracted, f"makemessages found no messages in the copy: {result.stdout}{result.stderr}"
        missing, stale = sorted(extracted - committed, key=str), sorted(committed - extracted, key=str)
        assert not missing and not stale, (
            f"{_po(folder)} is out of step with the source; run "
            f"`cd accord && ../.venv/bin/django-admin {shlex.join(MAKEMESSAGES)}` and translate.\n"
            f"missing from the catalogue: {missing}\nno longer in the source: {stale}"
        )


def _require_compiled(folder: str) -> None:
    po = _po(folder)
    mo = po.with_suffix(".mo")
    if not mo.exists():
        pytest.fail(f"{mo} is missing: the catalogues are not compiled; run `make messages`")
    if mo.stat().st_mtime < po.stat().st_mtime:
        pytest.fail(f"{mo} is older than {po.name}: the catalogues are stale; run `make messages`")


@pytest.mark.parametrize(("folder", "records", "log_in"), [("zh_Hans", "记录", "登录"), ("ru", "Записи", "Войти")])
def test_django_uses_the_compiled_catalogue(folder: str, records: str, log_in: str) -> None:
    _require_compiled(folder)
    language, _ = LOCALES[folder]
    with translation.override(language):
        assert translation.gettext("Records") == records
        assert translation.gettext("Log in") == log_in
    with translation.override("en"):
        assert translation.gettext("Records") == "Records"


@pytest.mark.parametrize(
    ("count", "text"),
    [(1, "1 запись"), (3, "3 записи"), (5, "5 записей"), (11, "11 записей"), (21, "21 запись"), (112, "112 записей")],
)
def test_russian_plural_forms_follow_the_number(count: int, text: str) -> None:
    _require_compiled("ru")
    with translation.override("ru"):
        message = translation.ngettext("%(counter)s record", "%(counter)s records", count)
    assert message % {"counter": count} == text


def test_chinese_has_a_single_plural_form() -> None:
    _require_compiled("zh_Hans")
    with translation.override("zh-hans"):
        forms = {translation.ngettext("%(counter)s record", "%(counter)s records", n) for n in (1, 2, 5)}
    assert forms == {"%(counter)s 条记录"}


@pytest.mark.parametrize("language", ["zh-hans", "ru", "kk", "ky", "tg", "uz", "hi", "ur", "fa", "be"])
def test_dates_and_numbers_follow_each_language_not_english(language: str) -> None:
    from datetime import UTC, datetime

    from django.utils import formats

    moment = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)
    with translation.override("en"):
        english = formats.date_format(moment, "DATETIME_FORMAT")
    with translation.override(language):
        shown = formats.date_format(moment, "DATETIME_FORMAT")
        number = formats.number_format(12345.5, 1, force_grouping=True)
    assert shown != english and "2026" in shown and "Dec" not in shown, shown
    if language in ("kk", "ky"):  # dates in numbers (Django's month names are capitalised for them)
        assert shown == "07.12.2026 14:05"
    if language in ("kk", "be", "ru"):  # comma decimals, a no-break space between thousands
        assert number == "12\xa0345,5"
    if language == "ur":
        assert number == "12,345.5"
