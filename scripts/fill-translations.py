#!/usr/bin/env python3
"""Fill the catalogues from a JSON file of translations, after `makemessages`.

    scripts/fill-translations.py translations.json

The JSON maps each English msgid to {"ru": "...", "zh_Hans": "...", "kk": "...", ...} (a locale folder's name for
each language it translates to); for a message with a plural, the value is the list of the language's plural forms
(three for Russian, one for Chinese, as many as the catalogue's header says). An entry is filled when its msgstr is
empty or it is marked fuzzy (the fuzzy flag and the previous msgid makemessages guessed from are then dropped).
Messages the JSON does not name are left as they are; the script prints those still untranslated."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "accord" / "locale"
FOLDERS = ("zh_Hans", "ru", "kk", "ky", "tg", "uz", "hi", "ur", "fa", "be")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def unquote(line: str) -> str:
    body = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def blocks(text: str) -> list[list[str]]:
    return [b.split("\n") for b in text.strip("\n").split("\n\n")]


def field(lines: list[str], key: str) -> str | None:
    """The value of `key` (msgid, msgid_plural, msgstr, msgstr[0], ...) in an entry, joined over its lines."""
    out: list[str] = []
    taking = False
    for line in lines:
        if line.startswith(key + " "):
            taking = True
            out.append(unquote(line[len(key) + 1 :]))
        elif taking and line.startswith('"'):
            out.append(unquote(line))
        elif taking:
            break
    return "".join(out) if out else None


def fill(folder: str, table: dict[str, dict[str, object]]) -> list[str]:
    path = LOCALE / folder / "LC_MESSAGES" / "django.po"
    out_blocks = []
    missing = []
    for lines in blocks(path.read_text(encoding="utf-8")):
        msgid = field(lines, "msgid")
        plural = field(lines, "msgid_plural")
        if not msgid:
            out_blocks.append(lines)
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        strings = [field(lines, f"msgstr[{i}]") for i in range(6)] if plural is not None else [field(lines, "msgstr")]
        empty = all(not s for s in strings if s is not None)
        given = table.get(msgid, {}).get(folder)
        if (empty or fuzzy) and given is not None:
            keep = [line for line in lines if line.startswith("#") and not line.startswith("#|")]
            keep = [line for line in keep if not (line.startswith("#,") and line.strip() == "#, fuzzy")]
            keep = [line.replace(", fuzzy", "") if line.startswith("#,") else line for line in keep]
            context = field(lines, "msgctxt")
            entry = keep + ([f"msgctxt {quote(context)}"] if context is not None else []) + [f"msgid {quote(msgid)}"]
            if plural is not None:
                forms = given if isinstance(given, list) else [given]
                entry.append(f"msgid_plural {quote(plural)}")
                entry += [f"msgstr[{i}] {quote(str(form))}" for i, form in enumerate(forms)]
            else:
                entry.append(f"msgstr {quote(str(given))}")
            out_blocks.append(entry)
            continue
        if empty or fuzzy:
            missing.append(msgid)
        out_blocks.append(lines)
    path.write_text("\n\n".join("\n".join(b) for b in out_blocks) + "\n", encoding="utf-8")
    return missing


def main() -> int:
    table = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    status = 0
    for folder in FOLDERS:
        for msgid in fill(folder, table):
            print(f"{folder}: untranslated: {msgid!r}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
