from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accord.members.models import NodeIdentity


def node(request: HttpRequest) -> dict[str, Any]:
    return {"accord_node": NodeIdentity.objects.select_related("member").filter(id=1).first()}
