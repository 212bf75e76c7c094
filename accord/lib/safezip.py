"""Reading untrusted ZIP archives (XLSX workbooks) without letting them inflate without bound.

Two defences, both needed:

1. `check_directory` reads only the archive's central directory and refuses, before anything is inflated, an
   archive with too many parts, a part that declares more uncompressed bytes than allowed, more bytes in all, or
   a compression ratio beyond the limit (a zip bomb: a few hundred kilobytes that inflate to gigabytes).
2. `CappedZipFile` is a `zipfile.ZipFile` whose `open` (and so `read`) hands out a stream that counts the bytes
   it inflates and raises `ArchiveLimit` as soon as a part gives more than allowed, whatever its directory
   entry says. (`zipfile` itself stops at the declared size and then fails the CRC check; the cap does not
   depend on that.)

Pure Python, no Django: the callers turn an `ArchiveLimit` into a message for the person who uploaded.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

# Below this many uncompressed bytes a part's compression ratio is not checked: small parts (an empty sheet,
# a relationship file) compress at odd ratios and cannot inflate to anything harmful.
RATIO_FLOOR = 1 << 20
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ZipLimits:
    max_parts: int
    max_part_bytes: int
    max_total_bytes: int
    max_ratio: int
    # The bytes a part named for which `small` answers True may hold at most (styles, workbook, relationships...).
    max_small_part_bytes: int | None = None
    small: Callable[[str], bool] | None = None

    def cap_for(self, name: str) -> int:
        if self.small is not None and self.max_small_part_bytes is not None and self.small(name):
            return min(self.max_part_bytes, self.max_small_part_bytes)
        return self.max_part_bytes


class ArchiveLimit(Exception):
    """The archive passes a limit. `limit` names it: parts, part_bytes, total_bytes, ratio, lying, not_zip."""

    def __init__(self, limit: str, *, part: str = "", allowed: int = 0, found: int = 0, detail: str = "") -> None:
        super().__init__(f"{limit}: {part} {found} > {allowed} {detail}".strip())
        self.limit = limit
        self.part = part
        self.allowed = allowed
        self.found = found
        self.detail = detail


def check_directory(data: bytes, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    """The parts of the archive, after checking what its central directory declares against `limits`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ArchiveLimit("not_zip", detail=str(error)[:200]) from None
    if len(infos) > limits.max_parts:
        raise ArchiveLimit("parts", allowed=limits.max_parts, found=len(infos))
    total = 0
    for info in infos:
        name = info.filename[:200]
        cap = limits.cap_for(info.filename)
        if info.file_size > cap:
            raise ArchiveLimit("part_bytes", part=name, allowed=cap, found=info.file_size)
        if info.file_size > RATIO_FLOOR:
            ratio = info.file_size // max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise ArchiveLimit("ratio", part=name, allowed=limits.max_ratio, found=ratio)
        if info.compress_size > len(data):
            raise ArchiveLimit("lying", part=name, allowed=len(data), found=info.compress_size)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveLimit("total_bytes", part=name, allowed=limits.max_total_bytes, found=total)
    return infos


class CappedStream(io.RawIOBase):
    """A part of an archive, read through a counter: more than `cap` bytes raise `ArchiveLimit`."""

    def __init__(self, inner: IO[bytes], name: str, cap: int, on_read: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._inner = inner
        self._name = name
        self._cap = cap
        self._on_read = on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def _take(self, chunk: bytes) -> bytes:
        self.count += len(chunk)
        if self.count > self._cap:
            raise ArchiveLimit("part_bytes", part=self._name[:200], allowed=self._cap, found=self.count)
        if self._on_read is not None:
            self._on_read(len(chunk))
        return chunk

    def _read_inner(self, size: int) -> bytes:
        try:
            return self._inner.read(size)
        except zipfile.BadZipFile as error:  # a CRC that does not match: the part is not what was declared
            raise ArchiveLimit("lying", part=self._name[:200], detail=str(error)[:200]) from None
        except (EOFError, OSError, ValueError) as error:  # truncated or corrupt deflate data
            raise ArchiveLimit("lying", part=self._name[:200], detail=str(error)[:200]) from None

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts: list[bytes] = []
            while True:
                chunk = self._take(self._read_inner(_CHUNK))
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        # Never ask the inner stream for more than one past the cap, so a lie is seen without inflating it all.
        return self._take(self._read_inner(min(size, self._cap - self.count + 1)))

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class CappedZipFile(zipfile.ZipFile):
    """A read-only `ZipFile` whose directory is checked on opening and whose parts are read through caps.

    Besides each part's cap, all the bytes inflated from the archive (parts read twice count twice) may not pass
    twice `max_total_bytes`."""

    def __init__(self, data: bytes, limits: ZipLimits) -> None:
        check_directory(data, limits)
        super().__init__(io.BytesIO(data), "r")
        self.limits = limits
        self.inflated = 0

    def _count(self, size: int) -> None:
        self.inflated += size
        allowed = 2 * self.limits.max_total_bytes
        if self.inflated > allowed:
            raise ArchiveLimit("total_bytes", allowed=allowed, found=self.inflated)

    def open(
        self, name: str | zipfile.ZipInfo, mode: str = "r", pwd: bytes | None = None, *, force_zip64: bool = False
    ) -> IO[bytes]:
        if mode != "r":
            raise ValueError("a CappedZipFile is read-only")
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        cap = self.limits.cap_for(info.filename)
        inner = super().open(info, "r", pwd)
        return io.BufferedReader(CappedStream(inner, info.filename, cap, self._count), buffer_size=_CHUNK)
