"""The house rules on layers and file sizes, checked on the source (design brief, "Architecture"; style guide):

* the record core (`accord/records`) and `accord/lib` are the ground floor: they import no domain app (alerts,
  surveillance, response, alliances), no notify and no federation (`accord/lib` imports nothing of Accord but itself);
* a domain app never imports federation, and notify never imports federation (federation sits on top and is
  wired in by `accord/urls.py`, `accord/cli.py` and the settings);
* a source file stays under 600 lines unless it is listed below with the one idea that needs more.

Every `import` and `from … import` statement counts, at module level or inside a function (a lazy import is still
a dependency). The checks read the files with `ast`; they import nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "accord"

pytestmark = [pytest.mark.quality, pytest.mark.xdist_group("quality")]

DOMAIN_APPS = ("alerts", "surveillance", "response", "alliances")

# Which of Accord's packages each layer must not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "records": frozenset({*DOMAIN_APPS, "notify", "federation", "web"}),
    "lib": frozenset({*DOMAIN_APPS, "notify", "federation", "web", "records", "members", "api"}),
    "notify": frozenset({"federation"}),
    **{app: frozenset({"federation"}) for app in DOMAIN_APPS},
    "desk": frozenset({"federation"}),
}

MAX_LINES = 600

# Files allowed to be longer, each with the one idea that needs the length.
LONG_FILES: dict[str, str] = {
    "accord/lib/detect/farrington.py": "the improved Farrington algorithm, step by step as in the R package",
    "accord/surveillance/actions.py": "every write of the surveillance app and its audit entries",
    "accord/lib/cap/codec.py": "CAP 1.2 to and from its JSON form, element by element",
    "accord/notify/views.py": "the notification settings pages",
    "accord/lib/http.py": "the one outbound HTTP wrapper and its private-address guard",
    "accord/alerts/api.py": "the alerts API contract",
    "accord/alerts/views.py": "the alert pages",
    "accord/surveillance/views.py": "the surveillance pages",
}


def _sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imported_packages(path: Path, where: tuple[str, ...]) -> set[tuple[str, int]]:
    """The second component of every `accord.<package>` a file imports, with the line; `where` is the file's place
    under accord/ (its path parts), which relative imports are resolved against."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "accord":
                names = [f"accord.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # A relative import stays inside its own package unless it climbs above it.
            base = ("accord", *where[:-1])[: len(where) - node.level + 1]
            if base:
                names = [".".join((*base, *(node.module or "").split(".")))]
        for name in names:
            parts = name.split(".")
            if parts[0] == "accord" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def test_layers_import_only_what_they_may() -> None:
    breaches: list[str] = []
    for path in _sources():
        layer = path.relative_to(PACKAGE).parts[0]
        forbidden = FORBIDDEN.get(layer)
        if forbidden is None:
            continue
        for package, line in sorted(_imported_packages(path, path.relative_to(PACKAGE).parts)):
            if package in forbidden:
                breaches.append(f"{path.relative_to(ROOT)}:{line} imports accord.{package}")
    assert not breaches, "layering rules broken:\n" + "\n".join(breaches)


def test_source_files_stay_short() -> None:
    too_long = []
    for path in _sources():
        name = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and name not in LONG_FILES:
            too_long.append(f"{name}: {lines} lines")
    assert not too_long, f"over {MAX_LINES} lines, split them (or list the one idea in LONG_FILES):\n" + "\n".join(
        too_long
    )


def test_the_list_of_long_files_is_current() -> None:
    """An entry whose file got short again (or is gone) is removed, so the list never hides a new long file."""
    stale = [
        name
        for name in LONG_FILES
        if not (ROOT / name).exists() or len((ROOT / name).read_text(encoding="utf-8").splitlines()) <= MAX_LINES
    ]
    assert not stale, "no longer long, remove from LONG_FILES: " + ", ".join(stale)


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: an import inside a function and a relative import climbing out are both found."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from accord.federation import entitle\n\nfrom ..alerts import models\n", "utf-8")
    found = {package for package, _ in _imported_packages(sample, ("records", "sample.py"))}
    assert found == {"federation", "alerts"}
    inside = {package for package, _ in _imported_packages(sample, ("records", "sub", "sample.py"))}
    assert inside == {"federation", "records"}  # `..alerts` from accord/records/sub is accord.records.alerts
