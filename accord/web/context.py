from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accord.members.models import NodeIdentity
from accord.web.middleware import csp_nonce


def node(request: HttpRequest) -> dict[str, Any]:
    return {"accord_node": NodeIdentity.objects.select_related("member").filter(id=1).first()}


def security(request: HttpRequest) -> dict[str, Any]:
    """`csp_nonce`: the nonce the Content-Security-Policy of this response allows, for `<script nonce=...>`."""
    return {"csp_nonce": csp_nonce(request)}
