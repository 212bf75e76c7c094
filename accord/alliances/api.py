"""The alliances' JSON API: each part adds its own routers (membership, roster, mobilisation, joint work,
library)."""

from __future__ import annotations

from typing import Any

from accord.alliances import library_api, membership_api, mobilise_api, roster_api, work_api


def add_routers(api: Any) -> None:
    for part in (membership_api, roster_api, mobilise_api, work_api, library_api):
        part.add_routers(api)
