"""The static files storage: ServeStatic's (hashed names, gzip and brotli copies made by collectstatic)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servestatic.compress import Compressor
from servestatic.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Compresses only what pages load: the hashed names (the unhashed copies stay, served uncompressed, for a
    link that names a file directly), and no source maps (megabytes that only a developer's browser tools fetch,
    and over which brotli takes long)."""

    def create_compressor(self, **kwargs: Any) -> Compressor:
        kwargs["extensions"] = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
        return Compressor(**kwargs)

    def compress_files(self, paths: set[str]) -> Iterator[tuple[str, str]]:
        unhashed = {name for name, hashed in self.hashed_files.items() if hashed != name}
        compressed: Iterator[tuple[str, str]] = super().compress_files(paths - unhashed)
        return compressed
