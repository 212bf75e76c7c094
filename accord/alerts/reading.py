"""Reading one CAP document for the bulk import: validated on its own, into the JSON form, or the reason it is refused.

No Django here: `accord alert import` runs `read_many` in worker processes (forkserver) on large imports, while the
main process stores what the workers have read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from accord.lib import cap as caplib

Outcome = Literal["stored", "duplicate", "invalid"]


@dataclass(frozen=True)
class ItemResult:
    """What became of one document: `source` is its file name (with `#n` for a feed's entries) or its index."""

    source: str
    outcome: Outcome
    record: str | None = None
    seq: int | None = None
    rules: tuple[str, ...] = ()
    message: str = ""
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"source": self.source, "outcome": self.outcome}
        if self.record is not None:
            found.update(record=self.record, seq=self.seq)
        if self.outcome == "invalid":
            found.update(rules=list(self.rules), message=self.message)
        elif self.outcome == "duplicate":
            found["message"] = self.message
        if self.warnings:
            found["warnings"] = list(self.warnings)
        return found


@dataclass
class Valid:
    """A document that is a valid CAP alert, read into its JSON form."""

    position: int
    source: str
    data: bytes
    message: dict[str, Any]
    warnings: tuple[str, ...]
    trusted: bool

    @property
    def key(self) -> tuple[str, str, str]:
        m = self.message
        return (str(m.get("sender", "")), str(m.get("identifier", "")), str(m.get("sent", "")))


def _invalid(source: str, findings: Sequence[caplib.Finding], fallback: str) -> ItemResult:
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return ItemResult(source, "invalid", rules=("CAP-ROOT",), message=fallback)
    rules = tuple(dict.fromkeys(f.rule for f in errors))
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ItemResult(source, "invalid", rules=rules, message=f"{first.rule} at {first.path}: {first.message}{more}")


def read(position: int, source: str, data: bytes, max_bytes: int) -> Valid | ItemResult:
    """Validate one document on its own: the alert read, or the reason it is refused (never raises)."""
    report = caplib.validate(data, max_bytes=max_bytes)
    if report.kind in ("atom-feed", "rss-feed"):
        return ItemResult(
            source,
            "invalid",
            rules=("CAP-ROOT",),
            message=f"the document is a CAP index feed ({report.kind}), not an alert; send its entries",
        )
    if report.kind != "alert" or not report.valid or not report.alerts:
        return _invalid(source, report.errors, "not a CAP alert")
    warnings = tuple(f"{f.rule} at {f.path}: {f.message}" for f in report.errors if f.severity == "warning")
    notes = tuple(f"CAP-UPGRADE: {note}" for note in report.notes)
    message = caplib.to_json(report.alerts[0])
    return Valid(position, source, data, message, warnings + notes, trusted=report.version == "1.2")


def read_many(items: Sequence[tuple[int, str, bytes]], max_bytes: int) -> list[Valid | ItemResult]:
    """`read` for each (position, source, bytes)."""
    return [read(position, source, data, max_bytes) for position, source, data in items]
