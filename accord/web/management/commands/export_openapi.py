"""Print the OpenAPI document of /api/v1/ (committed as docs/openapi.json, checked for drift by a test)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand


def openapi_text() -> str:
    from accord.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print the OpenAPI 3.1 document of the API"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(openapi_text(), ending="")
