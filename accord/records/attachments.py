"""Content-addressed storage of original documents under `<data dir>/attachments/`.

Files are written before the transaction commits and named by their SHA-256, so a
rolled-back transaction leaves at worst an unreferenced file, never a wrong one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
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
