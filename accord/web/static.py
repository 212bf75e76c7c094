"""Static files: their security headers, and collecting them (hashed names, compressed copies) when needed.

ServeStatic answers /static/ first in the middleware chain, so Accord's header middleware never sees those
responses: `add_headers` gives them the same protections, computed once per file when the server starts.

`ensure_collected` runs `collectstatic` only when the sources differ from what was collected last (a
fingerprint of every file's path, size and modification time, and of the versions of Django and ServeStatic),
under a file lock, so that several servers or test processes starting together collect once.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import Any

STAMP = ".accord-collected"
NONCE = " 'nonce-{nonce}'"


def add_headers(headers: Any, path: str, url: str) -> None:
    """The headers every Accord response carries (accord.web.middleware.SecurityHeadersMiddleware), for a file:
    no nonce (a file is not a page that runs inline script), and nothing may frame or sniff it."""
    from django.conf import settings

    from accord.web.middleware import CSP_DIRECTIVES, PERMISSIONS_POLICY

    policy = "; ".join(f"{name} {value.replace(NONCE, '')}" for name, value in CSP_DIRECTIVES)
    headers["Content-Security-Policy"] = policy
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["Referrer-Policy"] = settings.SECURE_REFERRER_POLICY or "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"


def fingerprint() -> str:
    """What the collection is made from: every source file found (path, size, mtime) and the tools' versions."""
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for package in ("django", "servestatic", "brotli"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{package}=none\n".encode())
    entries: list[str] = []
    for finder in finders.get_finders():
        for path, storage in finder.list(None):
            stat = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\t{stat.st_size}\t{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()


def is_collected(root: Path | None = None) -> bool:
    from django.conf import settings

    folder = Path(root or settings.STATIC_ROOT)
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text().strip() == fingerprint()


def ensure_collected() -> bool:
    """Collect the static files into STATIC_ROOT unless they are current; True when it collected now.

    Nothing to do with ACCORD_DEBUG, where the files are served from their sources."""
    from django.conf import settings
    from django.core.management import call_command

    if settings.DEBUG:
        return False
    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".accord-collect.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process collecting now: wait for it, then find it current
        wanted = fingerprint()
        stamp = root / STAMP
        if stamp.is_file() and stamp.read_text().strip() == wanted:
            return False
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.write_text(wanted + "\n")
    return True
