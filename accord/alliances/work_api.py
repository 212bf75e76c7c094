"""The JSON API of the alliances' work (to be written)."""

from __future__ import annotations

from typing import Any


def add_routers(api: Any) -> None:
    """Add this part's routers to the API (none yet)."""
