"""Content-addressed storage of original documents under `<data dir>/attachments/`.

Files are written before the transaction commits and named by their SHA-256, so a
rolled-back transaction leaves at worst an unreferenced file, never a wrong one.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings


def root() -> Path:
    return Path(settings.DATA_DIR) / "attachments"


def path_for(sha256: str) -> Path:
    return root() / sha256[:2] / sha256


def store_bytes(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def store_bytes_unsynced(data: bytes) -> tuple[str, Path | None]:
    """Write like store_bytes, without waiting for the disk: returns the digest and the path to pass to sync_paths
    before anything that refers to the file commits (None when the file was there already)."""
    digest = hashlib.sha256(data).hexdigest()
    return digest, write_unsynced(digest, data)


def write_unsynced(digest: str, data: bytes) -> Path | None:
    """store_bytes_unsynced for bytes whose SHA-256 (hex) the caller has computed."""
    target = path_for(digest)
    if target.exists():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2) (every file of one file system to disk in one call), if the C library has it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call: Callable[[int], int] = libc.syncfs
    except (OSError, AttributeError):
        return None
    return call


_SYNCFS = _syncfs() if sys.platform == "linux" else None


def sync_paths(paths: list[Path]) -> None:
    """Make files written by store_bytes_unsynced durable: on Linux one syncfs(2) of their file system (far cheaper
    than an fsync per file when there are hundreds), elsewhere each file, then each directory they went into."""
    if not paths:
        return
    if _SYNCFS is not None:
        fd = os.open(paths[0].parent, os.O_RDONLY)
        try:
            if _SYNCFS(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for folder in {path.parent for path in paths}:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_bytes(sha256: str) -> bytes:
    return path_for(sha256).read_bytes()


def hash_file(sha256: str) -> str | None:
    path = path_for(sha256)
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
